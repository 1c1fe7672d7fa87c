"""The noise-aware ceiling: the grid's best LR, trained again (a battery plugin).

The oracle row scores the seed's best grid LR with the very run that made it best: the maximum
of eight or nine noisy fits, so its regret is 0 by construction. Any method whose LR is not
exactly a grid point is scored on a fresh fit, an independent draw of the run-to-run noise, and
pays the grid maximum's winner's curse on top of any error in its LR. These rows measure that
price: they answer the seed's best grid LR moved by 1/48 of a decade (x1.049 and /1.049,
which changes the expected score by nothing measurable but gives a fresh trajectory), so
their regret is what a finder that knew the best LR exactly would be charged. Where their
worst is above 3 points, no LR chooser can meet a 3-point worst on that problem.

    python -m benchmarks.lr_battery --plugin benchmarks.lr_battery.oracle_rerun \\
        --methods oracle-rerun,oracle-rerun-low --cache benchmarks/results/lr_battery-cache.json
"""

from __future__ import annotations

from .cache import Cache, fit_key
from .methods import Budget, Choice, register

__all__ = ["JITTER", "grid_best"]

#: The factor the grid's best LR is moved by: 1/48 of a decade.
JITTER = 10 ** (1 / 48)


def grid_best(setup, epochs: int) -> tuple[float, int]:
    """``(the seed's best grid LR, grid size)`` from the battery's cache (the grid stage runs
    first, so it is there); the first of ties, as :func:`runner.oracle_lr`."""
    p, cache = setup.problem, Cache(setup.args.cache)
    scores = []
    for i, lr in enumerate(p.lrs()):
        key = fit_key(p.name, setup.seed, p.variant, lr, epochs)
        if key not in cache:
            raise RuntimeError(f"{key} is not in {cache.path}: run the grid stage first.")
        scores.append((cache[key]["score"], -i, lr))
    return max(scores)[2], len(scores)


def _rerun(factor: float):
    def choose(learn, setup, budget: Budget) -> Choice:
        lr, n = grid_best(setup, budget.epochs)
        return Choice(lr * factor, cost=float(n), info={"grid_best": lr})

    return choose


register("oracle-rerun")(_rerun(JITTER))
register("oracle-rerun-low")(_rerun(1 / JITTER))
