"""Does Keras' BatchNormalization default (``momentum=0.99``) hurt short fits? Measured.

A BN layer evaluates with moving statistics, updated once per training batch by
``moving = momentum * moving + (1 - momentum) * batch``. After ``n`` steps the initial values
(mean 0, variance 1) still weigh ``momentum ** n``: 0.37 after 100 steps at 0.99, 0.05 after
300, but 3e-5 and 5e-14 at 0.9. This script measures what that does to validation accuracy.

Setup: scikit-learn's 8x8 digits (1,797 images, 20 % held out, seeded split), a small CNN
(three 3x3 convolutions with BatchNormalization + ReLU, global average pooling, a softmax
layer), Adam, ``fit_one_cycle`` at one fixed ``max_lr`` for every run. For each seed (initial
weights and data order) and each budget (epochs; the steps are epochs x batches per epoch), the
same run is made with BN momentum 0.99 (Keras' default) and 0.9, from the same initial weights.
It prints validation accuracy per run, and per budget the mean over seeds and the mean gap.

    python benchmarks/bn_momentum.py [--seeds 0 1 2] [--epochs 2 7 22] [--max-lr 3e-3]

Needs scikit-learn (the ``dev`` extras). Runs on demand (a few minutes on 2 CPU cores), not in CI.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tflearner import DataBundle, Learner  # noqa: E402


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as float32 images ``(1797, 8, 8, 1)`` in [0, 1] and int labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images[..., None] / 16.0).astype("float32"), d.target.astype("int64")


def bn_cnn(momentum: float, seed: int) -> keras.Model:
    """Three conv + BN + ReLU blocks, global average pooling, 10-way softmax; the initial
    weights depend on ``seed`` only (BN's momentum creates no weights)."""
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((8, 8, 1))]
    for filters in (16, 32, 64):
        layers += [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
                   keras.layers.BatchNormalization(momentum=momentum),
                   keras.layers.ReLU()]
    layers += [keras.layers.GlobalAveragePooling2D(),
               keras.layers.Dense(10, activation="softmax")]
    return keras.Sequential(layers)


def run(seed: int, epochs: int, momentum: float, max_lr: float,
        x: np.ndarray, y: np.ndarray) -> tuple[int, float]:
    """Steps trained and validation accuracy of one fit."""
    data = DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0.2, seed=seed)
    learn = Learner(bn_cnn(momentum, seed), data, opt="adam", quiet=True)
    with warnings.catch_warnings():  # the hint this benchmark is the evidence for
        warnings.simplefilter("ignore", UserWarning)
        learn.fit_one_cycle(epochs, max_lr)
    return epochs * data.n_train_batches, float(learn.validate()["accuracy"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, nargs="+", default=[2, 7, 22])
    p.add_argument("--max-lr", type=float, default=3e-3)
    args = p.parse_args()
    x, y = digits()
    t0 = time.perf_counter()
    print(f"digits {x.shape}, BN CNN, Adam, fit_one_cycle max_lr={args.max_lr}, batch 32, "
          f"seeds {args.seeds}")
    print(f"{'epochs':>6} {'steps':>5} {'seed':>4} {'acc m=0.99':>10} {'acc m=0.9':>9}")
    table = []
    for epochs in args.epochs:
        accs: dict[float, list[float]] = {0.99: [], 0.9: []}
        for seed in args.seeds:
            for m in accs:
                steps, acc = run(seed, epochs, m, args.max_lr, x, y)
                accs[m].append(acc)
            print(f"{epochs:6d} {steps:5d} {seed:4d} {accs[0.99][-1]:10.3f} {accs[0.9][-1]:9.3f}",
                  flush=True)
        gaps = [b - a for a, b in zip(accs[0.99], accs[0.9], strict=True)]
        table.append((epochs, steps, statistics.mean(accs[0.99]), min(accs[0.99]),
                      statistics.mean(accs[0.9]), min(accs[0.9]), statistics.mean(gaps)))
    print("\nmean (worst) validation accuracy over seeds; gap = mean(0.9 - 0.99)")
    print(f"{'steps':>5} {'momentum 0.99':>15} {'momentum 0.9':>15} {'gap':>6}")
    for _, steps, m99, w99, m90, w90, gap in table:
        print(f"{steps:5d} {m99:8.3f} ({w99:.3f}) {m90:8.3f} ({w90:.3f}) {gap:+6.3f}")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
