"""The LR range test on a Learner: one sweep, ``k`` sweeps inside one snapshot, and ``lr_find``.

Two entry points for code that races LRs on a Learner's own training state:

* :func:`run_sweep` runs **one** sweep from the current state through the Learner's loop (the
  same compiled step as every fit) and returns its curve; it restores nothing.
* :func:`preserved_sweeps` runs ``k`` sweeps inside ``preserved(learn.snapshot(where))``: each
  from the same state, sweep ``r`` with the data order of epoch counter ``+ r *
  REPEAT_EPOCH_OFFSET``, and everything restored bit for bit after the last (also after an
  exception or Ctrl-C).

:func:`lr_find` is ``Learner.lr_find``: the checks, :func:`preserved_sweeps`, then
:func:`~tflearner.lr_finder.finder.compute_suggestions`.
"""

from __future__ import annotations

import math
import warnings
from collections import namedtuple
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from ..callbacks.progress import SweepProgress
from ..core.caller import warn_at_caller
from ..core.checks import check_bool, check_choice, check_int
from ..core.events import CallbackList
from ..core.fit_state import StopLimits
from ..core.snapshot import preserved
from ..optim.accumulate import UpdateClock
from ..optim.schedule_free import sweep_warmup_problem
from ..schedules import exp_sweep, lin_sweep
from .finder import (
    DEFAULT_SUGGESTIONS,
    LRFinder,
    check_sweep_args,
    collapse_accumulated,
    compute_suggestions,
    resolve_suggesters,
    still_falling,
    sweep_beta,
    sweep_limits,
    sweep_reason,
)
from .repeats import REPEAT_EPOCH_OFFSET
from .suggest import trim
from .verify import DEFAULT_BUDGET, Planned, Race, planned_fit
from .verify import verify as run_race

__all__ = ["Sweep", "make_sweep", "run_sweep", "preserved_sweeps", "lr_find", "verified_lr",
           "EXTENSIONS", "EXTENSION_FACTOR"]

#: A sweep that ran to ``end_lr`` with the loss still falling runs again up to this many
#: times, each time to ``EXTENSION_FACTOR`` x the last ``end_lr`` (``num_it`` grown to keep the
#: LRs' density), so its curve turns where it can be read.
EXTENSIONS = 2
EXTENSION_FACTOR = 100.0


class SweepHandle(Protocol):
    """What the driver needs of a Learner."""

    opt: Any
    data: Any
    hypers: Any
    recorder: Any
    callbacks: list
    quiet: bool
    loop: Any
    suggested_lr: float | None
    last_sweep: dict | None
    averaging: Any

    def snapshot(self, where: str = "device") -> Any: ...


@dataclass(frozen=True)
class Sweep:
    """One LR sweep on one Learner: ``lrs`` (one per optimizer update), the smoothing ``beta``
    per update, the loop's ``limits`` and the ``clock`` of updates it starts from (``batches``:
    the micro-batches it runs, ``epochs`` of the data that covers)."""

    lrs: np.ndarray
    beta: float
    limits: StopLimits
    clock: UpdateClock
    batches: int
    epochs: int


def make_sweep(learn: SweepHandle, lrs: np.ndarray, beta: float, stop_div: bool = True,
               div_threshold: float = 4.0) -> Sweep:
    """A :class:`Sweep` of ``lrs`` (checked values) from the Learner's current state: under
    gradient accumulation one LR per update, ``k`` micro-batches each, smoothed by
    ``beta ** (1 / k)`` per batch."""
    clock = UpdateClock.of(learn.opt)
    batches = clock.batches_for(len(lrs))
    n_iter = learn.data.n_train_batches
    epochs = batches if not n_iter else -(-batches // n_iter)  # cycle the data
    return Sweep(np.asarray(lrs, dtype=np.float64), beta ** (1.0 / clock.k),
                 sweep_limits(batches, stop_div, div_threshold), clock, batches, epochs)


def run_sweep(learn: SweepHandle, sweep: Sweep, quiet: bool | None = None) -> dict:
    """Run ``sweep`` once from the current state (nothing restored); returns its curve:
    ``lrs``, ``losses``, ``smooth_losses`` (one point per applied update), ``stop_reason``
    (:func:`~tflearner.lr_finder.finder.sweep_reason`), ``stop_step``, ``stop_lr``. The
    Learner's recorder holds the same curve afterwards."""
    rec = learn.recorder
    cbs = [rec, *learn.callbacks, LRFinder(sweep.lrs)]
    if not (learn.quiet if quiet is None else quiet):
        cbs.append(SweepProgress(total=sweep.batches))
    state = learn.loop.fit(learn.data.train, sweep.epochs, None, CallbackList(cbs),
                           learner=learn, smooth_beta=sweep.beta, with_train_metrics=False,
                           limits=sweep.limits)
    stop_step = state.step - 1
    if sweep.clock.k > 1:
        collapse_accumulated(rec, sweep.clock)  # one point per applied update
        stop_step = len(rec.lrs) - 1
    return {"lrs": list(rec.lrs), "losses": list(rec.losses),
            "smooth_losses": list(rec.smooth_losses),
            "stop_reason": sweep_reason(state.stop_reason), "stop_step": stop_step,
            "stop_lr": float(rec.lrs[-1]) if rec.lrs else None}


def preserved_sweeps(learn: SweepHandle, sweep: Sweep, repeats: int = 1, where: str = "auto",
                     quiet: bool | None = None) -> list[dict]:
    """``repeats`` runs of ``sweep`` (:func:`run_sweep`), each from the state as it is now and
    sweep ``r`` with the data order shifted by ``r * REPEAT_EPOCH_OFFSET``, inside
    ``preserved(learn.snapshot(where))``: the state is restored bit for bit afterwards. The
    recorder's own lists hold the first sweep; with ``repeats > 1`` ``recorder.sweeps`` all."""
    rec, sweeps, first = learn.recorder, [], None
    with preserved(learn.snapshot(where)) as snap:
        for r in range(repeats):
            if r:  # the same start, a fresh data order: epoch counter + r * offset
                snap.restore()
                for counter in learn.data.rng_state:
                    counter.assign_add(r * REPEAT_EPOCH_OFFSET)
            learn.averaging.sync_base()  # schedule-free: z starts at the sweep's weights
            sweeps.append(run_sweep(learn, sweep, quiet))
            if r == 0 and repeats > 1:  # put back after the last sweep
                first = rec.history_state()
    if repeats > 1:
        rec.load_history_state(first)
        rec.sweeps = sweeps
        if all(s["losses"] == sweeps[0]["losses"] for s in sweeps[1:]):
            warn_at_caller(
                f"lr_find(repeats={repeats}): the {repeats} sweeps recorded identical losses, "
                "so the data order did not change between them (a dataset with a fixed "
                "order and no DataBundle epoch counter) and the spread measures nothing; "
                "shuffle the training data (DataBundle.from_arrays / from_folder do).")
    return sweeps


def _first_suggestion(names: list[str], result: tuple) -> float | None:
    """``learn.suggested_lr``: the first method's suggestion, else the next one that has one
    (with a warning naming both), else None."""
    for i, lr in enumerate(result):
        if lr is not None:
            if i:
                warn_at_caller(
                    f"lr_find: {names[0]} has no suggestion, so learn.suggested_lr (what "
                    f"fit_one_cycle(max_lr=None) uses) is {names[i]}'s {lr:.2e}; look at the plot "
                    f"(learn.recorder.plot()) before you train with it.")
            return lr
    return None


@dataclass(frozen=True)
class SweepArgs:
    """lr_find's sweep arguments, checked (``beta`` None: the default for each ``num_it``)."""

    start_lr: float
    end_lr: float
    num_it: int
    beta: float | None
    stop_div: bool
    div_threshold: float
    mode: str

    def lrs(self) -> np.ndarray:
        return (exp_sweep if self.mode == "exp" else lin_sweep)(self.start_lr, self.end_lr,
                                                               self.num_it)

    def extended(self) -> SweepArgs:
        """The same sweep to ``EXTENSION_FACTOR`` x ``end_lr``, as dense per decade."""
        grow = math.log(self.end_lr * EXTENSION_FACTOR / self.start_lr) / math.log(
            self.end_lr / self.start_lr)
        return replace(self, end_lr=self.end_lr * EXTENSION_FACTOR,
                       num_it=int(math.ceil(self.num_it * grow)))


def _still_falling(curve: dict, num_it: int) -> bool:
    return curve["stop_reason"] == "end" and still_falling(
        *trim(curve["lrs"], curve["smooth_losses"], num_it=num_it))


def _sweeps(learn: SweepHandle, args: SweepArgs, repeats: int, where: str,
            quiet: bool | None, extend: bool) -> tuple[list[dict], SweepArgs, int]:
    """The sweeps (extended while still falling when ``extend``), the arguments of the last,
    and every update they trained."""
    trained = 0
    for i in range(EXTENSIONS + 1):
        beta = sweep_beta(args.num_it) if args.beta is None else args.beta
        sweep = make_sweep(learn, args.lrs(), beta, args.stop_div, args.div_threshold)
        sweeps = preserved_sweeps(learn, sweep, repeats, where, quiet)
        trained += sum(len(s["lrs"]) for s in sweeps)
        if not (extend and i < EXTENSIONS and _still_falling(sweeps[0], args.num_it)):
            return sweeps, args, trained
        args = args.extended()
    raise AssertionError("unreachable")


def lr_find(learn: SweepHandle, start_lr: float = 1e-7, end_lr: float = 10.0, num_it: int = 100,
            stop_div: bool = True, beta: float | None = None, div_threshold: float = 4.0,
            suggest_funcs: Any = DEFAULT_SUGGESTIONS, show_plot: bool = False,
            mode: str = "exp", quiet: bool | None = None, repeats: int = 1,
            snapshot: str = "auto", extend: bool = True, verify: bool = False,
            epochs: int | None = None, budget: float = DEFAULT_BUDGET,
            policy: str = "one_cycle"):
    """See :meth:`Learner.lr_find <tflearner.Learner.lr_find>`."""
    start_lr, end_lr, num_it, _, div_threshold = check_sweep_args(
        start_lr, end_lr, num_it, beta, div_threshold, mode, stop_div)
    repeats = check_int("repeats", repeats, 1,
                        fix="1 is one sweep; 3 to 5 measure how sure the suggestion is.")
    check_bool("extend", extend)
    check_bool("verify", verify)
    names, funcs = resolve_suggesters(suggest_funcs)
    problem = sweep_warmup_problem(learn.opt, num_it)
    if problem is not None:
        warn_at_caller(problem)
    planned = None
    if verify:
        if epochs is None:
            raise ValueError("verify=True races trial fits sized to the fit you will run: pass "
                             "its epochs (e.g. lr_find(verify=True, epochs=10)), or call "
                             "fit_one_cycle(10, max_lr='auto').")
        check_choice("policy", policy, ("one_cycle", "flat_cos"),
                     fix="fit_sgdr(..., lr_max='auto') and fine_tune(..., base_lr='auto') race "
                         "their own fits.")
        planned = planned_fit(learn, policy, check_int(
            "epochs", epochs, 1, fix="the epochs of the fit the race is sized to."))
    elif epochs is not None:
        raise ValueError(f"epochs={epochs!r} sizes the race of verify=True; pass verify=True "
                         "too, or leave epochs out.")
    args = SweepArgs(start_lr, end_lr, num_it, beta, stop_div, div_threshold, mode)
    return _find(learn, args, names, funcs, repeats, snapshot, quiet, extend, planned, budget,
                 show_plot)


def _find(learn: SweepHandle, args: SweepArgs, names: list, funcs: list, repeats: int,
          where: str, quiet: bool | None, extend: bool, planned: Planned | None,
          budget: float, show_plot: bool = False):
    """The sweeps, their suggestions and (``planned``) the race; returns ``SuggestedLRs``."""
    sweeps, args, trained = _sweeps(learn, args, repeats, where, quiet, extend)
    rec = learn.recorder
    beta = sweep_beta(args.num_it) if args.beta is None else args.beta
    rec.lr_find_info = {"num_it": args.num_it, "end_lr": args.end_lr,
                        "stop_reason": sweeps[0]["stop_reason"],
                        "stop_step": sweeps[0]["stop_step"], "stop_lr": sweeps[0]["stop_lr"],
                        "beta": beta, "lr_mults": learn.hypers.ratios.tolist(),
                        "accumulation": UpdateClock.of(learn.opt).k, "repeats": repeats}
    with warnings.catch_warnings():
        if planned is not None:  # the race's verdict speaks for the answer, not the rules'
            warnings.simplefilter("ignore")
        result = compute_suggestions(rec, names, funcs, args.num_it,
                                     sweeps if repeats > 1 else None)
    learn.last_sweep = rec.lr_find_info  # for the guard rail; outlives the next fit's reset
    if planned is None:
        rec.race = None
        learn.suggested_lr = _first_suggestion(names, result)
    else:
        race = run_race(learn, sweeps[0], planned, trained, budget, where,
                      learn.quiet if quiet is None else quiet)
        rec.race, learn.suggested_lr = race, race.lr
        result = with_race(result, race)
        if not race.sure:
            warn_at_caller(f"lr_find: the verified LR {race.lr:.3g} is not sure: "
                           + "; ".join(race.reasons) + ".")
    if show_plot:
        rec.plot()
    return result


def verified_lr(learn: SweepHandle, planned: Planned, quiet: bool | None = None,
                budget: float = DEFAULT_BUDGET) -> float:
    """``max_lr="auto"``: ``lr_find``'s default sweep, then the race sized to ``planned``;
    returns the verified LR (the recorder keeps the sweep and the race until the fit)."""
    names, funcs = resolve_suggesters(DEFAULT_SUGGESTIONS)
    args = SweepArgs(1e-7, 10.0, 100, None, True, 4.0, "exp")
    _find(learn, args, names, funcs, 1, "auto", quiet, True, planned, budget)
    return float(learn.suggested_lr)


def with_race(result: Any, race: Race) -> Any:
    """``result`` (a ``SuggestedLRs``) with the verified LR first (``verified``) and the
    ``race``, its ``sure`` and ``cost`` as attributes."""
    cls = namedtuple("SuggestedLRs", ["verified", *result._fields])
    attrs = {"__slots__": (), "__doc__": cls.__doc__, "spread": {"verified": None, **result.spread},
             "race": race, "sure": race.sure, "cost": race.cost}
    return type("SuggestedLRs", (cls,), attrs)(race.lr, *result)
