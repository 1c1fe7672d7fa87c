"""The verified LR finder: after the sweep, race candidate LRs with short trial fits of the fit
the user will run, then put everything back (``lr_find(verify=True)``,
``fit_one_cycle(max_lr="auto")``, ``fine_tune(base_lr="auto")``).

Every trial starts from the state the race found (weights, optimizer slots and counters,
hyper-parameters, data order, which layer groups are frozen), trains the planned policy laid out
for a fraction of the planned fit's optimizer updates (:func:`tflearner.schedules.fit_plan`;
``fine_tune``'s two phases in proportion), and is scored by its loss on the validation set. The
rounds and how they are read are :mod:`tflearner.lr_finder.race`'s; this module runs them inside
``preserved(learn.snapshot(where))``, so the state is back bit for bit afterwards, also after an
exception or Ctrl-C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..callbacks.progress import RaceProgress
from ..callbacks.scheduler import ParamScheduler
from ..core.checks import check_choice, check_real
from ..core.events import Callback, CallbackList
from ..core.fit_state import FitState, StopLimits, StopReason
from ..core.snapshot import preserved
from ..optim.accumulate import UpdateClock
from ..optim.detect import is_normalized
from ..optim.groups import kept_trainable
from ..schedules import fine_tune_phases, fine_tune_plans, fit_plan
from . import race as R

__all__ = ["Planned", "Race", "planned_fit", "verify", "POLICIES", "DEFAULT_BUDGET"]

#: The fits a race can be sized to.
POLICIES = ("one_cycle", "flat_cos", "sgdr", "fine_tune")
#: The most a sweep and its race may cost, in planned fits. Round 1 and its refinement cost
#: about 0.9 of a fit; only when nothing learned in round 1 does round 2 take up to one more.
DEFAULT_BUDGET = 2.0


@dataclass(frozen=True)
class Planned:
    """The fit a race is sized to: ``policy`` (:data:`POLICIES`), its optimizer ``updates``,
    its ``options`` (:func:`~tflearner.schedules.fit_plan`'s; for ``"fine_tune"``
    :func:`~tflearner.schedules.fine_tune_phases`' arguments) and, for ``"fine_tune"``, the
    share of updates its frozen phase takes (``frozen_share``); ``wd``: the fit's weight decay
    (None: the Learner's)."""

    policy: str
    updates: int
    options: dict = field(default_factory=dict)
    frozen_share: float = 0.0
    wd: float | None = None


@dataclass(frozen=True)
class Race:
    """What :func:`verify` found. ``lr``: the verified LR (the last layer group's peak; for
    ``fine_tune`` its ``base_lr``); ``sure`` and ``reasons`` (:func:`~tflearner.lr_finder.race.
    assess`); ``winner``: the winning trial's LR, before the horizon adjustment ``lr = winner *
    (trial_updates / updates) ** exponent``; ``rounds``: every trial, round by round, in LR
    order; ``baseline``: the validation loss before any trial; ``cliff``: the sweep's cliff;
    ``cost``: the sweep and the trials in planned fits (optimizer updates)."""

    lr: float
    sure: bool
    reasons: tuple[str, ...]
    winner: float
    rounds: tuple[tuple[R.Trial, ...], ...]
    baseline: float
    cliff: float
    cost: float
    exponent: float
    planned: Planned

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: every field, trials as dicts (their curves included)."""
        return {"lr": self.lr, "sure": self.sure, "reasons": list(self.reasons),
                "winner": self.winner, "baseline": self.baseline, "cliff": self.cliff,
                "cost": self.cost, "exponent": self.exponent, "policy": self.planned.policy,
                "updates": self.planned.updates,
                "rounds": [[t.__dict__ for t in r] for r in self.rounds]}


class VerifyHandle(Protocol):
    """What the race needs of a Learner."""

    opt: Any
    data: Any
    hypers: Any
    groups: list
    callbacks: list
    loop: Any
    runner: Any
    model: Any
    averaging: Any

    def snapshot(self, where: str = "device") -> Any: ...
    def freeze(self) -> Any: ...
    def unfreeze(self) -> Any: ...


def planned_fit(learn: VerifyHandle, policy: str, epochs: int, wd: float | None = None,
                **options: Any) -> Planned:
    """The :class:`Planned` fit of ``epochs`` epochs of ``policy`` at weight decay ``wd``, every
    option checked now (before any sweep), its length counted in optimizer updates."""
    check_choice("policy", policy, POLICIES, fix="the fit the race is sized to.")
    n_iter = learn.data.n_train_batches
    if not n_iter:
        raise ValueError("verify needs data.train with a known number of batches per epoch, to "
                         "size the race to the fit; give it one with "
                         "ds.apply(tf.data.experimental.assert_cardinality(n_batches)).")
    if learn.data.valid is None:
        raise ValueError("verify needs a validation set to score its trial fits; build the data "
                         "with one (e.g. DataBundle.from_arrays(..., valid_pct=0.2)).")
    if policy == "fine_tune":
        freeze_epochs = options.pop("freeze_epochs", 1)
        fine_tune_phases(1.0, **options)  # every option's error now
        total = freeze_epochs + epochs
        return Planned(policy, UpdateClock.of(learn.opt).updates_in(total * n_iter), options,
                       freeze_epochs / total, wd)
    fit_plan(policy, 1, 1.0, len(learn.groups), **options)
    return Planned(policy, UpdateClock.of(learn.opt).updates_in(epochs * n_iter), options,
                   wd=wd)


# ---- one trial --------------------------------------------------------------------------------
class _TrialScheduler(ParamScheduler):
    """A plan whose fit stops at its last step (``StopLimits.max_steps``), mid-epoch."""

    exact_length = False


class _LossCurve(Callback):
    """The smoothed training loss of every batch of a trial."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def after_batch(self, state: FitState) -> None:
        self.values.append(float(state.smooth_loss))


def _phases(learn: VerifyHandle, planned: Planned, lr: float, updates: int) -> list:
    """``[(frozen, plan)]`` of a trial of ``updates`` updates at peak ``lr`` (``frozen``: None
    keeps the groups as they are)."""
    n = len(learn.groups)
    if planned.policy != "fine_tune":
        plan = fit_plan(planned.policy, updates, lr * learn.hypers.ratios, n, **planned.options)
        return [(None, plan)]
    frozen = int(round(planned.frozen_share * updates))
    if planned.frozen_share > 0:
        frozen = min(max(frozen, 1), updates - 1)
    plans = fine_tune_plans(frozen, updates - frozen, lr, n, **planned.options)
    return list(zip([True, False][-len(plans):], plans, strict=True))


def _train(learn: VerifyHandle, plan: Any, cbs: list) -> FitState:
    """One phase: ``plan`` from the current state, stopped at its last update."""
    if learn.hypers.mom_attr is None and plan.mom is not None:
        plan = plan.without_mom()
    batches = UpdateClock.of(learn.opt).batches_for(plan.steps)
    epochs = -(-batches // learn.data.n_train_batches)
    return learn.loop.fit(learn.data.train, epochs, None,
                          CallbackList([_TrialScheduler(plan), *learn.callbacks, *cbs]),
                          learner=learn, with_train_metrics=False,
                          limits=StopLimits(max_steps=batches, terminate_on_nan=True))


def run_trial(learn: VerifyHandle, planned: Planned, lr: float, updates: int,
              progress: Callback | None = None) -> R.Trial:
    """One trial from the current state (nothing restored): the trial fit, then the
    validation loss (``inf`` if a batch was non-finite or the loss is)."""
    curve = _LossCurve()
    for frozen, plan in _phases(learn, planned, lr, updates):
        if frozen is not None:
            (learn.freeze if frozen else learn.unfreeze)()
        state = _train(learn, plan, [curve] + ([progress] if progress else []))
        if state.stop_reason == StopReason.NON_FINITE:
            return R.Trial(lr, updates, math.inf, {}, tuple(curve.values))
    with learn.averaging.reading():  # a schedule-free optimizer's trial is read at x
        logs = learn.runner.evaluate(learn.data.valid)
    loss = float(logs.pop("loss"))
    return R.Trial(lr, updates, loss if math.isfinite(loss) else math.inf, logs,
                   tuple(curve.values))


# ---- the race -----------------------------------------------------------------------------------
class _Runner:
    """Runs trials from the saved state and keeps the account of updates trained."""

    def __init__(self, learn: VerifyHandle, planned: Planned, snap: Any, quiet: bool) -> None:
        self.learn, self.planned, self.snap, self.quiet = learn, planned, snap, quiet
        self.updates = 0

    def round(self, lrs: Any, updates: int, label: str) -> list[R.Trial]:
        progress = None if self.quiet else RaceProgress(label, len(lrs), updates)
        out = []
        try:
            for lr in lrs:
                self.snap.restore()
                self.learn.hypers.set(wd=self.planned.wd)
                self.learn.averaging.sync_base()  # z starts at the trial's weights, as a fit's
                out.append(run_trial(self.learn, self.planned, float(lr), updates, progress))
                self.updates += updates
        finally:
            if progress is not None:
                progress.close(out)
        return out


def _ordered(trials: list[R.Trial]) -> list[R.Trial]:
    return sorted(trials, key=lambda t: -t.lr)


def _first_round(run: _Runner, cliff: float, steps: int, baseline: float) -> list[R.Trial]:
    """Round 1, extended past an end winner at most :data:`~race.MAX_EXTENSIONS` times."""
    trials = _ordered(run.round(R.candidate_lrs(cliff), steps, "race: round 1"))
    for _ in range(R.MAX_EXTENSIONS):
        # every trial failed: the cliff was misread (a sweep that never turned), look lower
        end = len(trials) - 1 if R.failed(trials, baseline) else R.pick(trials, baseline)
        more = R.beyond([t.lr for t in trials], end)
        if not more:
            break
        trials = _ordered(trials + run.round(more, steps, "race: past the end"))
    return trials


def _race(run: _Runner, cliff: float, baseline: float, budget_updates: float) -> tuple:
    """The rounds; returns ``(rounds, winner index in the last, trial updates of the last)``."""
    total = run.planned.updates
    steps = R.trial_steps(total, R.FIRST_BUDGET)
    first = _first_round(run, cliff, steps, baseline)
    w = R.pick(first, baseline)
    if R.informative(first, baseline):
        near = R.refine(first[w].lr, [t.lr for t in first])
        first = _ordered(first + run.round(near, steps, "race: refine"))
        return (tuple(first),), R.pick(first, baseline), steps
    left = budget_updates - run.updates
    longer = min(R.SECOND_FACTOR * steps, int(left // 3))
    if longer <= steps:  # no budget left for a longer round
        return (tuple(first),), w, steps
    second = _ordered(run.round(R.second_round(first[w].lr), longer, "race: round 2"))
    return (tuple(first), tuple(second)), R.pick(second, baseline), longer


def verify(learn: VerifyHandle, curve: dict, planned: Planned, sweep_updates: int,
           budget: float = DEFAULT_BUDGET, where: str = "auto", quiet: bool = False) -> Race:
    """Race candidate LRs below the cliff of the sweep ``curve`` (``lrs``, ``smooth_losses``)
    with trial fits of ``planned``, within ``budget`` planned fits counting the sweep's
    ``sweep_updates``; the state is restored bit for bit afterwards."""
    budget = check_real("budget", budget, 0.0, low_open=True,
                        fix="the most the sweep and the race may cost, in planned fits; 2.0 "
                            "by default.")
    cliff, _ = R.cliff_lr(curve["lrs"], curve["smooth_losses"])
    with kept_trainable(learn.model), preserved(learn.snapshot(where)) as snap:
        with learn.averaging.reading():
            baseline = float(learn.runner.evaluate(learn.data.valid)["loss"])
        run = _Runner(learn, planned, snap, quiet)
        rounds, w, steps = _race(run, cliff, baseline,
                                 budget * planned.updates - sweep_updates)
    # the shorter trials' winner is shaded for a normalized optimizer's longer fit (round 1 only:
    # a net that needed round 2 is limited by how fast it learns, not by the LR's noise)
    exponent = R.HORIZON_EXPONENT if len(rounds) == 1 and is_normalized(learn.opt) else 0.0
    winner = rounds[-1][w].lr
    verdict = R.assess(rounds, baseline, w)
    return Race(R.horizon_lr(winner, steps, planned.updates, exponent), verdict.sure,
                verdict.reasons, winner, rounds, baseline, cliff,
                (sweep_updates + run.updates) / planned.updates, exponent, planned)

