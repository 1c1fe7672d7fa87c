"""Tests for tflearner.suggest: pure numpy/scipy, no TensorFlow, milliseconds each.

* synthetic curves with a known answer (a sigmoid in log-LR space whose steepest point is at
  ``log10(lr) = c``), clean and with multiplicative noise;
* fastai exactness: hand-worked small cases, and a line-by-line plain-Python transcription of
  fastai/callback/schedule.py (``valley``, ``slide``, ``steep``, ``minimum``) compared on random
  curves;
* trim's NaN/inf table, fastai's slicing order, too-short curves;
* robust never suggests past the smoothed minimum (hypothesis);
* flat / rising curves give no suggestion and a warning that says why;
* get_suggester and argument errors.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import savgol_filter

from tflearner.lr_finder import sweep_beta
from tflearner.lr_finder.suggest import (
    MIN_POINTS,
    SUGGESTERS,
    Suggestion,
    get_suggester,
    minimum,
    robust,
    slide,
    steep,
    trim,
    valley,
)
from tflearner.schedules import exp_sweep

FASTAI = {"valley": valley, "slide": slide, "steep": steep, "minimum": minimum}
ALL = {"robust": robust, **FASTAI}

# On a sigmoid of width w (decades), slope / steepest slope = 4 s (1 - s); it is 90 % at
# u = 2 artanh(sqrt(0.1)) widths left of the centre, 1/3 at u = 2 artanh(sqrt(2/3)).
SHIFT_90 = 2 * math.atanh(math.sqrt(0.1))  # 0.6549
SHIFT_THIRD = 2 * math.atanh(math.sqrt(2 / 3))  # 2.2925


def sigmoid_curve(lrs: np.ndarray, c: float, w: float, diverge: bool = True) -> np.ndarray:
    """2.3 -> 0.8 along a sigmoid centred at log10(lr) = c, then a quadratic blow-up."""
    x = np.log10(lrs)
    loss = 2.3 - 1.5 / (1 + np.exp(-(x - c) / w))
    if diverge:
        x_div = c + 4 * w
        loss = loss + np.where(x > x_div, 3 * (x - x_div) ** 2, 0.0)
    return loss


def smoothed_argmin(losses: np.ndarray) -> int:
    """robust's documented smoothing, recomputed: the curve cut at its lowest loss, an odd
    window ~30 % of all n points (shrunk to fit the cut), cubic, mirror."""
    n = len(losses)
    window = min(max(5, round(0.3 * n)), n)
    window -= 1 - window % 2
    cut = losses[: int(np.argmin(losses)) + 1]
    window = min(window, len(cut) - 1 + len(cut) % 2)
    return int(np.argmin(savgol_filter(cut, window, 3 if window >= 9 else 2, mode="mirror")))


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# --------------------------------------------------------------------------------------------
# robust on curves with a known answer
# --------------------------------------------------------------------------------------------

LRS = np.logspace(-6, 1, 200)


@pytest.mark.parametrize("c, w", [(-2.5, 0.1), (-2.5, 0.15), (-4.0, 0.3), (-1.5, 0.2)])
def test_robust_clean_sigmoid(c, w):
    loss = sigmoid_curve(LRS, c, w)
    s = robust(LRS, loss)
    lr, (lower, upper) = math.log10(s.lr), map(math.log10, s.lr_range)
    # The documented rule: halfway between the steepest point (c) and the bottom, where the
    # sigmoid is within 5 % of its drop (c + ln(19) w): c + 1.47 w; smoothing and the grid
    # move it by less than 0.12 decades.
    target = c + math.log(19) / 2 * w
    assert target - 0.12 <= lr <= target + 0.05
    true_min = math.log10(LRS[np.argmin(loss)])
    assert c < lr < true_min
    # Range: brackets the suggestion, starts at or before the analytic 1/3-slope point (the
    # smoothing widens it a little), ends before the curve's true minimum.
    assert lower < lr < upper <= true_min
    assert c - SHIFT_THIRD * w - 0.5 <= lower <= c - SHIFT_THIRD * w + 0.05
    assert s.point == (s.lr, pytest.approx(float(np.interp(lr, np.log10(LRS), loss))))


@pytest.mark.parametrize("c, w", [(-2.5, 0.15), (-4.0, 0.3), (-1.5, 0.2)])
@pytest.mark.parametrize("stop_div", [False, True])
def test_robust_with_multiplicative_noise(c, w, stop_div):
    clean = sigmoid_curve(LRS, c, w)
    true_min = LRS[np.argmin(clean)]
    # stop_div: end the sweep where the loss passes 4x its minimum, as fastai's LRFinder does,
    # then drop 5 points as trim() would; otherwise the divergent tail reaches ~100.
    n = int(np.argmax(clean > 4 * clean.min())) - 5 if stop_div else len(LRS)
    lrs, clean = LRS[:n], clean[:n]
    rob, stp, val = [], [], []
    for seed in range(20):
        noisy = clean * np.exp(0.1 * np.random.default_rng(seed).standard_normal(n))
        s = robust(lrs, noisy)
        assert s.lr is not None
        target = c + math.log(19) / 2 * w
        assert abs(math.log10(s.lr) - target) <= 0.4  # within a factor 2.5 of the rule
        assert s.lr_range[0] <= s.lr < s.lr_range[1] <= true_min  # never past the minimum
        rob.append(math.log10(s.lr) - target)
        stp.append(math.log10(steep(lrs, noisy).lr) - c)
        val.append(math.log10(valley(lrs, noisy).lr) - c)
    # Reported, not asserted: where fastai's rules land on the same curves (decades from
    # their own targets: c for steep and valley, c + 1.47 w for robust); robust scatters less.
    print(f"\nc={c} w={w} stop_div={stop_div} 10% noise, log10(lr) - target, 20 seeds: robust "
          f"[{min(rob):+.2f}, {max(rob):+.2f}], steep [{min(stp):+.2f}, {max(stp):+.2f}], "
          f"valley [{min(val):+.2f}, {max(val):+.2f}]")
    assert max(map(abs, rob)) < max(map(abs, stp))


def test_robust_non_log_spaced_lrs_are_resampled():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-6, 1, 200))
    lrs = 10.0**x
    s = robust(lrs, sigmoid_curve(lrs, -2.5, 0.15))
    even = robust(LRS, sigmoid_curve(LRS, -2.5, 0.15))
    assert abs(math.log10(s.lr) - math.log10(even.lr)) <= 0.1
    assert s.lr_range[0] < s.lr < s.lr_range[1]


def test_robust_still_falling_at_the_end_warns():
    lrs = np.logspace(-6, 1, 120)
    with pytest.warns(UserWarning, match="still falling at the largest LR.*larger end_lr"):
        s = robust(lrs, sigmoid_curve(lrs, 0.3, 0.3, diverge=False))
    assert s.lr is not None and s.lr < s.lr_range[1] <= lrs[-1]


# --------------------------------------------------------------------------------------------
# Never past the minimum (property)
# --------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(MIN_POINTS, 250),
    noise=st.sampled_from([0.0, 0.01, 0.1, 0.3]),
    walk=st.booleans(),
)
def test_robust_never_past_smoothed_minimum(seed, n, noise, walk):
    rng = np.random.default_rng(seed)
    lrs = np.logspace(rng.uniform(-8, -4), rng.uniform(-2, 1), n)
    if walk:  # a random walk: any shape at all
        loss = 2 + np.cumsum(rng.standard_normal(n)) * rng.uniform(0.01, 0.5)
    else:
        loss = sigmoid_curve(lrs, rng.uniform(-7, 0), rng.uniform(0.05, 1))
    loss = loss * np.exp(noise * rng.standard_normal(n))
    s = quiet(robust, lrs, loss)
    if s.lr is None:
        assert s == Suggestion(None, None, None)
        return
    lr_at_min = lrs[smoothed_argmin(loss)]
    lower, upper = s.lr_range
    assert lrs[0] <= lower <= s.lr < upper <= lr_at_min
    assert s.point[0] == s.lr and math.isfinite(s.point[1])


# --------------------------------------------------------------------------------------------
# No meaningful descent
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("sigma", [0.001, 0.05, 0.2])
def test_robust_flat_noise_gives_none(seed, sigma):
    loss = 2.3 * np.exp(sigma * np.random.default_rng(seed).standard_normal(len(LRS)))
    with pytest.warns(UserWarning, match="robust: no suggestion: the loss never descends mean"):
        assert robust(LRS, loss) == Suggestion(None, None, None)


def test_robust_rising_curve_gives_none():
    loss = 2.3 + 0.5 * np.exp(np.log10(LRS))
    with pytest.warns(UserWarning, match="never descends meaningfully.*only rises"):
        assert robust(LRS, loss) == Suggestion(None, None, None)


def ema(raw: np.ndarray, beta: float = 0.98) -> np.ndarray:
    """lr_find's debiased EMA: avg = beta*avg + (1-beta)*loss; smooth = avg / (1-beta**(i+1))."""
    avg, out = 0.0, []
    for i, v in enumerate(raw):
        avg = beta * avg + (1 - beta) * v
        out.append(avg / (1 - beta ** (i + 1)))
    return np.array(out)


SWEEP = np.logspace(-7, 1, 100)  # lr_find's default sweep


@pytest.mark.parametrize("sigma", [0.02, 0.05, 0.2])
def test_robust_ema_of_flat_noise_gives_none(sigma):
    """An EMA of pure noise wanders slowly; told the curve's beta, robust sees the wander for
    what it is: at most 2 of 100 curves (documented: ~1 %) get a suggestion, against most of
    them when it is not told."""
    told = blind = 0
    for seed in range(100):
        raw = 2.3 * np.exp(sigma * np.random.default_rng(seed).standard_normal(len(SWEEP)))
        lrs, smooth = trim(SWEEP, ema(raw), num_it=100)
        told += quiet(robust, lrs, smooth, 100, beta=0.98).lr is not None
        blind += quiet(robust, lrs, smooth, 100).lr is not None
    assert told <= 2
    assert blind >= 50
    with pytest.warns(UserWarning, match="robust: no suggestion: the loss never descends"):
        robust(*trim(SWEEP, ema(2.3 * np.exp(sigma * np.random.default_rng(0).standard_normal(
            len(SWEEP)))), num_it=100), 100, beta=0.98)


@pytest.mark.parametrize("seed", range(10))
def test_robust_ema_of_a_small_real_descent_is_found(seed):
    """A 6 % descent (2.43 -> 2.28) under 2 % batch noise, through lr_find's EMA: found every
    time, and the answer sits on the descent (centre 1e-2, width 0.4 decades)."""
    x = np.log10(SWEEP)
    clean = 2.43 - 0.15 / (1 + np.exp(-(x + 2) / 0.4))
    raw = clean * np.exp(0.02 * np.random.default_rng(seed).standard_normal(len(x)))
    lrs, smooth = trim(SWEEP, ema(raw), num_it=100)
    s = quiet(robust, lrs, smooth, 100, beta=0.98)
    assert s.lr is not None
    assert 10**-3 <= s.lr <= 10**0.5


@pytest.mark.parametrize("num_it", [300, 1000])
def test_robust_noise_gate_holds_for_longer_sweeps(num_it):
    """With lr_find's default beta = 1 - 2/num_it, a longer sweep keeps the gate's calibration:
    pure-noise EMAs rarely pass (at most 3 of 100), a 6 % descent under 2 % noise always does."""
    sweep, beta = np.logspace(-7, 1, num_it), sweep_beta(num_it)
    passed = found = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        raw = 2.3 * np.exp(0.05 * rng.standard_normal(num_it))
        passed += quiet(robust, *trim(sweep, ema(raw, beta), num_it=num_it), num_it,
                        beta=beta).lr is not None
        if seed < 10:
            clean = 2.43 - 0.15 / (1 + np.exp(-(np.log10(sweep) + 2) / 0.4))
            raw = clean * np.exp(0.02 * rng.standard_normal(num_it))
            lr = quiet(robust, *trim(sweep, ema(raw, beta), num_it=num_it), num_it,
                       beta=beta).lr
            found += lr is not None and 1e-3 <= lr <= 10**0.5
    assert passed <= 3
    assert found == 10


@pytest.mark.parametrize("centre,width", [(-3, 0.2), (-2, 0.4), (-1.5, 0.3)])
def test_robust_suggestion_does_not_drift_with_sweep_length(centre, width):
    """The same loss-vs-LR curve swept in 100, 300 or 1000 steps, smoothed with lr_find's
    default beta = 1 - 2/num_it: the suggestion moves by less than 1.5x. With fastai's fixed
    0.98 the EMA covers a shrinking share of a longer sweep and the 1000-step answer falls
    by more than 2x on at least the wider curves (the drift the default removes)."""

    def suggestion(num_it: int, beta: float) -> float:
        lrs = exp_sweep(1e-7, 10.0, num_it)
        smooth = ema(sigmoid_curve(lrs, centre, width), beta)
        best = np.minimum.accumulate(smooth)  # lr_find's divergence stop (div_threshold 4)
        over = np.flatnonzero(smooth > 4 * best)
        end = over[0] + 1 if len(over) else num_it
        return quiet(robust, *trim(lrs[:end], smooth[:end], num_it=num_it), num_it,
                     beta=beta).lr

    base = suggestion(100, sweep_beta(100))
    for num_it in (300, 1000):
        assert 1 / 1.5 < suggestion(num_it, sweep_beta(num_it)) / base < 1.5
    if width >= 0.3:
        assert suggestion(1000, 0.98) / base < 0.5


def test_robust_rejects_a_bad_beta():
    with pytest.raises(ValueError,
                       match=r"beta must be a finite number in \[0, 1\) or None, got 1.0"):
        robust(LRS, sigmoid_curve(LRS, -3, 0.2), beta=1.0)


# --------------------------------------------------------------------------------------------
# fastai exactness: hand-worked cases
# --------------------------------------------------------------------------------------------

DECADES = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]


def test_valley_by_hand():
    losses = [5, 4, 6, 3, 2, 7, 8]
    # lds (longest strictly decreasing subsequence ending at i): [1, 2, 1, 3, 4, 1, 1]
    # (5, 4, 3, 2 skipping the 6). max_end = 4, max_start = 4 - 4 = 0,
    # s = 4 / 3, idx = 0 + int(1.33) + int(0.67) = 1 -> lrs[1] = 1e-5, loss 4.
    assert valley(DECADES, losses) == Suggestion(1e-5, (1e-5, 4.0))


def test_valley_never_decreasing_is_lrs_0():
    # lds all 1: fastai never updates (max_start, max_end) = (0, 0): idx = 0.
    assert valley(DECADES, [1, 2, 3, 4, 5, 6, 7]) == Suggestion(1e-6, (1e-6, 1.0))


def test_valley_wraparound_deviation():
    # lds = [1, 2, 1, 1, 1, 1, 1]: max_end = 1, max_start = 1 - 2 = -1, s = 2/3,
    # idx = -1 + 0 + 0 = -1: fastai returns lrs[-1], the largest LR. We warn and give None.
    losses = [5, 4, 6, 7, 8, 9, 10]
    assert reference_valley(list(DECADES), losses, None)[0] == DECADES[-1]
    with pytest.warns(UserWarning, match="valley: no suggestion.*wrap around to the largest LR"):
        assert valley(DECADES, losses) == Suggestion(None, None, None)


def test_slide_by_hand():
    losses = [9, 8, 7, 6, 5, 5, 5]
    # np.gradient: [-1, -1, -1, -1, -0.5, 0, 0]. lr_diff=2, thresh=0.1:
    # (r, l) = (6, 4): |0 - -0.5| = 0.5 > 0.1 -> lr = lrs[4]
    # (5, 3): |0 - -1| = 1 -> lrs[3];  (4, 2): |-0.5 - -1| = 0.5 -> lrs[2]
    # (3, 1): |-1 - -1| = 0 -> stop. Suggestion lrs[2] = 1e-4, loss interpolated = 7.
    s = slide(DECADES, losses, lr_diff=2, thresh=0.1)
    assert s == Suggestion(1e-4, (1e-4, 7.0))
    # adjust_value halves it; the point's loss is interpolated in log10(lr) between
    # (-5, 8) and (-4, 7): 7 + log10(2) = 7.30103.
    s = slide(DECADES, losses, lr_diff=2, thresh=0.1, adjust_value=0.5)
    assert s.lr == pytest.approx(5e-5)
    assert s.point[1] == pytest.approx(7 + math.log10(2))


def test_slide_runs_off_the_left_end():
    # np.gradient of [30, 29, 27, 24, 20, 15, 9]: [-1, -1.5, -2.5, -3.5, -4.5, -5.5, -6];
    # lr_diff=2, thresh=0.1: (r, l) = (6, 4) 1.5, (5, 3) 2, (4, 2) 2, (3, 1) 2, (2, 0) 1.5, all
    # > thresh, so the window runs off the left end: lrs[0], loss 30.
    s = slide(DECADES, [30, 29, 27, 24, 20, 15, 9], lr_diff=2, thresh=0.1)
    assert s == Suggestion(1e-6, (1e-6, 30.0))
    # A flat tail stops it at once: g = [-2, -2, -1.5, -0.5, 0, 0, 0], (6, 4): |0 - 0| = 0,
    # so the first left index, lrs[4] = 1e-2.
    assert slide(DECADES, [10, 8, 6, 5, 5, 5, 5], lr_diff=2, thresh=0.1).lr == 1e-2


def test_slide_too_short_for_lr_diff_warns():
    # fastai: lrs[-1 - 15] raises IndexError on fewer than 16 points.
    with pytest.warns(UserWarning, match="slide: no suggestion: only 10 usable point.*at least 16"):
        assert slide(np.logspace(-6, 1, 10), np.linspace(3, 1, 10)) == Suggestion(None, None)


def test_steep_by_hand():
    losses = [2.0, 1.9, 1.2, 1.0, 3.0, 3.5, 4.0]
    # Forward differences / ln(10): [-0.1, -0.7, -0.2, 2.0, 0.5, 0.5] / 2.3026 -> argmin 1.
    # fastai picks the LEFT end of the steepest segment: lrs[1] = 1e-5, loss 1.9.
    assert steep(DECADES, losses) == Suggestion(1e-5, (1e-5, 1.9))


def test_minimum_by_hand():
    losses = [2.0, 1.9, 1.2, 1.0, 3.0, 1.0, 4.0]
    # argmin -> first of the two 1.0s: index 3, lr_min = 1e-3; suggestion lr_min / 10, but the
    # point marks the minimum itself.
    s = minimum(DECADES, losses)
    assert s.lr == pytest.approx(1e-4) and s.point == (1e-3, 1.0) and s.lr_range is None


# --------------------------------------------------------------------------------------------
# fastai exactness: line-by-line transcription of fastai/callback/schedule.py, plain Python
# --------------------------------------------------------------------------------------------


def reference_valley(lrs, losses, num_it):
    idx = reference_valley_idx(losses)
    return float(lrs[idx]), (float(lrs[idx]), losses[idx])


def reference_valley_idx(losses):
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return idx


def _np_gradient_unit(values):
    """np.gradient(values) with unit spacing, edge_order=1."""
    n = len(values)
    grad = [(values[i + 1] - values[i - 1]) / 2.0 for i in range(1, n - 1)]
    return [values[1] - values[0], *grad, values[-1] - values[-2]]


def _interp(x, xp, fp):
    """np.interp for increasing xp, clamped at the ends."""
    if x <= xp[0]:
        return fp[0]
    if x >= xp[-1]:
        return fp[-1]
    k = max(i for i in range(len(xp)) if xp[i] <= x)
    if xp[k] == x:
        return fp[k]
    return fp[k] + (x - xp[k]) * (fp[k + 1] - fp[k]) / (xp[k + 1] - xp[k])


def reference_slide(lrs, losses, num_it, lr_diff=15, thresh=0.005, adjust_value=1.0):
    loss_grad = _np_gradient_unit(losses)
    r_idx = -1
    l_idx = r_idx - lr_diff
    local_min_lr = lrs[l_idx]
    while (l_idx >= -len(losses)) and (abs(loss_grad[r_idx] - loss_grad[l_idx]) > thresh):
        local_min_lr = lrs[l_idx]
        r_idx -= 1
        l_idx -= 1
    suggestion = float(local_min_lr) * adjust_value
    idx = _interp(math.log10(suggestion), [math.log10(v) for v in lrs], losses)
    return suggestion, (suggestion, idx)


def reference_minimum(lrs, losses, num_it):
    lr_min = lrs[min(range(len(losses)), key=losses.__getitem__)]  # argmin, first on ties
    loss_idx = losses[min(range(len(lrs)), key=lambda i: abs(lrs[i] - lr_min))]
    return lr_min / 10, (lr_min, loss_idx)


def reference_steep(lrs, losses, num_it):
    grads = [(losses[i + 1] - losses[i]) / (math.log(lrs[i + 1]) - math.log(lrs[i]))
             for i in range(len(losses) - 1)]
    lr_steep = lrs[min(range(len(grads)), key=grads.__getitem__)]
    loss_idx = losses[min(range(len(lrs)), key=lambda i: abs(lrs[i] - lr_steep))]
    return lr_steep, (lr_steep, loss_idx)


REFERENCE = {
    "valley": reference_valley,
    "slide": reference_slide,
    "steep": reference_steep,
    "minimum": reference_minimum,
}


def random_curve(seed: int) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(16, 120))
    lrs = np.logspace(rng.uniform(-7, -5), rng.uniform(-1, 1), n)
    kind = seed % 4
    if kind == 0:
        loss = sigmoid_curve(lrs, rng.uniform(-5, -1), rng.uniform(0.1, 0.6))
        loss = loss * np.exp(rng.uniform(0, 0.2) * rng.standard_normal(n))
    elif kind == 1:  # random walk
        loss = 3 + np.cumsum(rng.normal(0, 0.05, n))
    elif kind == 2:  # smooth-ish, as an EMA-recorded curve: small steps
        loss = 2.3 - np.cumsum(rng.uniform(-0.002, 0.01, n))
    else:  # coarsely rounded: many ties (argmin takes the first; valley's `<` is strict)
        loss = np.round(3 + np.cumsum(rng.normal(0, 0.2, n)), 0)
    return lrs.tolist(), loss.tolist()


@pytest.mark.parametrize("name", list(FASTAI))
def test_fastai_rules_match_reference_on_random_curves(name):
    compared = 0
    for seed in range(40):
        lrs, losses = random_curve(seed)
        ref_lr, (ref_x, ref_y) = REFERENCE[name](lrs, losses, 100)
        if name == "valley" and reference_valley_idx(losses) == -1:
            with pytest.warns(UserWarning, match="wrap around"):
                assert valley(lrs, losses).lr is None
            continue
        ours = FASTAI[name](np.array(lrs), np.array(losses), 100)
        assert ours.lr == pytest.approx(ref_lr, rel=1e-12), (name, seed)
        assert ours.point == (pytest.approx(ref_x, rel=1e-12), pytest.approx(ref_y, rel=1e-12))
        assert ours.lr_range is None
        compared += 1
    assert compared >= 35


@pytest.mark.parametrize("lr_diff, thresh, adjust_value", [(5, 0.01, 1.0), (15, 0.005, 0.5),
                                                           (3, 0.0, 2.0), (10, 1.0, 1.0)])
def test_slide_parameters_match_reference(lr_diff, thresh, adjust_value):
    for seed in range(15):
        lrs, losses = random_curve(seed)
        ref = reference_slide(lrs, losses, None, lr_diff, thresh, adjust_value)
        ours = slide(lrs, losses, None, lr_diff, thresh, adjust_value)
        assert ours.lr == pytest.approx(ref[0], rel=1e-12)
        assert ours.point[1] == pytest.approx(ref[1][1], rel=1e-12)


def test_num_it_is_accepted_and_unused():
    lrs, losses = random_curve(0)
    for fn in ALL.values():
        assert quiet(fn, lrs, losses) == quiet(fn, lrs, losses, 100) == quiet(fn, lrs, losses,
                                                                              None)


# --------------------------------------------------------------------------------------------
# trim: fastai's slicing, the NaN/inf table, too-short curves
# --------------------------------------------------------------------------------------------


def test_trim_is_fastai_slicing():
    lrs, losses = np.logspace(-7, 1, 100), np.linspace(3, 1, 100)
    t_lrs, t_losses = trim(lrs, losses, num_it=100)
    # fastai: lrs[num_it // 10 : -5]
    np.testing.assert_array_equal(t_lrs, lrs[10:-5])
    np.testing.assert_array_equal(t_losses, losses[10:-5])
    assert t_lrs[0] == lrs[10] and t_lrs[-1] == lrs[94] and len(t_lrs) == 85
    # num_it is the requested count even when the sweep stopped early (fastai does the same).
    t_lrs, _ = trim(lrs[:60], losses[:60], num_it=200)
    np.testing.assert_array_equal(t_lrs, lrs[20:55])
    # Without num_it: len // 10. skip_start / skip_end override.
    np.testing.assert_array_equal(trim(lrs, losses)[0], lrs[10:95])
    np.testing.assert_array_equal(trim(lrs, losses, 100, skip_start=3, skip_end=0)[0], lrs[3:])
    assert len(trim(lrs[:4], losses[:4], skip_end=5)[0]) == 0  # like [:-5] on 4 items


N = 40
NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "bad_at, value, expected_len",
    [
        (20, NAN, 20),  # cut at the first NaN
        (20, INF, 20),  # ... at +inf (fastai: NaN only)
        (20, -INF, 20),  # ... at -inf
        (0, INF, 0),  # inf at position 0: nothing left
        (0, NAN, 0),
        (N - 1, NAN, N - 1),  # a NaN at the very end cuts one point
    ],
)
def test_trim_cuts_at_first_non_finite(bad_at, value, expected_len):
    lrs, losses = np.logspace(-6, 1, N), np.linspace(3, 1, N)
    losses[bad_at] = value
    losses[bad_at + 1 :] = NAN if value != value else value  # divergence stays non-finite
    t_lrs, t_losses = trim(lrs, losses, skip_start=0, skip_end=0)
    assert len(t_lrs) == len(t_losses) == expected_len
    assert np.all(np.isfinite(t_losses))
    np.testing.assert_array_equal(t_lrs, lrs[:expected_len])


def test_trim_only_the_first_non_finite_matters():
    losses = np.linspace(3, 1, N)
    losses[[12, 25]] = [INF, NAN]
    assert len(trim(np.logspace(-6, 1, N), losses, skip_start=0, skip_end=0)[0]) == 12


def test_trim_slices_before_cutting_like_fastai():
    lrs, losses = np.logspace(-6, 1, N), np.linspace(3, 1, N)
    losses[2] = NAN  # in the skipped head: ignored
    losses[-3:] = NAN  # in the skipped tail: ignored
    t_lrs, _ = trim(lrs, losses, skip_start=4, skip_end=5)
    np.testing.assert_array_equal(t_lrs, lrs[4:-5])


@pytest.mark.parametrize("name", list(ALL))
def test_all_nan_after_a_few_points_warns_and_gives_none(name):
    lrs, losses = np.logspace(-6, 1, 30), np.full(30, NAN)
    losses[:3] = [2.3, 2.2, 2.0]
    t_lrs, t_losses = trim(lrs, losses, skip_start=0, skip_end=0)
    assert len(t_lrs) == 3
    with pytest.warns(UserWarning, match=f"{name}: no suggestion: only 3 usable point"):
        assert ALL[name](t_lrs, t_losses) == Suggestion(None, None, None)


@pytest.mark.parametrize("name", list(ALL))
def test_empty_curve_warns_and_gives_none(name):
    with pytest.warns(UserWarning, match="only 0 usable point"):
        assert ALL[name]([], []) == Suggestion(None, None, None)


@pytest.mark.parametrize("name", list(ALL))
def test_non_finite_inside_is_dropped_with_a_warning(name):
    lrs = np.logspace(-6, 1, 100).tolist()
    losses = sigmoid_curve(np.array(lrs), -3, 0.3).tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no other warning on this curve
        clean = ALL[name](lrs, losses)
    lrs2 = [*lrs[:7], 1.0, *lrs[7:]]  # an extra point whose loss is NaN
    losses2 = [*losses[:7], NAN, *losses[7:]]
    with pytest.warns(UserWarning, match=f"{name}: dropped 1 non-finite .* index.*\\[7\\].*trim"):
        assert ALL[name](lrs2, losses2) == clean


# --------------------------------------------------------------------------------------------
# get_suggester and argument errors
# --------------------------------------------------------------------------------------------


def test_get_suggester_names_and_callables():
    assert list(SUGGESTERS) == ["robust", "valley", "slide", "steep", "minimum"]
    for name, fn in SUGGESTERS.items():
        assert get_suggester(name) is fn
        assert fn.__name__ == name
    custom = functools.partial(slide, lr_diff=5)
    assert get_suggester(custom) is custom
    assert get_suggester(steep) is steep


def test_get_suggester_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="suggester must be one of .*, got 'Valley'; ") as e:
        get_suggester("Valley")
    for name in SUGGESTERS:
        assert repr(name) in str(e.value)


def test_get_suggester_rejects_non_callables():
    with pytest.raises(TypeError, match=r"suggester must be a name or a callable, got 42 \(int\)"):
        get_suggester(42)


@pytest.mark.parametrize(
    "lrs, losses, exc, words",
    [
        ([1e-3, 1e-2, 1e-1], [1.0, 2.0], ValueError, "same length, got 3 and 2"),
        ([[1e-3, 1e-2]], [[1.0, 2.0]], ValueError, "lrs must be 1-D, got an array of shape"),
        (["a", "b"], [1.0, 2.0], TypeError, "lrs must be a 1-D sequence of numbers"),
        ([1e-3, 1e-2, 1e-2, 1e-1, 1.0], [1.0] * 5, ValueError, "strictly increasing, got lrs"),
        ([1e-1, 1e-2, 1e-3, 1e-4, 1e-5], [1.0] * 5, ValueError, "start_lr < end_lr"),
        ([-1e-3, 1e-2, 1e-1, 1.0, 2.0], [1.0] * 5, ValueError, "lrs must be > 0, got -0.001"),
    ],
)
@pytest.mark.parametrize("name", list(ALL))
def test_bad_curves_raise(name, lrs, losses, exc, words):
    with pytest.raises(exc, match=words):
        ALL[name](lrs, losses)


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda c: robust(*c, "100"), TypeError,
         "num_it must be an int >= 0 or None, got '100' \\(str\\); fastai's default is 100"),
        (lambda c: valley(*c, 1.5), TypeError, "num_it must be an int >= 0 or None, got 1.5"),
        (lambda c: valley(*c, True), TypeError, "num_it must be .*, got True \\(bool\\)"),
        (lambda c: trim(*c, num_it=-1), ValueError, "num_it must be an int >= 0 or None, got -1;"),
        (lambda c: trim(*c, skip_end=-1), ValueError,
         "skip_end must be an int >= 0, got -1; fastai's default is 5"),
        (lambda c: trim(*c, skip_end=None), TypeError,
         "skip_end must be an int >= 0, got None \\(NoneType\\)"),
        (lambda c: trim(*c, skip_start=1.5), TypeError,
         "skip_start must be an int >= 0 or None, got 1.5 \\(float\\)"),
        (lambda c: trim(c[0], c[1][:-1]), ValueError, "same length, got 40 and 39"),
        (lambda c: slide(*c, lr_diff=0), ValueError,
         "lr_diff must be an int >= 1, got 0; fastai's default is 15"),
        (lambda c: slide(*c, lr_diff=2.0), TypeError, "lr_diff must be an int >= 1, got 2.0"),
        (lambda c: slide(*c, thresh=-1), ValueError, "thresh must be a finite number >= 0, got -1"),
        (lambda c: slide(*c, thresh="x"), TypeError,
         "thresh must be a finite number >= 0, got 'x' \\(str\\); fastai's default is 0.005"),
        (lambda c: slide(*c, adjust_value=0), ValueError,
         "adjust_value must be a finite number > 0, got 0;"),
        (lambda c: slide(*c, adjust_value=float("nan")), ValueError, "got nan; fastai's default"),
        (lambda c: robust(*c, beta=-0.1), ValueError,
         "beta must be a finite number in \\[0, 1\\) or None, got -0.1; pass the EMA factor"),
        (lambda c: robust(c[0][:3], c[1][:3], beta="x"), TypeError,  # checked before the curve
         "beta must be .*, got 'x' \\(str\\)"),
    ],
)
def test_bad_arguments_raise(call, exc, words):
    curve = (np.logspace(-6, 1, 40), np.linspace(3, 1, 40))
    with pytest.raises(exc, match=words):
        call(curve)


def test_numpy_scalars_are_accepted():
    lrs, losses = np.logspace(-6, 1, 40), np.linspace(3, 1, 40)
    assert len(trim(lrs, losses, np.int64(40), np.int32(2), np.int64(3))[0]) == 35
    s = slide(lrs, losses, np.int64(40), np.int64(5), np.float32(0.01), np.float32(0.5))
    assert s.lr is not None


def test_suggestion_is_a_named_tuple_with_optional_range():
    s = Suggestion(1e-3, (1e-3, 2.0))
    assert s.lr_range is None and s.spread is None
    assert s._fields == ("lr", "point", "lr_range", "spread")
    assert steep(*random_curve(0)).lr_range is None
    assert robust(LRS, sigmoid_curve(LRS, -3, 0.2)).lr_range is not None


def test_robust_never_past_a_spike_then_recovery():
    """A partial divergence: the loss falls to a minimum, jumps up, falls again to a slightly
    higher level, then explodes (what LeNet + SGD momentum 0.9 does near lr 0.2). The answer
    must stay before the real minimum, not ride the second descent."""
    lrs = np.logspace(-6, 0.5, 85)
    x = np.log10(lrs)
    loss = 2.43 - 0.3 / (1 + np.exp(-(x + 1.5) / 0.3))
    i_min = int(np.searchsorted(x, -0.85))
    loss[i_min:] = 2.40 - 0.25 * (x[i_min:] - x[i_min]) / (0.1 - x[i_min])
    loss[x > 0.1] = 2.6
    s = robust(lrs, loss)
    assert s.lr is not None and s.lr <= lrs[int(np.argmin(loss))]
    assert s.lr_range[1] <= lrs[int(np.argmin(loss))]


# --------------------------------------------------------------------------------------------
# Real sweeps (recorded by benchmarks/suggest_quality.py on the full CIFAR-10)
# --------------------------------------------------------------------------------------------

CURVES = json.loads((Path(__file__).parent / "data" / "lr_find_curves.json").read_text())


def _grid_accuracy(grid: dict, lr: float) -> float:
    """Validation accuracy at ``lr``, interpolated in log LR between the measured grid LRs."""
    pts = sorted((float(k), v) for k, v in grid.items())
    return float(np.interp(math.log10(lr), [math.log10(a) for a, _ in pts], [b for _, b in pts]))


@pytest.mark.parametrize("combo", sorted(CURVES["combos"]))
def test_robust_on_recorded_cifar10_sweeps(combo):
    """On the four recorded lr_find sweeps (LeNet + SGD / Adam / SGD-momentum, a BN CNN +
    SGD-momentum), robust's suggestion trains (one-cycle, 3 epochs) within 8 points of the
    best grid LR, and it does at least as well as fastai's valley on each."""
    c = CURVES["combos"][combo]
    lrs, smooth = trim(c["lrs"], c["smooth_losses"], num_it=100)
    s = quiet(robust, lrs, smooth, 100, beta=0.98)
    assert s.lr is not None
    lower, upper = s.lr_range
    assert lower <= s.lr < upper <= lrs[int(np.argmin(smooth))]
    best = max(c["grid"].values())
    ours = _grid_accuracy(c["grid"], s.lr)
    assert best - ours <= 0.08
    assert ours >= _grid_accuracy(c["grid"], valley(lrs, smooth).lr) - 0.005


def test_robust_is_not_pulled_onto_the_divergence_cliff():
    """A recorded 300-step sweep (LeNet + plain SGD on the shipped sample): a long shallow
    descent, then a sharp cliff after LR ~10. Smoothing across the cliff made the local cubic
    dip just before it, which put the steepest point and the minimum on the cliff's edge:
    robust said 4.74 (bootstrap spread x1, so no warning), where a 20-epoch one-cycle fit
    diverges (8.75 % test accuracy; 0.187 gives 35.75 %, 0.056 gives 40.25 %). The smoothing
    now stops at the curve's lowest loss."""
    c = json.loads((Path(__file__).parent / "data" / "lr_find_cliff_curve.json").read_text())
    lrs, smooth = trim(c["lrs"], c["smooth_losses"], num_it=c["num_it"])
    s = quiet(robust, lrs, smooth, c["num_it"], beta=c["beta"], stop_reason=c["stop_reason"])
    assert s.lr is not None and 0.02 <= s.lr <= 0.5, s
    lower, upper = s.lr_range
    assert lower <= s.lr < upper <= lrs[int(np.argmin(smooth))]
