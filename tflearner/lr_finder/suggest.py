"""Learning-rate suggestions from an LR-range-test (``lr_find``) curve, in numpy and scipy.

Every suggester takes the *already trimmed* curve — ``lrs`` (1-D, strictly increasing, > 0) and
``losses`` (same length) — plus an ``num_it`` argument that fastai passes and most rules ignore,
and returns a :class:`Suggestion`. :func:`trim` does the trimming exactly as fastai's ``lr_find``.

* :func:`robust` (tflearner's default): halfway (in log LR) between the steepest descent and
  the bottom of a Savitzky-Golay-smoothed curve, never past the minimum, with an
  ``lr_range`` for cyclic schedules and ``None`` when the curve does not descend.
* :func:`valley`, :func:`slide`, :func:`steep`, :func:`minimum`: fastai's four rules with
  fastai's exact semantics, from ``fastai/callback/schedule.py`` (fastai/fastai, the version
  whose ``lr_find`` drops NaN losses).

Common rules for all suggesters (where they differ from fastai, they are marked *deviation*):

* Inputs are converted to float64 arrays. fastai works on float32 torch tensors, so answers can
  differ only where two float32-rounded values tie or sit exactly on a threshold.
* Non-finite pairs (NaN/inf in ``lrs`` or ``losses``) are dropped with a warning. *Deviation*:
  fastai feeds them on (its comparisons with NaN are silently false).
* Fewer than :data:`MIN_POINTS` points (after dropping): a warning and
  ``Suggestion(None, None, None)``. *Deviation*: fastai crashes (``steep``, ``slide``) or
  returns an arbitrary point (``valley``).
* ``lrs`` that are not 1-D, not strictly increasing or not positive raise ``ValueError``.

**robust's rule**, in ``x = log10(lr)`` (resampled onto an even grid of the same size if the LRs
are not log-spaced, as they are in an exponential sweep):

1. Smooth with a Savitzky-Golay filter: local cubic (quadratic below 9 points) over an odd
   window of ~30 % of the points (at least 5), ``mode="mirror"``; its ``deriv=1`` gives the
   slope ``d loss / d x`` of the same local fits (``mirror`` makes it 0 at both ends, so
   an edge is never the steepest point).
2. The curve is cut at the lowest loss it was given (a hard cap, applied before step 1's
   smoothing, whose window stays ~30 % of the whole curve, shrunk to fit): a loss spike
   followed by a recovery cannot pull the answer past it, and the divergence cliff after it
   cannot bend the local fits before it (a cubic fitted across the cliff dips just before
   it). ``i_min`` = argmin of the smoothed cut curve; only points before it are considered,
   so the suggestion and the whole range are never past either minimum.
3. Meaningful descent: ``drop`` = (highest smoothed loss before ``i_min``) - (smoothed
   minimum) must exceed 6 noise units, else a warning and no suggestion (flat noise, a
   rising curve). Two noise models, the larger threshold wins:

   * white noise on the points: ``se = sigma * sqrt(2 * h0)``, the standard error of a
     difference of two smoothed values (``h0``: the filter's centre weight), ``sigma`` the
     MAD-based noise of the ``m`` residuals ``y - smooth`` before the minimum (at least
     the first half), corrected by ``1 / sqrt(1 - h0)``; the drop must exceed
     ``6 sqrt(1 + 10/m) se``.
   * ``beta`` given (the curve is a debiased EMA ``avg = beta*avg + (1-beta)*loss``, as
     ``lr_find`` records it; it passes its ``beta``): an EMA of noise wanders slowly, which
     residuals cannot see. Its increments have ``sd_d = (1-beta) sigma_raw
     sqrt(2/(1+beta))`` and its wander ``sd_w = sigma_raw sqrt((1-beta)/(1+beta))``, so
     ``sd_w = sd_d / sqrt(2 (1-beta))``, with ``sd_d`` the MAD-based spread of the
     increments before the minimum after removing their slowly varying part (a real
     descent's slope; a quadratic Savitzky-Golay fit of the increments); the drop must
     exceed ``4.5 sd_w``.
4. ``i_steep`` = argmin of the slope before ``i_min``; ``i_up`` = the lowest point of the
   run ending at ``i_min`` where the smoothed loss is within 5 % of ``drop`` of its
   minimum (where the loss bottoms out; on a flat bottom a far more stable landmark than
   the argmin itself), always after ``i_steep``. The suggestion is the point halfway
   between ``i_steep`` and ``i_up`` on the log-LR grid: the geometric mean of the LR of
   steepest descent and the LR where the loss bottoms out (``docs/lr_finder.md`` says why
   and how it compares). If the minimum is the last point, the loss was still falling when
   the sweep ended: the answer is a lower bound of the rule's, and a warning says to raise
   ``end_lr``. On a sigmoid descent of width ``w`` decades the answer is
   ``ln(19) / 2 = 1.47 w`` above its centre.
5. ``lr_range = (lower, upper)`` for cyclic schedules: ``lower`` scans left from
   ``i_steep`` to the first point whose slope is shallower than 1/3 of the steepest
   (where the descent starts; the first LR if it starts at once); ``upper`` is ``i_up``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..core.checks import check_int, check_real, check_type, fail

__all__ = [
    "MIN_POINTS",
    "SUGGESTERS",
    "Suggestion",
    "get_suggester",
    "minimum",
    "robust",
    "slide",
    "steep",
    "trim",
    "valley",
]

#: Fewest points (after trimming and dropping non-finite values) any suggester works with.
MIN_POINTS = 5

# robust's constants (the module docstring gives the rule; docs/lr_finder.md the reasoning).
_WINDOW_FRACTION = 0.3  # Savitzky-Golay window, as a fraction of the number of points
_POLYORDER = 3  # local cubic: keeps a sigmoid-like descent's steepest point in place
_START_FRACTION = 1 / 3  # lr_range lower end: where the slope first reaches 1/3 of the steepest
_BOTTOM_FRACTION = 0.05  # lr_range upper end: where the loss gets within 5 % of the drop of its min
_POSITION = 0.5  # the answer's place from the steepest point (0) to the bottom (1), in log LR
_NOISE_FACTOR = 6.0  # a real descent drops more than 6 noise units (white-noise model) ...
_EMA_NOISE_FACTOR = 4.5  # ... and more than 4.5 wander units (EMA model, when beta is known)

ArrayLike = Sequence[float] | np.ndarray


class Suggestion(NamedTuple):
    """One suggester's answer; all ``None`` when it has no suggestion.

    ``lr``: the suggested learning rate. ``point``: the ``(lr, loss)`` to mark on the plot.
    ``lr_range``: ``(lower, upper)`` for cyclic schedules, where the method gives one.
    ``spread``: with ``lr_find(repeats=k)``, ``max / min`` of the ``k`` sweeps' LRs (``inf`` if
    some gave none); None for a single sweep.
    """

    lr: float | None
    point: tuple[float, float] | None
    lr_range: tuple[float, float] | None = None
    spread: float | None = None


_NONE = Suggestion(None, None, None)


# --------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------


def _as_1d(name: str, values: Any) -> np.ndarray:
    """``values`` as a 1-D float64 array, or a TypeError/ValueError naming ``name``."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"{name} must be a 1-D sequence of numbers, got {type(values).__name__} ({e}); "
            f"pass a list or numpy array of floats."
        ) from None
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, got an array of shape {arr.shape}; pass one value per "
            f"iteration (flatten it, or pick one parameter group's learning rates)."
        )
    return arr


def _check_pair(lrs: Any, losses: Any) -> tuple[np.ndarray, np.ndarray]:
    lrs_a, losses_a = _as_1d("lrs", lrs), _as_1d("losses", losses)
    if len(lrs_a) != len(losses_a):
        raise ValueError(
            f"lrs and losses must have the same length, got {len(lrs_a)} and {len(losses_a)}; "
            f"pass the two lists the LR finder recorded, trimmed together by trim()."
        )
    return lrs_a, losses_a


def _check_num_it(num_it: Any) -> None:
    check_int("num_it", num_it, 0, allow_none=True,
              fix="fastai's default is 100 (the LR finder's iteration count).")


def _prepare(
    lrs: Any, losses: Any, num_it: Any, method: str, min_points: int = MIN_POINTS
) -> tuple[np.ndarray, np.ndarray] | None:
    """Validate, drop non-finite pairs (warning); None (after a warning) if too few points."""
    _check_num_it(num_it)
    lrs_a, losses_a = _check_pair(lrs, losses)
    finite = np.isfinite(lrs_a) & np.isfinite(losses_a)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        warnings.warn(
            f"{method}: dropped {len(bad)} non-finite (lr, loss) pair(s) at index(es) "
            f"{bad[:5].tolist()}{' ...' if len(bad) > 5 else ''}; call trim() first to cut the "
            f"curve at the first non-finite loss.",
            stacklevel=3,
        )
        lrs_a, losses_a = lrs_a[finite], losses_a[finite]
    if np.any(lrs_a <= 0):
        raise ValueError(
            f"lrs must be > 0, got {float(lrs_a[lrs_a <= 0][0])!r}; pass the learning rates of "
            f"an exponential LR sweep (e.g. 1e-7 to 10)."
        )
    steps = np.diff(lrs_a)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(
            f"lrs must be strictly increasing, got lrs[{i}]={float(lrs_a[i])!r} followed by "
            f"lrs[{i + 1}]={float(lrs_a[i + 1])!r}; pass the learning rates in the order the LR "
            f"finder swept them (start_lr < end_lr)."
        )
    if len(lrs_a) < min_points:
        warnings.warn(
            f"{method}: no suggestion: only {len(lrs_a)} usable point(s), it needs at least "
            f"{min_points}; run the LR finder for more iterations (num_it) or lower skip_start "
            f"/ skip_end in trim().",
            stacklevel=3,
        )
        return None
    return lrs_a, losses_a


def _nearest_loss(lrs: np.ndarray, losses: np.ndarray, lr: float) -> float:
    """fastai's ``losses[min(range(len(lrs)), key=lambda i: abs(lrs[i]-lr))]`` (first on ties)."""
    return float(losses[int(np.argmin(np.abs(lrs - lr)))])


# --------------------------------------------------------------------------------------------
# Trimming
# --------------------------------------------------------------------------------------------


def trim(
    lrs: ArrayLike,
    losses: ArrayLike,
    num_it: int | None = None,
    skip_start: int | None = None,
    skip_end: int = 5,
) -> tuple[np.ndarray, np.ndarray]:
    """Trim a recorded LR-finder curve the way fastai's ``lr_find`` does, then cut at non-finite.

    Rule (fastai ``lr_find``: ``lrs[num_it//10:-5]``, then cut at the first NaN loss):

    1. keep ``[start : len - skip_end]`` with ``start = skip_start`` if given, else
       ``num_it // 10`` (``num_it`` is the *requested* iteration count, as in fastai, even when
       the sweep stopped early), else ``len(lrs) // 10``;
    2. then cut at the first index *of that slice* whose loss (or lr) is not finite.

    The order matters and is fastai's: non-finite values in the skipped head or tail are
    ignored, and the last ``skip_end`` recorded points are dropped even when they are NaN.
    *Deviations*: fastai cuts only at NaN; this also cuts at +inf / -inf (and at a non-finite
    lr). ``skip_end=0`` keeps the tail (fastai's ``[:-0]`` would keep nothing; its
    ``plot_lr_find`` special-cases 0 the same way). Returns float64 copies, possibly empty.

    >>> trim([1, 2, 3, 4, 5, 6, 7, 8], [3, 2, float("nan"), 1, 0, 0, 0, 0], skip_end=2)
    (array([1., 2.]), array([3., 2.]))
    """
    _check_num_it(num_it)
    check_int("skip_start", skip_start, 0, allow_none=True,
              fix="fastai's default is None (num_it // 10).")
    check_int("skip_end", skip_end, 0, fix="fastai's default is 5.")
    lrs_a, losses_a = _check_pair(lrs, losses)
    n = len(lrs_a)
    if skip_start is not None:
        start = int(skip_start)
    else:
        start = (int(num_it) if num_it is not None else n) // 10
    stop = max(n - int(skip_end), 0)  # like Python's [:-k]: nothing left when k >= n
    lrs_a, losses_a = lrs_a[start:stop], losses_a[start:stop]
    bad = np.flatnonzero(~(np.isfinite(losses_a) & np.isfinite(lrs_a)))
    if len(bad):
        lrs_a, losses_a = lrs_a[: bad[0]], losses_a[: bad[0]]
    return lrs_a.copy(), losses_a.copy()


# --------------------------------------------------------------------------------------------
# fastai's four rules
# --------------------------------------------------------------------------------------------


def valley(lrs: ArrayLike, losses: ArrayLike, num_it: int | None = None) -> Suggestion:
    """fastai's ``valley``: about halfway along the longest decreasing subsequence of the losses.

    Rule (fastai/callback/schedule.py ``valley``): ``lds[i]`` is the length of the longest
    strictly decreasing (not necessarily contiguous) subsequence of ``losses`` ending at ``i``
    (an O(n^2) dynamic programme). ``max_end`` is the first ``i`` with the largest ``lds``,
    ``max_start = max_end - lds[max_end]`` (as if the subsequence were contiguous: one index
    before its first point), and the suggestion is ``lrs[idx]`` with ``idx = max_start +
    int(s) + int(s / 2)``, ``s = (max_end - max_start) / 3`` — about *half* way along (1/3 +
    1/6), despite the usual "2/3" description; ``point`` is ``(lr, losses[idx])``.

    fastai updates the best inside its inner loop; that gives the same ``max_start`` because
    ``lds[i]`` can only exceed the best so far by one. *Deviation*: when ``idx == -1`` (the
    longest decreasing subsequence has 2 points and first ends at index 1: a curve that never
    descends), fastai wraps around to ``lrs[-1]``, the largest LR; this warns and returns no
    suggestion.
    """
    prepared = _prepare(lrs, losses, num_it, "valley")
    if prepared is None:
        return _NONE
    lrs_a, losses_a = prepared
    n = len(losses_a)
    lds = np.ones(n, dtype=np.int64)
    for i in range(1, n):
        higher = losses_a[:i] > losses_a[i]
        if higher.any():
            lds[i] = lds[:i][higher].max() + 1
    max_end = int(np.argmax(lds))  # first index of the longest, as fastai's strict `<` update
    # fastai sets max_start only on an update, so a never-decreasing curve keeps (0, 0).
    max_start = max_end - int(lds[max_end]) if lds[max_end] > 1 else 0
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    if idx < 0:
        warnings.warn(
            "valley: no suggestion: the loss never decreases over more than two points (fastai "
            "would wrap around to the largest LR); check the curve, or widen the LR range.",
            stacklevel=2,
        )
        return _NONE
    lr = float(lrs_a[idx])
    return Suggestion(lr, (lr, float(losses_a[idx])))


def slide(
    lrs: ArrayLike,
    losses: ArrayLike,
    num_it: int | None = None,
    lr_diff: int = 15,
    thresh: float = 0.005,
    adjust_value: float = 1.0,
) -> Suggestion:
    """fastai's ``slide``: slide a window left until the loss gradient levels off.

    Rule (fastai/callback/schedule.py ``slide``): ``g = np.gradient(losses)`` (per *index*, not
    per log-LR; central differences inside, one-sided at the ends). Start with ``r = -1``,
    ``l = r - lr_diff`` and ``lr = lrs[l]``; while ``l >= -n`` and ``|g[r] - g[l]| > thresh``:
    ``lr = lrs[l]`` and move both one to the left. The suggestion is ``lr * adjust_value``
    (``lrs[0]`` if the window ran off the left end), the point ``(suggestion, loss)`` with the
    loss linearly interpolated in log10(lr). ``thresh`` is absolute, in loss units.
    *Deviation*: fewer than ``lr_diff + 1`` points warns and returns no suggestion (fastai
    raises IndexError).
    """
    check_int("lr_diff", lr_diff, 1, fix="fastai's default is 15.")
    check_real("thresh", thresh, 0.0, fix="fastai's default is 0.005.")
    check_real("adjust_value", adjust_value, 0.0, low_open=True, fix="fastai's default is 1.0.")
    prepared = _prepare(lrs, losses, num_it, "slide", min_points=max(MIN_POINTS, lr_diff + 1))
    if prepared is None:
        return _NONE
    lrs_a, losses_a = prepared
    loss_grad = np.gradient(losses_a)
    n = len(losses_a)
    r_idx = -1
    l_idx = r_idx - lr_diff
    local_min_lr = lrs_a[l_idx]
    while l_idx >= -n and abs(loss_grad[r_idx] - loss_grad[l_idx]) > thresh:
        local_min_lr = lrs_a[l_idx]
        r_idx -= 1
        l_idx -= 1
    suggestion = float(local_min_lr) * adjust_value
    loss = float(np.interp(np.log10(suggestion), np.log10(lrs_a), losses_a))
    return Suggestion(suggestion, (suggestion, loss))


def steep(lrs: ArrayLike, losses: ArrayLike, num_it: int | None = None) -> Suggestion:
    """fastai's ``steep``: the LR where the loss falls fastest per unit of log(lr).

    Rule (fastai/callback/schedule.py ``steep``): forward differences ``g[i] = (loss[i+1] -
    loss[i]) / (ln lr[i+1] - ln lr[i])`` (not ``np.gradient``: one-sided, no smoothing);
    the suggestion is ``lrs[argmin g]`` — the *left* end of the steepest segment, first one on
    ties. ``point`` is ``(lr, loss at the nearest lr)``, i.e. ``losses[argmin g]``.
    """
    prepared = _prepare(lrs, losses, num_it, "steep")
    if prepared is None:
        return _NONE
    lrs_a, losses_a = prepared
    grads = (losses_a[1:] - losses_a[:-1]) / (np.log(lrs_a[1:]) - np.log(lrs_a[:-1]))
    lr_steep = float(lrs_a[int(np.argmin(grads))])
    return Suggestion(lr_steep, (lr_steep, _nearest_loss(lrs_a, losses_a, lr_steep)))


def minimum(lrs: ArrayLike, losses: ArrayLike, num_it: int | None = None) -> Suggestion:
    """fastai's ``minimum``: one tenth of the LR at the lowest loss.

    Rule (fastai/callback/schedule.py ``minimum``): ``lr_min = lrs[argmin losses]`` (first one
    on ties); the suggestion is ``lr_min / 10``, but ``point`` marks the minimum itself,
    ``(lr_min, loss at the nearest lr)``.
    """
    prepared = _prepare(lrs, losses, num_it, "minimum")
    if prepared is None:
        return _NONE
    lrs_a, losses_a = prepared
    lr_min = float(lrs_a[int(np.argmin(losses_a))])
    return Suggestion(lr_min / 10, (lr_min, _nearest_loss(lrs_a, losses_a, lr_min)))


# --------------------------------------------------------------------------------------------
# tflearner's default
# --------------------------------------------------------------------------------------------


def _savgol_window(n: int) -> int:
    """Odd window of about ``_WINDOW_FRACTION * n`` points, at least 5 and at most ``n``."""
    w = max(5, int(round(_WINDOW_FRACTION * n)))
    w = min(w, n)
    return w if w % 2 else w - 1


def robust(lrs: ArrayLike, losses: ArrayLike, num_it: int | None = None, *,
           beta: float | None = None, stop_reason: str | None = None) -> Suggestion:
    """tflearner's default: halfway (in log LR) between the steepest descent and the bottom.

    The rule, step by step, is in the module docstring ("robust's rule"); ``docs/lr_finder.md``
    says why and how it compares.

    Args:
        lrs, losses: the trimmed curve (see the module docstring for the common rules).
        num_it: the requested sweep length; checked, not used.
        beta: the EMA factor the losses were smoothed with (in ``[0, 1)``), or None.
        stop_reason: how the sweep that recorded the curve ended (``lr_find_info
            ["stop_reason"]``: ``"end"``, ``"diverged"``, ...), or None. None (a curve of
            unknown origin, robust called on its own): a minimum at the last point warns that
            the loss was still falling (step 4). Given: the caller knows how the sweep ended
            and says so once for every suggester (``compute_suggestions`` warns only for
            ``"end"``: after a divergence the trimmed tail hid where the loss turned), so
            robust adds no warning of its own. The suggestion is the same either way.

    Returns:
        ``Suggestion(lr, point, lr_range)`` with ``lower <= lr < upper <= lr at the smoothed
        minimum`` and ``point = (lr, raw loss interpolated at lr)``; ``Suggestion(None, None,
        None)`` (after a warning) when the curve does not descend meaningfully.
    """
    beta = check_real("beta", beta, 0.0, 1.0, high_open=True, allow_none=True,
                      requirement="a finite number in [0, 1) or None",
                      fix="pass the EMA factor the curve was smoothed with (lr_find's beta, "
                          "1 - 2/num_it).")
    check_type("stop_reason", stop_reason, (str, type(None)), "a string or None",
               "pass lr_find_info['stop_reason'] (e.g. 'end'), or None.")
    prepared = _prepare(lrs, losses, num_it, "robust")
    if prepared is None:
        return _NONE
    curve = _Capped.of(*prepared)
    if curve.window < 5:  # the lowest loss among the first few points: no descent to look at
        return _no_descent("the smoothed loss is lowest at the first LR (it only rises)"
                           if curve.cap == 0 else f"the loss is lowest at point "
                           f"{curve.cap + 1} of {len(prepared[0])}, too early to see a descent")
    smooth, slope = curve.smoothed()
    i_min = int(np.argmin(smooth))
    drop = float(np.max(smooth[: i_min + 1])) - float(smooth[i_min])
    needed = _noise_threshold(curve, smooth, i_min, beta)
    if i_min == 0 or drop <= needed or float(np.min(slope[:i_min])) >= 0:
        return _no_descent("the smoothed loss is lowest at the first LR (it only rises)"
                           if i_min == 0 else f"the smoothed loss drops by only {drop:.3g} "
                           f"before its minimum, which is within the noise (it needs > "
                           f"{needed:.3g})")
    i_low, i_lr, i_up = _landmarks(smooth, slope, i_min, drop)
    if curve.still_falling and stop_reason is None:
        warnings.warn(
            "robust: the loss was still falling at the largest LR of the sweep, so its minimum "
            "lies beyond it: the suggestion and the range's upper end are lower bounds; rerun "
            "the LR finder with a larger end_lr.",
            stacklevel=2,
        )
    lr = curve.lr_at(i_lr)
    point = (lr, float(np.interp(np.log10(lr), curve.x_raw, curve.losses)))
    return Suggestion(lr, point, (curve.lr_at(i_low), curve.lr_at(i_up)))


class _Capped(NamedTuple):
    """robust's curve cut at its lowest loss (step 2) on an even log-LR grid (``y`` on ``x``;
    ``even``: the sweep's own points already were), with the smoothing ``window`` shrunk to
    fit what is left."""

    lrs: np.ndarray
    losses: np.ndarray
    x_raw: np.ndarray
    x: np.ndarray
    y: np.ndarray
    even: bool
    cap: int
    still_falling: bool
    window: int

    @classmethod
    def of(cls, lrs: np.ndarray, losses: np.ndarray) -> _Capped:
        # Nothing past the lowest loss, not even in the smoothing: a spike followed by a
        # recovery could leave a later, lower smoothed minimum, and a local cubic fitted across
        # the divergence cliff undershoots just before it. The window keeps the sweep's
        # resolution (a share of all its points), shrunk to fit what is left.
        cap = int(np.argmin(losses))
        still_falling = cap == len(losses) - 1
        window = _savgol_window(len(lrs))
        lrs, losses = lrs[: cap + 1], losses[: cap + 1]
        n = len(lrs)
        x_raw = np.log10(lrs)
        x = np.linspace(x_raw[0], x_raw[-1], n)
        even = n < 2 or bool(np.allclose(np.diff(x_raw), x[1] - x[0], rtol=1e-3, atol=0.0))
        y = losses if even else np.interp(x, x_raw, losses)
        return cls(lrs, losses, x_raw, x, y, even, cap, still_falling,
                   min(window, n if n % 2 else n - 1))

    @property
    def polyorder(self) -> int:
        return _POLYORDER if self.window >= 9 else 2  # a cubic through < 9 points fits noise

    def smoothed(self) -> tuple[np.ndarray, np.ndarray]:
        """Step 1: the Savitzky-Golay smoothed curve and its slope ``d loss / d x``."""
        from scipy.signal import savgol_filter  # imported on first use (~1 s)

        dx = self.x[1] - self.x[0]
        return (savgol_filter(self.y, self.window, self.polyorder, mode="mirror"),
                savgol_filter(self.y, self.window, self.polyorder, deriv=1, delta=dx,
                              mode="mirror"))

    def lr_at(self, i: int) -> float:
        return float(self.lrs[i]) if self.even else float(10.0 ** self.x[i])


def _noise_threshold(curve: _Capped, smooth: np.ndarray, i_min: int,
                     beta: float | None) -> float:
    """Step 3: the drop a real descent must exceed, the larger of the two noise models."""
    from scipy.signal import savgol_coeffs, savgol_filter

    n, y = len(curve.y), curve.y
    # Noise from the part before the minimum (at least the first half: not the divergent
    # tail, whose noise scales with its huge losses).
    head = max(i_min + 1, n // 2)
    h0 = float(savgol_coeffs(curve.window, curve.polyorder)[curve.window // 2])
    resid = (y - smooth)[:head]
    sigma = _mad_sd(resid) / math.sqrt(1 - h0)
    unit = math.sqrt(1 + 10 / len(resid)) * sigma * math.sqrt(2 * h0)  # of a difference
    needed = _NOISE_FACTOR * unit
    if beta is not None and beta > 0:
        # Increments of an EMA of noise are nearly white; those of a real descent carry its
        # slowly varying slope, so the slope (a smoothing of the increments) is removed first.
        steps = np.diff(y[:head])
        if len(steps) >= 5:
            steps = steps - savgol_filter(steps, _savgol_window(len(steps)), 2, mode="mirror")
        wander = _mad_sd(steps) / math.sqrt(2 * (1 - float(beta)))
        needed = max(needed, _EMA_NOISE_FACTOR * wander)
    return needed


def _landmarks(smooth: np.ndarray, slope: np.ndarray, i_min: int,
               drop: float) -> tuple[int, int, int]:
    """Steps 4 and 5: ``(i_low, i_lr, i_up)``, the range's lower end, the answer and the
    range's upper end (where the loss bottoms out)."""
    i_steep = int(np.argmin(slope[:i_min]))
    steepest = float(slope[i_steep])
    i_low = i_steep
    while i_low > 0 and slope[i_low] <= _START_FRACTION * steepest:
        i_low -= 1
    i_up = i_min
    while i_up > i_steep + 1 and smooth[i_up - 1] <= smooth[i_min] + _BOTTOM_FRACTION * drop:
        i_up -= 1
    return i_low, i_steep + int(_POSITION * (i_up - i_steep)), i_up


def _no_descent(why: str) -> Suggestion:
    """robust's answer when the curve does not descend: a warning saying ``why``, then none."""
    warnings.warn(
        f"robust: no suggestion: the loss never descends meaningfully: {why}; check the curve "
        f"(plot it), start the sweep at a lower start_lr, or pick an LR by hand.",
        stacklevel=3,
    )
    return _NONE


def _mad_sd(values: np.ndarray) -> float:
    """Robust standard deviation: 1.4826 * median absolute deviation from the median."""
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

SUGGESTERS: dict[str, Callable[..., Suggestion]] = {
    "robust": robust,
    "valley": valley,
    "slide": slide,
    "steep": steep,
    "minimum": minimum,
}


def get_suggester(name_or_fn: str | Callable[..., Suggestion]) -> Callable[..., Suggestion]:
    """A suggester by name (a key of :data:`SUGGESTERS`); callables are returned unchanged."""
    names = ", ".join(repr(k) for k in SUGGESTERS)
    if isinstance(name_or_fn, str):
        if name_or_fn not in SUGGESTERS:
            raise fail("suggester", f"one of {names} or a callable", name_or_fn,
                       "names are case-sensitive; or pass a function "
                       "f(lrs, losses, num_it) -> Suggestion.")
        return SUGGESTERS[name_or_fn]
    if callable(name_or_fn):
        return name_or_fn
    raise fail("suggester", "a name or a callable", name_or_fn,
               f"pass one of {names} or a function f(lrs, losses, num_it) -> Suggestion.",
               error=TypeError, with_type=True)
