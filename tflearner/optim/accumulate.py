"""Gradient accumulation counted in optimizer updates, as pure integer functions.

Keras 3 optimizers built with ``gradient_accumulation_steps=k`` sum the gradients of ``k``
consecutive ``apply_gradients`` calls (micro-batches) and apply their mean on every ``k``-th
call, using the learning rate (and momentum, weight decay) of that call. The raw call counter
``r`` decides: micro-batch ``r`` ends an update when ``(r + 1) % k == 0``. tflearner's schedules
and ``lr_find`` count *updates*: a fit that starts at raw count ``r0`` gives micro-batch
``step`` the value of update :func:`update_index` ``(r0, step, k)``, the same for all ``k``
micro-batches that form one update, so the value applied is the schedule's.
"""

from __future__ import annotations

from typing import Any

__all__ = ["accumulation_steps", "update_index", "updates_in", "batches_for_updates",
           "is_update_batch"]


def accumulation_steps(optimizer: Any) -> int:
    """``gradient_accumulation_steps`` of ``optimizer`` (through ``LossScaleOptimizer``), 1 if
    it does not accumulate."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    return int(getattr(inner, "gradient_accumulation_steps", None) or 1)


def update_index(r0: int, step: int, k: int) -> int:
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


def is_update_batch(r0: int, step: int, k: int) -> bool:
    """Whether micro-batch ``step`` (from raw count ``r0``) applies an update."""
    return (r0 + step + 1) % k == 0
