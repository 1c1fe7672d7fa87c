"""Test accuracy of the seed's 10-epoch one-cycle run against max_lr, over seeds: the oracle curve.

``reproduce_seed.py`` runs ``fit_one_cycle`` at the LR that ``lr_find`` suggests. This script
runs the same model, data, budget and defaults at each LR of a list, for each seed, so you can
see what the best LR could have given and how flat the curve is near it. LeNet-5, CIFAR-10
45k/5k/10k, batch 128, ``fit_one_cycle(epochs, max_lr, wd=wd)`` with tflearner's defaults; each
seed fixes the initial weights (data order fixed). Prints one row per LR: test accuracy per
seed, their mean, and the valid mean. An entry ``suggestN`` instead runs each seed at its own
``lr_find(num_it=N)`` suggestion (the way ``reproduce_seed.py`` does, printed in the row), so
suggestions can be read against the fixed-LR curve. Minutes per run on a 2-core CPU; not a CI
test.

    python benchmarks/lr_curve.py --data-dir ../shared/datasets/cifar-10-python.tar.gz \\
        --opt adam --lrs 2e-3,3e-3,4e-3,6.5e-3,1e-2,1.5e-2,suggest100,suggest300 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from reproduce_seed import make_learner, suggested_lr  # noqa: E402

from tflearner import cifar10_data  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="CIFAR-10 folder or tar.gz (default: sample)")
    p.add_argument("--opt", default="adam", help="optimizer name (Keras defaults)")
    p.add_argument("--lrs", default="2e-3,3e-3,4e-3,6.5e-3,1e-2,1.5e-2")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--wd", type=float, default=None, help="decoupled weight decay (default: none)")
    p.add_argument("--epochs", type=int, default=10)
    args = p.parse_args()

    data = cifar10_data(128, path=args.data_dir, sample=args.data_dir is None)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"{args.opt}, wd {args.wd}, fit_one_cycle({args.epochs}, max_lr), test % per seed "
          f"{seeds}, mean; valid mean")
    for entry in args.lrs.split(","):
        tests, valids, used, t0 = [], [], [], time.perf_counter()
        for seed in seeds:
            if entry.startswith("suggest"):
                lr, _ = suggested_lr(data, seed, args.opt, num_it=int(entry[len("suggest"):]))
                if lr is None:
                    raise SystemExit(f"seed {seed}: lr_find gave no suggestion ({entry}).")
            else:
                lr = float(entry)
            used.append(lr)
            learn = make_learner(data, seed, opt=args.opt)
            learn.fit_one_cycle(args.epochs, lr, wd=args.wd)
            tests.append(100 * learn.validate(data.test)["accuracy"])
            valids.append(100 * learn.validate()["accuracy"])
        label = (f"{entry} ({'/'.join(f'{v:.2g}' for v in used)})" if entry.startswith("suggest")
                 else f"max_lr {used[0]:.3g}")
        print(f"{label:30s} " + "  ".join(f"{t:5.2f}" for t in tests)
              + f"   mean {statistics.mean(tests):5.2f}   valid {statistics.mean(valids):5.2f}"
              f"   ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
