"""Tests for tflearner.schedules: hand-computed values, properties, a fastai reference, bad input.

Everything here is plain numpy and takes milliseconds.
"""

from __future__ import annotations

import ast
import doctest
import inspect
import math
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from tflearner import schedules
from tflearner.schedules import (
    ANNEALERS,
    FASTAI_ONE_CYCLE,
    ONE_CYCLE_DEFAULTS,
    anneal_cos,
    anneal_exp,
    anneal_linear,
    anneal_none,
    combine,
    exp_sweep,
    flat_cos,
    lin_sweep,
    one_cycle,
    sgdr,
    sgdr_epochs,
)

NAN, INF = float("nan"), float("inf")


def close(actual, expected, rtol: float = 1e-12) -> None:
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0)


# --------------------------------------------------------------------------------------------
# Module hygiene
# --------------------------------------------------------------------------------------------

def test_module_imports_only_numpy_stdlib_and_the_checks():
    tree = ast.parse(Path(schedules.__file__).read_text())
    roots, relative = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            relative.add(node.module)
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots - {"numpy"} <= sys.stdlib_module_names, roots
    assert relative == {"core.checks"}, relative  # itself numpy + stdlib (tests/test_checks.py)


def test_all_names_exist_and_docstring_examples_run():
    assert set(schedules.__all__) == {
        "ANNEALERS", "FASTAI_ONE_CYCLE", "ONE_CYCLE_DEFAULTS", "anneal_cos", "anneal_exp",
        "anneal_linear", "anneal_none", "combine", "exp_sweep", "flat_cos", "lin_sweep",
        "one_cycle", "sgdr", "sgdr_epochs", "even_mults", "group_lrs", "spread_lr", "Plan",
        "POLICIES",
        "fit_plan", "fine_tune_phases", "fine_tune_plans"}
    result = doctest.testmod(schedules, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 11
    assert result.failed == 0


def test_spread_lr_multiplies_a_number_by_the_ratios_and_leaves_the_rest():
    # a MultiOptimizer at 1e-3 and 1e-2: ratios (0.1, 1.0); max_lr=0.02 -> 0.002 and 0.02
    assert schedules.spread_lr(0.02, (0.1, 1.0)) == [0.002, 0.02]
    assert schedules.spread_lr(0.02, None) == 0.02
    lrs = slice(1e-4, 1e-2)
    assert schedules.spread_lr(lrs, (0.1, 1.0)) is lrs
    assert schedules.spread_lr(True, (0.1, 1.0)) is True  # refused later, by group_lrs
    assert schedules.spread_lr(None, (0.1, 1.0)) is None


# --------------------------------------------------------------------------------------------
# Annealers
# --------------------------------------------------------------------------------------------

def test_annealer_registry():
    assert ANNEALERS == {"linear": anneal_linear, "cos": anneal_cos, "exp": anneal_exp,
                         "none": anneal_none}


@pytest.mark.parametrize("f, start, end, expected", [
    # linear 2 -> 6: 2 + pos * 4
    (anneal_linear, 2.0, 6.0, [2.0, 4.0, 6.0]),
    (anneal_linear, 6.0, 2.0, [6.0, 4.0, 2.0]),
    # cos 2 -> 6: 2 + (1 + cos(pi * (1 - pos))) * 4 / 2; cos(pi) = -1, cos(pi/2) = 0, cos(0) = 1
    (anneal_cos, 2.0, 6.0, [2.0, 4.0, 6.0]),
    (anneal_cos, 6.0, 2.0, [6.0, 4.0, 2.0]),
    # exp 1 -> 100: 1 * 100 ** pos = 1, 10, 100
    (anneal_exp, 1.0, 100.0, [1.0, 10.0, 100.0]),
    (anneal_exp, 100.0, 1.0, [100.0, 10.0, 1.0]),
    # none: start everywhere
    (anneal_none, 3.0, 9.0, [3.0, 3.0, 3.0]),
], ids=["lin-up", "lin-down", "cos-up", "cos-down", "exp-up", "exp-down", "none"])
def test_annealers_at_0_half_1(f, start, end, expected):
    out = f(start, end, np.array([0.0, 0.5, 1.0]))
    assert out.dtype == np.float64 and out.shape == (3,)
    assert out[0] == expected[0]  # the start is exact
    close(out, expected)
    # scalars give 0-d arrays with the same values
    assert [float(f(start, end, p)) for p in (0.0, 0.5, 1.0)] == out.tolist()


def test_cos_is_slow_at_the_ends_and_fast_in_the_middle():
    # cos 0 -> 1 at pos 0.25: (1 + cos(0.75 pi)) / 2 = (1 - sqrt(2)/2) / 2 = 0.14644660940672624
    close(anneal_cos(0.0, 1.0, 0.25), (1 - math.sqrt(2) / 2) / 2)
    close(anneal_cos(0.0, 1.0, 0.75), (1 + math.sqrt(2) / 2) / 2)
    assert float(anneal_cos(0.0, 1.0, 0.25)) < float(anneal_linear(0.0, 1.0, 0.25))


def test_exp_has_constant_ratio():
    out = anneal_exp(1e-4, 1.0, np.linspace(0, 1, 9))
    close(out[1:] / out[:-1], np.full(8, 10 ** 0.5))


@pytest.mark.parametrize("start, end, words", [(0.0, 1.0, ["start must be > 0", "got 0.0"]),
                                               (1.0, -2.0, ["end must be > 0", "got -2.0"])])
def test_anneal_exp_refuses_non_positive_ends(start, end, words):
    with pytest.raises(ValueError) as err:
        anneal_exp(start, end, 0.5)
    for word in words + ["anneal_exp", "anneal_linear"]:
        assert word in str(err.value)


# --------------------------------------------------------------------------------------------
# combine
# --------------------------------------------------------------------------------------------

def _up_down():
    # 0 -> 1 over the first quarter, then 1 -> 0 over the rest
    return combine([0.25, 0.75], [partial(anneal_linear, 0.0, 1.0),
                                  partial(anneal_linear, 1.0, 0.0)])


def test_combine_values_boundaries_and_pos_one():
    f = _up_down()
    # pos 0.125: phase 0 at 0.125 / 0.25 = 0.5 -> 0.5
    # pos 0.25: on the boundary -> phase 1 at 0 -> 1.0 (exactly)
    # pos 0.625: phase 1 at (0.625 - 0.25) / 0.75 = 0.5 -> 0.5
    # pos 1.0: the last phase at 1.0 -> 0.0
    pos = np.array([0.0, 0.125, 0.25, 0.625, 1.0])
    assert f(pos).tolist() == [0.0, 0.5, 1.0, 0.5, 0.0]
    assert float(f(1.0)) == 0.0
    assert f(0.5).shape == ()
    assert f(np.zeros((2, 3))).shape == (2, 3)


def test_combine_phase_receives_local_position_in_unit_interval():
    seen = []

    def spy(k):
        def phase(p):
            seen.append((k, np.asarray(p).copy()))
            return np.full(np.shape(p), float(k))
        return phase

    f = combine([0.2, 0.3, 0.5], [spy(0), spy(1), spy(2)])
    out = f(np.array([0.0, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0]))
    assert out.tolist() == [0, 0, 1, 1, 2, 2, 2]
    local = {k: p.tolist() for k, p in seen}
    close(local[0], [0.0, 0.5])          # 0 / 0.2, 0.1 / 0.2
    close(local[1], [0.0, 0.5])          # (0.2-0.2)/0.3, (0.35-0.2)/0.3
    close(local[2], [0.0, 0.5, 1.0])     # (0.5-0.5)/0.5, (0.75-0.5)/0.5, pos == 1 -> 1.0


def test_combine_vectorised_equals_scalar_calls():
    f = _up_down()
    pos = np.linspace(0, 1, 37)
    assert f(pos).tolist() == [float(f(p)) for p in pos]


def test_combine_tolerates_float_rounding_in_the_sum():
    # 0.1 + 0.2 + 0.7 == 1.0000000000000002 in floats: accepted. (The boundary 0.1 + 0.2 is
    # 0.30000000000000004, so pos 0.3 is still at the very end of phase 1.)
    f = combine([0.1, 0.2, 0.7], [partial(anneal_none, k, k) for k in (1.0, 2.0, 3.0)])
    assert f(np.array([0.05, 0.2, 0.3, 0.31, 0.99, 1.0])).tolist() == [1, 2, 2, 3, 3, 3]


@pytest.mark.parametrize("pos, shown", [(1.5, "1.5"), (-0.1, "-0.1"), (NAN, "nan"),
                                        (np.array([0.2, 2.0]), "2.0")])
def test_combine_refuses_positions_outside_unit_interval(pos, shown):
    with pytest.raises(ValueError) as err:
        _up_down()(pos)
    msg = str(err.value)
    assert "pos must be in [0, 1]" in msg and f"got {shown}" in msg


# --------------------------------------------------------------------------------------------
# one_cycle: hand-computed values
# --------------------------------------------------------------------------------------------

def test_one_cycle_linear_hand_values():
    lrs, moms = one_cycle(total_steps=10, max_lr=1.0, pct_start=0.3, div=10, div_final=100,
                          anneal="linear", three_phase=False)
    assert lrs.shape == moms.shape == (10,)
    # step 0: pos 0 -> phase 0 at 0 -> max_lr/div = 0.1
    # step 1: pos 0.1 -> phase 0 at 1/3 -> 0.1 + (1 - 0.1)/3 = 0.4
    # step 3: pos 0.3 == pct_start -> phase 1 at 0 -> max_lr = 1.0 (exactly)
    # step 9: pos 0.9 -> phase 1 at (0.9 - 0.3)/0.7 = 6/7 -> 1 + 6/7 * (0.01 - 1) = 0.15142857...
    assert lrs[0] == 0.1
    assert lrs[3] == 1.0
    close(lrs[[1, 9]], [0.4, 1 - 6 / 7 * 0.99])
    # mom: 0.95 -> 0.85 over phase 0, 0.85 -> 0.95 over phase 1
    # step 1: 0.95 - 0.1/3 = 0.91666...; step 9: 0.85 + 6/7 * 0.1 = 0.93571...
    assert moms[0] == 0.95 and moms[3] == 0.85
    close(moms[[1, 9]], [0.95 - 0.1 / 3, 0.85 + 6 / 7 * 0.1])
    # direction: up then down; momentum the mirror image
    assert lrs[0] < lrs[1] < lrs[3] and lrs[3] > lrs[9] and lrs[9] > 0.01
    assert moms[0] > moms[1] > moms[3] and moms[3] < moms[9] < 0.95


def test_one_cycle_cos_hand_values():
    lrs, moms = one_cycle(total_steps=4, max_lr=1.0, **FASTAI_ONE_CYCLE)
    # step 0: 1/25 = 0.04; step 1: pos 0.25 -> peak 1.0
    # step 2: pos 0.5 -> phase 1 at 1/3: 1 + (1 + cos(2pi/3)) * (1e-5 - 1) / 2
    #         = 1 - 0.5 * 0.99999 / 2 = 0.7500025
    # step 3: phase 1 at 2/3: 1 + (1 + cos(pi/3)) * (1e-5 - 1) / 2 = 1 - 1.5 * 0.99999 / 2
    #         = 0.2500075
    assert lrs[0] == 0.04 and lrs[1] == 1.0
    close(lrs[2:], [0.7500025, 0.2500075])
    # mom: 0.95, 0.85, then 0.85 + 0.25 * 0.1 = 0.875, 0.85 + 0.75 * 0.1 = 0.925
    assert moms[0] == 0.95 and moms[1] == 0.85
    close(moms[2:], [0.875, 0.925])


def test_one_cycle_three_phase_hand_values():
    lrs, moms = one_cycle(total_steps=10, max_lr=1.0, pct_start=0.3, div=10, div_final=100,
                          moms=(0.95, 0.85, 0.9), anneal="linear", three_phase=True)
    # phases: [0, 0.3) 0.1 -> 1, [0.3, 0.6) 1 -> 0.1, [0.6, 1] 0.1 -> 0.01
    # step 4: pos 0.4 -> phase 1 at 1/3 -> 1 - 0.9/3 = 0.7
    # step 6: pos 0.6 -> phase 2 at 0 -> 0.1 (exactly)
    # step 9: pos 0.9 -> phase 2 at 0.3/0.4 = 0.75 -> 0.1 - 0.75 * 0.09 = 0.0325
    assert lrs[0] == 0.1 and lrs[3] == 1.0 and lrs[6] == 0.1
    close(lrs, [0.1, 0.4, 0.7, 1.0, 0.7, 0.4, 0.1, 0.0775, 0.055, 0.0325])
    # mom: 0.95 -> 0.85 -> 0.95 over the first two phases, then constant moms[2] = 0.9
    assert moms[0] == 0.95 and moms[3] == 0.85
    close(moms[:6], [0.95, 0.95 - 0.1 / 3, 0.95 - 0.2 / 3, 0.85, 0.85 + 0.1 / 3,
                     0.85 + 0.2 / 3])
    assert moms[6:].tolist() == [0.9] * 4
    assert int(np.argmax(lrs)) == int(np.argmin(moms)) == 3


def test_one_cycle_defaults_are_smiths_three_phase_linear_form():
    lrs, moms = one_cycle(20, 1.0)
    assert one_cycle(20, 1.0, **ONE_CYCLE_DEFAULTS)[0].tolist() == lrs.tolist()
    # ONE_CYCLE_DEFAULTS: pct_start 0.45, div 10, div_final 1e4, linear, three phases.
    # steps 0..9: pos i/20 in phase 0 at i/9 -> 0.1 + 0.9 * i/9 = 0.1 * (i + 1), peak at step 9
    # steps 9..18: back down to 0.1 (pos 0.9 = 2 * 0.45 starts phase 2 at 0.1)
    # step 19: pos 0.95 -> phase 2 at 0.5 -> 0.1 + 0.5 * (1e-4 - 0.1) = 0.05005
    # (step 9 + k, k = 1..9: phase 1 at k/9 -> 1 - 0.9 * k/9 = 0.1 * (10 - k))
    close(lrs[:19], [0.1 * (i + 1) for i in range(10)] + [0.1 * (10 - k) for k in range(1, 10)])
    assert lrs[0] == 0.1 and lrs[9] == 1.0
    close(lrs[19], 0.05005)
    # mom: 0.95 -> 0.85 over phase 0, back to 0.95 over phase 1, then constant 0.95
    close(moms[:10], [0.95 - 0.1 * i / 9 for i in range(10)])
    close(moms[9:19], [0.85 + 0.1 * i / 9 for i in range(10)])
    assert moms[9] == 0.85 and moms[19] == 0.95
    assert dict(FASTAI_ONE_CYCLE) == {"pct_start": 0.25, "div": 25.0, "div_final": 1e5,
                                      "moms": (0.95, 0.85, 0.95), "anneal": "cos",
                                      "three_phase": False}


def test_every_one_cycle_entry_point_has_the_same_defaults():
    from tflearner.keras_fit.one_cycle import OneCycleCallback, OneCycleSchedule
    from tflearner.learner import Learner

    entry_points = {"one_cycle": one_cycle, "Learner.fit_one_cycle": Learner.fit_one_cycle,
                    "OneCycleSchedule": OneCycleSchedule, "OneCycleCallback": OneCycleCallback}
    for name, func in entry_points.items():
        params = inspect.signature(func).parameters
        # OneCycleSchedule is a keras LearningRateSchedule: it schedules the LR only.
        keys = set(ONE_CYCLE_DEFAULTS) - ({"moms"} if name == "OneCycleSchedule" else set())
        assert keys <= set(params), (name, keys - set(params))
        defaults = {k: params[k].default for k in keys}
        assert defaults == {k: ONE_CYCLE_DEFAULTS[k] for k in keys}, name


def test_one_cycle_exp_and_none_hand_values():
    lrs, _ = one_cycle(4, 1.0, pct_start=0.5, div=100, div_final=100, anneal="exp", moms=None,
                       three_phase=False)
    # phase 0: 0.01 * 100 ** (pos/0.5): steps 0, 1 -> 0.01, 0.1; phase 1: 1 * 0.01 ** ((pos-.5)/.5)
    close(lrs, [0.01, 0.1, 1.0, 0.1])
    lrs, moms = one_cycle(4, 1.0, pct_start=0.5, div=10, div_final=100, anneal="none",
                          three_phase=False)
    # anneal "none" holds each phase's start: a step schedule
    assert lrs.tolist() == [0.1, 0.1, 1.0, 1.0]
    assert moms.tolist() == [0.95, 0.95, 0.85, 0.85]


def test_one_cycle_single_step_and_no_moms():
    lrs, moms = one_cycle(1, 0.5, **FASTAI_ONE_CYCLE)
    assert lrs.tolist() == [0.5 / 25] and moms.tolist() == [0.95]
    lrs, moms = one_cycle(1, 0.5)  # ONE_CYCLE_DEFAULTS: div 10
    assert lrs.tolist() == [0.5 / 10] and moms.tolist() == [0.95]
    lrs, moms = one_cycle(5, 0.5, moms=None)
    assert moms is None and lrs.shape == (5,)


# --------------------------------------------------------------------------------------------
# one_cycle: properties
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("anneal", ["cos", "linear", "exp"])
@pytest.mark.parametrize("total, pct", [(100, 0.25), (10, 0.3), (40, 0.1), (351, 0.25),
                                        (7, 0.25), (1000, 0.3)])
def test_one_cycle_properties(total, pct, anneal):
    max_lr, div, div_final = 3e-3, 25.0, 1e4
    lrs, moms = one_cycle(total, max_lr, pct_start=pct, div=div, div_final=div_final,
                          anneal=anneal, three_phase=False)
    assert lrs.shape == moms.shape == (total,)
    assert lrs[0] == max_lr / div and moms[0] == 0.95
    pos = np.arange(total) / total
    up, down = pos < pct, pos >= pct
    # rises then falls; momentum the mirror image
    assert np.all(np.diff(lrs[up]) >= 0) and np.all(np.diff(lrs[down]) <= 0)
    assert np.all(np.diff(moms[up]) <= 0) and np.all(np.diff(moms[down]) >= 0)
    assert lrs.max() <= max_lr and moms.min() >= 0.85
    assert lrs[0] < lrs.max() and lrs[-1] < lrs.max()
    if total >= 100:
        assert lrs[-1] < lrs[0]
    assert moms[0] > moms.min() and moms[-1] > moms.min()
    boundary = pct * total
    if boundary == int(boundary):
        b = int(boundary)
        assert lrs[b] == max_lr and moms[b] == 0.85
        assert int(np.argmax(lrs)) == int(np.argmin(moms)) == b
    # last step: one step short of max_lr/div_final, approached from above
    final = max_lr / div_final
    last_len = 1 / (total * (1 - pct))  # phase-1 position left after the last step
    assert lrs[-1] > final
    if anneal == "cos":
        # cos near its end: final + (max_lr - final) * (pi * last_len)**2 / 4, roughly
        assert lrs[-1] - final <= (max_lr - final) * (math.pi * last_len) ** 2 / 4 * 1.001
    elif anneal == "linear":
        close(lrs[-1], final + (max_lr - final) * last_len, rtol=1e-9)
    if total == 1000:  # 1/700 of phase 1 left: linear max_lr/700 above final, cos far closer
        assert lrs[-1] == pytest.approx(final, abs=max_lr * (2e-3 if anneal != "cos" else 1e-5))


@pytest.mark.parametrize("total, pct", [(100, 0.3), (10, 0.2), (33, 0.15)])
def test_one_cycle_three_phase_properties(total, pct):
    max_lr, div, div_final = 0.1, 10.0, 1e3
    lrs, moms = one_cycle(total, max_lr, pct_start=pct, div=div, div_final=div_final,
                          moms=(0.95, 0.85, 0.95), three_phase=True)
    pos = np.arange(total) / total
    p0, p1, p2 = pos < pct, (pos >= pct) & (pos < 2 * pct), pos >= 2 * pct
    assert lrs[0] == max_lr / div
    assert np.all(np.diff(lrs[p0]) >= 0) and np.all(np.diff(lrs[p1]) <= 0)
    assert np.all(np.diff(lrs[p2]) <= 0)
    assert np.all(lrs[p2] <= max_lr / div) and lrs[-1] > max_lr / div_final
    assert np.all(np.diff(moms[p0]) <= 0) and np.all(np.diff(moms[p1]) >= 0)
    assert np.all(moms[p2] == 0.95)
    if pct * total == int(pct * total):
        b = int(pct * total)
        assert lrs[b] == max_lr and moms[b] == 0.85 and lrs[2 * b] == max_lr / div


@pytest.mark.parametrize("anneal", sorted(ANNEALERS))
@pytest.mark.parametrize("three_phase", [False, True])
def test_constant_one_cycle_is_constant(anneal, three_phase):
    lrs, moms = one_cycle(50, 0.01, pct_start=0.3, div=1, div_final=1, moms=(0.9, 0.9, 0.9),
                          anneal=anneal, three_phase=three_phase)
    assert lrs.tolist() == [0.01] * 50
    assert moms.tolist() == [0.9] * 50


def test_constant_flat_cos_is_constant():
    assert flat_cos(20, 0.3, div_final=1).tolist() == [0.3] * 20


# --------------------------------------------------------------------------------------------
# fastai reference, copied from fastai/fastai on GitHub in plain Python floats:
#   fastai/callback/schedule.py: sched_cos / SchedCos, combine_scheds, combined_cos,
#     fit_one_cycle (lr: combined_cos(pct_start, lr_max/div, lr_max, lr_max/div_final);
#     mom: combined_cos(pct_start, *moms)), fit_flat_cos (combined_cos(pct, lr, lr, lr/div_final))
#     and ParamScheduler.before_batch (f(self.pct_train)).
#   fastai/callback/core.py: TrainEvalCallback sets pct_train = epoch/n_epoch in before_train
#     and adds 1/(n_iter*n_epoch) in after_batch.
# fastai keeps combine_scheds' boundaries in a float32 torch tensor; this copy uses float64,
# which is what the formulas mean (the float32 rounding changes the ~7th digit).
# --------------------------------------------------------------------------------------------

def _fa_sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def _fa_combine_scheds(pcts, scheds):
    assert sum(pcts) == 1.0
    cum = [0.0]
    for p in pcts:
        cum.append(cum[-1] + p)
    pct_lim = len(cum) - 2

    def _inner(pos):
        idx = min(max(i for i, c in enumerate(cum) if pos >= c), pct_lim)
        actual_pos = (pos - cum[idx]) / (cum[idx + 1] - cum[idx])
        return scheds[idx](actual_pos)
    return _inner


def _fa_combined_cos(pct, start, middle, end):
    return _fa_combine_scheds([pct, 1 - pct], [partial(_fa_sched_cos, start, middle),
                                               partial(_fa_sched_cos, middle, end)])


def _fa_pct_train(n_epoch, n_iter):
    seen = []
    for epoch in range(n_epoch):
        pct_train = epoch / n_epoch                 # before_train
        for _ in range(n_iter):
            seen.append(pct_train)                  # ParamScheduler.before_batch reads it
            pct_train += 1.0 / (n_iter * n_epoch)   # after_batch
    return seen


def _fa_fit_one_cycle(n_epoch, n_iter, lr_max, div=25.0, div_final=1e5, pct_start=0.25,
                      moms=(0.95, 0.85, 0.95)):
    lr = _fa_combined_cos(pct_start, lr_max / div, lr_max, lr_max / div_final)
    mom = _fa_combined_cos(pct_start, *moms)
    pcts = _fa_pct_train(n_epoch, n_iter)
    return [lr(p) for p in pcts], [mom(p) for p in pcts]


# fastai's cos formula computes the small final values as start + (a number close to -start),
# so a last-bit difference in pos moves them by a few ulps of max_lr: allow 64 ulps absolute.
_ULPS = 64 * np.finfo(np.float64).eps


@pytest.mark.parametrize("n_epoch, n_iter", [(1, 7), (4, 25), (3, 117)])
def test_one_cycle_matches_fastai_fit_one_cycle(n_epoch, n_iter):
    total, lr_max = n_epoch * n_iter, 2e-3
    lrs, moms = one_cycle(total, lr_max, **FASTAI_ONE_CYCLE)
    # 1. fastai's formulas at pos = i / total: equal to rtol 1e-12
    i_over_n = [i / total for i in range(total)]
    lr_ref = _fa_combined_cos(0.25, lr_max / 25.0, lr_max, lr_max / 1e5)
    mom_ref = _fa_combined_cos(0.25, 0.95, 0.85, 0.95)
    close(lrs, [lr_ref(p) for p in i_over_n])
    close(moms, [mom_ref(p) for p in i_over_n])
    # 2. batch for batch, with pct_train accumulated as TrainEvalCallback does it (which is
    #    i / total up to rounding)
    close(_fa_pct_train(n_epoch, n_iter), i_over_n, rtol=1e-13)
    ref_lrs, ref_moms = _fa_fit_one_cycle(n_epoch, n_iter, lr_max=lr_max)
    np.testing.assert_allclose(lrs, ref_lrs, rtol=1e-12, atol=_ULPS * lr_max)
    np.testing.assert_allclose(moms, ref_moms, rtol=1e-12, atol=0)


@pytest.mark.parametrize("n_epoch, n_iter, pct", [(1, 7, 0.75), (5, 20, 0.75), (3, 117, 0.6)])
def test_flat_cos_matches_fastai_fit_flat_cos(n_epoch, n_iter, pct):
    total, lr = n_epoch * n_iter, 0.01
    ref = _fa_combined_cos(pct, lr, lr, lr / 1e5)
    lrs = flat_cos(total, lr, pct_start=pct, div_final=1e5)
    close(lrs, [ref(i / total) for i in range(total)])
    expected = [ref(p) for p in _fa_pct_train(n_epoch, n_iter)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12, atol=_ULPS * lr)


def _fa_fit_sgdr(n_cycles, cycle_len, n_iter, lr_max, cycle_mult):
    """fastai's fit_sgdr: n_epoch, pcts and one SchedCos(lr_max, 0) per cycle, read at the
    accumulated pct_train."""
    n_epoch = cycle_len * (cycle_mult**n_cycles - 1) // (cycle_mult - 1)
    pcts = [cycle_len * cycle_mult**i / n_epoch for i in range(n_cycles)]
    f = _fa_combine_scheds(pcts, [partial(_fa_sched_cos, lr_max, 0.0)] * n_cycles)
    return [f(p) for p in _fa_pct_train(n_epoch, n_iter)]


@pytest.mark.parametrize("n_cycles, cycle_len, n_iter, cycle_mult",
                         [(3, 1, 7, 2), (2, 2, 5, 3), (4, 1, 3, 2)])
def test_sgdr_matches_fastai_fit_sgdr_away_from_the_restarts(n_cycles, cycle_len, n_iter,
                                                            cycle_mult):
    lr_max = 0.01
    lrs = sgdr(n_iter, n_cycles, cycle_len, lr_max, cycle_mult)
    ref = np.asarray(_fa_fit_sgdr(n_cycles, cycle_len, n_iter, lr_max, cycle_mult))
    assert lrs.shape == ref.shape
    starts = np.cumsum([0] + [cycle_len * cycle_mult**k for k in range(n_cycles - 1)]) * n_iter
    rest = np.setdiff1d(np.arange(len(lrs)), starts)
    np.testing.assert_allclose(lrs[rest], ref[rest], rtol=1e-9, atol=_ULPS * lr_max)
    # at a restart fastai's float boundary can put the step at the end of the previous cycle
    # (~0 instead of lr_max); ours restarts at lr_max exactly
    assert lrs[starts].tolist() == [lr_max] * n_cycles
    assert np.all((ref[starts] == pytest.approx(lr_max)) | (ref[starts] < 1e-3 * lr_max))


# --------------------------------------------------------------------------------------------
# sgdr
# --------------------------------------------------------------------------------------------

def test_sgdr_epochs():
    # cycles of 1, 2, 4 epochs; 3 + 9; 2 + 2 + 2 + 2
    assert (sgdr_epochs(3, 1), sgdr_epochs(2, 3, 3), sgdr_epochs(4, 2, 1)) == (7, 12, 8)
    assert sgdr_epochs(1, 5, 7) == 5


def test_sgdr_hand_values():
    # 2 steps per epoch, cycles of 1 and 2 epochs: 2 + 4 steps, each cycle a cosine from 1 to 0
    # at its own positions j / n: (1 + cos(pi * j / n)) / 2
    lrs = sgdr(2, n_cycles=2, cycle_len=1, lr_max=1.0, cycle_mult=2)
    c = math.cos(math.pi / 4)
    close(lrs, [1.0, 0.5, 1.0, (1 + c) / 2, 0.5, (1 - c) / 2])
    # equal cycles (cycle_mult=1): 3 cycles of 4 steps
    lrs = sgdr(4, n_cycles=3, cycle_len=1, lr_max=0.1, cycle_mult=1)
    close(lrs, [0.1, 0.05 * (1 + c), 0.05, 0.05 * (1 - c)] * 3)


@pytest.mark.parametrize("spe", [1, 3, 7, 10, 33])
@pytest.mark.parametrize("n_cycles, cycle_len, cycle_mult",
                         [(1, 1, 2), (3, 1, 2), (4, 1, 3), (3, 2, 2), (5, 1, 1), (2, 3, 4)])
def test_sgdr_restarts_exactly_and_each_cycle_is_a_cosine_to_zero(spe, n_cycles, cycle_len,
                                                                  cycle_mult):
    lr_max = 3e-2
    lrs = sgdr(spe, n_cycles, cycle_len, lr_max, cycle_mult)
    assert len(lrs) == spe * sgdr_epochs(n_cycles, cycle_len, cycle_mult)
    start = 0
    for k in range(n_cycles):
        n = spe * cycle_len * cycle_mult**k
        cyc = lrs[start:start + n]
        assert cyc[0] == lr_max                                   # the restart, exactly
        close(cyc, lr_max * (1 + np.cos(np.pi * np.arange(n) / n)) / 2, rtol=1e-9)
        if n % 2 == 0:
            close(cyc[n // 2], lr_max / 2, rtol=1e-9)             # half-way: lr_max / 2
        assert np.all(np.diff(cyc) < 0) and cyc[-1] > 0           # down, one step short of 0
        start += n
    assert start == len(lrs)


# --------------------------------------------------------------------------------------------
# flat_cos, exp_sweep, lin_sweep
# --------------------------------------------------------------------------------------------

def test_flat_cos_hand_values():
    lrs = flat_cos(8, 1.0, pct_start=0.75, div_final=100)
    # steps 0..6 (pos <= 0.75): flat 1.0; step 7: pos 0.875 -> cos phase at 0.5:
    # 1 + (1 + cos(pi/2)) * (0.01 - 1) / 2 = 1 - 0.99/2 = 0.505
    assert lrs[:7].tolist() == [1.0] * 7
    close(lrs[7], 0.505)
    lrs = flat_cos(100, 0.1)  # defaults: pct_start 0.75, div_final 1e5
    assert np.all(lrs[:76] == 0.1) and np.all(np.diff(lrs[75:]) < 0)
    assert 0.1 / 1e5 < lrs[-1] < 0.1 * 0.01


def test_exp_sweep():
    lrs = exp_sweep(1e-7, 10.0, 9)
    # ratio (10 / 1e-7) ** (1/8) = 1e8 ** (1/8) = 10: 1e-7, 1e-6, ..., 10
    assert lrs.shape == (9,)
    assert lrs[0] == 1e-7 and lrs[-1] == 10.0
    close(lrs, [10.0 ** k for k in range(-7, 2)])
    lrs = exp_sweep(1e-5, 1.0, 100)
    assert lrs[0] == 1e-5
    close(lrs[-1], 1.0)
    assert np.all(np.diff(lrs) > 0)
    close(lrs[1:] / lrs[:-1], np.full(99, 1e5 ** (1 / 99)))
    assert exp_sweep(0.5, 2.0, 2).tolist() == [0.5, 2.0]


def test_lin_sweep():
    # 0.1 + (1.1 - 0.1) * i / 4 = 0.1, 0.35, 0.6, 0.85, 1.1
    lrs = lin_sweep(0.1, 1.1, 5)
    assert lrs[0] == 0.1 and lrs[-1] == 1.1
    close(lrs, [0.1, 0.35, 0.6, 0.85, 1.1])
    assert np.all(np.diff(lrs) > 0)
    close(np.diff(lrs), np.full(4, 0.25), rtol=1e-9)


# --------------------------------------------------------------------------------------------
# Bad input: the type, and the words that matter in the message
# --------------------------------------------------------------------------------------------

def _oc(**kw):
    return one_cycle(**{"total_steps": 10, "max_lr": 0.1, **kw})


def _fc(**kw):
    return flat_cos(**{"total_steps": 10, "lr": 0.1, **kw})


def _es(**kw):
    return exp_sweep(**{"start_lr": 1e-7, "end_lr": 10.0, "num_it": 100, **kw})


def _ls(**kw):
    return lin_sweep(**{"start_lr": 1e-3, "end_lr": 1.0, "num_it": 100, **kw})


def _sg(**kw):
    return sgdr(**{"steps_per_epoch": 4, "n_cycles": 3, "cycle_len": 1, "lr_max": 0.1, **kw})


def _cb(**kw):
    return combine(**{"pcts": [0.5, 0.5], "phases": [abs, abs], **kw})


BAD = [
    # one_cycle. Every message: "<name> must be <requirement>, got <value>[ (<type>)]; <fix>"
    (_oc, {"total_steps": 0}, ValueError, ["total_steps must be an int >= 1, got 0;"]),
    (_oc, {"total_steps": -3}, ValueError, ["total_steps", ">= 1", "got -3"]),
    (_oc, {"total_steps": 10.0}, TypeError, ["total_steps must be an int", "got 10.0 (float)"]),
    (_oc, {"total_steps": True}, TypeError, ["total_steps", "got True (bool)"]),
    (_oc, {"max_lr": 0}, ValueError, ["max_lr must be a finite number > 0, got 0;"]),
    (_oc, {"max_lr": -1e-3}, ValueError, ["max_lr must be a finite number > 0, got -0.001"]),
    (_oc, {"max_lr": NAN}, ValueError, ["max_lr must be a finite number", "got nan"]),
    (_oc, {"max_lr": INF}, ValueError, ["max_lr must be a finite number", "got inf"]),
    (_oc, {"max_lr": "0.1"}, TypeError, ["max_lr must be a finite number", "got '0.1' (str)"]),
    (_oc, {"max_lr": True}, TypeError, ["max_lr must be a finite number", "got True (bool)"]),
    (_oc, {"pct_start": 1.2}, ValueError, ["pct_start must be a finite number in (0, 1), got 1.2",
                                           "warming up"]),
    (_oc, {"pct_start": 0}, ValueError, ["pct_start must be a finite number in (0, 1), got 0;"]),
    (_oc, {"pct_start": 1}, ValueError, ["pct_start must be a finite number in (0, 1), got 1;"]),
    (_oc, {"pct_start": NAN}, ValueError, ["pct_start must be a finite number", "got nan"]),
    (_oc, {"pct_start": 0.5, "three_phase": True}, ValueError,
     ["pct_start must be < 0.5", "three_phase=True", "got 0.5"]),
    (_oc, {"div": 0}, ValueError, ["div must be a finite number > 0, got 0;"]),
    (_oc, {"div": -25}, ValueError, ["div must be a finite number > 0, got -25;"]),
    (_oc, {"div": INF}, ValueError, ["div must be a finite number", "got inf"]),
    (_oc, {"div_final": 0}, ValueError, ["div_final must be a finite number > 0, got 0;"]),
    (_oc, {"div_final": NAN}, ValueError, ["div_final must be a finite number", "got nan"]),
    (_oc, {"moms": (0.95, 0.85)}, ValueError,
     ["moms must be three numbers", "got (0.95, 0.85);", "moms=(0.95, 0.85, 0.95)"]),
    (_oc, {"moms": "abc"}, TypeError, ["moms must be three numbers", "got 'abc' (str)"]),
    (_oc, {"moms": (0.95, 1.0, 0.95)}, ValueError,
     ["moms[1] must be a finite number in [0, 1), got 1.0;", "moms=(0.95, 1.0, 0.95)"]),
    (_oc, {"moms": (0.95, 0.85, -0.1)}, ValueError, ["moms[2] must be", "[0, 1)", "got -0.1"]),
    (_oc, {"moms": (NAN, 0.85, 0.95)}, ValueError, ["moms[0] must be", "got nan"]),
    (_oc, {"moms": (0.9, True, 0.9)}, TypeError, ["moms[1] must be", "got True (bool)"]),
    (_oc, {"anneal": "cosine"}, ValueError,
     ["anneal must be one of", "'cos'", "'linear'", "'exp'", "'none'", "got 'cosine'"]),
    (_oc, {"anneal": None}, TypeError, ["anneal must be one of", "got None (NoneType)"]),
    (_oc, {"anneal": "exp", "moms": (0.9, 0.0, 0.9)}, ValueError,
     ["moms must be > 0 when anneal='exp'", "got (0.9, 0.0, 0.9)", "anneal='cos'"]),
    (_oc, {"three_phase": 1}, TypeError, ["three_phase must be True or False, got 1 (int)"]),
    # flat_cos
    (_fc, {"total_steps": 0}, ValueError, ["total_steps must be an int >= 1, got 0;"]),
    (_fc, {"lr": 0.0}, ValueError, ["lr must be a finite number > 0, got 0.0"]),
    (_fc, {"lr": NAN}, ValueError, ["lr must be a finite number", "got nan"]),
    (_fc, {"pct_start": 1.0}, ValueError, ["pct_start must be a finite number in (0, 1), got 1.0"]),
    (_fc, {"div_final": -1}, ValueError, ["div_final must be a finite number > 0, got -1;"]),
    # exp_sweep / lin_sweep
    (_es, {"start_lr": 0.0}, ValueError, ["start_lr must be a finite number > 0, got 0.0"]),
    (_es, {"start_lr": NAN}, ValueError, ["start_lr must be a finite number", "got nan"]),
    (_es, {"end_lr": INF}, ValueError, ["end_lr must be a finite number", "got inf"]),
    (_es, {"start_lr": 10.0, "end_lr": 1e-7}, ValueError,
     ["end_lr must be a finite number > start_lr=10.0, got 1e-07;", "swap"]),
    (_es, {"start_lr": 1.0, "end_lr": 1.0}, ValueError,
     ["end_lr must be a finite number > start_lr=1.0, got 1.0;"]),
    (_es, {"num_it": 1}, ValueError, ["num_it must be an int >= 2, got 1;"]),
    (_es, {"num_it": 5.0}, TypeError, ["num_it must be an int >= 2", "got 5.0 (float)"]),
    (_es, {"num_it": True}, TypeError, ["num_it", "got True (bool)"]),
    (_ls, {"start_lr": -1.0}, ValueError, ["start_lr must be a finite number > 0, got -1.0"]),
    (_ls, {"start_lr": 1.0, "end_lr": 0.1}, ValueError,
     ["end_lr must be a finite number > start_lr=1.0, got 0.1;", "swap"]),
    (_ls, {"num_it": 0}, ValueError, ["num_it must be an int >= 2, got 0;"]),
    # sgdr / sgdr_epochs
    (_sg, {"n_cycles": 0}, ValueError, ["n_cycles must be an int >= 1, got 0;", "n_cycles=3"]),
    (_sg, {"n_cycles": 2.0}, TypeError, ["n_cycles must be an int >= 1, got 2.0 (float)"]),
    (_sg, {"cycle_len": 0}, ValueError, ["cycle_len must be an int >= 1, got 0;", "epochs"]),
    (_sg, {"cycle_len": 0.5}, TypeError, ["cycle_len must be an int >= 1, got 0.5 (float)"]),
    (_sg, {"cycle_mult": 0}, ValueError, ["cycle_mult must be an int >= 1, got 0;", "longer"]),
    (_sg, {"cycle_mult": 1.5}, TypeError, ["cycle_mult must be an int >= 1, got 1.5 (float)"]),
    (_sg, {"cycle_mult": True}, TypeError, ["cycle_mult", "got True (bool)"]),
    (_sg, {"lr_max": 0}, ValueError, ["lr_max must be a finite number > 0, got 0;"]),
    (_sg, {"lr_max": NAN}, ValueError, ["lr_max must be a finite number", "got nan"]),
    (_sg, {"steps_per_epoch": 0}, ValueError, ["steps_per_epoch must be an int >= 1, got 0;"]),
    (sgdr_epochs, {"n_cycles": -1, "cycle_len": 1}, ValueError, ["n_cycles must be", "got -1"]),
    # combine
    (_cb, {"pcts": [0.5, 0.4]}, ValueError,
     ["pcts must be phase lengths that sum to 1, got [0.5, 0.4]", "sum to 0.9", "divide"]),
    (_cb, {"pcts": [1.0, 0.0]}, ValueError,
     ["pcts[1] must be a finite number > 0, got 0.0", "pcts=[1.0, 0.0]"]),
    (_cb, {"pcts": [1.5, -0.5]}, ValueError, ["pcts[1] must be a finite number > 0, got -0.5"]),
    (_cb, {"pcts": [NAN, 0.5]}, ValueError, ["pcts[0] must be a finite number > 0, got nan"]),
    (_cb, {"pcts": [1.0]}, ValueError, ["pcts must be as long as phases (2 phases), got [1.0]"]),
    (_cb, {"pcts": [], "phases": []}, ValueError, ["pcts must be a non-empty sequence", "got []"]),
    (_cb, {"pcts": 0.5}, TypeError, ["pcts must be a sequence", "got 0.5 (float)"]),
    (_cb, {"phases": [abs, 3]}, TypeError, ["phases[1] must be callable", "got 3 (int)"]),
    (_cb, {"phases": abs}, TypeError, ["phases must be a sequence of callables"]),
]


@pytest.mark.parametrize("func, kwargs, exc, words", BAD,
                         ids=[f"{f.__name__}-{'-'.join(map(str, kw.values()))}"
                              for f, kw, _, _ in BAD])
def test_bad_input(func, kwargs, exc, words):
    with pytest.raises(exc) as err:
        func(**kwargs)
    msg = str(err.value)
    for word in words:
        assert word in msg, f"{word!r} not in {msg!r}"


def test_numpy_scalars_are_accepted():
    lrs, moms = one_cycle(np.int64(10), np.float32(0.5), pct_start=np.float64(0.3),
                          moms=[0.95, 0.85, 0.95])
    assert lrs.shape == (10,) and lrs[3] == 0.5 and moms[3] == 0.85


def test_anneal_exp_survives_extreme_ends():
    """Found by hypothesis: 0.5 / 5e-324 overflows, so the ratio form gave inf; the log form
    gives the geometric mean sqrt(0.5 * 5e-324) at pos 0.5."""
    from tflearner.schedules import anneal_exp
    mid = float(anneal_exp(0.5, 5e-324, 0.5))
    assert np.isfinite(mid) and mid == pytest.approx(np.sqrt(0.5) * np.sqrt(5e-324), rel=1e-6)
    assert np.isfinite(anneal_exp(5e-324, 0.5, np.linspace(0, 1, 11))).all()
