"""Callbacks: named events around the one compiled training loop.

Event order for one ``fit`` (the loop in :mod:`tflearner.loop` calls them)::

    before_fit
      for each epoch:
        before_epoch
          before_train
            for each chunk of up to steps_per_execution batches:
              before_batch × n → [one compiled call: n train steps] → after_batch × n
          after_train
          before_validate → [compiled eval steps] → after_validate   (if there is valid data)
        after_epoch
    after_fit                                                          (always, in a finally)

Every hook receives the one :class:`FitState` of the running fit: it says explicitly what the loop
knows (epoch, batch, loss, hyper-parameters, logs). Callbacks change training only through it:
``state.hypers`` (lr / mom / wd for the coming batch) and ``state.stop_training``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .optim import Hypers

__all__ = ["Callback", "CallbackList", "FitState", "EVENTS"]

EVENTS = ("before_fit", "before_epoch", "before_train", "before_batch", "after_batch",
          "after_train", "before_validate", "after_validate", "after_epoch", "after_fit")


@dataclass
class FitState:
    """What the loop knows at the current event. Counters are 0-based.

    ``step`` counts training batches since ``before_fit``; ``n_iter`` is the number of batches
    per epoch (None until the first epoch ends when the dataset's length is unknown).
    ``loss`` is the raw loss of the last batch; ``smooth_loss`` its debiased exponential moving
    average ``avg = beta*avg + (1-beta)*loss; smooth = avg / (1 - beta**(step+1))``.
    ``lr``, ``mom`` and ``wd`` are the values the last/coming step uses. ``logs`` holds the
    epoch results (``train_loss``, ``valid_loss``, metric names, ``time``) after validation.

    Guards, applied inside the compiled loop at the very batch (set them in ``before_fit``):
    a batch whose loss or gradients are non-finite is never applied (the weights stay as they
    were) and counted in ``n_skipped``; with ``terminate_on_nan`` it also ends the fit
    (``stop_reason = "non-finite"``). ``div_limit > 0`` ends the fit once
    ``smooth_loss > div_limit * best smooth_loss so far`` (``"diverged"``, lr_find's stop).
    ``max_steps`` ends it after that many batches.

    ``chunk_end`` is True at ``after_batch`` of the last batch of a compiled call: only there
    do the model's variables hold the state right after the current batch (checkpoints save
    there). ``smooth_avg`` / ``smooth_best`` are the loss EMA's running average and best value;
    ``loss_sum`` / ``seen`` the current epoch's batch-size-weighted loss total and sample count.
    A ``before_fit`` hook may set ``resume = {"epoch", "iter", "step", "avg", "best",
    "loss_sum", "seen"}`` (after
    restoring the variables): the loop then continues from that position, skipping the epoch's
    first ``iter`` batches of the (restored) data order.
    """

    learner: Any
    hypers: Hypers
    epochs: int
    epoch: int = 0
    iter: int = 0
    n_iter: int | None = None
    step: int = 0
    loss: float = float("nan")
    smooth_loss: float = float("nan")
    batch_size: int = 0
    lr: float = float("nan")
    mom: float | None = None
    wd: float = 0.0
    training: bool = True
    stop_training: bool = False
    stop_reason: str | None = None
    max_steps: int | None = None
    div_limit: float = 0.0
    terminate_on_nan: bool = True
    n_skipped: int = 0
    chunk_end: bool = True
    loss_sum: float = 0.0
    seen: int = 0
    smooth_avg: float = 0.0
    smooth_best: float = float("inf")
    resume: dict[str, Any] | None = None
    logs: dict[str, float] = field(default_factory=dict)

    @property
    def total_steps(self) -> int | None:
        """``epochs * n_iter`` when the epoch length is known."""
        return None if self.n_iter is None else self.epochs * self.n_iter

    @property
    def pct_train(self) -> float:
        """Fraction of training done before the current batch (fastai's ``pct_train``)."""
        total = self.total_steps
        return float("nan") if not total else self.step / total


class Callback:
    """Base class: override any of :data:`EVENTS`; each receives the :class:`FitState`.

    ``order`` sorts callbacks (lower runs first): schedules (< 0) set hyper-parameters before
    the recorder (0) reads them, progress (> 0) shows what the recorder stored. Reset any
    per-run state in ``before_fit`` so one instance can be reused.

    The loop runs several batches per compiled call (``steps_per_execution``): it calls
    ``before_batch`` for each batch of a chunk first (hyper-parameters set there are planned
    per batch, so schedules work unchanged), runs the chunk, then calls ``after_batch`` for
    each. A callback that must act between two batches (stop at the very batch, or set a
    hyper-parameter from the last loss) sets ``sync_every_batch = True``; the loop then runs
    one batch per call while it is present.
    """

    order: int = 0
    sync_every_batch: bool = False

    def before_fit(self, state: FitState) -> None: ...
    def before_epoch(self, state: FitState) -> None: ...
    def before_train(self, state: FitState) -> None: ...
    def before_batch(self, state: FitState) -> None: ...
    def after_batch(self, state: FitState) -> None: ...
    def after_train(self, state: FitState) -> None: ...
    def before_validate(self, state: FitState) -> None: ...
    def after_validate(self, state: FitState) -> None: ...
    def after_epoch(self, state: FitState) -> None: ...
    def after_fit(self, state: FitState) -> None: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CallbackList:
    """Callbacks sorted by ``order`` (stable); ``cbs(event, state)`` calls them in turn."""

    def __init__(self, callbacks: list[Callback] | tuple[Callback, ...] = ()) -> None:
        callbacks = list(callbacks)
        for i, cb in enumerate(callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks[{i}] must be a tflearner.Callback, got {type(cb).__name__}: "
                    f"{cb!r}. Subclass tflearner.Callback and override its events."
                )
        self.callbacks = sorted(callbacks, key=lambda cb: cb.order)

    def __call__(self, event: str, state: FitState) -> None:
        for cb in self.callbacks:
            getattr(cb, event)(state)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)
