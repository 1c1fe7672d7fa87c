"""How good is each LR suggestion? Accuracy regret against the best LR of a grid.

For each model/optimizer combo on CIFAR-10 (LeNet-5 + plain SGD, LeNet-5 + Adam, LeNet-5 + SGD
with momentum 0.9, and a small batch-normalised CNN + SGD with momentum 0.9): run ``lr_find``
once with every suggestion method, then train a fresh model (same initial weights, same data
order) with ``fit_one_cycle(epochs, max_lr)`` at each suggested LR and at each LR of a
log-spaced grid, and measure validation accuracy. A method's regret is
``best grid accuracy - accuracy at its suggestion``; a method that gives no suggestion is charged
``best grid accuracy - 0.10`` (chance) and marked ``*``. Prints one table per combo and the mean
regret per method. Runs on demand (minutes), not in CI.

    python benchmarks/suggest_quality.py --data-dir ../shared/datasets/cifar-10-python.tar.gz

``--save FILE.json`` also writes every combo's raw lr_find curve and grid accuracies, so a new
suggestion rule can be screened against the recorded curves before it is measured for real.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tflearner import SGD, Learner, LeNet, cifar10_data  # noqa: E402
from tflearner.lr_finder.suggest import SUGGESTERS  # noqa: E402


def small_bn_cnn() -> keras.Model:
    """A second architecture: three conv-BN-ReLU blocks (16/32/64), global pooling, softmax."""
    from keras import layers

    inputs = keras.Input((32, 32, 3))
    x = inputs
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x), name="bn_cnn")


# combo name -> (model factory, optimizer factory)
COMBOS = {
    "lenet-sgd": (LeNet, lambda: None),
    "lenet-adam": (LeNet, lambda: "adam"),
    "lenet-sgd-mom": (LeNet, lambda: SGD(momentum=0.9)),
    "bncnn-sgd-mom": (small_bn_cnn, lambda: SGD(momentum=0.9)),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="CIFAR-10 folder or tar.gz (default: sample)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--grid", type=int, default=10, help="grid points in 10**[-4, 0.5]")
    p.add_argument("--combos", default=",".join(COMBOS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, help="write curves and accuracies to this JSON file")
    args = p.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # suggesters explain their Nones; we report

    data = cifar10_data(args.batch_size, seed=args.seed, path=args.data_dir,
                        sample=args.data_dir is None)
    methods = list(SUGGESTERS)
    grid = 10 ** np.linspace(-4, 0.5, args.grid)
    regrets: dict[str, list[float]] = {m: [] for m in methods}
    saved: dict[str, dict] = {}
    for combo in args.combos.split(","):
        make_model, make_opt = COMBOS[combo]

        def learner(make_model=make_model, make_opt=make_opt) -> Learner:
            keras.utils.set_random_seed(args.seed)  # same init for every run of this combo
            for v in data.rng_state:  # and the same data order
                v.assign(0)
            return Learner(make_model(), data, opt=make_opt(), quiet=True)

        def accuracy(max_lr: float) -> float:
            learn = learner()
            learn.fit_one_cycle(args.epochs, float(max_lr))
            acc = learn.validate()["accuracy"]
            return acc if np.isfinite(learn.recorder.losses[-1]) else 0.0

        t0 = time.perf_counter()
        finder = learner()
        res = finder.lr_find(suggest_funcs=methods)
        grid_acc = {float(lr): accuracy(lr) for lr in grid}
        best_lr, best = max(grid_acc.items(), key=lambda kv: kv[1])
        print(f"\n== {combo}: {args.epochs} epochs of fit_one_cycle; best grid max_lr "
              f"{best_lr:.3g} -> valid accuracy {best:.4f}")
        print("   grid: " + "  ".join(f"{lr:.2g}:{a:.3f}" for lr, a in grid_acc.items()))
        saved[combo] = {
            "lrs": [float(v) for v in finder.recorder.lrs],
            "losses": [float(v) for v in finder.recorder.losses],
            "smooth_losses": [float(v) for v in finder.recorder.smooth_losses],
            "grid": grid_acc,
            "suggestions": {},
        }
        for m in methods:
            lr = getattr(res, m)
            if lr is None:
                regrets[m].append(best - 0.10)
                saved[combo]["suggestions"][m] = None
                print(f"   {m:8s} no suggestion*            regret {best - 0.10:.4f}")
                continue
            acc = accuracy(lr)
            regrets[m].append(best - acc)
            saved[combo]["suggestions"][m] = [float(lr), acc]
            print(f"   {m:8s} lr {lr:9.3g}  accuracy {acc:.4f}  regret {best - acc:.4f}")
        print(f"   ({time.perf_counter() - t0:.0f} s)", flush=True)
        if args.save:
            with open(args.save, "w") as f:
                json.dump({"args": vars(args), "combos": saved}, f, indent=1)
    print("\nmean regret over combos (lower is better):")
    for m in sorted(methods, key=lambda m: statistics.mean(regrets[m])):
        print(f"   {m:8s} {statistics.mean(regrets[m]):.4f}   "
              + "  ".join(f"{r:.4f}" for r in regrets[m]))


if __name__ == "__main__":
    main()
