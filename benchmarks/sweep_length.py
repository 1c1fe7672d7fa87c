"""Does lr_find's suggestion depend on how long the sweep is? Suggestions over seeds and lengths.

For each model/optimizer combo of ``suggest_quality.py`` and each seed (initial weights; the
data order is the same for all), run ``lr_find`` with ``num_it`` 100 (fastai's default) and a
longer sweep, once with fastai's fixed ``beta=0.98`` and once with tflearner's default
``beta=None`` (``1 - 2/num_it``, which is 0.98 at 100 steps). Prints every seed's ``robust``
suggestion, the median and the spread (largest / smallest) per setting. No training runs: what
a suggestion is worth is read off the 3-epoch accuracy grid that ``suggest_quality.py`` recorded
(``--grid``, by default ``tests/data/lr_find_curves.json``), interpolated linearly in log LR
between grid points, so the regrets printed (best grid accuracy minus the interpolated accuracy
at the suggestion; mean and worst over seeds) are indicative. Runs on demand (minutes), not in
CI.

    python benchmarks/sweep_length.py --data-dir ../shared/datasets/cifar-10-python.tar.gz
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from suggest_quality import COMBOS  # noqa: E402

from tflearner import Learner, cifar10_data  # noqa: E402

GRID = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "lr_find_curves.json")


def regret(grid: dict[str, float], lr: float | None) -> float:
    """Best grid accuracy minus the accuracy at ``lr`` (linear in log10 LR between grid points;
    no suggestion counts as chance, 0.10, as in ``suggest_quality.py``)."""
    best = max(grid.values())
    if lr is None:
        return best - 0.10
    x = np.log10([float(k) for k in grid])
    return best - float(np.interp(np.log10(lr), x, list(grid.values())))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="CIFAR-10 folder or tar.gz (default: sample)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--combos", default=",".join(COMBOS))
    p.add_argument("--seeds", default="0,1,2,3,4,5,6,7")
    p.add_argument("--long", type=int, default=300, help="the longer sweep's num_it")
    p.add_argument("--grid", default=GRID, help="suggest_quality's recorded curves and grids")
    args = p.parse_args()
    with open(args.grid) as f:
        grids = {c: v["grid"] for c, v in json.load(f)["combos"].items()}
    warnings.simplefilter("ignore", UserWarning)  # suggesters explain their Nones; we report

    data = cifar10_data(args.batch_size, seed=0, path=args.data_dir,
                        sample=args.data_dir is None)
    seeds = [int(s) for s in args.seeds.split(",")]
    settings = [(100, None), (args.long, 0.98), (args.long, None)]
    regrets: dict[str, list[float]] = {}
    for combo in args.combos.split(","):
        make_model, make_opt = COMBOS[combo]
        print(f"\n== {combo}: robust suggestion per seed {seeds}")
        for num_it, beta in settings:
            lrs = []
            for seed in seeds:
                keras.utils.set_random_seed(seed)
                for v in data.rng_state:
                    v.assign(0)
                learn = Learner(make_model(), data, opt=make_opt(), quiet=True)
                lrs.append(learn.lr_find(num_it=num_it, beta=beta).robust)
            found = [lr for lr in lrs if lr is not None]
            label = f"num_it {num_it:4d}, beta {'1-2/num_it' if beta is None else beta}"
            spread = max(found) / min(found) if found else float("nan")
            summary = (f"median {statistics.median(found):.3g}  spread {spread:5.2f}"
                       if found else "no suggestion")
            r = [regret(grids[combo], lr) for lr in lrs]
            regrets.setdefault(label, []).append(sum(r) / len(r))
            print(f"   {label:30s} {summary}  regret mean {sum(r) / len(r):.4f} worst "
                  f"{max(r):.4f}  |  " + " ".join("None" if lr is None else f"{lr:.3g}"
                                                  for lr in lrs), flush=True)
    print("\nmean interpolated regret over combos (each: mean over seeds):")
    for label, values in regrets.items():
        print(f"   {label:30s} {sum(values) / len(values):.4f}   "
              + "  ".join(f"{v:.4f}" for v in values))


if __name__ == "__main__":
    main()
