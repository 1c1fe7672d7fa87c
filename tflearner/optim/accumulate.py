"""Gradient accumulation counted in optimizer updates: pure integer functions and the clock a fit
publishes.

Keras 3 optimizers built with ``gradient_accumulation_steps=k`` sum the gradients of ``k``
consecutive ``apply_gradients`` calls (micro-batches) and apply their mean on every ``k``-th
call, using the learning rate (and momentum, weight decay) of that call. The raw call counter
``r`` decides: micro-batch ``r`` ends an update when ``(r + 1) % k == 0``. tflearner's schedules
and ``lr_find`` count *updates*: a fit that starts at raw count ``r0`` gives micro-batch
``step`` the value of update :func:`update_index` ``(r0, step, k)``, the same for all ``k``
micro-batches that form one update, so the value applied is the schedule's.

:class:`UpdateClock` holds ``(k, r0)`` for one fit; the loop puts it in ``state.clock``, which
publishes ``state.update`` and ``state.total_updates``. The functions below work on ints and on
integer numpy arrays alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.internals import raw_iterations

__all__ = ["accumulation_steps", "update_index", "updates_in", "batches_for_updates",
           "is_update_batch", "UpdateClock"]


def accumulation_steps(optimizer: Any) -> int:
    """``gradient_accumulation_steps`` of ``optimizer`` (through ``LossScaleOptimizer``), 1 if
    it does not accumulate."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    return int(getattr(inner, "gradient_accumulation_steps", None) or 1)


def update_index(r0: int, step: Any, k: int) -> Any:
    """The update (0-based, counted from the fit's start) that micro-batch ``step`` of a fit
    starting at raw count ``r0`` contributes its gradient to."""
    return (r0 + step) // k - r0 // k


def updates_in(r0: int, n_batches: int, k: int) -> int:
    """How many updates are applied in ``n_batches`` micro-batches starting at raw count
    ``r0``."""
    return (r0 + n_batches) // k - r0 // k


def batches_for_updates(r0: int, n_updates: int, k: int) -> int:
    """The micro-batches, starting at raw count ``r0``, that apply exactly ``n_updates``
    updates (the last batch is an update's)."""
    return k * (n_updates + r0 // k) - r0


def is_update_batch(r0: int, step: Any, k: int) -> Any:
    """Whether micro-batch ``step`` (from raw count ``r0``) applies an update."""
    return (r0 + step + 1) % k == 0


@dataclass(frozen=True)
class UpdateClock:
    """Where the batches of one fit fall in optimizer updates: ``k`` micro-batches per update,
    the optimizer's raw counter at ``r0`` when the fit's step 0 ran (``k=1``: a batch is an
    update)."""

    k: int = 1
    r0: int = 0

    @classmethod
    def of(cls, optimizer: Any, step: int = 0) -> UpdateClock:
        """The clock of a fit of ``optimizer`` that is at batch ``step`` now (a resumed fit is
        past its step 0)."""
        k = accumulation_steps(optimizer)
        return cls(k, raw_iterations(optimizer) - step if k > 1 else 0)

    def update(self, step: Any) -> Any:
        """:func:`update_index` of batch ``step`` (an int or an int array)."""
        return update_index(self.r0, step, self.k)

    def updates_in(self, n_batches: int) -> int:
        """:func:`updates_in` the first ``n_batches`` batches of the fit."""
        return updates_in(self.r0, n_batches, self.k)

    def batches_for(self, n_updates: int) -> int:
        """:func:`batches_for_updates`: the batches that apply exactly ``n_updates`` updates."""
        return batches_for_updates(self.r0, n_updates, self.k)

    def ends_update(self, step: Any) -> Any:
        """:func:`is_update_batch` of batch ``step``."""
        return is_update_batch(self.r0, step, self.k)
