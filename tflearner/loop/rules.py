"""The running loss and the stop rule: written once, in TensorFlow ops.

The compiled step calls these on every batch; the plain-Keras ``LRFinderCallback`` calls the same
functions eagerly on Python floats, so there is one definition of each rule.

* :func:`ema_update`: the debiased exponential moving average of the *finite* losses,
  ``avg_k = beta*avg_{k-1} + (1-beta)*loss_k``, ``smooth_k = avg_k / (1 - beta**k)`` where ``k``
  counts the finite losses so far. A non-finite batch changes neither ``avg`` nor ``k`` (so the
  bias correction does not advance past it); before the first finite loss ``smooth`` is NaN.
* :func:`stop_code`: :data:`NON_FINITE` when the batch was not finite and ``terminate`` is set;
  :data:`DIVERGED` when ``div_limit > 0`` and ``smooth > div_limit * best`` (``best``: the lowest
  smoothed loss before this batch); else :data:`CONTINUE`.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

__all__ = ["CONTINUE", "NON_FINITE", "DIVERGED", "END_OF_DATA", "STOP_REASONS", "ema_update",
           "stop_code", "update_best", "step_eagerly"]

#: Codes the compiled step returns; :data:`STOP_REASONS` names the ones that end a fit.
CONTINUE, NON_FINITE, DIVERGED, END_OF_DATA = 0, 1, 2, 3
STOP_REASONS = {NON_FINITE: "non-finite", DIVERGED: "diverged"}


def ema_update(avg: Any, count: Any, loss: Any, ok: Any, beta: Any) -> tuple[Any, Any, Any]:
    """``(avg, count, smooth)`` after one batch (float64 tensors; ``ok``: the loss is finite)."""
    avg = tf.where(ok, beta * avg + (1.0 - beta) * loss, avg)
    count = tf.where(ok, count + 1.0, count)
    nan = tf.constant(float("nan"), tf.float64)
    smooth = tf.where(count > 0, avg / (1.0 - tf.pow(beta, tf.maximum(count, 1.0))), nan)
    return avg, count, smooth


def stop_code(ok: Any, smooth: Any, best: Any, terminate: Any, div_limit: Any) -> Any:
    """The int32 code that ends the fit after this batch (:data:`CONTINUE`: none)."""
    diverged = tf.logical_and(div_limit > 0, smooth > div_limit * best)
    non_finite = tf.logical_and(tf.logical_not(ok), terminate)
    return tf.where(non_finite, NON_FINITE, tf.where(diverged, DIVERGED, CONTINUE))


def update_best(best: Any, smooth: Any) -> Any:
    """The lowest finite smoothed loss so far."""
    return tf.where(tf.math.is_finite(smooth), tf.minimum(best, smooth), best)


def step_eagerly(avg: float, count: float, best: float, loss: float, beta: float,
                 div_limit: float, terminate: bool) -> tuple[float, float, float, float, int]:
    """One batch of the rules above on Python floats (for callers outside the compiled step,
    e.g. a callback inside ``model.fit``): returns ``(avg, count, best, smooth, code)``."""
    f64 = lambda v: tf.constant(v, tf.float64)  # noqa: E731
    ok = tf.math.is_finite(f64(loss))
    new_avg, new_count, smooth = ema_update(f64(avg), f64(count), f64(loss), ok, f64(beta))
    code = stop_code(ok, smooth, f64(best), tf.constant(bool(terminate)), f64(div_limit))
    new_best = update_best(f64(best), smooth)
    return (float(new_avg), float(new_count), float(new_best), float(smooth), int(code))
