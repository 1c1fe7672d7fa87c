"""Gradient accumulation counted in optimizer updates, and gradient clipping, in the loop."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

from tflearner import Callback, DataBundle, Learner
from tflearner.core.internals import raw_iterations
from tflearner.optim.accumulate import (
    accumulation_steps,
    batches_for_updates,
    is_update_batch,
    update_index,
    updates_in,
)
from tflearner.schedules import exp_sweep, one_cycle


def test_update_arithmetic_by_hand():
    # k=3 from raw count 0: micro-batches 0,1,2 -> update 0 (applied at 2), 3,4,5 -> update 1
    assert [update_index(0, s, 3) for s in range(7)] == [0, 0, 0, 1, 1, 1, 2]
    assert [is_update_batch(0, s, 3) for s in range(7)] == [False, False, True] * 2 + [False]
    assert updates_in(0, 7, 3) == 2 and batches_for_updates(0, 2, 3) == 6
    # from raw count 2 (one micro-batch short of an update): step 0 applies update 0
    assert [update_index(2, s, 3) for s in range(5)] == [0, 1, 1, 1, 2]
    assert [is_update_batch(2, s, 3) for s in range(5)] == [True, False, False, True, False]
    assert updates_in(2, 4, 3) == 2 and batches_for_updates(2, 2, 3) == 4
    assert accumulation_steps(keras.optimizers.Adam()) == 1
    assert accumulation_steps(keras.optimizers.Adam(gradient_accumulation_steps=4)) == 4
    assert accumulation_steps(keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(gradient_accumulation_steps=2))) == 2


def _line_data(n=8):
    x = np.linspace(-1, 1, n, dtype="float32")[:, None]
    y = 3.0 * x + 0.5
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(1)  # fixed order: known by hand
    return x[:, 0], y[:, 0], DataBundle.from_datasets(ds, task="regression")


def _line_model(w0=0.2):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(
        1, use_bias=False, kernel_initializer=keras.initializers.Constant(w0))])
    return model


def test_one_cycle_applies_one_lr_per_update_as_computed_by_hand():
    x, y, data = _line_data(8)
    k, w = 2, 0.2
    learn = Learner(_line_model(w), data, opt=keras.optimizers.SGD(
        0.1, gradient_accumulation_steps=k), quiet=True)
    learn.fit_one_cycle(2, 0.5, moms=None)  # 16 batches -> 8 updates
    lrs, _ = one_cycle(8, 0.5, moms=None)
    xs, ys = np.tile(x, 2), np.tile(y, 2)
    for u in range(8):  # w <- w - lr_u * mean of the k micro-batch gradients at the same w
        i = slice(k * u, k * u + k)
        grad = np.mean(2.0 * xs[i] * (w * xs[i] - ys[i]))
        w = w - lrs[u] * grad
    assert float(learn.model.get_weights()[0][0, 0]) == pytest.approx(w, rel=1e-5)
    # the recorder: every micro-batch carries the LR of the update it goes into
    np.testing.assert_allclose(learn.recorder.lrs, np.repeat(lrs, k), rtol=1e-6)
    assert int(learn.opt.iterations.numpy()) == 8 and raw_iterations(learn.opt) == 16


def test_leftover_micro_batches_warn_and_multi_group_is_refused():
    _, _, data = _line_data(3)
    learn = Learner(_line_model(), data, opt=keras.optimizers.SGD(
        0.1, gradient_accumulation_steps=2), quiet=True)
    with pytest.warns(UserWarning, match="the last 1 batch"):
        learn.fit_one_cycle(1, 0.1, moms=None)  # 3 batches: one update, one left over
    backbone = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)], name="bb")
    model = keras.Sequential([keras.Input((8,)), backbone, keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="gradient_accumulation_steps=2.*2 layer groups"):
        Learner(model, DataBundle.from_arrays(*blobs(40), batch_size=8), quiet=True,
                opt=keras.optimizers.Adam(gradient_accumulation_steps=2))


class CountBatches(Callback):
    def __init__(self):
        self.n = 0

    def after_batch(self, state):
        self.n += 1


def test_lr_find_sweeps_one_lr_per_update_and_restores_everything(blob_data):
    k, num_it = 3, 20
    learn = Learner(mlp(), blob_data, quiet=True,
                    opt=keras.optimizers.SGD(gradient_accumulation_steps=k))
    learn.fit(1)  # 8 batches: the raw counter sits mid-update (8 % 3 == 2)
    r0 = raw_iterations(learn.opt)
    weights = [w.copy() for w in learn.model.get_weights()]
    counter = CountBatches()
    learn.callbacks.append(counter)
    learn.lr_find(start_lr=1e-4, end_lr=1e-1, num_it=num_it, stop_div=False, extend=False)
    assert counter.n == batches_for_updates(r0, num_it, k) == k * num_it - 2
    rec = learn.recorder
    np.testing.assert_allclose(rec.lrs, exp_sweep(1e-4, 1e-1, num_it), rtol=1e-6)
    assert len(rec.losses) == len(rec.smooth_losses) == num_it
    assert rec.lr_find_info["accumulation"] == k and rec.lr_find_info["stop_step"] == num_it - 1
    assert raw_iterations(learn.opt) == r0
    for a, b in zip(weights, learn.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("clip", [{"clipvalue": 0.01}, {"clipnorm": 0.05},
                                  {"global_clipnorm": 0.05}])
def test_gradient_clipping_applies_in_the_loop(clip):
    x, y = blobs(16)
    data = DataBundle.from_datasets(tf.data.Dataset.from_tensor_slices((x, y)).batch(16))
    model = mlp()
    learn = Learner(model, data, opt=keras.optimizers.SGD(1.0, **clip), quiet=True)
    before = [v.numpy().copy() for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        loss = learn.loss_fn(y, model(x, training=True))
    grads = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
    if "clipvalue" in clip:
        want = [np.clip(g, -0.01, 0.01) for g in grads]
    elif "clipnorm" in clip:
        want = [g * min(1.0, 0.05 / np.linalg.norm(g)) for g in grads]
    else:
        total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
        want = [g * min(1.0, 0.05 / total) for g in grads]
    learn.fit(1)
    for b, v, g in zip(before, model.trainable_variables, want, strict=True):
        np.testing.assert_allclose(b - v.numpy(), g, rtol=1e-4, atol=1e-7)
