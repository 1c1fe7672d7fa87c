"""Hyper-parameter schedules as pure numpy functions of the training position.

Nothing here imports TensorFlow and nothing keeps a hidden step counter. There are three kinds of
function:

* **Annealers** ``anneal_*(start, end, pos)`` go from ``start`` (``pos = 0``) to ``end``
  (``pos = 1``). ``ANNEALERS`` maps the names ``one_cycle(anneal=...)`` accepts to them.
* :func:`combine` glues annealers into one function of ``pos`` in ``[0, 1]``, piece by piece
  (fastai's ``combine_scheds``).
* **Factories** (:func:`one_cycle`, :func:`flat_cos`, :func:`sgdr`, :func:`exp_sweep`,
  :func:`lin_sweep`) check their arguments once and return the per-step arrays the training
  callbacks read. Your own schedule is :func:`combine` of annealers evaluated at
  ``pos = i / total_steps`` (see its docstring), passed to ``ParamScheduler``.

The formulas match fastai's ``fastai/callback/schedule.py`` (``SchedLin``, ``SchedCos``,
``SchedNo``, ``SchedExp``, ``combine_scheds``, ``fit_one_cycle``, ``fit_flat_cos``,
``fit_sgdr``). Training
step ``i`` of ``total_steps`` uses ``pos = i / total_steps``, which is fastai's ``pct_train``
when that batch starts. Two small differences from fastai:

* fastai's ``combine_scheds`` keeps the phase boundaries in a float32 torch tensor, so the
  position inside a phase is rounded to float32. Its values can differ from ours after about
  the 7th significant digit. Ours are the float64 values of the same formulas.
* fastai's LR finder uses ``pos = i / num_it`` and never reaches ``end_lr``.
  :func:`exp_sweep` includes both endpoints (``pos = i / (num_it - 1)``).
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType

import numpy as np

from .core.checks import check_bool, check_choice, check_int, check_positive, check_real, fail

__all__ = [
    "ANNEALERS",
    "FASTAI_ONE_CYCLE",
    "ONE_CYCLE_DEFAULTS",
    "anneal_cos",
    "anneal_exp",
    "anneal_linear",
    "anneal_none",
    "combine",
    "exp_sweep",
    "flat_cos",
    "lin_sweep",
    "one_cycle",
    "sgdr",
    "sgdr_epochs",
    "even_mults",
    "group_lrs",
    "spread_lr",
    "Plan",
    "POLICIES",
    "fit_plan",
    "fine_tune_phases",
    "fine_tune_plans",
]

Phase = Callable[[np.ndarray], np.ndarray]

#: The one set of one-cycle defaults, shared by every entry point (``Learner.fit_one_cycle``,
#: :func:`one_cycle`, ``OneCycleSchedule``, ``OneCycleCallback``): Leslie Smith's three-phase
#: linear form (chosen by measurement; see ``docs/one_cycle.md``).
ONE_CYCLE_DEFAULTS = MappingProxyType({
    "pct_start": 0.45, "div": 10.0, "div_final": 1e4, "moms": (0.95, 0.85, 0.95),
    "anneal": "linear", "three_phase": True})
#: fastai's form, for ``one_cycle(n, lr, **FASTAI_ONE_CYCLE)`` and the other entry points.
FASTAI_ONE_CYCLE = MappingProxyType({
    "pct_start": 0.25, "div": 25.0, "div_final": 1e5, "moms": (0.95, 0.85, 0.95),
    "anneal": "cos", "three_phase": False})
_D = ONE_CYCLE_DEFAULTS

# pcts may add up to 1 with this much rounding error (0.1 + 0.2 + 0.7 != 1.0 in floats).
_SUM_TOL = 1e-9
_STEPS_FIX = "pass the number of training batches (epochs * batches per epoch)."
_DIV_FINAL_FIX = "the lr ends near max_lr / div_final, e.g. div_final=1e4."


# --------------------------------------------------------------------------------------------
# Annealers
# --------------------------------------------------------------------------------------------

def anneal_linear(start: float, end: float, pos: np.ndarray | float) -> np.ndarray:
    """Linear from ``start`` to ``end``: ``start + pos * (end - start)`` (fastai ``SchedLin``).

    >>> anneal_linear(1.0, 3.0, np.array([0.0, 0.5, 1.0])).tolist()
    [1.0, 2.0, 3.0]
    """
    pos = np.asarray(pos, dtype=np.float64)
    return start + pos * (end - start)


def anneal_cos(start: float, end: float, pos: np.ndarray | float) -> np.ndarray:
    """Half-cosine from ``start`` to ``end`` (fastai ``SchedCos``).

    ``start + (1 + cos(pi * (1 - pos))) * (end - start) / 2``. The slope is zero at both ends,
    ``pos = 0`` gives ``start`` exactly, and ``pos = 0.5`` gives the midpoint.

    >>> anneal_cos(0.0, 2.0, np.array([0.0, 0.5, 1.0])).round(12).tolist()
    [0.0, 1.0, 2.0]
    """
    pos = np.asarray(pos, dtype=np.float64)
    return start + (1 + np.cos(np.pi * (1 - pos))) * (end - start) / 2


def anneal_exp(start: float, end: float, pos: np.ndarray | float) -> np.ndarray:
    """Geometric from ``start`` to ``end``: ``start * (end / start) ** pos`` (fastai ``SchedExp``).

    Both ends must be > 0. Equal steps in ``pos`` multiply the value by the same factor.

    >>> anneal_exp(1e-3, 1e-1, np.array([0.0, 0.5, 1.0])).round(12).tolist()
    [0.001, 0.01, 0.1]
    """
    for name, value in (("start", start), ("end", end)):
        if not value > 0:
            raise fail(name, "> 0 for anneal_exp (it interpolates geometrically)", value,
                       "use anneal_linear or anneal_cos for values <= 0.")
    pos = np.asarray(pos, dtype=np.float64)
    ratio = end / start
    if np.isfinite(ratio) and ratio > 0:
        return start * ratio**pos
    # The ratio over/underflows for extreme ends (e.g. 0.5 / 5e-324): interpolate the logs.
    return np.exp(np.log(start) + pos * (np.log(end) - np.log(start)))


def anneal_none(start: float, end: float, pos: np.ndarray | float) -> np.ndarray:
    """Constant ``start`` at every position; ``end`` is ignored (fastai ``SchedNo``).

    >>> anneal_none(0.9, 0.1, np.array([0.0, 0.5, 1.0])).tolist()
    [0.9, 0.9, 0.9]
    """
    pos = np.asarray(pos, dtype=np.float64)
    return np.full(pos.shape, start, dtype=np.float64)


#: Annealer names accepted by ``one_cycle(anneal=...)``.
ANNEALERS: dict[str, Callable[[float, float, np.ndarray | float], np.ndarray]] = {
    "linear": anneal_linear,
    "cos": anneal_cos,
    "exp": anneal_exp,
    "none": anneal_none,
}


# --------------------------------------------------------------------------------------------
# Domain checks (the plain int/real/bool/choice checks are tflearner.core.checks)
# --------------------------------------------------------------------------------------------

def _check_pct_start(pct_start: object, three_phase: bool) -> float:
    pct_start = check_real("pct_start", pct_start, 0.0, 1.0, low_open=True, high_open=True,
                           requirement="a finite number in (0, 1)",
                           fix="it is the fraction of the steps spent warming up, e.g. 0.25.")
    if three_phase and not pct_start < 0.5:
        raise fail("pct_start", "< 0.5 when three_phase=True", pct_start,
                   "warm-up and cool-down each take pct_start of the steps, e.g. 0.45.")
    return pct_start


_MOMS_FIX = "e.g. moms=(0.95, 0.85, 0.95)."


def _check_moms(moms: object) -> tuple[float, float, float] | None:
    if moms is None:
        return None
    requirement = "three numbers (start, middle, end) in [0, 1) or None"
    if isinstance(moms, (str, bytes)) or not isinstance(moms, Sequence):
        raise fail("moms", requirement, moms, _MOMS_FIX, error=TypeError, with_type=True)
    if len(moms) != 3:
        raise fail("moms", requirement, moms, _MOMS_FIX)
    m0, m1, m2 = (check_real(f"moms[{i}]", m, 0.0, 1.0, high_open=True,
                             requirement="a finite number in [0, 1)",
                             fix=f"in moms={tuple(moms)!r}; {_MOMS_FIX}")
                  for i, m in enumerate(moms))
    return m0, m1, m2


def _check_sweep(start_lr: object, end_lr: object, num_it: object) -> tuple[float, float, int]:
    start_lr = check_positive("start_lr", start_lr, fix="e.g. start_lr=1e-7.")
    end_lr = check_real("end_lr", end_lr, start_lr, low_open=True, fix="the sweep goes up; "
                        "swap them.", requirement=f"a finite number > start_lr={start_lr!r}")
    num_it = check_int("num_it", num_it, 2, fix="a sweep needs both endpoints, e.g. num_it=100.")
    return start_lr, end_lr, num_it


# --------------------------------------------------------------------------------------------
# combine
# --------------------------------------------------------------------------------------------

def _check_phases(pcts: object, phases: object) -> list[float]:
    """:func:`combine`'s arguments checked: the phase lengths (> 0, summing to 1)."""
    if isinstance(pcts, (str, bytes)) or not isinstance(pcts, Sequence):
        raise fail("pcts", "a sequence of phase lengths", pcts, "e.g. pcts=[0.25, 0.75].",
                   error=TypeError, with_type=True)
    if isinstance(phases, (str, bytes)) or not isinstance(phases, Sequence):
        raise fail("phases", "a sequence of callables", phases,
                   "e.g. phases=[partial(anneal_cos, 0.0, 1.0)].", error=TypeError,
                   with_type=True)
    if len(pcts) == 0:
        raise fail("pcts", "a non-empty sequence of phase lengths", list(pcts),
                   "e.g. pcts=[1.0].")
    if len(pcts) != len(phases):
        raise fail("pcts", f"as long as phases ({len(phases)} phases)", list(pcts),
                   "pass one phase length per phase.")
    lengths = [check_positive(f"pcts[{i}]", p, fix=f"in pcts={list(pcts)!r}; every phase "
                              "needs a length > 0.") for i, p in enumerate(pcts)]
    total = math.fsum(lengths)
    if abs(total - 1.0) > _SUM_TOL:
        raise fail("pcts", "phase lengths that sum to 1", list(pcts),
                   f"they sum to {total!r}; divide each length by the sum.")
    for i, f in enumerate(phases):
        if not callable(f):
            raise fail(f"phases[{i}]", "callable (pos -> value)", f, error=TypeError,
                       with_type=True)
    return lengths


def combine(pcts: Sequence[float], phases: Sequence[Phase]) -> Callable[[np.ndarray | float],
                                                                          np.ndarray]:
    """Join ``phases`` into one schedule of ``pos`` in ``[0, 1]`` (fastai ``combine_scheds``).

    ``pcts[k]`` is the length of phase ``k``; the lengths must be > 0 and add up to 1. With
    boundaries ``b = [0, pcts[0], pcts[0] + pcts[1], ..., 1]``, a position ``pos`` belongs to
    the last phase ``k`` with ``b[k] <= pos`` (so a position on a boundary starts the next
    phase), and phase ``k`` gets ``phases[k]((pos - b[k]) / (b[k+1] - b[k]))``, a position in
    ``[0, 1)``. ``pos == 1`` goes to the last phase at ``1.0``.

    The returned function is vectorised: it takes a float or an array and returns a float64
    array of the same shape. It raises ``ValueError`` for positions outside ``[0, 1]``.
    The boundaries are float sums of ``pcts``, so a position that should sit exactly on one
    can land an ulp before it (``0.1 + 0.2 > 0.3``); a schedule that jumps there (a restart)
    should pin that step, as :func:`sgdr` does.

    >>> f = combine([0.5, 0.5], [partial(anneal_linear, 0.0, 1.0),
    ...                          partial(anneal_linear, 1.0, 0.0)])
    >>> f(np.array([0.0, 0.25, 0.5, 0.75, 1.0])).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]

    **Your own schedule.** Any phases of ``pos`` work; evaluate the combined function at
    ``pos = i / total_steps`` for each batch ``i`` and give the array to
    ``ParamScheduler({"lr": lrs})`` (``"mom"``, ``"wd"`` too) in ``learn.fit(...,
    callbacks=[...])``. A linear warm-up over 10 % of the steps, then a cosine to 0:

    >>> warm_cos = combine([0.1, 0.9], [partial(anneal_linear, 1e-4, 1e-2),
    ...                                 partial(anneal_cos, 1e-2, 0.0)])
    >>> lrs = warm_cos(np.arange(20) / 20)
    >>> lrs[[0, 1, 2, 11]].round(6).tolist()
    [0.0001, 0.00505, 0.01, 0.005]
    """
    lengths = _check_phases(pcts, phases)
    bounds = np.concatenate([[0.0], np.cumsum(lengths)])
    bounds[-1] = 1.0
    phases = tuple(phases)
    last = len(phases) - 1

    def schedule(pos: np.ndarray | float) -> np.ndarray:
        pos = np.asarray(pos, dtype=np.float64)
        bad = ~((pos >= 0) & (pos <= 1))  # also catches NaN
        if bad.any():
            raise fail("pos", "in [0, 1]", float(pos[bad].flat[0]),
                       "pos is the fraction of training done (step / total_steps).")
        idx = np.minimum(np.searchsorted(bounds, pos, side="right") - 1, last)
        actual = (pos - bounds[idx]) / (bounds[idx + 1] - bounds[idx])
        out = np.empty(pos.shape, dtype=np.float64)
        for k, phase in enumerate(phases):
            mask = idx == k
            if mask.any():
                out[mask] = phase(actual[mask])
        return out

    return schedule


# --------------------------------------------------------------------------------------------
# Factories
# --------------------------------------------------------------------------------------------

def _positions(total_steps: int) -> np.ndarray:
    """``pos_i = i / total_steps`` for ``i = 0 .. total_steps - 1`` (fastai's ``pct_train``)."""
    return np.arange(total_steps, dtype=np.float64) / total_steps


def _check_total(total_steps: object) -> int:
    return check_int("total_steps", total_steps, 1, fix=_STEPS_FIX)


def _one_cycle_options(pct_start: object = _D["pct_start"], div: object = _D["div"],
                       div_final: object = _D["div_final"], moms: object = _D["moms"],
                       anneal: object = _D["anneal"], three_phase: object = _D["three_phase"]
                       ) -> dict:
    """:func:`one_cycle`'s shape arguments, checked (``anneal`` as its annealer)."""
    three_phase = check_bool("three_phase", three_phase)
    pct_start = _check_pct_start(pct_start, three_phase)
    div = check_positive("div", div, fix="the first lr is max_lr / div, e.g. div=10.")
    div_final = check_positive("div_final", div_final, fix=_DIV_FINAL_FIX)
    moms = _check_moms(moms)
    f = ANNEALERS[check_choice("anneal", anneal, ANNEALERS, fix="pass the annealer's name.")]
    if f is anneal_exp and moms is not None and min(moms) == 0:
        raise fail("moms", "> 0 when anneal='exp' (it interpolates geometrically)", moms,
                   "use anneal='cos' or 'linear' for a momentum of 0.")
    return {"pct_start": pct_start, "div": div, "div_final": div_final, "moms": moms, "f": f,
            "three_phase": three_phase}


def _one_cycle(total_steps: int, max_lr: float, pct_start: float, div: float,
               div_final: float, moms: tuple | None, f: Callable,
               three_phase: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`one_cycle`'s arrays from checked arguments."""
    low, peak, final = max_lr / div, max_lr, max_lr / div_final
    if three_phase:
        pcts = [pct_start, pct_start, 1.0 - 2.0 * pct_start]
        lr_phases = [partial(f, low, peak), partial(f, peak, low), partial(f, low, final)]
    else:
        pcts = [pct_start, 1.0 - pct_start]
        lr_phases = [partial(f, low, peak), partial(f, peak, final)]
    pos = _positions(total_steps)
    lrs = combine(pcts, lr_phases)(pos)
    if moms is None:
        return lrs, None
    m0, m1, m2 = moms
    if three_phase:
        mom_phases = [partial(f, m0, m1), partial(f, m1, m0), partial(anneal_none, m2, m2)]
    else:
        mom_phases = [partial(f, m0, m1), partial(f, m1, m2)]
    return lrs, combine(pcts, mom_phases)(pos)


def one_cycle(total_steps: int, max_lr: float, pct_start: float = _D["pct_start"],
              div: float = _D["div"], div_final: float = _D["div_final"],
              moms: tuple[float, float, float] | None = _D["moms"],
              anneal: str = _D["anneal"],
              three_phase: bool = _D["three_phase"]) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-step learning rates and momentums of the 1cycle policy.

    Step ``i`` uses ``pos = i / total_steps``; ``f`` is the annealer named by ``anneal``. The
    defaults are :data:`ONE_CYCLE_DEFAULTS` (three phases, linear); :data:`FASTAI_ONE_CYCLE`
    holds fastai's two-phase cosine form.

    Two phases (``three_phase=False``, fastai's), split at ``pct_start``:

    * lr: ``f(max_lr/div, max_lr)`` then ``f(max_lr, max_lr/div_final)``;
    * mom: ``f(moms[0], moms[1])`` then ``f(moms[1], moms[2])``.

    Three phases (``three_phase=True``, Leslie Smith's original), of lengths ``pct_start``,
    ``pct_start`` and ``1 - 2*pct_start`` (so ``pct_start < 0.5``):

    * lr: ``f(max_lr/div, max_lr)``, ``f(max_lr, max_lr/div)``, ``f(max_lr/div, max_lr/div_final)``;
    * mom: ``f(moms[0], moms[1])``, ``f(moms[1], moms[0])``, then constant ``moms[2]``.

    The first step gets exactly ``max_lr/div`` and ``moms[0]``. When ``pct_start *
    total_steps`` is a whole number, that step gets exactly ``max_lr`` and ``moms[1]``. The last
    step is one step short of ``max_lr/div_final``.

    Args:
        total_steps: number of training batches (epochs * batches per epoch), int >= 1.
        max_lr: peak learning rate, finite and > 0.
        pct_start: fraction of the steps spent warming up, in (0, 1).
        div: the first lr is ``max_lr / div``; > 0.
        div_final: the lr ends near ``max_lr / div_final``; > 0.
        moms: (start, middle, end) momentums in [0, 1), or None to schedule no momentum.
        anneal: ``"linear"``, ``"cos"``, ``"exp"`` or ``"none"``.
        three_phase: use the three-phase variant (False: two phases).

    Returns:
        ``(lrs, moms)``: float64 arrays of length ``total_steps``; ``moms`` is None when the
        ``moms`` argument is None.

    >>> lrs, moms = one_cycle(4, 1.0, pct_start=0.25, div=10, div_final=100, anneal="linear",
    ...                       moms=(0.95, 0.85, 0.95), three_phase=False)
    >>> lrs.round(6).tolist(), moms.round(6).tolist()
    ([0.1, 1.0, 0.67, 0.34], [0.95, 0.85, 0.883333, 0.916667])
    """
    total_steps = _check_total(total_steps)
    max_lr = check_positive("max_lr", max_lr, fix="e.g. the LR finder's suggestion.")
    return _one_cycle(total_steps, max_lr, **_one_cycle_options(
        pct_start, div, div_final, moms, anneal, three_phase))


def _flat_cos_options(pct_start: object = 0.75, div_final: object = 1e5) -> dict:
    """:func:`flat_cos`'s shape arguments, checked."""
    return {"pct_start": _check_pct_start(pct_start, three_phase=False),
            "div_final": check_positive("div_final", div_final, fix=_DIV_FINAL_FIX)}


def _flat_cos(total_steps: int, lr: float, pct_start: float, div_final: float) -> np.ndarray:
    schedule = combine([pct_start, 1.0 - pct_start],
                       [partial(anneal_none, lr, lr), partial(anneal_cos, lr, lr / div_final)])
    return schedule(_positions(total_steps))


def flat_cos(total_steps: int, lr: float, pct_start: float = 0.75,
             div_final: float = 1e5) -> np.ndarray:
    """Per-step learning rates: flat, then cosine annealing (fastai ``fit_flat_cos``).

    ``lr`` for ``pos < pct_start``, then ``anneal_cos(lr, lr/div_final, (pos - pct_start) /
    (1 - pct_start))``, with ``pos = i / total_steps``.

    >>> flat_cos(8, 1.0, pct_start=0.75, div_final=100).round(6).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.505]
    """
    total_steps = _check_total(total_steps)
    lr = check_positive("lr", lr, fix="e.g. the LR finder's suggestion.")
    return _flat_cos(total_steps, lr, **_flat_cos_options(pct_start, div_final))


def _sgdr_options(n_cycles: object, cycle_len: object, cycle_mult: object = 2) -> dict:
    """:func:`sgdr`'s cycle arguments, checked."""
    n_cycles = check_int("n_cycles", n_cycles, 1, fix="the number of cosine cycles, e.g. "
                         "n_cycles=3.")
    cycle_len = check_int("cycle_len", cycle_len, 1, fix="the first cycle's length in epochs, "
                          "e.g. cycle_len=1.")
    cycle_mult = check_int("cycle_mult", cycle_mult, 1, fix="each cycle is cycle_mult times "
                           "longer than the one before, e.g. cycle_mult=2 (1: equal cycles).")
    return {"n_cycles": n_cycles, "cycle_len": cycle_len, "cycle_mult": cycle_mult}


def sgdr_epochs(n_cycles: int, cycle_len: int, cycle_mult: int = 2) -> int:
    """Epochs of an SGDR run: cycle ``k`` (from 0) lasts ``cycle_len * cycle_mult**k`` epochs.

    ``cycle_len * (cycle_mult**n_cycles - 1) // (cycle_mult - 1)`` (fastai ``fit_sgdr``'s
    ``n_epoch``), or ``n_cycles * cycle_len`` when ``cycle_mult == 1`` (where fastai divides
    by zero). All three are ints >= 1.

    >>> sgdr_epochs(3, 1, 2), sgdr_epochs(2, 3, 3), sgdr_epochs(4, 2, 1)
    (7, 12, 8)
    """
    return sum(_cycle_epochs(**_sgdr_options(n_cycles, cycle_len, cycle_mult)))


def _cycle_epochs(n_cycles: int, cycle_len: int, cycle_mult: int) -> list[int]:
    return [cycle_len * cycle_mult**k for k in range(n_cycles)]


def _sgdr(total_steps: int, lr_max: float, n_cycles: int, cycle_len: int,
          cycle_mult: int) -> np.ndarray:
    """:func:`sgdr`'s arrays from checked arguments, for any ``total_steps``: cycle ``k``
    starts at the first step whose position reaches its first epoch's share of the run."""
    cycle_epochs = _cycle_epochs(n_cycles, cycle_len, cycle_mult)
    n_epochs = sum(cycle_epochs)
    schedule = combine([e / n_epochs for e in cycle_epochs],
                       [partial(anneal_cos, lr_max, 0.0)] * n_cycles)
    lrs = schedule(_positions(total_steps))
    starts = -(-np.cumsum([0, *cycle_epochs[:-1]]) * total_steps // n_epochs)  # exact ceil
    lrs[starts[starts < total_steps]] = lr_max
    return lrs


def sgdr(steps_per_epoch: int, n_cycles: int, cycle_len: int, lr_max: float,
         cycle_mult: int = 2) -> np.ndarray:
    """Per-step learning rates of SGDR, cosine annealing with warm restarts (fastai
    ``fit_sgdr``; Loshchilov & Hutter, 2017).

    ``n_cycles`` cycles; cycle ``k`` (from 0) lasts ``cycle_len * cycle_mult**k`` epochs and
    is ``anneal_cos(lr_max, 0, ·)`` over its own steps: it starts at exactly ``lr_max``, is at
    ``lr_max / 2`` half-way, and its last step is one step short of 0; the next cycle restarts
    at ``lr_max``. Built as fastai does: :func:`combine` of one cosine per cycle, with phase
    lengths ``cycle epochs / total epochs``, at ``pos = i / total_steps``; each cycle's first
    step is pinned to ``lr_max`` (a float boundary can land an ulp after it, which would give
    the previous cycle's end, ~0, instead of the restart). Cycles start at epoch boundaries.

    Args:
        steps_per_epoch: training batches per epoch, int >= 1.
        n_cycles: number of cycles, int >= 1.
        cycle_len: the first cycle's length in epochs, int >= 1.
        lr_max: the learning rate each cycle starts from, finite and > 0.
        cycle_mult: each cycle is this many times longer than the one before; int >= 1.

    Returns:
        float64 array of ``steps_per_epoch * sgdr_epochs(n_cycles, cycle_len, cycle_mult)``
        learning rates.

    >>> sgdr(2, n_cycles=2, cycle_len=1, lr_max=1.0, cycle_mult=2).round(6).tolist()
    [1.0, 0.5, 1.0, 0.853553, 0.5, 0.146447]
    """
    steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, 1,
                                fix="pass the number of training batches per epoch.")
    options = _sgdr_options(n_cycles, cycle_len, cycle_mult)
    lr_max = check_positive("lr_max", lr_max, fix="e.g. the LR finder's suggestion.")
    total = steps_per_epoch * sum(_cycle_epochs(**options))
    return _sgdr(total, lr_max, **options)


def exp_sweep(start_lr: float, end_lr: float, num_it: int) -> np.ndarray:
    """LR-finder sweep, geometric, with both endpoints.

    ``lr_i = start_lr * (end_lr / start_lr) ** (i / (num_it - 1))`` for ``i = 0 .. num_it-1``.
    The first value is ``start_lr`` and the last is ``end_lr``, both exact. Consecutive values
    have the same ratio ``(end_lr / start_lr) ** (1 / (num_it - 1))``.

    >>> exp_sweep(1e-3, 1e-1, 3).tolist()
    [0.001, 0.01, 0.1]
    """
    start_lr, end_lr, num_it = _check_sweep(start_lr, end_lr, num_it)
    pos = np.arange(num_it, dtype=np.float64) / (num_it - 1)
    lrs = anneal_exp(start_lr, end_lr, pos)
    lrs[0], lrs[-1] = start_lr, end_lr  # pin both ends (the formula can be 1 ulp off at 1)
    return lrs


def lin_sweep(start_lr: float, end_lr: float, num_it: int) -> np.ndarray:
    """LR sweep, linear, with both endpoints.

    ``lr_i = start_lr + (end_lr - start_lr) * i / (num_it - 1)`` for ``i = 0 .. num_it-1``.
    The first and last values are exact.

    >>> lin_sweep(1.0, 3.0, 5).tolist()
    [1.0, 1.5, 2.0, 2.5, 3.0]
    """
    start_lr, end_lr, num_it = _check_sweep(start_lr, end_lr, num_it)
    pos = np.arange(num_it, dtype=np.float64) / (num_it - 1)
    lrs = anneal_linear(start_lr, end_lr, pos)
    lrs[0], lrs[-1] = start_lr, end_lr
    return lrs


# --------------------------------------------------------------------------------------------
# One learning rate per layer group (fastai's ``lr=slice(...)``)
# --------------------------------------------------------------------------------------------

def even_mults(start: float, stop: float, n: int) -> np.ndarray:
    """``n`` values from ``start`` to ``stop``, evenly spaced on a log scale (fastai's
    ``even_mults``): ``start * (stop / start) ** (i / (n - 1))``; ``[stop]`` when ``n == 1``."""
    start = check_positive("start", start)
    stop = check_positive("stop", stop)
    n = check_int("n", n, 1)
    if n == 1:
        return np.array([stop])
    return start * (stop / start) ** (np.arange(n) / (n - 1))


def spread_lr(lr: object, ratios: tuple | None) -> object:
    """``lr`` as a learning rate per group: a number times ``ratios`` (a ``MultiOptimizer``'s);
    anything else (a slice, a list, None, or a number without ratios) as it is, for
    :func:`group_lrs`."""
    if ratios is None or isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        return lr
    return [float(lr) * r for r in ratios]


def group_lrs(lr: float | slice | Sequence[float], n: int, name: str = "lr") -> np.ndarray:
    """One learning rate per group for ``lr``: a number, a ``slice`` (see the module doc) or a
    sequence of ``n`` numbers. ``slice(lo, hi)`` needs at least two groups to spread over."""
    n = check_int("n", n, 1)
    if isinstance(lr, (list, tuple, np.ndarray)):
        if len(lr) != n:
            raise fail(name, f"one learning rate per layer group ({n})", lr,
                       f"pass {n} values, a number or a slice.")
        return np.array([check_positive(f"{name}[{i}]", v, fix=f"in {name}={list(lr)!r}; "
                                        "every group's learning rate is > 0, e.g. 1e-3.")
                         for i, v in enumerate(lr)])
    if not isinstance(lr, slice):
        return np.full(n, check_positive(name, lr, fix=f"e.g. {name}=1e-3 (lr_find suggests "
                                         "one), or a slice(1e-5, 1e-3) over layer groups."))
    if lr.step is not None:
        raise fail(name, "slice(hi) or slice(lo, hi)", lr, "a slice of learning rates has no "
                   "step.")
    hi = check_positive(f"{name}.stop", lr.stop, fix=f"e.g. {name}=slice(1e-5, 1e-3).")
    if lr.start is None:
        return np.array([hi / 10] * (n - 1) + [hi])
    lo = check_positive(f"{name}.start", lr.start, fix=f"e.g. {name}=slice(1e-5, 1e-3).")
    if n == 1:
        raise fail(name, "a number or slice(hi) for a Learner with one layer group", lr,
                   "slice(lo, hi) spreads learning rates over layer groups; pass splitter=... "
                   "to the Learner for more groups, or a single learning rate.")
    if lo > hi:
        raise fail(name, "slice(lo, hi) with lo <= hi (the first group gets lo, the last hi)",
                   lr, f"swap them: slice({hi:g}, {lo:g}).")
    return even_mults(lo, hi, n)


# --------------------------------------------------------------------------------------------
# Fit plans: the one builder behind fit_one_cycle, fit_flat_cos, fit_sgdr and fine_tune
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Plan:
    """The hyper-parameters of every step of one fit, as
    :class:`~tflearner.callbacks.ParamScheduler` plays them: ``lr`` float64 ``[steps, groups]``
    (first layer group first), ``mom`` ``[steps]`` or None (not scheduled); ``peaks``: each
    group's peak LR the plan was laid out from."""

    lr: np.ndarray
    mom: np.ndarray | None = None
    peaks: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return len(self.lr)

    def arrays(self) -> dict[str, np.ndarray]:
        """``{"lr": ..., "mom": ...}``, without what is not scheduled."""
        return {"lr": self.lr} if self.mom is None else {"lr": self.lr, "mom": self.mom}

    def without_mom(self) -> Plan:
        return Plan(self.lr, None, self.peaks)


#: Each policy's shape-argument check and its layout ``(total_steps, peak, **checked)`` of the
#: last group's LRs (and momentums for one-cycle).
_POLICIES: dict[str, tuple[Callable[..., dict], Callable[..., object]]] = {
    "one_cycle": (_one_cycle_options, _one_cycle),
    "flat_cos": (_flat_cos_options, _flat_cos),
    "sgdr": (_sgdr_options, _sgdr),
}
#: The policies :func:`fit_plan` lays out.
POLICIES = tuple(_POLICIES)


def fit_plan(policy: str, total_steps: int, max_lr: float | slice | Sequence[float],
             n_groups: int = 1, name: str = "max_lr", **options: object) -> Plan:
    """The one schedule builder: ``policy``'s :class:`Plan` for ``total_steps`` steps.

    ``max_lr`` is spread over ``n_groups`` layer groups by :func:`group_lrs` (a number, a
    ``slice`` or one value per group; ``name`` names it in errors): the last group's LRs are
    ``policy``'s at its peak, and group ``g``'s are those times ``peak_g / peak_last``.
    ``options`` are the policy's own (checked here, with every other argument, once):

    * ``"one_cycle"`` (:func:`one_cycle`): ``pct_start``, ``div``, ``div_final``, ``moms``,
      ``anneal``, ``three_phase`` (defaults :data:`ONE_CYCLE_DEFAULTS`); ``mom`` scheduled
      unless ``moms=None``;
    * ``"flat_cos"`` (:func:`flat_cos`): ``pct_start``, ``div_final``;
    * ``"sgdr"`` (:func:`sgdr`): ``n_cycles``, ``cycle_len``, ``cycle_mult``; restarts at the
      steps where each cycle's share of the run begins (epoch boundaries when ``total_steps``
      is a whole number of epochs).

    Any number of steps and any peaks: a short trial fit is the same policy, compressed.

    >>> plan = fit_plan("flat_cos", 4, slice(1e-3), n_groups=2, pct_start=0.5, div_final=10)
    >>> plan.lr.round(6).tolist()
    [[0.0001, 0.001], [0.0001, 0.001], [0.0001, 0.001], [5.5e-05, 0.00055]]
    """
    check_choice("policy", policy, _POLICIES, fix="one of fit_plan's policies.")
    check_options, lay_out = _POLICIES[policy]
    try:
        inspect.signature(check_options).bind(**options)
    except TypeError:
        raise TypeError(f"fit_plan({policy!r}) got options {sorted(options)}; its options are "
                        f"{list(inspect.signature(check_options).parameters)}.") from None
    checked = check_options(**options)
    total_steps = _check_total(total_steps)
    peaks = group_lrs(max_lr, n_groups, name)
    out = lay_out(total_steps, float(peaks[-1]), **checked)
    lrs, moms = out if isinstance(out, tuple) else (out, None)
    return Plan(lrs[:, None] * (peaks / peaks[-1])[None, :], moms, peaks)


def fine_tune_phases(base_lr: float, lr_mult: float = 100, pct_start: float = 0.3,
                     div: float = 5.0, **form: object) -> list[tuple[slice, dict]]:
    """fastai's ``fine_tune`` as two one-cycle phases: ``[(max_lr, options)]`` for the frozen
    phase (``slice(base_lr)``, ``pct_start=0.99``) and the unfrozen one (``slice(base_lr / 2 /
    lr_mult, base_lr / 2)``, ``pct_start``, ``div``), both in fastai's one-cycle form
    (:data:`FASTAI_ONE_CYCLE`, updated with ``form``). :func:`fine_tune_plans` lays them out.
    """
    base_lr = check_positive("base_lr", base_lr, fix="e.g. base_lr=2e-3, or lr_find's.")
    lr_mult = check_positive("lr_mult", lr_mult)
    form = {**FASTAI_ONE_CYCLE, **form}
    _one_cycle_options(**{**form, "pct_start": pct_start, "div": div})  # both phases' errors
    half = base_lr / 2
    return [(slice(base_lr), {**form, "pct_start": 0.99}),
            (slice(half / lr_mult, half), {**form, "pct_start": pct_start, "div": div})]


def fine_tune_plans(frozen_steps: int, unfrozen_steps: int, base_lr: float, n_groups: int,
                    **phases: object) -> list[Plan]:
    """The :class:`Plan` of each phase of :func:`fine_tune_phases` (``phases``: its arguments)
    for ``frozen_steps`` (0: no frozen phase) and ``unfrozen_steps`` steps."""
    frozen_steps = check_int("frozen_steps", frozen_steps, 0, fix="0 skips the frozen phase.")
    plans = [fit_plan("one_cycle", steps, max_lr, n_groups, **options)
             for steps, (max_lr, options) in zip(
                 (frozen_steps, unfrozen_steps), fine_tune_phases(base_lr, **phases),
                 strict=True) if steps]
    return plans
