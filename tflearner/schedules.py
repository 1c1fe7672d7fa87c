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

import math
from collections.abc import Callable, Sequence
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
    start_lr = check_positive("start_lr", start_lr)
    end_lr = check_real("end_lr", end_lr, start_lr, low_open=True, fix="the sweep goes up; "
                        "swap them.", requirement=f"a finite number > start_lr={start_lr!r}")
    num_it = check_int("num_it", num_it, 2, fix="a sweep needs both endpoints, e.g. num_it=100.")
    return start_lr, end_lr, num_it


# --------------------------------------------------------------------------------------------
# combine
# --------------------------------------------------------------------------------------------

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
    total_steps = check_int("total_steps", total_steps, 1, fix=_STEPS_FIX)
    max_lr = check_positive("max_lr", max_lr, fix="e.g. the LR finder's suggestion.")
    three_phase = check_bool("three_phase", three_phase)
    pct_start = _check_pct_start(pct_start, three_phase)
    div = check_positive("div", div, fix="the first lr is max_lr / div, e.g. div=10.")
    div_final = check_positive("div_final", div_final, fix=_DIV_FINAL_FIX)
    moms = _check_moms(moms)
    f = ANNEALERS[check_choice("anneal", anneal, ANNEALERS, fix="pass the annealer's name.")]
    if anneal == "exp" and moms is not None and min(moms) == 0:
        raise fail("moms", "> 0 when anneal='exp' (it interpolates geometrically)", moms,
                   "use anneal='cos' or 'linear' for a momentum of 0.")

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


def flat_cos(total_steps: int, lr: float, pct_start: float = 0.75,
             div_final: float = 1e5) -> np.ndarray:
    """Per-step learning rates: flat, then cosine annealing (fastai ``fit_flat_cos``).

    ``lr`` for ``pos < pct_start``, then ``anneal_cos(lr, lr/div_final, (pos - pct_start) /
    (1 - pct_start))``, with ``pos = i / total_steps``.

    >>> flat_cos(8, 1.0, pct_start=0.75, div_final=100).round(6).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.505]
    """
    total_steps = check_int("total_steps", total_steps, 1, fix=_STEPS_FIX)
    lr = check_positive("lr", lr, fix="e.g. the LR finder's suggestion.")
    pct_start = _check_pct_start(pct_start, three_phase=False)
    div_final = check_positive("div_final", div_final, fix=_DIV_FINAL_FIX)
    schedule = combine([pct_start, 1.0 - pct_start],
                       [partial(anneal_none, lr, lr), partial(anneal_cos, lr, lr / div_final)])
    return schedule(_positions(total_steps))


def _check_sgdr(n_cycles: object, cycle_len: object, cycle_mult: object) -> tuple[int, int, int]:
    n_cycles = check_int("n_cycles", n_cycles, 1, fix="the number of cosine cycles, e.g. "
                         "n_cycles=3.")
    cycle_len = check_int("cycle_len", cycle_len, 1, fix="the first cycle's length in epochs, "
                          "e.g. cycle_len=1.")
    cycle_mult = check_int("cycle_mult", cycle_mult, 1, fix="each cycle is cycle_mult times "
                           "longer than the one before, e.g. cycle_mult=2 (1: equal cycles).")
    return n_cycles, cycle_len, cycle_mult


def sgdr_epochs(n_cycles: int, cycle_len: int, cycle_mult: int = 2) -> int:
    """Epochs of an SGDR run: cycle ``k`` (from 0) lasts ``cycle_len * cycle_mult**k`` epochs.

    ``cycle_len * (cycle_mult**n_cycles - 1) // (cycle_mult - 1)`` (fastai ``fit_sgdr``'s
    ``n_epoch``), or ``n_cycles * cycle_len`` when ``cycle_mult == 1`` (where fastai divides
    by zero). All three are ints >= 1.

    >>> sgdr_epochs(3, 1, 2), sgdr_epochs(2, 3, 3), sgdr_epochs(4, 2, 1)
    (7, 12, 8)
    """
    n_cycles, cycle_len, cycle_mult = _check_sgdr(n_cycles, cycle_len, cycle_mult)
    if cycle_mult == 1:
        return n_cycles * cycle_len
    return cycle_len * (cycle_mult**n_cycles - 1) // (cycle_mult - 1)


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
    n_epochs = sgdr_epochs(n_cycles, cycle_len, cycle_mult)
    lr_max = check_positive("lr_max", lr_max, fix="e.g. the LR finder's suggestion.")
    cycle_epochs = [cycle_len * cycle_mult**k for k in range(n_cycles)]
    schedule = combine([e / n_epochs for e in cycle_epochs],
                       [partial(anneal_cos, lr_max, 0.0)] * n_cycles)
    lrs = schedule(_positions(steps_per_epoch * n_epochs))
    starts = np.cumsum([0, *cycle_epochs[:-1]]) * steps_per_epoch
    lrs[starts] = lr_max
    return lrs


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
