"""Checkpoint and resume: a fit killed with SIGKILL mid-epoch resumes to the weights an
uninterrupted fit reaches, with a recorder history that has no gap and no duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import blobs, mlp

from tflearner import Callback, DataBundle, Learner

CHILD = Path(__file__).parent / "procs" / "fit_child.py"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def _run(*args: str, timeout: float = 120) -> None:
    proc = subprocess.run([sys.executable, str(CHILD), *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_sigkill_mid_epoch_then_resume_equals_an_uninterrupted_fit(tmp_path):
    ckpt, marker = tmp_path / "ckpt", tmp_path / "hung"
    proc = subprocess.Popen([sys.executable, str(CHILD), "hang", str(ckpt),
                             str(tmp_path / "never.npz"), str(marker)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the child never reached the hang point"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)  # no cleanup, no finally: a real crash
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert (ckpt / "checkpoint.npz").exists()
    killed_at = int(marker.read_text())
    assert 10 < killed_at < 20  # inside epoch 1 of 4, not at an epoch end

    # the resume is the first fit of a fresh process; the reference runs after it in the same
    # process (set_seed(0) again; no checkpoint), saving one TensorFlow start
    _run("resume+reference", str(ckpt), str(tmp_path / "resumed.npz"),
         str(tmp_path / "reference.npz"))
    got, ref = np.load(tmp_path / "resumed.npz"), np.load(tmp_path / "reference.npz")
    for key in ref.files:
        if key.startswith("w"):
            np.testing.assert_array_equal(got[key], ref[key], err_msg=key)
    assert list(got["iters"]) == list(range(40))  # no gap, no duplicate
    np.testing.assert_array_equal(got["lrs"], ref["lrs"])
    np.testing.assert_array_equal(got["losses"], ref["losses"])
    np.testing.assert_array_equal(got["epoch_ends"], ref["epoch_ends"])
    np.testing.assert_allclose(got["train_loss"], ref["train_loss"], rtol=1e-12)


def _learner(model=None, batch_size=32):
    x, y = blobs(256)
    return Learner(model or mlp(), DataBundle.from_arrays(x, y, valid_pct=0.0,
                                                          batch_size=batch_size, seed=0),
                   quiet=True)


def test_checkpoint_of_a_different_schedule_is_refused(tmp_path):
    learn = _learner()
    learn.fit_one_cycle(1, 0.1, checkpoint=tmp_path)
    with pytest.raises(ValueError, match="holds a different fit.*'epochs': \\(1, 2\\)"):
        _learner().fit_one_cycle(2, 0.1, checkpoint=tmp_path)
    with pytest.raises(ValueError, match="holds a different fit.*schedule"):
        _learner().fit_one_cycle(1, 0.2, checkpoint=tmp_path)


def test_checkpoint_of_a_different_model_is_refused(tmp_path):
    import keras
    _learner().fit(1, checkpoint=tmp_path)
    other = keras.Sequential([keras.Input((8,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match="does not match this Learner's model variables"):
        _learner(other).fit(1, checkpoint=tmp_path)


def test_finished_fit_resumes_to_nothing_more(tmp_path):
    learn = _learner()
    learn.fit_one_cycle(2, 0.1, checkpoint=tmp_path)
    weights = [v.numpy() for v in learn.model.variables]
    again = _learner()
    again.fit_one_cycle(2, 0.1, checkpoint=tmp_path)  # everything was done: state is loaded
    for a, b in zip(weights, again.model.variables, strict=True):
        np.testing.assert_array_equal(a, b.numpy())
    assert len(again.recorder.losses) == 16 and len(again.recorder.values) == 2


@pytest.mark.parametrize("kw,exc,words", [
    ({"checkpoint": 3}, TypeError, "checkpoint must be a directory path, got int"),
    ({"checkpoint": "x", "checkpoint_every": 0}, ValueError,
     "checkpoint_every must be an int >= 1 or None, got 0"),
    ({"checkpoint_every": 5}, ValueError, "checkpoint_every needs checkpoint="),
])
def test_bad_checkpoint_arguments(tmp_path, kw, exc, words):
    if kw.get("checkpoint") == "x":
        kw["checkpoint"] = str(tmp_path)
    with pytest.raises(exc, match=words):
        _learner().fit(1, **kw)


def test_checkpoints_cover_every_recorder_list():
    from tflearner import Recorder
    # (sweeps: lr_find's curves; every fit starts with it empty, so a fit has none to save)
    lists = {k for k, v in vars(Recorder()).items() if isinstance(v, list)
             and k not in ("values", "sweeps")}
    assert lists == set(Recorder.HISTORY)


class StopAt(Callback):
    """Stops the fit after the batch with global step ``step`` (once)."""

    sync_every_batch = True

    def __init__(self, step):
        self.step, self.fired = step, False

    def after_batch(self, state):
        if state.step == self.step and not self.fired:
            self.fired = True
            state.stop_training = True


def _weights(learn):
    return [v.numpy() for v in learn.model.variables]


def test_a_fit_stopped_mid_epoch_resumes_at_the_next_batch(tmp_path):
    """Bug: after_epoch saved (epoch + 1, iter 0) after a stop, so the rest of the epoch was
    skipped. Now the re-run continues at the batch after the stop, to the weights an
    uninterrupted fit reaches, with one recorder row per step."""
    ref = _learner()
    ref.fit_one_cycle(2, 0.1)
    first = _learner()
    state = first.fit_one_cycle(2, 0.1, checkpoint=tmp_path, callbacks=[StopAt(4)])
    assert state.step == 5  # stopped inside epoch 0 (8 batches per epoch)
    again = _learner()
    again.fit_one_cycle(2, 0.1, checkpoint=tmp_path)
    for a, b in zip(_weights(ref), _weights(again), strict=True):
        np.testing.assert_array_equal(a, b)
    assert again.recorder.iters == list(range(16))
    assert [v["epoch"] for v in again.recorder.values] == [0, 1]
    np.testing.assert_array_equal(again.recorder.losses, ref.recorder.losses)
    assert state.stop_reason == "callback"


def test_a_non_finite_stop_resumes_at_the_batch_that_was_not_applied(tmp_path):
    from test_nonfinite import nan_at
    loss_fn, calls = nan_at(5)
    x, y = blobs(256)
    data = DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=32, seed=0)
    learn = Learner(mlp(), data, loss_fn=loss_fn, quiet=True)
    calls.assign(0)  # the Learner probed the loss once at construction
    with pytest.warns(RuntimeWarning, match="not applied"):
        state = learn.fit(2, lr=0.05, checkpoint=tmp_path)
    assert state.stop_reason == "non-finite" and state.step == 6
    meta_step = int(learn.opt.iterations.numpy())
    assert meta_step == 5  # batches 0-4 applied, batch 5 was not
    calls.assign(10**6)  # no more NaN: the re-run retries batch 5
    learn2 = Learner(mlp(), DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=32, seed=0),
                     loss_fn=loss_fn, quiet=True)
    learn2.fit(2, lr=0.05, checkpoint=tmp_path)
    assert learn2.recorder.iters == list(range(16))  # step 5 recorded once, the retried one
    assert all(np.isfinite(learn2.recorder.losses))
    assert int(learn2.opt.iterations.numpy()) == 16


def test_rerunning_a_finished_checkpointed_fit_says_so(tmp_path):
    _learner().fit(1, checkpoint=tmp_path)
    with pytest.warns(UserWarning, match=f"checkpoint='{tmp_path}' holds this fit already "
                                         "finished.*nothing left to train"):
        _learner().fit(1, checkpoint=tmp_path)
