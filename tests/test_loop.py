"""The one compiled loop: event order, no retrace, per-batch hyper-parameters, stop flag."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

from tflearner import EVENTS, Callback, DataBundle, Learner


class EventLog(Callback):
    def __init__(self):
        self.events = []

    def __getattribute__(self, name):
        if name in EVENTS:
            return lambda state: self.events.append((name, state.epoch, state.iter))
        return super().__getattribute__(name)


def test_event_order_for_two_epochs(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    log = EventLog()
    learn.fit(2, callbacks=[log])
    names = [e[0] for e in log.events]
    n_iter = learn.data.n_train_batches  # 240 train images / 32 -> 8 batches (last partial)
    assert n_iter == 8
    epoch = (["before_epoch", "before_train"] + ["before_batch", "after_batch"] * n_iter
             + ["after_train", "before_validate", "after_validate", "after_epoch"])
    assert names == ["before_fit"] + epoch * 2 + ["after_fit"]
    assert log.events[-2] == ("after_epoch", 1, n_iter)


class LRPerBatch(Callback):
    order = -10

    def before_batch(self, state):
        state.hypers.lr = 0.01 * (1 + state.step)
        if state.hypers.mom is not None:
            state.hypers.mom = 0.5 + 0.01 * state.step


def test_no_retrace_across_epochs_lr_changes_and_partial_batch(blob_data):
    learn = Learner(mlp(), blob_data, opt="adam", quiet=True)
    learn.fit(3, callbacks=[LRPerBatch()])
    learn.fit(1, lr=0.123)
    learn.validate()
    learn.validate(learn.data.valid)
    learn.predict(blobs(10)[0])
    assert dict(learn.loop.trace_counts) == {"train": 1, "eval": 1, "predict": 1}
    # the recorder saw the per-batch values that the step used
    n = len(learn.recorder.lrs)
    assert n == 8
    assert learn.recorder.lrs[0] == pytest.approx(0.123)


def test_per_batch_lr_reaches_the_compiled_step_exactly():
    """Linear regression, plain SGD: every step must equal w - lr_i * grad computed by hand."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3).astype("float32")[:, None]
    data = DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=40, seed=0)
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="lin")])
    learn = Learner(model, data, quiet=True)
    lrs = [0.1, 0.02, 0.3]

    class Sched(Callback):
        order = -10

        def before_batch(self, state):
            state.hypers.lr = lrs[state.step]

    w, b = (v.numpy().astype(float) for v in model.variables)
    learn.fit(3, callbacks=[Sched()])
    for lr in lrs:  # one full batch per epoch: order does not matter
        err = x @ w + b - y
        gw, gb = 2 * x.T @ err / len(x), 2 * err.mean(0)
        w, b = w - lr * gw, b - lr * gb
    np.testing.assert_allclose(model.variables[0].numpy(), w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.variables[1].numpy(), b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(learn.recorder.lrs, lrs, rtol=1e-6)


def test_stop_training_ends_the_fit_after_that_batch(blob_data):
    class StopAt(Callback):
        def after_batch(self, state):
            if state.step == 2:
                state.stop_training = True

    learn = Learner(mlp(), blob_data, quiet=True)
    state = learn.fit(5, callbacks=[StopAt()])
    assert len(learn.recorder.losses) == 3
    assert state.epoch == 0 and len(learn.recorder.values) == 1


def test_after_fit_runs_when_a_callback_raises(blob_data):
    seen = []

    class Boom(Callback):
        def after_batch(self, state):
            raise RuntimeError("boom")

        def after_fit(self, state):
            seen.append("after_fit")

    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(RuntimeError, match="boom"):
        learn.fit(1, callbacks=[Boom()])
    assert seen == ["after_fit"]


def test_smoothed_loss_is_the_debiased_ema(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    learn.fit(2)
    raw = np.array(learn.recorder.losses)
    avg, expected = 0.0, []
    for i, loss in enumerate(raw):
        avg = 0.98 * avg + 0.02 * loss
        expected.append(avg / (1 - 0.98 ** (i + 1)))
    np.testing.assert_allclose(learn.recorder.smooth_losses, expected, rtol=1e-12)
    assert learn.recorder.smooth_losses[0] == pytest.approx(raw[0])


def test_unknown_length_dataset_works_and_learns_n_iter():
    x, y = blobs(100)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).batch(16)
    assert int(ds.cardinality()) < 0
    learn = Learner(mlp(), DataBundle.from_datasets(ds), quiet=True)
    state = learn.fit(2)
    assert state.n_iter == 7 and len(learn.recorder.losses) == 14


def test_dataset_with_other_spec_is_refused(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    x, y = blobs(20)
    bad = tf.data.Dataset.from_tensor_slices((x.astype("float64"), y)).batch(4)
    with pytest.raises(ValueError, match="does not match the training data"):
        learn.validate(bad)


def test_freezing_layers_retraces_once_and_trains_only_unfrozen(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True, lr=0.1)
    learn.fit(1)
    learn.model.get_layer("hidden").trainable = False
    frozen = [v.numpy().copy() for v in learn.model.get_layer("hidden").weights]
    learn.fit(1)
    after = [v.numpy() for v in learn.model.get_layer("hidden").weights]
    for a, b in zip(frozen, after, strict=True):
        np.testing.assert_array_equal(a, b)
    assert learn.loop.trace_counts["train"] == 2
