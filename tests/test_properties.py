"""Property-based tests (hypothesis) for the pure functions: schedules and suggestions.

Any valid arguments give finite values of the right length within the documented bounds;
every suggestion lies inside the swept range or is None (fastai's ``minimum``, the LR at the
lowest loss / 10 by definition, down to a tenth of the range's start).
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tflearner.lr_finder.suggest import SUGGESTERS, Suggestion, trim
from tflearner.schedules import exp_sweep, flat_cos, lin_sweep, one_cycle

lr = st.floats(1e-6, 10.0)
mom = st.floats(0.0, 0.99)


@settings(max_examples=150, deadline=None)
@given(total=st.integers(1, 3000), max_lr=lr, pct=st.floats(0.01, 0.49),
       div=st.floats(1.0, 1e3), div_final=st.floats(1.0, 1e6),
       moms=st.tuples(mom, mom, mom), anneal=st.sampled_from(["cos", "linear", "exp", "none"]),
       three_phase=st.booleans())
def test_one_cycle_is_finite_right_length_and_bounded(total, max_lr, pct, div, div_final, moms,
                                                      anneal, three_phase):
    if anneal == "exp" and min(moms) == 0:
        moms = tuple(m or 0.5 for m in moms)
    lrs, ms = one_cycle(total, max_lr, pct, div, div_final, moms, anneal, three_phase)
    assert lrs.shape == ms.shape == (total,)
    assert np.all(np.isfinite(lrs)) and np.all(np.isfinite(ms))
    low = min(max_lr / div, max_lr / div_final)
    assert np.all(lrs >= low * (1 - 1e-9)) and np.all(lrs <= max_lr * (1 + 1e-9))
    assert np.all(ms >= min(moms) - 1e-12) and np.all(ms <= max(moms) + 1e-12)
    assert lrs[0] == max_lr / div


@settings(max_examples=100, deadline=None)
@given(total=st.integers(1, 3000), lr_=lr, pct=st.floats(0.01, 0.99),
       div_final=st.floats(1.0, 1e6))
def test_flat_cos_is_finite_and_bounded(total, lr_, pct, div_final):
    lrs = flat_cos(total, lr_, pct, div_final)
    assert lrs.shape == (total,) and np.all(np.isfinite(lrs))
    assert np.all(lrs <= lr_ * (1 + 1e-12)) and np.all(lrs >= lr_ / div_final * (1 - 1e-9))


@settings(max_examples=100, deadline=None)
@given(start=st.floats(1e-9, 1.0), ratio=st.floats(1.0001, 1e9), n=st.integers(2, 2000),
       linear=st.booleans())
def test_sweeps_hit_both_ends_and_increase(start, ratio, n, linear):
    end = start * ratio
    lrs = (lin_sweep if linear else exp_sweep)(start, end, n)
    assert lrs.shape == (n,) and np.all(np.isfinite(lrs))
    assert np.isclose(lrs[0], start, rtol=1e-12) and np.isclose(lrs[-1], end, rtol=1e-9)
    assert np.all(np.diff(lrs) > 0)


curve = st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), min_size=0,
                 max_size=150)


@settings(max_examples=200, deadline=None)
@given(losses=curve, start=st.floats(-9, -3), span=st.floats(1, 9),
       name=st.sampled_from(sorted(SUGGESTERS)), beta=st.sampled_from([None, 0.98]))
def test_suggestions_lie_in_the_swept_range_or_are_none(losses, start, span, name, beta):
    n = len(losses)
    lrs = np.logspace(start, start + span, n) if n else np.array([])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if n:
            lrs, losses = trim(lrs, losses, num_it=max(n, 1))
        fn = SUGGESTERS[name]
        kw = {"beta": beta} if name == "robust" and beta else {}
        out = fn(lrs, losses, num_it=max(n, 1), **kw) if len(lrs) else fn(lrs, losses)
    assert isinstance(out, Suggestion)
    if out.lr is None:
        return
    assert np.isfinite(out.lr)
    low = lrs[0] / 10 if name == "minimum" else lrs[0]  # fastai's minimum: LR at min / 10
    assert low * (1 - 1e-9) <= out.lr <= lrs[-1] * (1 + 1e-9)
    if out.lr_range is not None:
        lower, upper = out.lr_range
        assert lrs[0] * (1 - 1e-9) <= lower <= out.lr <= upper <= lrs[-1] * (1 + 1e-9)
