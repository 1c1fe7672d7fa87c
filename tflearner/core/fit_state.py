"""What the loop and its callbacks exchange: the fit's state, its limits, its resume position and
why it stopped.

Control flows one way. The caller gives :meth:`TrainLoop.fit <tflearner.loop.TrainLoop.fit>` its
:class:`StopLimits` and, when continuing a checkpoint, a :class:`Resume`; the loop passes one
:class:`FitState` to every callback at every event. Callbacks read the state; they change
training only through ``state.hypers`` (lr / mom / wd), a plan (:class:`~tflearner.core.events.
Planner`) and ``state.stop_training``. Everything else a callback needs it reaches through one
handle, ``state.learner`` (see :class:`LearnerHandle`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import numpy as np

__all__ = ["FitState", "StopLimits", "StopReason", "LossEMA", "Resume", "LearnerHandle",
           "SMOOTH_BETA"]

#: Smoothing factor of the running loss shown in progress bars and recorded per batch.
SMOOTH_BETA = 0.98


class StopReason(str, Enum):
    """Why a fit or a sweep ended: the one vocabulary of ``state.stop_reason``,
    ``recorder.lr_find_info["stop_reason"]`` and ``LRFinderCallback.stop_reason``.

    A ``str`` (``state.stop_reason == "diverged"`` holds, JSON writes the value). The loop
    records ``NON_FINITE`` and ``DIVERGED`` (the compiled stop rule), ``MAX_STEPS`` (the limit)
    and ``CALLBACK`` (a callback's ``stop_training``); an LR sweep that ran all its steps ends
    with ``END``; ``FIT_ENDED``: ``model.fit`` ended before the sweep of an ``LRFinderCallback``.
    """

    NON_FINITE = "non-finite"
    DIVERGED = "diverged"
    MAX_STEPS = "max_steps"
    CALLBACK = "callback"
    END = "end"
    FIT_ENDED = "fit ended"

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__

    @property
    def blew_up(self) -> bool:
        """The loss diverged or became NaN/Inf (the LR at the stop is too high)."""
        return self in (StopReason.NON_FINITE, StopReason.DIVERGED)


@dataclass(frozen=True)
class StopLimits:
    """When a fit ends before its last epoch.

    ``max_steps``: after that many batches of this fit (``stop_reason="max_steps"``).
    ``div_limit``: once the smoothed loss exceeds ``div_limit`` times its best so far (0: off;
    ``"diverged"``, lr_find's stop). ``terminate_on_nan``: after a batch whose loss or gradients
    are non-finite (``"non-finite"``); such a batch is never applied either way. The compiled
    step applies the last two at the very batch.
    """

    max_steps: int | None = None
    div_limit: float = 0.0
    terminate_on_nan: bool = True


@dataclass
class LossEMA:
    """The debiased loss average the next batch continues from: ``avg``, ``count`` (finite losses
    so far) and ``best`` (lowest smoothed loss so far); see :mod:`tflearner.core.running_loss`."""

    avg: float = 0.0
    count: float = 0.0
    best: float = math.inf

    def as_dict(self) -> dict[str, float]:
        return {"avg": self.avg, "count": self.count, "best": self.best}


@dataclass(frozen=True)
class Resume:
    """Where a checkpointed fit continues: batch ``iter`` of epoch ``epoch`` (global ``step``),
    with the loss average and the epoch's running sums as they were. The caller restores the
    variables (weights, optimizer, hyper-parameters, that epoch's data order) before the fit;
    ``data_at_epoch_start`` is the data-order state the epoch began with (for the next save)."""

    epoch: int
    iter: int
    step: int
    ema: LossEMA = field(default_factory=LossEMA)
    loss_sum: float = 0.0
    seen: int = 0
    data_at_epoch_start: tuple = ()
    #: the training metrics' variables (one list of values per metric) at the resume point
    train_metric_state: tuple = ()


class LearnerHandle(Protocol):
    """What ``state.learner`` offers callbacks (the :class:`~tflearner.Learner` provides it)."""

    model: Any
    opt: Any
    metrics: Any
    hypers: Any
    data: Any
    recorder: Any
    accumulation: int  # micro-batches per optimizer update (1: no gradient accumulation)

    def state_variables(self) -> dict[str, list]: ...


#: The stop reasons of the compiled stop rule: the batch's own outcome, so they replace a
#: callback's request made earlier in the same chunk.
_RULE_REASONS = (StopReason.NON_FINITE, StopReason.DIVERGED)


@dataclass
class FitState:
    """What the loop knows at the current event. Counters are 0-based.

    ``step`` counts training batches since the fit began (across a resume); ``iter`` the batch
    within the epoch; ``n_iter`` the batches per epoch (None until the first epoch ends when the
    data's length is unknown). ``update`` is the optimizer update the current batch contributes
    to (counted from the fit's start; ``step`` itself without gradient accumulation) and
    ``total_updates`` the fit's updates; ``clock`` (an
    :class:`~tflearner.optim.accumulate.UpdateClock`) maps batches to updates.
    ``loss`` is the raw loss of the last batch, ``smooth_loss`` its debiased moving average (NaN
    before the first finite loss). ``lr``, ``mom``, ``wd`` are the values the last batch's update
    used; ``lr`` is the last layer group's, ``lrs`` every group's (first group first).
    ``logs`` holds the epoch's results (``train_loss``, ``train_<metric>`` with training
    metrics, ``valid_loss``, metric names, ``time``). ``train_metrics`` are the metric objects
    the compiled step updates on the training batches of this epoch (empty when off); read them,
    never update them.
    ``valid_iter`` / ``valid_loss`` (at ``after_valid_batch``): the validation batch just
    evaluated and the batch-size-weighted mean loss of the validation batches so far (the
    metrics in ``state.learner.metrics`` hold their running totals).

    ``chunk_end`` is True at ``after_batch`` of the last batch of a compiled call: only there do
    the variables hold the state right after the current batch. ``loss_sum`` / ``seen`` are the
    epoch's batch-size-weighted loss total and sample count; ``ema`` the loss average's state;
    ``n_skipped`` the batches not applied (non-finite). ``limits`` and ``resume`` are what the
    caller passed to the loop (or what :meth:`start_at` set). ``exception``: at ``after_fit``,
    the exception ending the fit (None when it ends normally; ``model.fit`` then calls no
    ``on_train_end``). ``stop_reason``: a :class:`StopReason` (``"non-finite"``,
    ``"diverged"``, ``"max_steps"``, ``"callback"``) or None; :meth:`stop` records it.
    """

    learner: LearnerHandle | None
    hypers: Any
    epochs: int
    limits: StopLimits = field(default_factory=StopLimits)
    resume: Resume | None = None
    clock: Any = None
    epoch: int = 0
    iter: int = 0
    n_iter: int | None = None
    step: int = 0
    loss: float = math.nan
    smooth_loss: float = math.nan
    batch_size: int = 0
    lr: float = math.nan
    lrs: list[float] = field(default_factory=list)
    mom: float | None = None
    wd: float = 0.0
    training: bool = True
    stop_training: bool = False
    stop_reason: StopReason | None = None
    n_skipped: int = 0
    chunk_end: bool = True
    loss_sum: float = 0.0
    seen: int = 0
    ema: LossEMA = field(default_factory=LossEMA)
    logs: dict[str, float] = field(default_factory=dict)
    train_metrics: list = field(default_factory=list)
    valid_iter: int = 0
    valid_loss: float = math.nan
    exception: BaseException | None = None

    def start_at(self, epoch: int) -> None:
        """At ``before_fit`` only: begin this fit at the first batch of ``epoch`` instead (Keras'
        ``BackupAndRestore`` restored the model there and names the epoch ``model.fit`` would
        start at); the loop reads ``resume`` once ``before_fit`` is over. The loss average and
        the epoch sums start afresh, as in ``model.fit``."""
        step = epoch * self.n_iter if self.n_iter is not None else 0
        self.resume = Resume(epoch=epoch, iter=0, step=step)

    def stop(self, reason: StopReason | str) -> None:
        """End the fit after the current batch, for ``reason``: the one place a stop is
        recorded. The first reason stays, except that the compiled stop rule's (the batch's
        own outcome) replaces a callback's from earlier in the same chunk."""
        reason = StopReason(reason)
        self.stop_training = True
        if self.stop_reason is None or reason in _RULE_REASONS:
            self.stop_reason = reason

    @property
    def total_steps(self) -> int | None:
        """``epochs * n_iter`` when the epoch length is known."""
        return None if self.n_iter is None else self.epochs * self.n_iter

    @property
    def pct_train(self) -> float:
        """Fraction of training done before the current batch (fastai's ``pct_train``)."""
        total = self.total_steps
        return math.nan if not total else self.step / total

    @property
    def update(self) -> int:
        """The optimizer update (from the fit's start) that the current batch contributes to."""
        return self.step if self.clock is None else self.clock.update(self.step)

    @property
    def total_updates(self) -> int | None:
        """The updates this fit applies (``total_steps`` without gradient accumulation)."""
        total = self.total_steps
        if total is None or self.clock is None:
            return total
        return self.clock.updates_in(total)

    def upcoming_updates(self, n: int) -> np.ndarray:
        """The update of each of the next ``n`` batches (from ``step``), as int64."""
        steps = np.arange(self.step, self.step + n, dtype=np.int64)
        return steps if self.clock is None else self.clock.update(steps)
