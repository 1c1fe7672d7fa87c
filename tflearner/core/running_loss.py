"""The running loss and the stop rule, written once for numpy and TensorFlow.

The compiled step calls these on TensorFlow tensors (``xp=tf``); ``LRFinderCallback`` (inside
``model.fit``) and the bootstrap curves of ``lr_find`` call the same functions on numpy values
(``xp=np``, the default), so there is one definition of each rule.

* :func:`ema_update`: the debiased exponential moving average of the *finite* losses,
  ``avg_k = beta*avg_{k-1} + (1-beta)*loss_k``, ``smooth_k = avg_k / (1 - beta**k)`` where ``k``
  counts the finite losses so far. A non-finite batch changes neither ``avg`` nor ``k`` (so the
  bias correction does not advance past it); before the first finite loss ``smooth`` is NaN.
* :func:`stop_code`: :data:`NON_FINITE` when the batch was not finite and ``terminate`` is set;
  :data:`DIVERGED` when ``div_limit > 0`` and ``smooth > div_limit * best`` (``best``: the lowest
  smoothed loss before this batch); else :data:`CONTINUE`. :func:`reason_of` names a code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .fit_state import StopReason

__all__ = ["CONTINUE", "NON_FINITE", "DIVERGED", "END_OF_DATA", "reason_of", "ema_update",
           "stop_code", "update_best", "step_eagerly", "debiased_ema"]

#: Codes the compiled step returns; :func:`reason_of` names the ones that end a fit.
CONTINUE, NON_FINITE, DIVERGED, END_OF_DATA = 0, 1, 2, 3
_REASONS = {NON_FINITE: StopReason.NON_FINITE, DIVERGED: StopReason.DIVERGED}


def reason_of(code: int) -> StopReason | None:
    """The :class:`~tflearner.core.fit_state.StopReason` of a step's code (None: it goes on)."""
    return _REASONS.get(int(code))


def ema_update(avg: Any, count: Any, loss: Any, ok: Any, beta: Any,
               xp: Any = np) -> tuple[Any, Any, Any]:
    """``(avg, count, smooth)`` after one batch (``ok``: the loss is finite). ``xp``: the
    module whose ``where`` and ``maximum`` apply (numpy, or tensorflow inside a step; float64)."""
    avg = xp.where(ok, beta * avg + (1.0 - beta) * loss, avg)
    count = xp.where(ok, count + 1.0, count)
    smooth = avg / (1.0 - beta ** xp.maximum(count, 1.0))
    return avg, count, xp.where(count > 0, smooth, smooth * math.nan)  # NaN before a finite loss


def stop_code(ok: Any, smooth: Any, best: Any, terminate: Any, div_limit: Any,
              xp: Any = np) -> Any:
    """The code that ends the fit after this batch (:data:`CONTINUE`: none)."""
    diverged = xp.logical_and(div_limit > 0, smooth > div_limit * best)
    non_finite = xp.logical_and(xp.logical_not(ok), terminate)
    return xp.where(non_finite, NON_FINITE, xp.where(diverged, DIVERGED, CONTINUE))


def update_best(best: Any, smooth: Any, xp: Any = np) -> Any:
    """The lowest finite smoothed loss so far."""
    finite = xp.abs(smooth) < math.inf  # False for NaN too
    return xp.where(finite, xp.minimum(best, smooth), best)


def step_eagerly(avg: float, count: float, best: float, loss: float, beta: float,
                 div_limit: float, terminate: bool) -> tuple[float, float, float, float, int]:
    """One batch of the rules above on Python floats (for callers outside the compiled step,
    e.g. a callback inside ``model.fit``): returns ``(avg, count, best, smooth, code)``."""
    loss = np.float64(loss)
    ok = np.isfinite(loss)
    avg, count, smooth = ema_update(np.float64(avg), np.float64(count), loss, ok,
                                    np.float64(beta))
    code = stop_code(ok, smooth, np.float64(best), bool(terminate), np.float64(div_limit))
    return (float(avg), float(count), float(update_best(np.float64(best), smooth)),
            float(smooth), int(code))


def debiased_ema(values: Any, beta: float) -> np.ndarray:
    """:func:`ema_update` over a sequence of finite values (``out_i = avg_i / (1 -
    beta^(i+1))``): the smoothing ``lr_find`` records as ``smooth_losses``."""
    values = np.asarray(values, dtype=np.float64)
    out, avg, count, beta = np.empty(len(values)), 0.0, 0.0, np.float64(beta)
    for i, v in enumerate(values):
        avg, count, out[i] = ema_update(avg, count, v, True, beta)
    return out
