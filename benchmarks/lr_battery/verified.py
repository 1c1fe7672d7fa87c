"""The verified LR finder as a battery method: ``lr_find(verify=True)`` sized to the problem's
final fit (``fine_tune``'s phases for a transfer problem, as ``fine_tune(base_lr="auto")``
races them), with the problem's own sweep arguments. Its cost is what the battery counts: every
batch of the sweep (and its extensions) and of every trial, in full-fit units."""

from __future__ import annotations

from tflearner.lr_finder.driver import verified_lr
from tflearner.lr_finder.verify import planned_fit
from tflearner.training.transfer import frozen_for_sweep

from .methods import Budget, Choice, register

__all__ = ["verified"]


def _race_info(race) -> dict:
    return {"sure": race.sure, "reasons": list(race.reasons), "race_cost": race.cost,
            "winner": race.winner, "cliff": race.cliff, "baseline": race.baseline,
            "exponent": race.exponent,
            "rounds": [[{"lr": t.lr, "steps": t.steps, "loss": t.loss} for t in r]
                       for r in race.rounds]}


@register("verified", ladder=True)
def verified(learn, setup, budget: Budget) -> Choice:
    if budget.fine_tune:  # fine_tune(epochs - 1, base_lr, freeze_epochs=1)
        planned = planned_fit(learn, "fine_tune", budget.epochs - 1, freeze_epochs=1)
        with frozen_for_sweep(learn, 1):
            lr = verified_lr(learn, planned, quiet=True)
    else:
        lr = learn.lr_find(verify=True, epochs=budget.epochs, quiet=True,
                           **setup.problem.sweep).verified
    return Choice(lr, info=_race_info(learn.recorder.race))
