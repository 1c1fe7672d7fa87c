"""Images/s of the folder pipeline (decode + resize + augment) against the LeNet training step.

Two image trees are written to a temporary folder (one sub-folder per class, odd images PNG,
even images JPEG, deleted at exit; the page cache is warm, so reading costs little):

* ``sample``: the 1,900 training images of the CIFAR-10 sample shipped with tflearner;
* ``cifar``: the first ``--n`` (default 10,000) training images of the real CIFAR-10 archive
  (``--cifar``, default ``../shared/datasets/cifar-10-python.tar.gz``).

For each tree and each ``--sizes`` entry (default 32 and 64: the images resized to 32×32, as
stored, and to 64×64, with a LeNet built for that size), ``DataBundle.from_folder(valid_pct=0,
batch_size=64, seed=42)`` is timed over whole epochs, one side at a time:

* ``pipe``: iterating ``data.train`` alone (read + decode + resize + scale), no augment;
* ``pipe+aug``: the same with ``augment=aug_transforms()`` (the fastai-style defaults);
* ``fit/memory`` (the baseline: the training step alone): ``Learner(LeNet(), mem,
  opt=SGD(0.01, momentum=0.9), quiet=True).fit(1)`` on ``DataBundle.from_arrays`` of the same
  images already decoded and resized in memory (uint8, gather + scale only);
* ``fit/folder``: the same Learner setup, ``fit(1)`` on the augmented folder data, end to end.

A warm-up epoch of every side (tracing) is discarded, then ``--rounds`` rounds run each side
once, in a rotating order. Printed per row: the median images/s of each side and three ratios,
``pipe/step`` and ``pipe+aug/step`` (pipeline rate alone / training-step rate: above 1 means
the pipeline can keep up with the step) and ``e2e`` (``fit/folder`` / ``fit/memory``: what
training from files costs end to end; the pipeline and the step share the same CPU cores, so
this can sit below 1 even when the pipeline alone is faster). ``serial`` is the ``e2e`` that
no overlap at all would give, ``1 / (1/pipe+aug + 1/step)`` over ``step``: an ``e2e`` near it
means the CPU is saturated and the two costs simply add. Ratios are medians of the per-round
ratios (sides of one round run back to back, so they share the machine's state).

    python benchmarks/folder_pipeline.py [--n 10000] [--rounds 5] [--sizes 32 64]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tflearner import (  # noqa: E402
    SGD,
    DataBundle,
    Learner,
    LeNet,
    aug_transforms,
    load_cifar10,
)
from tflearner.data.cifar import CIFAR10_CLASSES  # noqa: E402
from tflearner.data.folder import write_image_folder  # noqa: E402

SIDES = ("pipe", "pipe+aug", "fit/memory", "fit/folder")
BATCH = 64


def in_memory(data: DataBundle) -> tuple[np.ndarray, np.ndarray]:
    """The un-augmented pipeline's images as uint8 (what ``from_arrays`` scales back)."""
    xs, ys = [], []
    for xb, yb in data.train:
        xs.append(np.round(xb.numpy() * 255.0).astype(np.uint8))
        ys.append(yb.numpy())
    return np.concatenate(xs), np.concatenate(ys)


def iterate(ds: tf.data.Dataset) -> None:
    for _ in ds:
        pass


def bench_row(name: str, root: Path, size: int, rounds: int, lr: float) -> dict[str, float]:
    img_size = (size, size)
    plain = DataBundle.from_folder(root, valid_pct=0.0, img_size=img_size, batch_size=BATCH,
                                   seed=42)
    aug = DataBundle.from_folder(root, valid_pct=0.0, img_size=img_size, batch_size=BATCH,
                                 seed=42, augment=aug_transforms())
    n = plain.meta["n_train"]
    x, y = in_memory(plain)  # also the warm-up epoch of `pipe`
    mem = DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=BATCH, seed=42)

    keras.utils.set_random_seed(0)

    def learner(data: DataBundle) -> Learner:
        return Learner(LeNet(input_shape=(size, size, 3)), data, opt=SGD(lr, momentum=0.9),
                       quiet=True)

    learn_mem, learn_folder = learner(mem), learner(aug)
    runs: dict[str, Callable[[], object]] = {
        "pipe": lambda: iterate(plain.train),
        "pipe+aug": lambda: iterate(aug.train),
        "fit/memory": lambda: learn_mem.fit(1),
        "fit/folder": lambda: learn_folder.fit(1),
    }

    def timed(side: str) -> float:
        t = time.perf_counter()
        runs[side]()
        return n / (time.perf_counter() - t)

    for side in SIDES[1:]:  # warm-up: tracing (`pipe` warmed up by in_memory)
        timed(side)
    speed: dict[str, list[float]] = {side: [] for side in SIDES}
    for r in range(rounds):
        order = SIDES[r % len(SIDES):] + SIDES[:r % len(SIDES)]
        for side in order:
            speed[side].append(timed(side))
        print(f"  {name} {size}px round {r}: "
              + "  ".join(f"{side} {speed[side][-1]:6.0f}" for side in SIDES) + " img/s",
              flush=True)

    def ratio(a: str, b: str) -> float:
        return statistics.median(p / q for p, q in zip(speed[a], speed[b], strict=True))

    med = {side: statistics.median(v) for side, v in speed.items()}
    return {"n": n, **med, "pipe/step": ratio("pipe", "fit/memory"),
            "pipe+aug/step": ratio("pipe+aug", "fit/memory"),
            "e2e": ratio("fit/folder", "fit/memory"),
            "serial": statistics.median(a / (a + s) for a, s in zip(
                speed["pipe+aug"], speed["fit/memory"], strict=True))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10000, help="images in the CIFAR-sized tree")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--sizes", type=int, nargs="+", default=[32, 64], help="img_size per row")
    p.add_argument("--cifar", default="../shared/datasets/cifar-10-python.tar.gz",
                   help="the real CIFAR-10 archive (or folder) for the CIFAR-sized tree")
    p.add_argument("--lr", type=float, default=0.01)
    args = p.parse_args()

    start = time.perf_counter()
    print(f"machine: os.cpu_count()={os.cpu_count()}, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}; batch {BATCH}, {args.rounds} rounds + warm-up, "
          "median img/s per side")
    (xs, ys), _ = load_cifar10(sample=True)
    (xc, yc), _ = load_cifar10(path=args.cifar)
    xc, yc = xc[:args.n], yc[:args.n]
    results = []
    with tempfile.TemporaryDirectory(prefix="tflearner-folder-bench-") as tmp:
        trees = {"sample": (Path(tmp) / "sample", xs, ys), "cifar": (Path(tmp) / "cifar", xc, yc)}
        for name, (root, x, y) in trees.items():
            t = time.perf_counter()
            write_image_folder(root, x, y, CIFAR10_CLASSES)
            print(f"tree {name}: {len(x)} images (half PNG, half JPEG, 32x32) written in "
                  f"{time.perf_counter() - t:.1f} s", flush=True)
        for size in args.sizes:
            for name, (root, _, _) in trees.items():
                results.append((name, size, bench_row(name, root, size, args.rounds, args.lr)))

    print()
    print(f"{'tree':7s} {'size':>5s} {'images':>6s} " + " ".join(f"{s:>10s}" for s in SIDES)
          + f" {'pipe/step':>9s} {'aug/step':>9s} {'e2e':>6s} {'serial':>6s}")
    for name, size, r in results:
        print(f"{name:7s} {size:>3d}px {r['n']:>6d} "
              + " ".join(f"{r[s]:>10.0f}" for s in SIDES)
              + f" {r['pipe/step']:>9.2f} {r['pipe+aug/step']:>9.2f} {r['e2e']:>6.2f}"
              f" {r['serial']:>6.2f}")
    print("baseline: fit/memory (the training step alone, same images in memory). "
          "pipe/step, aug/step: pipeline alone / fit/memory (> 1: the pipeline keeps up); "
          "e2e: fit/folder / fit/memory; serial: the e2e of no overlap (medians of per-round "
          "ratios)")
    print(f"total run time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
