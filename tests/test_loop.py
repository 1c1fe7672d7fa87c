"""The one compiled loop: event order, no retrace, per-batch hyper-parameters, stop flag."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

from tflearner import Callback, DataBundle, Learner
from tflearner.core.events import EVENTS


class EventLog(Callback):
    def __init__(self):
        self.events = []

    def __getattribute__(self, name):
        if name in EVENTS:
            return lambda state: self.events.append((name, state.epoch, state.iter))
        return super().__getattribute__(name)


def test_event_order_for_two_epochs(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True, steps_per_execution=1)
    log = EventLog()
    learn.fit(2, callbacks=[log])
    names = [e[0] for e in log.events]
    n_iter = learn.data.n_train_batches  # 240 train images / 32 -> 8 batches (last partial)
    assert n_iter == 8
    n_valid = 2  # 60 validation images / 32
    epoch = (["before_epoch", "before_train"] + ["before_batch", "after_batch"] * n_iter
             + ["after_train", "before_validate"] + ["after_valid_batch"] * n_valid
             + ["after_validate", "after_epoch"])
    assert names == ["before_fit"] + epoch * 2 + ["after_fit"]
    assert log.events[-2] == ("after_epoch", 1, n_iter)


class ChunkLog(EventLog):
    """Logs every event but does not act between batches, so the loop keeps its chunks."""

    sync_every_batch = False


def test_event_order_with_chunks_of_three(blob_data):
    """8 batches, 3 per compiled call: before_batch once per call (at its first batch, with
    the true position, as Keras' on_train_batch_begin with steps_per_execution), then the
    call, then after_batch for each batch."""
    learn = Learner(mlp(), blob_data, quiet=True, steps_per_execution=3)
    log = ChunkLog()
    learn.fit(1, callbacks=[log])
    batch_events = [e for e in log.events if e[0] in ("before_batch", "after_batch")]
    expected = []
    for chunk in ([0, 1, 2], [3, 4, 5], [6, 7]):
        expected += [("before_batch", 0, chunk[0])]
        expected += [("after_batch", 0, i) for i in chunk]
    assert batch_events == expected
    assert int(learn.opt.iterations.numpy()) == 8


def test_a_callback_acting_before_each_batch_runs_one_batch_per_call(blob_data):
    """A before_batch of its own (here EventLog's) makes the loop run one batch per call, so
    before_batch runs right before each batch with its true position, then its after_batch."""
    learn = Learner(mlp(), blob_data, quiet=True, steps_per_execution=3)
    log = EventLog()
    ends = []
    learn.fit(1, callbacks=[log, type("Ends", (Callback,), {
        "after_batch": lambda self, state: ends.append(state.chunk_end)})()])
    batch_events = [e for e in log.events if e[0] in ("before_batch", "after_batch")]
    assert batch_events == [(name, 0, i) for i in range(8)
                            for name in ("before_batch", "after_batch")]
    assert ends == [True] * 8  # every batch ends its compiled call


def _one_cycle_run(data, steps_per_execution):
    import keras

    from tflearner import SGD
    keras.utils.set_random_seed(1)
    for v in data.rng_state:
        v.assign(0)
    learn = Learner(mlp(), data, opt=SGD(momentum=0.9), quiet=True,
                    steps_per_execution=steps_per_execution)
    learn.fit_one_cycle(3, 0.1)
    return learn


@pytest.fixture(scope="module")
def one_batch_per_call():
    """The reference the chunked runs are compared with: ``_one_cycle_run`` at one batch per
    call, on the data of ``blob_data``; trained once for the module (it is only read)."""
    x, y = blobs()
    return _one_cycle_run(DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0.2, seed=0), 1)


@pytest.mark.parametrize("steps_per_execution", [3, 8, 50])
def test_chunked_execution_equals_one_batch_per_call(blob_data, one_batch_per_call,
                                                     steps_per_execution):
    """Same schedule (LR and momentum per batch), same data order: running several batches
    per compiled call changes nothing the user can see: weights, recorded values, history."""
    ref = one_batch_per_call
    got = _one_cycle_run(blob_data, steps_per_execution)
    for a, b in zip(ref.model.variables, got.model.variables, strict=True):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=0, atol=1e-6)
    for name in ("lrs", "moms", "wds", "losses", "smooth_losses", "iters", "epoch_ends"):
        np.testing.assert_allclose(getattr(got.recorder, name), getattr(ref.recorder, name),
                                   rtol=1e-5, err_msg=name)
    assert got.hypers.as_dict() == pytest.approx(ref.hypers.as_dict())
    assert int(got.opt.iterations.numpy()) == int(ref.opt.iterations.numpy()) == 24
    assert got.loop.trace_counts["train"] == 1


def test_unknown_length_dataset_is_discovered_then_chunked():
    x, y = blobs(100)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16).filter(lambda a, b: True)
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    learn = Learner(mlp(), DataBundle.from_datasets(ds), quiet=True, steps_per_execution=4)
    state = learn.fit(2)
    assert state.n_iter == 7
    assert len(learn.recorder.losses) == 14 and learn.recorder.epoch_ends == [7, 14]
    assert int(learn.opt.iterations.numpy()) == 14
    assert learn.loop.trace_counts["train"] == 1


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-2, ValueError), (2.5, TypeError),
                                     ("8", ValueError), ("fast", ValueError), (True, TypeError),
                                     (None, TypeError)])
def test_bad_steps_per_execution(blob_data, bad, exc):
    with pytest.raises(exc, match="steps_per_execution"):
        Learner(mlp(), blob_data, steps_per_execution=bad)


def test_auto_chunk_is_the_documented_function():
    from tflearner.loop.chunks import AUTO_CHUNK_SECONDS, AUTO_MAX_STEPS, auto_chunk
    assert (AUTO_CHUNK_SECONDS, AUTO_MAX_STEPS) == (0.5, 32)
    assert auto_chunk(0.006) == 32  # LeNet on CPU: capped
    assert auto_chunk(0.02) == 25  # 0.5 / 0.02
    assert auto_chunk(0.1) == 5 and auto_chunk(0.2) == 2
    assert auto_chunk(0.4) == 1 and auto_chunk(3.0) == 1  # heavy models: one batch per call
    assert auto_chunk(0.0) == 32


def test_auto_steps_per_execution_equals_one_batch_per_call(blob_data, one_batch_per_call):
    ref = one_batch_per_call
    got = _one_cycle_run(blob_data, "auto")
    assert got.loop.chunker.max_chunk == 32 and 1 <= got.loop.chunker.current <= 32
    for a, b in zip(ref.model.variables, got.model.variables, strict=True):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(got.recorder.losses, ref.recorder.losses, rtol=1e-5)


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
    learn.get_preds(blobs(10)[0])
    assert dict(learn.loop.trace_counts) == {"train": 1, "eval": 1, "predict": 1}
    # the recorder saw the per-batch values that the step used
    n = len(learn.recorder.lrs)
    assert n == 8
    assert learn.recorder.lrs[0] == pytest.approx(0.123)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_training_metrics_do_not_retrace(blob_data, jit_compile):
    """train_metrics=True: epochs, per-batch LRs, the partial last batch, lr_find (metrics off,
    a tensor flag) and fits again all run the one train trace."""
    learn = Learner(mlp(), blob_data, opt="adam", quiet=True, train_metrics=True,
                    jit_compile=jit_compile, steps_per_execution=3)
    learn.fit(2, callbacks=[LRPerBatch()])
    learn.lr_find(num_it=20, suggest_funcs=("valley",))
    learn.fit_sgdr(2, 1, 0.01)
    learn.validate()
    assert dict(learn.loop.trace_counts) == {"train": 1, "eval": 1}
    assert all(0 <= row["train_accuracy"] <= 1 for row in learn.recorder.values)


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


class StopAt(Callback):
    def after_batch(self, state):
        if state.step == 2:
            state.stop_training = True


class SyncStopAt(StopAt):
    sync_every_batch = True


def test_stop_training_ends_the_fit_after_that_batch(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True, steps_per_execution=1)
    state = learn.fit(5, callbacks=[StopAt()])
    assert len(learn.recorder.losses) == 3
    assert state.epoch == 0 and len(learn.recorder.values) == 1


def test_stop_training_takes_effect_at_the_end_of_a_chunk(blob_data):
    """Like Keras with steps_per_execution: the batches of the chunk already ran, so they are
    all reported; nothing after the chunk runs."""
    learn = Learner(mlp(), blob_data, quiet=True, steps_per_execution=4)
    learn.fit(5, callbacks=[StopAt()])
    assert len(learn.recorder.losses) == 4
    assert int(learn.opt.iterations.numpy()) == 4


def test_sync_every_batch_callback_stops_at_the_very_batch(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True, steps_per_execution=4)
    learn.fit(5, callbacks=[SyncStopAt()])
    assert len(learn.recorder.losses) == 3
    assert int(learn.opt.iterations.numpy()) == 3


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
    # back and forth (as a fine_tune race does for every trial): the steps built for each
    # trainable set are reused, not traced again
    learn.model.get_layer("hidden").trainable = True
    learn.fit(1)
    learn.model.get_layer("hidden").trainable = False
    learn.fit(1)
    assert learn.loop.trace_counts["train"] == 2


def test_ctrl_c_during_a_compiled_call_reports_the_whole_chunk(blob_data):
    """Bug: a KeyboardInterrupt arriving while a chunk ran was raised as the call returned, so
    the recorder missed that chunk while the optimizer had applied it. Now the interrupt waits
    until the chunk is reported: recorder, epoch sums and opt.iterations agree."""
    import os
    import signal

    import keras

    calls = tf.Variable(0, dtype=tf.int64, trainable=False)
    base = keras.losses.SparseCategoricalCrossentropy()

    def interrupt(c):
        if int(c) == 5:  # inside the first chunk of 8, while the compiled call runs
            os.kill(os.getpid(), signal.SIGINT)
        return np.float32(0.0)

    def loss_fn(y, pred):
        c = calls.assign_add(1) - 1
        return base(y, pred) + tf.reshape(tf.py_function(interrupt, [c], tf.float32), [])

    learn = Learner(mlp(), blob_data, loss_fn=loss_fn, quiet=True, steps_per_execution=8)
    calls.assign(0)
    seen = []

    class Sums(Callback):
        def after_batch(self, state):
            seen.append(state.seen)

    # Python's own SIGINT handler, whatever an earlier test or library installed (the loop defers
    # only that one; in a fresh-clone run something before this test had replaced it)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            learn.fit(3, callbacks=[Sums()])
    finally:
        signal.signal(signal.SIGINT, previous)
    applied = int(learn.opt.iterations.numpy())
    assert applied == 8 and len(learn.recorder.losses) == applied == len(seen)
    assert seen[-1] == 240  # the whole first epoch (240 training examples), reported


def test_unknown_length_epochs_end_without_an_exception_and_chunk(blob_data):
    """An epoch of unknown length ends through get_next_as_optional inside the compiled call:
    chunks of 8 run from the first epoch on, and the last one is cut where the data ends."""
    x, y = blobs(100)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).batch(16)
    learn = Learner(mlp(), DataBundle.from_datasets(ds), quiet=True, steps_per_execution=8)
    sizes = []

    class Chunks(Callback):
        def after_batch(self, state):
            if state.chunk_end:
                sizes.append(state.iter + 1)

    learn.fit(2, callbacks=[Chunks()])
    assert sizes == [7, 7] and learn.recorder.epoch_ends == [7, 14]
    assert learn.loop.trace_counts["train"] == 1
