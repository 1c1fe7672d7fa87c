"""OneCycleSchedule (a Keras LR schedule) and OneCycleCallback (LR + momentum inside fit)."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

import tflearner
from tflearner.keras_fit.one_cycle import OneCycleCallback, OneCycleSchedule
from tflearner.schedules import one_cycle

SCCE = "sparse_categorical_crossentropy"


def _ds(n: int = 100, batch: int = 32) -> tf.data.Dataset:
    """4 batches per epoch (the last one partial)."""
    x, y = blobs(n)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)


class _Reader(keras.callbacks.Callback):
    """Reads, after each batch, the lr / momentum the batch ran with and the first moment slot."""

    def __init__(self, attr: str | None = None, slots: str | None = None) -> None:
        super().__init__()
        self.attr, self.slots = attr, slots
        self.lrs, self.moms, self.m = [], [], []

    def on_train_batch_end(self, batch, logs=None):
        opt = self.model.optimizer
        opt = getattr(opt, "inner_optimizer", opt)  # a LossScaleOptimizer: the one that updates
        self.lrs.append(float(np.asarray(opt.learning_rate)))
        if self.attr:
            self.moms.append(float(np.asarray(getattr(opt, self.attr))))
        if self.slots:
            self.m.append(float(np.asarray(getattr(opt, self.slots)[0]).ravel()[0]))


# ---------------------------------------------------------------------------------------------
# OneCycleSchedule
# ---------------------------------------------------------------------------------------------

def test_schedule_matches_one_cycle():
    sched = OneCycleSchedule(100, 0.1, pct_start=0.3, div=10.0, div_final=1e4)
    lrs, _ = one_cycle(100, 0.1, pct_start=0.3, div=10.0, div_final=1e4, moms=None)
    for step in (0, 30, 99):
        np.testing.assert_allclose(float(sched(step)), lrs[step], rtol=1e-6)
    np.testing.assert_allclose(float(sched(30)), 0.1, rtol=1e-6)  # the peak
    np.testing.assert_allclose(float(sched(500)), lrs[-1], rtol=1e-6)  # past the end holds
    np.testing.assert_allclose(float(sched(-3)), lrs[0], rtol=1e-6)
    np.testing.assert_allclose(sched.lrs, lrs)


def test_schedule_validates_and_three_phase():
    with pytest.raises(ValueError, match="pct_start"):
        OneCycleSchedule(10, 0.1, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal"):
        OneCycleSchedule(10, 0.1, anneal="bogus")
    sched = OneCycleSchedule(40, 1.0, pct_start=0.25, three_phase=True, anneal="linear")
    lrs, _ = one_cycle(40, 1.0, pct_start=0.25, three_phase=True, anneal="linear", moms=None)
    np.testing.assert_allclose([float(sched(i)) for i in range(40)], lrs, rtol=1e-6)


def test_schedule_in_tf_function_no_retrace():
    sched = OneCycleSchedule(50, 0.01)
    lrs, _ = one_cycle(50, 0.01, moms=None)
    traces = []

    @tf.function
    def f(step):
        traces.append(1)
        return sched(step)

    step = tf.Variable(0, dtype=tf.int64)
    for i in (0, 12, 49, 80):
        step.assign(i)
        np.testing.assert_allclose(float(f(step)), lrs[min(i, 49)], rtol=1e-6)
    assert len(traces) == 1


def test_schedule_save_load_round_trip(tmp_path):
    model = mlp()
    sched = OneCycleSchedule(20, 0.05, pct_start=0.4, div=5.0, anneal="linear")
    model.compile(optimizer=keras.optimizers.Adam(sched), loss=SCCE)
    x, y = blobs(64)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # iterations = 2
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    lsched = loaded.optimizer._learning_rate
    assert isinstance(lsched, OneCycleSchedule)
    assert lsched.get_config() == sched.get_config()
    assert int(loaded.optimizer.iterations.numpy()) == 2
    np.testing.assert_allclose(float(np.asarray(loaded.optimizer.learning_rate)),
                               float(sched(2)), rtol=1e-6)
    for step in (0, 8, 19, 30):
        np.testing.assert_allclose(float(lsched(step)), float(sched(step)), rtol=1e-7)


# ---------------------------------------------------------------------------------------------
# OneCycleCallback
# ---------------------------------------------------------------------------------------------

def test_callback_lr_and_adam_beta1_per_batch():
    model = mlp()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=SCCE)
    cb, reader = OneCycleCallback(0.01, pct_start=0.3), _Reader("beta_1")
    model.fit(_ds(), epochs=3, callbacks=[cb, reader], verbose=0, shuffle=False)
    lrs, moms = one_cycle(12, 0.01, pct_start=0.3)
    np.testing.assert_allclose(reader.lrs, lrs, rtol=1e-6)
    np.testing.assert_allclose(reader.moms, moms, rtol=1e-6)
    np.testing.assert_allclose(cb.lrs, lrs)
    np.testing.assert_allclose(cb.moms, moms)
    assert isinstance(model.optimizer.beta_1, tf.Variable)


def _linear_model(opt) -> keras.Model:
    """d loss / d w = 1 at every step (loss = mean(x @ w), x = 1), so the first-moment slot
    follows a recurrence in the momentum each step actually used."""
    model = keras.Sequential([keras.Input((1,)),
                              keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer=opt, loss=lambda y_true, y_pred: keras.ops.mean(y_pred))
    return model


def _ones_ds(steps: int = 4) -> tf.data.Dataset:
    x = np.ones((steps * 8, 1), "float32")
    return tf.data.Dataset.from_tensor_slices((x, x)).batch(8)


def test_adam_beta1_is_effective():
    model = _linear_model(keras.optimizers.Adam(1e-3))
    cb, reader = OneCycleCallback(0.01), _Reader("beta_1", slots="_momentums")
    model.fit(_ones_ds(), epochs=2, callbacks=[cb, reader], verbose=0, shuffle=False)
    _, moms = one_cycle(8, 0.01)
    m, expected = 0.0, []
    for b1 in moms:
        m = m + (1.0 - b1) * (1.0 - m)
        expected.append(m)
    np.testing.assert_allclose(reader.m, expected, rtol=1e-5)


def test_tflearner_sgd_momentum_cycled_and_effective():
    model = _linear_model(tflearner.SGD(1e-3, momentum=0.9))
    cb, reader = OneCycleCallback(0.1, moms=(0.9, 0.5, 0.8)), _Reader("momentum", "momentums")
    model.fit(_ones_ds(), epochs=2, callbacks=[cb, reader], verbose=0, shuffle=False)
    lrs, moms = one_cycle(8, 0.1, moms=(0.9, 0.5, 0.8))
    np.testing.assert_allclose(reader.moms, moms, rtol=1e-6)
    v, expected = 0.0, []
    for lr, mom in zip(lrs, moms, strict=True):
        v = mom * v - lr * 1.0
        expected.append(v)
    np.testing.assert_allclose(reader.m, expected, rtol=1e-5)


class MyAdam(keras.optimizers.Adam):
    """A user's Adam subclass: cycled like Adam (detection is by type, not by class name)."""


class MySGD(keras.optimizers.SGD):
    """A stock-SGD subclass: Keras bakes its momentum in at trace time, so it cannot cycle."""


def _first_moments(moms, m=0.0) -> list[float]:
    """Adam's first moment on _linear_model (gradient 1 every step), one value per step."""
    out = []
    for b1 in moms:
        m = m + (1.0 - b1) * (1.0 - m)
        out.append(m)
    return out


@pytest.mark.parametrize("cls,wrap", [(MyAdam, False), (keras.optimizers.Adam, True),
                                      (MyAdam, True)],
                         ids=["MyAdam", "LossScaleOptimizer(Adam)", "LossScaleOptimizer(MyAdam)"])
def test_adam_subclass_and_loss_scale_optimizer_get_beta1_cycled(cls, wrap):
    opt = cls(1e-3)
    model = _linear_model(keras.optimizers.LossScaleOptimizer(opt) if wrap else opt)
    cb, reader = OneCycleCallback(0.01), _Reader("beta_1", slots="_momentums")
    model.fit(_ones_ds(), epochs=2, callbacks=[cb, reader], verbose=0, shuffle=False)
    lrs, moms = one_cycle(8, 0.01)
    np.testing.assert_allclose(cb.moms, moms)
    np.testing.assert_allclose(reader.moms, moms, rtol=1e-6)
    np.testing.assert_allclose(reader.lrs, lrs, rtol=1e-6)
    np.testing.assert_allclose(reader.m, _first_moments(moms), rtol=1e-5)  # effective
    assert isinstance(opt.beta_1, tf.Variable)


@pytest.mark.parametrize("make,words", [
    (lambda: MySGD(1e-3, momentum=0.9), [
        "MySGD(momentum=0.9) cannot have its momentum cycled", "Derive MySGD from tflearner.SGD",
        "moms=None"]),
    (lambda: keras.optimizers.RMSprop(1e-3, momentum=0.5), [
        "RMSprop(momentum=0.5) cannot have its momentum cycled", "tflearner.SGD(momentum=...)",
        "moms=None"]),
], ids=["MySGD", "RMSprop"])
def test_uncyclable_momentum_warns_and_cycles_the_lr_only(make, words):
    model = mlp()
    model.compile(optimizer=make(), loss=SCCE)
    cb = OneCycleCallback(0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(_ds(), epochs=1, callbacks=[cb], verbose=0, shuffle=False)
    found = [str(w.message) for w in caught if "cycled" in str(w.message)]
    assert len(found) == 1
    for w in words:
        assert w in found[0]
    assert cb.moms is None
    np.testing.assert_allclose(cb.lrs, one_cycle(4, 0.05)[0])


def test_sgd_without_momentum_and_moms_none_are_lr_only():
    model = mlp()
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss=SCCE)
    cb, reader = OneCycleCallback(0.05), _Reader()
    model.fit(_ds(), epochs=1, callbacks=[cb, reader], verbose=0, shuffle=False)
    np.testing.assert_allclose(reader.lrs, one_cycle(4, 0.05)[0], rtol=1e-6)
    assert cb.moms is None
    model = mlp()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=SCCE)
    cb = OneCycleCallback(0.05, moms=None)
    model.fit(_ds(), epochs=1, callbacks=[cb], verbose=0, shuffle=False)
    assert cb.moms is None and not isinstance(model.optimizer.beta_1, tf.Variable)


def test_keras_sgd_with_momentum_refused():
    model = mlp()
    model.compile(optimizer=keras.optimizers.SGD(1e-3, momentum=0.9), loss=SCCE)
    with pytest.raises(ValueError, match="tflearner.SGD"):
        model.fit(_ds(), epochs=1, callbacks=[OneCycleCallback(0.01)], verbose=0, shuffle=False)


def test_schedule_optimizer_refused():
    model = mlp()
    model.compile(optimizer=keras.optimizers.Adam(OneCycleSchedule(10, 0.01)), loss=SCCE)
    with pytest.raises(ValueError, match="LearningRateSchedule"):
        model.fit(_ds(), epochs=1, callbacks=[OneCycleCallback(0.01)], verbose=0, shuffle=False)


def test_steps_per_execution_warns():
    model = mlp()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=SCCE, steps_per_execution=2)
    cb = OneCycleCallback(0.01)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(_ds(128), epochs=1, callbacks=[cb], verbose=0, shuffle=False)
    assert any("steps_per_execution=2" in str(w.message) for w in caught)
    lrs, _ = one_cycle(4, 0.01)
    np.testing.assert_allclose(cb.lrs, lrs[::2])  # hooks at steps 0 and 2


def test_explicit_total_and_bad_args():
    model = mlp()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=SCCE)
    cb = OneCycleCallback(0.01, epochs=2, steps_per_epoch=4)
    model.fit(_ds(), epochs=1, callbacks=[cb], verbose=0, shuffle=False)
    np.testing.assert_allclose(cb.lrs, one_cycle(8, 0.01)[0][:4])
    with pytest.raises(ValueError, match="moms"):
        OneCycleCallback(0.01, moms=(0.9, 0.8))


def test_callback_after_an_earlier_fit_retraces_to_read_the_variable():
    model = _linear_model(keras.optimizers.Adam(1e-3))
    model.fit(_ones_ds(), epochs=1, verbose=0, shuffle=False)  # traced with beta_1 = 0.9 baked in
    m0 = float(np.asarray(model.optimizer._momentums[0]).ravel()[0])
    cb, reader = OneCycleCallback(0.01), _Reader("beta_1", slots="_momentums")
    model.fit(_ones_ds(), epochs=1, callbacks=[cb, reader], verbose=0, shuffle=False)
    m, expected = m0, []
    for b1 in one_cycle(4, 0.01)[1]:
        m = m + (1.0 - b1) * (1.0 - m)
        expected.append(m)
    np.testing.assert_allclose(reader.m, expected, rtol=1e-5)
