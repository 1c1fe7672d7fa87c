"""Checkpoint and resume: a killed fit continues at the right batch, to identical weights.

Why a callback of our own and not ``keras.callbacks.BackupAndRestore``: that one hooks
``model.fit``'s epoch/step counters and saves the model and optimizer only. Our loop also owns
the per-batch schedule position, the loss EMA, the recorder's history and the data order (the
pipeline's epoch counter), and it runs several batches per compiled call. All of that must be
saved at a point where the variables match the position.

What one checkpoint holds (``<dir>/checkpoint.npz``, written atomically: a temporary file,
then ``os.replace``):

- every state variable (``Learner.state_variables()``: weights, optimizer slots and counters,
  hyper-parameters, data order; the data counter is stored as it was when the current epoch
  started);
- the position (epoch, batch, global step), the loss EMA, and the running sums of the current
  epoch;
- the recorder's history;
- the fit's signature: what was called, epochs, batches per epoch, a hash of the schedule
  arrays, the variables' shapes and the optimizer class.

Calling the same fit with the same ``checkpoint=`` directory again loads it and resumes. A
checkpoint whose signature differs is refused with a ``ValueError``. Saves happen at the end
of every epoch and, with ``checkpoint_every=N``, at the first chunk end after every N batches
(only at chunk ends do the variables match the position). The finished fit leaves its final
checkpoint in place; delete the directory to start over.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .callbacks import Callback, FitState
from .recorder import Recorder

if TYPE_CHECKING:
    from .learner import Learner

__all__ = ["CheckpointCallback", "write_state", "read_state", "schedule_hash", "FILENAME"]

FILENAME = "checkpoint.npz"


def write_state(learn: Learner, path: Path, meta: dict[str, Any],
                override: dict[str, np.ndarray] | None = None) -> Path:
    """Write ``learn.state_variables()`` and ``meta`` (JSON) to one ``.npz``, atomically.

    ``override`` maps ``"group/i"`` keys to arrays that replace a variable's current value.
    """
    arrays, index = {}, {}
    for group, variables in learn.state_variables().items():
        index[group] = []
        for i, v in enumerate(variables):
            key = f"{group}/{i}"
            arrays[key] = (override or {}).get(key, np.asarray(v.numpy()))
            index[group].append([getattr(v, "path", v.name), list(v.shape)])
    meta = {**meta, "index": index}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def read_state(learn: Learner, path: Path, what: str) -> tuple[dict[str, Any], dict]:
    """Read what :func:`write_state` wrote and check it fits ``learn``; returns
    ``(meta, arrays)`` without assigning anything. ``what`` names the file in errors."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear error
        raise ValueError(f"{path} is not a tflearner {what}: {exc}") from None
    opt_name = type(learn.hypers.optimizer).__name__  # the one that updates the weights
    if meta.get("optimizer") != opt_name:
        raise ValueError(f"{path} holds {meta.get('optimizer')} state but this Learner uses "
                         f"{opt_name}; build the Learner with the same opt.")
    variables = learn.state_variables()
    for group, entries in meta["index"].items():
        mine = variables.get(group, [])
        shapes = [list(v.shape) for v in mine]
        if [e[1] for e in entries] != shapes:
            raise ValueError(
                f"{path} does not match this Learner's {group} variables (saved "
                f"{len(entries)} with shapes {[e[1] for e in entries][:4]}..., here "
                f"{len(mine)} with {shapes[:4]}...). Load it into the same architecture.")
    return meta, arrays


def assign_state(learn: Learner, arrays: dict) -> None:
    for group, mine in learn.state_variables().items():
        for i, v in enumerate(mine):
            v.assign(arrays[f"{group}/{i}"])


def schedule_hash(scheds: dict[str, np.ndarray] | None) -> str:
    """A short hash of the per-step schedule arrays (empty dict: constant hyper-parameters)."""
    h = hashlib.sha256()
    for name in sorted(scheds or {}):
        h.update(name.encode())
        h.update(np.ascontiguousarray(scheds[name], dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


class CheckpointCallback(Callback):
    """Save the fit's full state to ``<directory>/checkpoint.npz`` and resume from it.

    ``signature`` identifies the fit (see the module doc); ``every``: also save at the first
    chunk end after each ``every`` batches (None: at epoch ends only).
    """

    order = 40  # after the recorder (0), so saved history includes the current batch

    def __init__(self, learn: Learner, directory: str | os.PathLike, signature: dict[str, Any],
                 every: int | None = None) -> None:
        self.learn = learn
        self.path = Path(directory) / FILENAME
        self.signature = signature
        self.every = every
        self._last_saved_step = 0
        self._epoch_counter: list[np.ndarray] = []
        self.resumed_from: dict[str, Any] | None = None

    # ---- saving ---------------------------------------------------------------------------
    def _data_at_epoch_start(self) -> dict[str, np.ndarray]:
        return {f"data/{i}": a for i, a in enumerate(self._epoch_counter)}

    def before_train(self, state: FitState) -> None:
        # The data order of this epoch is fixed by the counter's value before the epoch's
        # iterator starts (it increments it), so that value is what a mid-epoch resume needs.
        if state.resume and state.epoch == state.resume.get("epoch") and state.resume.get(
                "iter"):
            return  # resuming mid-epoch: keep the value restored from the checkpoint
        self._epoch_counter = [np.asarray(v.numpy()) for v in self.learn.data.rng_state]

    def after_batch(self, state: FitState) -> None:
        if self.every and state.chunk_end and state.step + 1 - self._last_saved_step >= (
                self.every):
            self._save(state, epoch=state.epoch, it=state.iter + 1, step=state.step + 1,
                       override=self._data_at_epoch_start(), loss_sum=state.loss_sum,
                       seen=state.seen)

    def after_epoch(self, state: FitState) -> None:
        self._save(state, epoch=state.epoch + 1, it=0, step=state.step, override=None,
                   loss_sum=0.0, seen=0)

    def _save(self, state: FitState, epoch: int, it: int, step: int,
              override: dict[str, np.ndarray] | None, loss_sum: float, seen: int) -> None:
        rec = self.learn.recorder
        meta = {
            "format": "tflearner-checkpoint-v1",
            "optimizer": type(self.learn.hypers.optimizer).__name__,
            "signature": self.signature,
            "position": {"epoch": epoch, "iter": it, "step": step, "avg": state.smooth_avg,
                         "best": state.smooth_best, "loss_sum": loss_sum, "seen": seen},
            "recorder": {**{k: list(getattr(rec, k)) for k in Recorder.HISTORY},
                         "values": rec.values, "n_iter": rec.n_iter},
        }
        write_state(self.learn, self.path, meta, override=override)
        self._last_saved_step = step

    # ---- resuming -------------------------------------------------------------------------
    def before_fit(self, state: FitState) -> None:
        self._last_saved_step = 0
        if not self.path.exists():
            return
        meta, arrays = read_state(self.learn, self.path, "checkpoint")
        if meta.get("format") != "tflearner-checkpoint-v1":
            raise ValueError(f"{self.path} is not a tflearner checkpoint (format "
                             f"{meta.get('format')!r}).")
        if meta["signature"] != self.signature:
            diff = {k: (meta["signature"].get(k), v) for k, v in self.signature.items()
                    if meta["signature"].get(k) != v}
            raise ValueError(
                f"checkpoint={str(self.path.parent)!r} holds a different fit (saved vs now: "
                f"{diff}); it cannot be resumed by this call. Use a new directory, delete "
                "this one to start over, or repeat the original call.")
        assign_state(self.learn, arrays)
        rec, saved = self.learn.recorder, meta["recorder"]
        for k in Recorder.HISTORY:
            setattr(rec, k, list(saved[k]))
        rec.values, rec.n_iter = list(saved["values"]), saved["n_iter"]
        pos = meta["position"]
        self._epoch_counter = [arrays[f"data/{i}"] for i in range(len(
            self.learn.data.rng_state))]
        self._last_saved_step = pos["step"]
        self.resumed_from = pos
        state.resume = dict(pos)
