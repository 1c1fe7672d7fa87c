"""The noise-aware ceiling: the grid's best LR, trained again (a battery plugin).

The oracle row scores the seed's best grid LR with the very run that made it best: the maximum
of its grid's 6-11 noisy fits, so its regret is 0 by construction. Any method whose LR is not
exactly a grid point is scored on a fresh fit, an independent draw of the run-to-run noise, and
pays the grid maximum's winner's curse on top of any error in its LR. These rows measure that
price: they answer the seed's best grid LR moved by 1/48 of a decade (x1.049 and /1.049,
which changes the expected score by nothing measurable but gives a fresh trajectory), so
their regret is what a finder that knew the best LR exactly would be charged. Where their
worst is above 3 points, no LR chooser scored on a fresh fit can be sure of a 3-point worst on
that problem.

    python -m benchmarks.lr_battery --plugin benchmarks.lr_battery.oracle_rerun \\
        --methods oracle-rerun,oracle-rerun-low --cache benchmarks/results/lr_battery-cache.json
"""

from __future__ import annotations

from .cache import Cache
from .methods import Budget, Choice, register
from .runner import Unit, oracle_lr

__all__ = ["JITTER"]

#: The factor the grid's best LR is moved by: 1/48 of a decade.
JITTER = 10 ** (1 / 48)


def _rerun(factor: float):
    def choose(learn, setup, budget: Budget) -> Choice:
        # the grid stage ran first: a dry Unit reads its fits from the cache (Missing if not)
        unit = Unit(setup.problem, setup.seed, setup.args, Cache(setup.args.cache), dry=True)
        lr = oracle_lr(unit)
        return Choice(lr * factor, cost=float(len(setup.problem.lrs())),
                      info={"grid_best": lr})

    return choose


register("oracle-rerun")(_rerun(JITTER))
register("oracle-rerun-low")(_rerun(1 / JITTER))
