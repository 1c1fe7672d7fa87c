"""Does lr_find's suggestion depend on how long the sweep is? Suggestions over seeds and lengths.

For each model/optimizer combo of ``suggest_quality.py`` and each seed (initial weights; the
data order is the same for all), run ``lr_find`` with ``num_it`` 100 (fastai's default) and a
longer sweep, once with fastai's fixed ``beta=0.98`` and once with tflearner's default
``beta=None`` (``1 - 2/num_it``, which is 0.98 at 100 steps). Prints every seed's ``robust``
suggestion, the median and the spread (largest / smallest) per setting. No training runs: this
measures where the suggestion lands and how much it moves, not what it is worth (see
``suggest_quality.py`` for that). Runs on demand (minutes), not in CI.

    python benchmarks/sweep_length.py --data-dir ../shared/datasets/cifar-10-python.tar.gz
"""

from __future__ import annotations

import argparse
import os
import statistics
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from suggest_quality import COMBOS  # noqa: E402

from tflearner import Learner, cifar10_data  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="CIFAR-10 folder or tar.gz (default: sample)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--combos", default=",".join(COMBOS))
    p.add_argument("--seeds", default="0,1,2,3,4,5,6,7")
    p.add_argument("--long", type=int, default=300, help="the longer sweep's num_it")
    args = p.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # suggesters explain their Nones; we report

    data = cifar10_data(args.batch_size, seed=0, path=args.data_dir,
                        sample=args.data_dir is None)
    seeds = [int(s) for s in args.seeds.split(",")]
    settings = [(100, None), (args.long, 0.98), (args.long, None)]
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
            print(f"   {label:30s} {summary}  |  "
                  + " ".join("None" if lr is None else f"{lr:.3g}" for lr in lrs), flush=True)


if __name__ == "__main__":
    main()
