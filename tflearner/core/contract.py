"""What the loop and its callbacks exchange: the fit's state, its limits and its resume position.

Control flows one way. The caller gives :meth:`TrainLoop.fit <tflearner.loop.TrainLoop.fit>` its
:class:`StopLimits` and, when continuing a checkpoint, a :class:`Resume`; the loop passes one
:class:`FitState` to every callback at every event. Callbacks read the state; they change
training only through ``state.hypers`` (lr / mom / wd of the coming batch) and
``state.stop_training``. Everything else a callback needs it reaches through one handle,
``state.learner`` (see :class:`LearnerHandle`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["FitState", "StopLimits", "LossEMA", "Resume", "LearnerHandle", "SMOOTH_BETA"]

#: Smoothing factor of the running loss shown in progress bars and recorded per batch.
SMOOTH_BETA = 0.98


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
    so far) and ``best`` (lowest smoothed loss so far); see :mod:`tflearner.loop.rules`."""

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


@dataclass
class FitState:
    """What the loop knows at the current event. Counters are 0-based.

    ``step`` counts training batches since the fit began (across a resume); ``iter`` the batch
    within the epoch; ``n_iter`` the batches per epoch (None until the first epoch ends when the
    data's length is unknown). ``loss`` is the raw loss of the last batch, ``smooth_loss`` its
    debiased moving average (NaN before the first finite loss). ``lr``, ``mom``, ``wd`` are the
    values the last batch's update used (in ``before_batch``: set them through ``hypers``); ``lr``
    is the last layer group's, ``lrs`` every group's (first group first).
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
    caller passed to the loop. ``stop_reason``: ``"non-finite"``, ``"diverged"``,
    ``"max_steps"``, ``"callback"`` (a callback set ``stop_training``) or None.
    """

    learner: LearnerHandle | None
    hypers: Any
    epochs: int
    limits: StopLimits = field(default_factory=StopLimits)
    resume: Resume | None = None
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
    stop_reason: str | None = None
    n_skipped: int = 0
    chunk_end: bool = True
    loss_sum: float = 0.0
    seen: int = 0
    ema: LossEMA = field(default_factory=LossEMA)
    logs: dict[str, float] = field(default_factory=dict)
    train_metrics: list = field(default_factory=list)
    valid_iter: int = 0
    valid_loss: float = math.nan

    @property
    def total_steps(self) -> int | None:
        """``epochs * n_iter`` when the epoch length is known."""
        return None if self.n_iter is None else self.epochs * self.n_iter

    @property
    def pct_train(self) -> float:
        """Fraction of training done before the current batch (fastai's ``pct_train``)."""
        total = self.total_steps
        return math.nan if not total else self.step / total
