"""Schedule-free optimizers: the Learner trains as model.fit does, reads at the averaged point
x = (y - (1 - beta_1) z) / beta_1 (checked against model.evaluate at hand-computed weights),
recomputes BatchNorm statistics there (checked by hand), and puts y back bit for bit."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import StopAfter, blobs, mlp

from tflearner import DataBundle, Learner, load_learner
from tflearner.batchnorm import BatchNormRefresh
from tflearner.core.internals import schedule_free_base
from tflearner.optim.detect import is_schedule_free

SF = keras.optimizers.ScheduleFreeAdamW


def _state(learn):
    return [v.numpy().copy() for v in learn.state_variables()["model"]] + [
        v.numpy().copy() for v in learn.state_variables()["opt"]] + [
        v.numpy() for v in learn.data.rng_state]


def _same(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))


def _hand_x(model, opt, beta=0.9):
    """x from the optimizer's z slots, in numpy float32 with Keras' operation order."""
    b = np.float32(beta)
    return [(v.numpy() - (np.float32(1) - b) * schedule_free_base(opt, v).numpy()) / b
            for v in model.trainable_variables]


def test_fit_is_model_fit_and_reading_is_at_x_unless_asked_for_y():
    x, y = blobs(96)
    xv, yv = blobs(40, seed=1)
    model = mlp(seed=0)
    start = model.get_weights()
    data = DataBundle.from_datasets(tf.data.Dataset.from_tensor_slices((x, y)).batch(16),
                                    tf.data.Dataset.from_tensor_slices((xv, yv)).batch(20))
    learn = Learner(model, data, opt=SF(0.01), quiet=True)
    learn.fit(2)
    twin = mlp(seed=0)
    twin.set_weights(start)
    twin.compile(optimizer=SF(0.01), loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"])
    twin.optimizer.build(twin.trainable_variables)  # eagerly: see the next test
    twin.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # y, bit for bit
    at_y = twin.evaluate(xv, yv, batch_size=20, verbose=0, return_dict=True)
    twin.set_weights(_hand_x(twin, twin.optimizer))
    at_x = twin.evaluate(xv, yv, batch_size=20, verbose=0, return_dict=True)
    before = _state(learn)
    got = learn.validate()
    assert _same(before, _state(learn))  # y back, bit for bit
    assert got["loss"] == pytest.approx(at_x["loss"], rel=1e-6)
    assert got["accuracy"] == pytest.approx(at_x["accuracy"])
    assert learn.recorder.values[-1]["valid_loss"] == pytest.approx(got["loss"], rel=1e-6)
    assert abs(at_x["loss"] - at_y["loss"]) > 1e-3  # the two points differ here
    probs = learn.get_preds()[0]
    np.testing.assert_allclose(probs, twin.predict(xv, verbose=0), rtol=1e-5, atol=1e-6)
    learn.averaging.point = "y"
    assert learn.validate()["loss"] == pytest.approx(at_y["loss"], rel=1e-6)
    learn.averaging.point = "x"
    with learn.averaging.at("y"):  # a one-off request; readers inside read y
        assert learn.validate()["loss"] == pytest.approx(at_y["loss"], rel=1e-6)
    assert _same(before, _state(learn))


def test_keras_model_fit_builds_z_at_zero_so_the_first_step_wipes_the_weights():
    """Keras 3.15's model.fit builds ScheduleFreeAdamW inside its traced train step, where the
    copy of the weights into z is lost: z starts at 0 and step 1 sets every kernel to +-lr.
    The Learner builds it eagerly (z = the weights), as the optimizer means. If Keras fixes
    this, docs/schedule_free.md's note on it goes."""
    x, y = blobs(16)
    twin = mlp(seed=0)
    twin.compile(optimizer=SF(0.01), loss="sparse_categorical_crossentropy")
    twin.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(np.abs(twin.get_weights()[0]), 0.01, rtol=1e-3)


def _bn_learner(bn_batches=3, seed=0):
    x, y = blobs(160, seed=seed)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((8,)), keras.layers.Dense(6, name="d"),
        keras.layers.BatchNormalization(momentum=0.9, name="bn"), keras.layers.ReLU(),
        keras.layers.Dropout(0.3), keras.layers.Dense(3, activation="softmax")])
    data = DataBundle.from_arrays(x, y, batch_size=16, valid_pct=0.2, seed=seed)
    learn = Learner(model, data, opt=SF(0.01), quiet=True)
    learn.averaging.bn = BatchNormRefresh(model, bn_batches)
    return learn


def test_batchnorm_statistics_are_recomputed_at_x_by_hand_and_put_back():
    learn = _bn_learner(bn_batches=3)
    learn.fit(1)
    counter = learn.data.rng_state[0]
    c0 = int(counter.numpy())
    batches = [b[0].numpy() for b, _ in zip(learn.data.train, range(3), strict=False)]
    counter.assign(c0)  # the refresh reads the next epoch's first batches: these
    dense, bn = learn.model.get_layer("d"), learn.model.get_layer("bn")
    w, b = (np.asarray(v) for v in _hand_x_of(learn, dense))
    hs = [xb @ w + b for xb in batches]
    n = np.array([len(h) for h in hs], np.float64)
    mean = sum(k * h.mean(0) for k, h in zip(n, hs, strict=True)) / n.sum()
    var = sum(k * h.var(0) for k, h in zip(n, hs, strict=True)) / n.sum()
    before = _state(learn)
    with learn.averaging.at("x"):
        np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(dense.kernel.numpy(), w, rtol=1e-6)
        inside = learn.validate()
        assert inside == learn.validate()  # the second read takes the cached statistics
    assert _same(before, _state(learn))  # weights, statistics, seeds and data order are back
    assert learn.validate() == inside


def _hand_x_of(learn, layer):
    return [(v.numpy() - np.float32(0.1) * schedule_free_base(learn.opt, v).numpy())
            / np.float32(0.9) for v in layer.trainable_variables]


def test_checkpointed_fit_resumes_exactly_with_validation_at_x(tmp_path):
    ref = _bn_learner()
    ref.fit(3)
    first = _bn_learner()
    state = first.fit(3, checkpoint=tmp_path, callbacks=[StopAfter(11)])
    assert state.step == 12  # inside epoch 1
    again = _bn_learner()
    again.fit(3, checkpoint=tmp_path)
    assert _same(_state(ref), _state(again))
    assert [r["valid_loss"] for r in again.recorder.values] == [
        r["valid_loss"] for r in ref.recorder.values]


def test_exported_model_is_x_and_predict_agrees(tmp_path):
    learn = _bn_learner()
    learn.fit(2)
    x = learn.data.valid.unbatch().batch(64).take(1).get_single_element()[0].numpy()
    probs = learn.get_preds()[0]
    inf = load_learner(learn.export(tmp_path / "export"))
    np.testing.assert_allclose(inf.get_preds(x)[0], probs[:len(x)], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(learn.predict(x[0])[2], probs[0], rtol=1e-5, atol=1e-6)
    with learn.averaging.at("y"):
        at_y = learn.get_preds()[0]
    assert np.abs(at_y - probs).max() > 1e-4


def test_one_cycle_warns_and_leaves_beta_1_alone():
    learn = _bn_learner()
    with pytest.warns(UserWarning, match=r"ScheduleFreeAdamW's beta_1 is not a momentum .* "
                                         r"learn.fit\(epochs, lr\)"):
        learn.fit_one_cycle(1, 0.01)
    assert learn.opt.beta_1 == 0.9 and learn.hypers.mom is None
    lrs = np.array(learn.recorder.lrs)
    assert 0.005 < lrs.max() <= 0.01 and lrs[0] < lrs.max() > lrs[-1]  # the LR is scheduled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learn.fit_one_cycle(1, 0.01, moms=None)


def test_averaging_at_rules_and_other_optimizers_have_no_x():
    learn = _bn_learner()
    assert is_schedule_free(learn.opt) and learn.averaging.point == "x"
    with learn.averaging.at("x"):
        with pytest.raises(RuntimeError, match=r"fit inside learn.averaging.at"):
            learn.fit(1)
        with pytest.raises(ValueError, match=r"averaging.at\('y'\) inside averaging.at\('x'\)"):
            with learn.averaging.at("y"):
                pass
    with pytest.raises(ValueError, match="averaging.point must be one of"):
        learn.averaging.point = "z"
    plain = Learner(mlp(), DataBundle.from_arrays(*blobs(32)), opt="adam", quiet=True)
    assert plain.averaging.point is None and not plain.averaging.callbacks()
    with pytest.raises(ValueError, match="needs a schedule-free optimizer"):
        plain.averaging.point = "y"


def test_sweep_on_a_warming_up_optimizer_is_told():
    x, y = blobs(64)
    learn = Learner(mlp(), DataBundle.from_arrays(x, y, batch_size=16), quiet=True,
                    opt=SF(0.01, warmup_steps=20))
    with pytest.warns(UserWarning, match=r"warmup_steps=20\) multiplies the learning rate of "
                                         r"its next 20 update"):
        learn.lr_find(num_it=30, show_plot=False)
