"""KerasLRFinder (standalone, on Learner.lr_find) and LRFinderCallback (inside model.fit)."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from conftest import blobs, mlp  # noqa: E402

from tflearner.keras_fit.lr_finder import (  # noqa: E402
    KerasLRFinder,
    LRFinderCallback,
    raw_loss_from_running_mean,
)
from tflearner.schedules import exp_sweep  # noqa: E402

SCCE = "sparse_categorical_crossentropy"

# tiny curves: the suggesters' "no suggestion" / "still falling" notes are expected here
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(no suggestion|still falling).*:UserWarning")


def _ds(n: int = 100, batch: int = 32) -> tf.data.Dataset:
    """Unshuffled batches of blobs; n=100, batch=32 ends each epoch with a partial batch of 4."""
    x, y = blobs(n)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)


def _values(variables) -> list[np.ndarray]:
    return [np.array(v.numpy(), copy=True) for v in variables]


def _assert_bitwise(before: list[np.ndarray], variables) -> None:
    after = _values(variables)
    assert len(before) == len(after)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


def _fit(model, cb, epochs, ds=None, extra=(), **kw):
    return model.fit(_ds() if ds is None else ds, epochs=epochs, callbacks=[cb, *extra],
                     verbose=0, shuffle=False, **kw)


@pytest.fixture(scope="module")
def reference():
    """Learner.lr_find's curve for mlp(seed=0) + SGD on _ds(): what the callback must match."""
    finder = KerasLRFinder(mlp(), _ds(), optimizer=keras.optimizers.SGD(),
                           loss_fn=keras.losses.SparseCategoricalCrossentropy(), quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        finder.range_test(end_lr=1.0, num_it=12, stop_div=False)
    return finder


# ---- KerasLRFinder --------------------------------------------------------------------------

def test_uncompiled_model_needs_optimizer_and_loss():
    with pytest.raises(ValueError, match="not compiled.*optimizer and loss_fn"):
        KerasLRFinder(mlp(), _ds())
    with pytest.raises(ValueError, match="not compiled.*needs loss_fn"):
        KerasLRFinder(mlp(), _ds(), optimizer="adam")
    with pytest.raises(TypeError, match="keras.Model"):
        KerasLRFinder("model", _ds(), optimizer="adam", loss_fn=SCCE)


def test_uncompiled_model_weights_bitwise_unchanged_and_exact_sweep(reference):
    model = mlp()
    before = _values(model.variables)
    finder = KerasLRFinder(model, _ds(), optimizer=keras.optimizers.Adam(),
                           loss_fn=keras.losses.SparseCategoricalCrossentropy(), quiet=True)
    res = finder.range_test(start_lr=1e-5, end_lr=1.0, num_it=11, stop_div=False)
    _assert_bitwise(before, model.variables)
    lrs = finder.lrs
    assert len(lrs) == 11 and len(finder.losses) == 11 and len(finder.smooth_losses) == 11
    assert lrs[0] == pytest.approx(1e-5, rel=1e-6) and lrs[-1] == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], 10 ** 0.5, rtol=1e-5)
    assert res._fields == ("robust", "valley") and res is finder.suggestions
    assert res.valley is not None and 1e-5 <= res.valley <= 1.0


def test_compiled_model_uses_its_optimizer_and_string_loss_untouched():
    model = mlp()
    opt = keras.optimizers.Adam(0.003)
    model.compile(optimizer=opt, loss=SCCE, metrics=["accuracy"])
    model.fit(_ds(), epochs=1, verbose=0, shuffle=False)  # opt built: slots, iterations
    before, opt_before = _values(model.variables), _values(opt.variables)
    finder = KerasLRFinder(model, _ds(), quiet=True)
    assert type(finder.learner.opt) is keras.optimizers.Adam and finder.learner.opt is not opt
    assert finder.learner.loss_fn(np.array([0]), np.array([[1.0, 0.0, 0.0]])) < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = finder.range_test(num_it=20, end_lr=1.0)
    assert len(res) == 2 and len(finder.lrs) >= 5
    _assert_bitwise(before, model.variables)
    _assert_bitwise(opt_before, opt.variables)  # the user's optimizer object was not used
    assert float(opt.learning_rate) == pytest.approx(0.003)
    model.fit(_ds(), epochs=1, verbose=0, shuffle=False)  # the compiled model still trains


def test_numpy_arrays_and_plot():
    x, y = blobs(96)
    finder = KerasLRFinder(mlp(), (x, y), optimizer="sgd", loss_fn=SCCE, batch_size=16,
                           quiet=True)
    assert finder.data.batch_size == 16 and finder.data.valid is None
    with pytest.raises(RuntimeError, match="range_test"):
        finder.plot()
    finder.range_test(end_lr=1.0, num_it=30, stop_div=False)
    ax = finder.plot(skip_start=0, skip_end=0)
    assert isinstance(ax, plt.Axes) and ax.get_xscale() == "log"
    curve = [ln for ln in ax.get_lines() if ln.get_label() == "loss (smoothed)"][0]
    np.testing.assert_allclose(curve.get_xdata(), finder.lrs)
    np.testing.assert_allclose(curve.get_ydata(), finder.smooth_losses)
    plt.close("all")


def test_unbuilt_compiled_optimizer_is_left_unbuilt():
    model = mlp()
    opt = keras.optimizers.SGD(0.01, momentum=0.9)
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy())
    finder = KerasLRFinder(model, _ds(), quiet=True)
    finder.range_test(end_lr=1.0, num_it=10, stop_div=False)
    assert not opt.built and opt.momentum == 0.9
    assert float(opt.learning_rate.numpy()) == pytest.approx(0.01)
    assert finder.learner.hypers.mom == pytest.approx(0.9)  # ran as tflearner.SGD, same config
    model.fit(_ds(), epochs=1, verbose=0, shuffle=False)


# ---- LRFinderCallback -----------------------------------------------------------------------

class _LRProbe(keras.callbacks.Callback):
    """Reads the LR the optimizer holds during each step, after the finder's hook ran."""

    def __init__(self):
        super().__init__()
        self.lrs: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.lrs.append(float(self.model.optimizer.learning_rate.numpy()))


def _compiled(opt=None, **kw):
    model = mlp()
    model.compile(optimizer=opt or keras.optimizers.SGD(0.01), loss=SCCE, **kw)
    return model


def test_callback_sets_lr_per_batch_and_recovers_raw_losses(reference):
    model = _compiled()
    before, opt_before = _values(model.variables), _values(model.optimizer.variables)
    cb, probe = LRFinderCallback(end_lr=1.0, num_it=12, stop_div=False), _LRProbe()
    hist = _fit(model, cb, epochs=10, extra=[probe], validation_data=_ds(64))
    # 4 batches per epoch: the sweep ends after 3 epochs, the fit stops itself (validation
    # shares Keras' loss tracker with training: it must not change the recovered losses)
    assert len(hist.history["loss"]) == 3 and cb.stop_reason == "end" and cb.stop_step == 11
    want = exp_sweep(1e-7, 1.0, 12).astype(np.float32)
    np.testing.assert_array_equal(np.float32(probe.lrs), want)
    np.testing.assert_array_equal(np.float32(cb.lrs), want)
    # raw losses, including each epoch's last batch of 4, match Learner.lr_find's
    np.testing.assert_allclose(cb.losses, reference.losses, rtol=2e-5)
    np.testing.assert_allclose(cb.smooth_losses, reference.smooth_losses, rtol=2e-5)
    assert cb.suggestions._fields == ("robust", "valley")
    for got, want in zip(cb.suggestions, reference.suggestions, strict=True):
        assert got == want or got == pytest.approx(want, rel=1e-4)
    _assert_bitwise(before, model.variables)
    _assert_bitwise(opt_before, model.optimizer.variables)
    ax = cb.plot(skip_start=0, skip_end=0)
    assert isinstance(ax, plt.Axes)
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), cb.smooth_losses)
    plt.close("all")


def test_first_loss_is_the_untrained_batch_loss():
    model = _compiled()
    x, y = next(iter(_ds()))
    first = float(keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=True)))
    cb = LRFinderCallback(num_it=3, stop_div=False)
    _fit(model, cb, epochs=1)
    assert cb.losses[0] == pytest.approx(first, rel=1e-6)


def test_recovery_formula_on_a_known_sequence():
    losses = np.array([2.0, 1.5, 1.25, 3.0, 0.5])
    means = np.cumsum(losses) / np.arange(1, 6)
    got = [raw_loss_from_running_mean(means[k], means[k - 1] if k else 0.0, k + 1, k)
           for k in range(5)]
    np.testing.assert_allclose(got, losses, rtol=1e-12)
    # two batches per hook call (steps_per_execution=2): their mean
    assert raw_loss_from_running_mean(means[3], means[1], 4, 2) == pytest.approx(2.125)
    with pytest.raises(ValueError):
        raw_loss_from_running_mean(1.0, 1.0, 2, 2)


class _OwnLossModel(keras.Model):
    """A custom train_step with its own loss metric. Named ``"loss"``, it is the tracker the
    callback reads (exact); under another name, the callback falls back to the running mean in
    logs (Keras' own tracker never moves)."""

    def __init__(self, metric_name: str = "loss"):
        super().__init__(name="own_loss_model")
        keras.utils.set_random_seed(0)
        self.hidden = keras.layers.Dense(16, activation="relu")
        self.out = keras.layers.Dense(3, activation="softmax")
        self.mean = keras.metrics.Mean(name=metric_name)

    def call(self, x):
        return self.out(self.hidden(x))

    @property
    def metrics(self):
        return [self.mean]

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = keras.losses.sparse_categorical_crossentropy(y, self(x, training=True))
            loss = tf.reduce_mean(loss)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        self.mean.update_state(loss)
        return {"loss": self.mean.result()}


@pytest.mark.parametrize("metric_name", ["loss", "own_loss"])
def test_own_loss_metric_or_fallback_on_logs_running_mean_with_equal_batches(metric_name):
    ds = _ds(96)  # three full batches per epoch
    own = _OwnLossModel(metric_name)
    own.compile(optimizer=keras.optimizers.SGD(0.01))
    own(np.zeros((1, 8), "float32"))
    std = keras.Sequential([keras.Input((8,)), own.hidden.__class__.from_config(
        own.hidden.get_config()), own.out.__class__.from_config(own.out.get_config())])
    std.set_weights(own.get_weights())
    std.compile(optimizer=keras.optimizers.SGD(0.01), loss=SCCE)
    cb_own, cb_std = (LRFinderCallback(end_lr=1.0, num_it=9, stop_div=False) for _ in "ab")
    _fit(own, cb_own, epochs=3, ds=ds)
    _fit(std, cb_std, epochs=3, ds=ds)
    assert len(cb_own.losses) == 9
    assert (cb_own._tracker is own.mean) == (metric_name == "loss")  # which path ran
    np.testing.assert_allclose(cb_own.losses, cb_std.losses, rtol=1e-5)


def _regression():
    """MSE regression on blobs: a large LR makes it blow up (classification here just
    separates the blobs perfectly at any LR)."""
    x, _ = blobs(100)
    y = x[:, :2].sum(1, keepdims=True) / 4
    model = mlp(c=1, softmax=False)
    model.compile(optimizer=keras.optimizers.Adam(), loss="mse")
    return model, tf.data.Dataset.from_tensor_slices((x, y)).batch(32)


def test_stops_on_divergence_and_restores():
    model, ds = _regression()
    model.fit(ds, epochs=2, verbose=0, shuffle=False)  # give Adam slots and iterations
    before, opt_before = _values(model.variables), _values(model.optimizer.variables)
    cb = LRFinderCallback(start_lr=1e-4, end_lr=1e4, num_it=100)
    hist = _fit(model, cb, epochs=25, ds=ds)
    assert cb.stop_reason in ("diverged", "non-finite") and len(cb.lrs) < 100
    assert cb.stop_step == len(cb.lrs) - 1 and len(hist.history["loss"]) < 25
    _assert_bitwise(before, model.variables)
    _assert_bitwise(opt_before, model.optimizer.variables)
    assert "stopped" in cb.plot().get_title()
    plt.close("all")
    # the standalone finder on the same compiled model (string loss 'mse') stops the same way
    finder = KerasLRFinder(model, ds, quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        finder.range_test(start_lr=1e-4, end_lr=1e4, num_it=100)
    assert finder.recorder.lr_find_info["stop_reason"] in ("diverged", "non-finite")
    _assert_bitwise(before, model.variables)
    _assert_bitwise(opt_before, model.optimizer.variables)


def test_no_restore_keeps_the_trained_weights():
    model = _compiled()
    before = _values(model.trainable_variables)
    _fit(model, LRFinderCallback(end_lr=1.0, num_it=4, restore_weights=False), epochs=1)
    after = _values(model.trainable_variables)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_short_fit_warns_and_reuse_resets():
    model = _compiled()
    cb = LRFinderCallback(end_lr=1.0, num_it=10, stop_div=False)
    with pytest.warns(UserWarning, match=r"after 4 of the sweep's 10 steps.*epochs >= 3"):
        model.fit(_ds(), epochs=1, callbacks=[cb], verbose=0, shuffle=False)
    assert cb.stop_reason == "fit ended" and len(cb.lrs) == 4
    _fit(model, cb, epochs=3)
    assert cb.stop_reason == "end" and len(cb.lrs) == 10


def test_steps_per_execution_warns():
    model = _compiled(steps_per_execution=2)
    cb = LRFinderCallback(end_lr=1.0, num_it=4, stop_div=False)
    with pytest.warns(UserWarning, match="steps_per_execution=2"):
        model.fit(_ds(128), epochs=2, callbacks=[cb], verbose=0, shuffle=False)
    assert len(cb.lrs) == 4


def test_learning_rate_schedule_is_refused():
    sched = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=10, decay_rate=0.9)
    model = _compiled(keras.optimizers.SGD(sched))
    before = _values(model.variables)
    with pytest.raises(ValueError, match="LearningRateSchedule.*float learning_rate"):
        model.fit(_ds(), epochs=1, callbacks=[LRFinderCallback()], verbose=0, shuffle=False)
    _assert_bitwise(before, model.variables)


@pytest.mark.parametrize("kwargs, err", [
    ({"start_lr": 0}, ValueError), ({"end_lr": 1e-8}, ValueError), ({"num_it": 1}, ValueError),
    ({"mode": "cos"}, ValueError), ({"suggest_funcs": ("nope",)}, ValueError),
    ({"suggest_funcs": ("valley", "valley")}, ValueError),
])
def test_callback_checks_arguments(kwargs, err):
    with pytest.raises(err):
        LRFinderCallback(**kwargs)


def test_results_before_fit_say_what_to_do():
    with pytest.raises(RuntimeError, match="model.fit"):
        _ = LRFinderCallback().lrs


def test_suggester_warnings_name_the_callers_line():
    """A 'no suggestion' warning points at the user's model.fit line, not at tflearner or Keras
    internals (Keras calls on_train_end from deep inside fit)."""
    model = _compiled()
    cb = LRFinderCallback(start_lr=1e-9, end_lr=1e-8, num_it=12, stop_div=False)
    with pytest.warns(UserWarning, match="robust: no suggestion") as caught:
        model.fit(_ds(n=400), epochs=1, callbacks=[cb], verbose=0, shuffle=False)
    robust_warnings = [w for w in caught if "robust: no suggestion" in str(w.message)]
    assert [w.filename for w in robust_warnings] == [__file__]
