"""Repeated LR sweeps (``lr_find(repeats=k)``): combine ``k`` suggestions and measure their spread.

Pure numpy: :mod:`tflearner.lr_finder.driver` runs the ``k`` sweeps (each from the same restored
snapshot, sweep ``r`` with the data order of epoch counter ``+ r * REPEAT_EPOCH_OFFSET``); these
functions see only the recorded curves and the suggestions.

* :func:`combine` turns the ``k`` suggestions of one method into one: the *geometric median*
  of the LRs (the median of their logs), the median of each end of ``lr_range``, and the
  ``spread``: ``max / min`` of the ``k`` LRs (1.0 when they agree; ``inf`` when some sweeps gave
  no suggestion).
* :func:`band` gives the pointwise median, minimum and maximum of the smoothed curves over the
  LRs every sweep reached, for the plot.
* :func:`bootstrap_curves`: for a single sweep, ``n`` curves rebuilt from its raw losses (a wild
  bootstrap of their residuals, re-smoothed as ``lr_find`` smooths), so the spread of one
  sweep's suggestion can be measured without running more sweeps.
* :data:`SPREAD_WARN`: the spread above which ``lr_find`` warns (``docs/lr_finder.md``, "How
  sure is the suggestion", has the measurement behind it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..core.running_loss import debiased_ema
from .suggest import Suggestion

__all__ = ["BOOTSTRAP_CURVES", "REPEAT_EPOCH_OFFSET", "SPREAD_WARN", "band", "bootstrap_curves",
           "combine", "spread"]

#: Sweep ``r`` of ``lr_find(repeats=k)`` starts at data epoch counter ``+ r * offset``: far from
#: any epoch a real fit reaches, so each sweep sees a fresh data order and augmentation.
REPEAT_EPOCH_OFFSET = 1 << 24

#: ``lr_find`` warns when the first suggester's spread (max / min LR of the ``k`` sweeps, or of
#: the bootstrap curves of one sweep) is above this factor.
SPREAD_WARN = 3.0

#: How many bootstrap curves a single sweep's spread is measured on.
BOOTSTRAP_CURVES = 20
_BLOCK = 5  # residuals keep their sign in blocks of 5 points (the EMA correlates neighbours)
_TREND_WINDOW = 11  # Savitzky-Golay window (quadratic) of the raw loss's local trend


def spread(lrs: Sequence[float | None]) -> float | None:
    """``max / min`` of the suggested LRs (``inf`` if any is None; None for an empty list)."""
    if len(lrs) == 0:
        return None
    if any(lr is None for lr in lrs):
        return math.inf
    values = np.asarray(lrs, dtype=np.float64)
    return float(values.max() / values.min())


def _geo_median(values: Sequence[float]) -> float:
    """``exp(median(log(values)))``; for an even count, the geometric mean of the middle two."""
    return float(np.exp(np.median(np.log(np.asarray(values, dtype=np.float64)))))


def combine(suggestions: Sequence[Suggestion], curve: tuple[np.ndarray, np.ndarray] | None = None
            ) -> Suggestion:
    """One suggestion from ``k`` sweeps' suggestions of the same method.

    ``lr``: the geometric median of the LRs of the sweeps that gave one, if more than half of
    the ``k`` did (None otherwise: most sweeps saw no descent, so neither should the answer);
    ``lr_range``: the geometric median of each end over the sweeps that gave a range;
    ``spread``: :func:`spread` of all ``k`` LRs; ``point``: ``(lr, loss)`` with the loss
    interpolated in log LR on ``curve`` (``(lrs, losses)``, e.g. the median curve of
    :func:`band`) when given, else the point of the sweep whose LR is closest to ``lr``.

    >>> s = combine([Suggestion(1e-3, None), Suggestion(4e-3, None), Suggestion(2e-3, None)])
    >>> round(s.lr, 6), round(s.spread, 3)
    (0.002, 4.0)
    """
    if not suggestions:
        raise ValueError("suggestions must hold at least one Suggestion, got an empty list; "
                         "pass the suggestions of each sweep.")
    lrs = [s.lr for s in suggestions]
    given = [s for s in suggestions if s.lr is not None]
    if 2 * len(given) <= len(suggestions):
        return Suggestion(None, None, None, spread(lrs))
    lr = _geo_median([s.lr for s in given])
    ranges = [s.lr_range for s in given if s.lr_range is not None]
    lr_range = None
    if ranges:
        lr_range = (_geo_median([r[0] for r in ranges]), _geo_median([r[1] for r in ranges]))
    if curve is not None and len(curve[0]) >= 2:
        c_lrs, c_losses = (np.asarray(a, dtype=np.float64) for a in curve)
        point = (lr, float(np.interp(np.log(lr), np.log(c_lrs), c_losses)))
    else:
        nearest = min(given, key=lambda s: abs(math.log(s.lr / lr)))
        point = nearest.point
    return Suggestion(lr, point, lr_range, spread(lrs))


def band(curves: Sequence[tuple[Sequence[float], Sequence[float]]]
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(lrs, median, low, high)`` of ``k`` curves ``(lrs, losses)`` over their common prefix.

    The sweeps share one LR schedule, so point ``i`` of every curve is at the same LR; the band
    covers the points all ``k`` sweeps reached (a sweep that diverged early shortens it).
    Non-finite losses are ignored point by point (NaN where no curve is finite).
    """
    if not curves:
        raise ValueError("curves must hold at least one (lrs, losses) pair, got none.")
    n = min(len(c[0]) for c in curves)
    lrs = np.asarray(curves[0][0][:n], dtype=np.float64)
    for c in curves[1:]:
        if not np.allclose(np.asarray(c[0][:n], dtype=np.float64), lrs, rtol=1e-6, atol=0.0):
            raise ValueError("curves must share one LR schedule (the sweeps of one lr_find); "
                             "got curves whose LRs differ.")
    stack = np.asarray([np.asarray(c[1][:n], dtype=np.float64) for c in curves])
    stack = np.where(np.isfinite(stack), stack, np.nan)
    if n == 0:
        empty = np.zeros(0)
        return lrs, empty, empty, empty
    import warnings

    with warnings.catch_warnings():  # all-NaN columns: NaN, as documented
        warnings.simplefilter("ignore", RuntimeWarning)
        return lrs, np.nanmedian(stack, axis=0), np.nanmin(stack, axis=0), \
            np.nanmax(stack, axis=0)


def bootstrap_curves(raw: Sequence[float], beta: float, n: int = BOOTSTRAP_CURVES,
                     seed: int = 0) -> list[np.ndarray]:
    """``n`` smoothed curves rebuilt from one sweep's raw batch losses, for the spread of its
    suggestion: the raw loss's local trend (a quadratic Savitzky-Golay fit over 11 points) plus
    its own residuals, each block of 5 flipped in sign at random (a *wild* bootstrap: the noise
    keeps its size where it was, small at low LRs and large near divergence), then smoothed by
    :func:`~tflearner.core.running_loss.debiased_ema` as ``lr_find`` smooths. Only the finite
    prefix of ``raw`` is used; an empty list when it has fewer than 20 points. Seeded: the same
    input gives the same curves.
    """
    values = np.asarray(raw, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        values = values[: bad[0]]
    if len(values) < 20:
        return []
    from scipy.signal import savgol_filter

    trend = savgol_filter(values, _TREND_WINDOW, 2, mode="interp")
    resid = values - trend
    rng = np.random.default_rng(seed)
    blocks = len(values) // _BLOCK + 1
    return [debiased_ema(trend + np.repeat(rng.choice([-1.0, 1.0], blocks), _BLOCK)[
        : len(values)] * resid, beta) for _ in range(n)]
