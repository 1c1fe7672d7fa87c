"""Non-finite losses inside the compiled loop: the batch is never applied, and the fit (or the
LR sweep) ends at that very batch even when several batches run per compiled call."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import StopAfter, blobs, mlp

from tflearner import DataBundle, Learner


def nan_at(k: int):
    """A loss that is NaN at the k-th call since ``calls`` was last reset, finite otherwise."""
    calls = tf.Variable(0, dtype=tf.int64, trainable=False)
    base = keras.losses.SparseCategoricalCrossentropy()

    def loss_fn(y, pred):
        c = calls.assign_add(1) - 1
        return tf.where(tf.equal(c, k), tf.constant(math.nan), base(y, pred))

    return loss_fn, calls


def data_8_batches() -> DataBundle:
    x, y = blobs(256)
    return DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=32, seed=0)


def learner(data, loss_fn=None, spe=8, seed=3) -> Learner:
    keras.utils.set_random_seed(seed)
    for v in data.rng_state:
        v.assign(0)
    return Learner(mlp(), data, loss_fn=loss_fn, quiet=True, steps_per_execution=spe)


def test_nan_mid_chunk_stops_at_that_batch_with_clean_weights():
    data = data_8_batches()
    loss_fn, calls = nan_at(11)  # epoch 1, batch 3: inside the second chunk of 8
    learn = learner(data, loss_fn)
    calls.assign(0)  # the Learner probed the loss once at construction
    with pytest.warns(RuntimeWarning, match=r"epoch 1, batch 3 \(step 11, lr 0.001\).*nan"):
        state = learn.fit(3)
    assert state.stop_reason == "non-finite" and state.n_skipped == 1
    rec = learn.recorder
    assert len(rec.losses) == 12 and math.isnan(rec.losses[-1])
    assert all(math.isfinite(v) for v in rec.losses[:-1])
    assert int(learn.opt.iterations.numpy()) == 11  # the NaN batch was not applied
    assert len(rec.values) == 2  # like Keras, the epoch that stopped still ends
    # The weights equal those of a run that trained exactly the 11 good batches.
    ref = learner(data)
    ref.fit(3, callbacks=[StopAfter(10)])
    for a, b in zip(learn.model.variables, ref.model.variables, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-6)
    assert all(np.all(np.isfinite(v.numpy())) for v in learn.model.variables)


def test_terminate_on_nan_false_skips_the_batch_and_goes_on():
    data = data_8_batches()
    loss_fn, calls = nan_at(3)
    learn = learner(data, loss_fn)
    calls.assign(0)
    with pytest.warns(RuntimeWarning, match="skipped 1 batch"):
        state = learn.fit(2, terminate_on_nan=False)
    assert state.stop_reason is None and state.n_skipped == 1
    assert len(learn.recorder.losses) == 16
    assert int(learn.opt.iterations.numpy()) == 15
    assert all(math.isfinite(row["train_loss"]) for row in learn.recorder.values)
    assert all(np.all(np.isfinite(v.numpy())) for v in learn.model.variables)


def test_terminate_on_nan_must_be_a_bool():
    learn = learner(data_8_batches())
    with pytest.raises(TypeError,
                       match="terminate_on_nan must be True or False, got .yes. \\(str\\)"):
        learn.fit(1, terminate_on_nan="yes")


@pytest.mark.parametrize("spe", [1, 8])
def test_lr_find_stops_at_the_first_diverged_batch_in_chunks(spe):
    """The sweep runs chunked, yet its curve ends exactly at the first batch whose smoothed
    loss exceeds div_threshold x the best before it, as a one-batch-per-call sweep does."""
    learn = learner(data_8_batches(), spe=spe)
    learn.lr_find(start_lr=1e-3, end_lr=1e4, num_it=60)
    info, rec = learn.recorder.lr_find_info, learn.recorder
    assert info["stop_reason"] == "diverged"
    smooth = np.array(rec.smooth_losses)
    assert len(smooth) == info["stop_step"] + 1 < 60
    assert smooth[-1] > 4 * smooth[:-1].min()
    for j in range(1, len(smooth) - 1):
        assert smooth[j] <= 4 * smooth[:j].min()


def test_lr_find_sweep_is_the_same_chunked_or_not():
    curves = []
    for spe in (1, 8):
        learn = learner(data_8_batches(), spe=spe)
        learn.lr_find(num_it=40)
        curves.append((learn.recorder.lrs, learn.recorder.losses))
    np.testing.assert_allclose(curves[0][0], curves[1][0], rtol=0)
    np.testing.assert_allclose(curves[0][1], curves[1][1], rtol=1e-5)


def _debiased_over_finite(losses, beta=0.98):
    """The documented EMA: only finite losses enter it and advance the bias correction; NaN
    before the first finite loss."""
    avg, k, out = 0.0, 0, []
    for loss in losses:
        if math.isfinite(loss):
            avg, k = beta * avg + (1 - beta) * loss, k + 1
        out.append(avg / (1 - beta ** k) if k else math.nan)
    return out


def test_a_skipped_batch_does_not_advance_the_ema_bias_correction():
    """Bug: the correction used the step count, so after a skipped batch the smoothed loss was
    divided by a factor that had advanced while the average had not."""
    data = data_8_batches()
    loss_fn, calls = nan_at(2)
    learn = learner(data, loss_fn)
    calls.assign(0)
    with pytest.warns(RuntimeWarning, match="skipped 1 batch"):
        learn.fit(1, terminate_on_nan=False)
    rec = learn.recorder
    assert math.isnan(rec.losses[2])
    np.testing.assert_allclose(rec.smooth_losses, _debiased_over_finite(rec.losses), rtol=1e-12)
    assert rec.smooth_losses[3] == pytest.approx(
        (0.98 * 0.98 * 0.02 * rec.losses[0] + 0.98 * 0.02 * rec.losses[1]
         + 0.02 * rec.losses[3]) / (1 - 0.98 ** 3), rel=1e-12)


def test_a_non_finite_first_batch_records_nan_not_zero():
    """Bug: a non-finite first batch recorded a smoothed loss of 0.0 (0 / (1 - beta))."""
    data = data_8_batches()
    loss_fn, calls = nan_at(0)
    learn = learner(data, loss_fn)
    calls.assign(0)
    with pytest.warns(RuntimeWarning, match="skipped 1 batch"):
        learn.fit(1, terminate_on_nan=False)
    rec = learn.recorder
    assert math.isnan(rec.smooth_losses[0])
    assert rec.smooth_losses[1] == pytest.approx(rec.losses[1], rel=1e-12)  # the first finite
    np.testing.assert_allclose(rec.smooth_losses, _debiased_over_finite(rec.losses), rtol=1e-12)


@pytest.mark.parametrize("relu", [True, False])
def test_the_stop_warning_says_what_was_not_finite_and_names_the_batch(relu):
    """NaN in one input: through a ReLU (TensorFlow's gives 0 for NaN) the loss stays finite and
    only the gradients are NaN; a linear model's loss is NaN. The warning says which, for
    batch 1 (the one holding the NaN), never quoting a finite loss as the problem."""
    x, y = blobs(64)
    x[20, 3] = np.nan  # batch 1 of 16
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    keras.utils.set_random_seed(0)
    model = mlp(softmax=False) if relu else keras.Sequential([keras.Input((8,)),
                                                              keras.layers.Dense(3)])
    learn = Learner(model, DataBundle.from_datasets(ds), quiet=True)
    with pytest.warns(RuntimeWarning) as rec:
        learn.fit(1, lr=0.1)
    message = str(rec[0].message)
    assert "epoch 0, batch 1 (step 1" in message
    if relu:
        assert "its gradients were NaN/Inf though its loss (" in message
    else:
        assert "its loss was nan" in message
