"""Checkpoint and resume: a stopped or killed fit continues at the right batch, to the same weights.

Why not ``keras.callbacks.BackupAndRestore``: it hooks ``model.fit``'s counters and saves the model
and optimizer only. tflearner's loop also owns the per-batch schedule position, the loss average,
the recorder's history and the data order, and runs several batches per compiled call; all of it
must be saved where the variables match the position.

One checkpoint (``<dir>/checkpoint.npz``, written atomically) holds:

- every state variable (``Learner.state_variables()``: weights, optimizer slots and counters,
  hyper-parameters, data order; the data counter as it was when the current epoch started);
- the position (epoch, batch, global step), the loss average and the epoch's running sums (and
  the training metrics' running totals, with ``train_metrics=True``);
- the recorder's history;
- the fit's signature: what was called, epochs, batches per epoch, a hash of the schedule
  arrays, the variables' shapes and the optimizer class.

The two halves are separate. Before the fit, :func:`read_checkpoint` checks the signature
(changing nothing, so a refused fit leaves the Learner as it was) and
:func:`restore_checkpoint` assigns the variables, restores the recorder and returns the
:class:`~tflearner.core.fit_state.Resume` the caller passes to the loop. :class:`CheckpointCallback`
only saves: at the end of every epoch, with ``every=N`` at the first chunk end after every N
batches, and when a fit stops early (a non-finite batch, a callback's stop), at the first batch
that was not applied. A finished fit's checkpoint stays; calling the same fit again warns that
there is nothing left to train.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.caller import warn_at_caller
from ..core.events import Callback
from ..core.fit_state import FitState, LearnerHandle, LossEMA, Resume
from ..core.state_io import assign_state, read_state, write_state

__all__ = ["CheckpointCallback", "load_checkpoint", "read_checkpoint", "restore_checkpoint",
           "SavedFit", "FILENAME", "FORMAT"]

log = logging.getLogger(__name__)

FILENAME = "checkpoint.npz"
#: v2: the loss average carries its count of finite losses (v1 checkpoints cannot be resumed).
FORMAT = "tflearner-checkpoint-v2"


def _optimizer_name(learn: LearnerHandle) -> str:
    return type(learn.hypers.optimizer).__name__  # the optimizer that updates the weights


@dataclass(frozen=True)
class SavedFit:
    """A checkpoint read and checked by :func:`read_checkpoint`, not yet restored."""

    directory: Path
    meta: dict
    arrays: dict


def read_checkpoint(learn: LearnerHandle, directory: str | os.PathLike,
                    signature: dict[str, Any]) -> SavedFit | None:
    """The checkpoint in ``directory``, checked against this Learner and fit, changing nothing;
    None when there is none yet. Refuses a checkpoint of a different fit (signature) or
    format."""
    path = Path(directory) / FILENAME
    if not path.exists():
        return None
    meta, arrays = read_state(learn.state_variables(), path, "checkpoint",
                              _optimizer_name(learn))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} has format {meta.get('format')!r}, but this tflearner resumes "
                         f"{FORMAT!r}; delete the directory to start the fit over.")
    if meta["signature"] != signature:
        diff = {k: (meta["signature"].get(k), v) for k, v in signature.items()
                if meta["signature"].get(k) != v}
        raise ValueError(
            f"checkpoint={str(Path(directory))!r} holds a different fit (saved vs now: {diff}); "
            "it cannot be resumed by this call. Use a new directory, delete this one to start "
            "over, or repeat the original call.")
    return SavedFit(Path(directory), meta, arrays)


def restore_checkpoint(learn: LearnerHandle, saved: SavedFit) -> Resume:
    """Assign what :func:`read_checkpoint` read to ``learn`` (variables, recorder) and return
    where the fit continues. A finished fit's checkpoint is returned as is (the loop then
    trains nothing), with a warning naming the directory."""
    state, meta, arrays = learn.state_variables(), saved.meta, saved.arrays
    assign_state(state, arrays)
    learn.recorder.load_history_state(meta["recorder"])
    pos, epochs = meta["position"], meta["signature"]["epochs"]
    if pos["epoch"] >= epochs:
        warn_at_caller(
            f"checkpoint={str(saved.directory)!r} holds this fit already finished "
            f"({epochs} epochs), so there is nothing left to train; the weights are "
            "those it ended with. Delete the directory (or use a new one) to train again.")
    else:
        log.info("resuming %s at epoch %d, batch %d (step %d)", saved.directory / FILENAME,
                 pos["epoch"], pos["iter"], pos["step"])
    data = tuple(arrays[f"data/{i}"] for i in range(len(state.get("data", []))))
    return Resume(epoch=pos["epoch"], iter=pos["iter"], step=pos["step"],
                  ema=LossEMA(**pos["ema"]), loss_sum=pos["loss_sum"], seen=pos["seen"],
                  data_at_epoch_start=data,
                  train_metric_state=tuple(pos.get("train_metrics", ())))


def load_checkpoint(learn: LearnerHandle, directory: str | os.PathLike,
                    signature: dict[str, Any]) -> Resume | None:
    """Restore the fit saved in ``directory`` into ``learn`` and return where it continues
    (:func:`read_checkpoint`, then :func:`restore_checkpoint`); None when there is none yet."""
    saved = read_checkpoint(learn, directory, signature)
    return None if saved is None else restore_checkpoint(learn, saved)


class CheckpointCallback(Callback):
    """Save the running fit's full state to ``<directory>/checkpoint.npz`` (see the module doc).

    ``signature`` identifies the fit; ``every``: also save at the first chunk end after each
    ``every`` batches (None: at epoch ends and early stops only). Reaches the Learner through
    ``state.learner``.
    """

    order = 40  # after the recorder (0), so saved history includes the current batch

    def __init__(self, directory: str | os.PathLike, signature: dict[str, Any],
                 every: int | None = None) -> None:
        self.path = Path(directory) / FILENAME
        self.signature = signature
        self.every = every
        self._last_saved_step = 0
        self._epoch_counter: list[np.ndarray] = []

    def before_fit(self, state: FitState) -> None:
        self._last_saved_step = state.resume.step if state.resume is not None else 0

    def before_train(self, state: FitState) -> None:
        # An epoch's data order is fixed by the counter's value before its iterator starts (and
        # increments it): that value is what a mid-epoch resume needs.
        resume = state.resume
        if resume is not None and state.epoch == resume.epoch and resume.iter:
            self._epoch_counter = list(resume.data_at_epoch_start)
        else:
            self._epoch_counter = [np.asarray(v.numpy()) for v in state.learner.data.rng_state]

    def after_batch(self, state: FitState) -> None:
        if self.every and state.chunk_end and (
                state.step + 1 - self._last_saved_step >= self.every):
            self._save_mid_epoch(state, state.iter + 1, state.step + 1)

    def after_epoch(self, state: FitState) -> None:
        if state.n_iter is not None and state.iter < state.n_iter:  # stopped mid-epoch
            self._save_mid_epoch(state, state.iter, state.step, epoch_logged=True)
        else:
            self._save(state, {"epoch": state.epoch + 1, "iter": 0, "step": state.step,
                               "loss_sum": 0.0, "seen": 0}, override=None)

    def _save_mid_epoch(self, state: FitState, it: int, step: int,
                        epoch_logged: bool = False) -> None:
        """Save position ``it`` of the current epoch. After a non-finite stop the last batch
        was not applied: the fit resumes at that batch, so its record is dropped. A stop's
        ``after_epoch`` already logged the partial epoch; the resumed epoch logs it whole."""
        history = state.learner.recorder.history_state()
        if epoch_logged and history["values"] and history["values"][-1].get("epoch") == (
                state.epoch):
            history["values"], history["epoch_ends"] = (history["values"][:-1],
                                                        history["epoch_ends"][:-1])
        if state.stop_reason == "non-finite":
            it, step = it - 1, step - 1
            for k in type(state.learner.recorder).BATCH_HISTORY:
                history[k] = history[k][:-1]
        override = {f"data/{i}": a for i, a in enumerate(self._epoch_counter)}
        metrics = [[np.asarray(v).tolist() for v in m.variables] for m in state.train_metrics]
        self._save(state, {"epoch": state.epoch, "iter": it, "step": step,
                           "loss_sum": state.loss_sum, "seen": state.seen,
                           "train_metrics": metrics}, override, history)

    def _save(self, state: FitState, position: dict[str, Any],
              override: dict[str, np.ndarray] | None, history: dict | None = None) -> None:
        learn = state.learner
        meta = {"format": FORMAT, "optimizer": _optimizer_name(learn),
                "signature": self.signature,
                "position": {**position, "ema": state.ema.as_dict()},
                "recorder": learn.recorder.history_state() if history is None else history}
        write_state(learn.state_variables(), self.path, meta, override=override)
        self._last_saved_step = position["step"]
