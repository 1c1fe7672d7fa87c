"""Throughput of the Learner's loop against ``model.fit`` (the named baseline), in one process.

LeNet-5, CIFAR-shaped data in memory (random uint8 images, scaled to [0, 1] by the same tf.data
pipeline for all sides), batch 128, SGD with momentum 0.9, no validation. Sides:

* ``model.fit``: Keras 3 ``model.fit`` (``steps_per_execution=1``, its default), verbose 0.
* ``one_cycle``: ``Learner.fit_one_cycle`` with the defaults (8 batches per compiled call), LR
  and momentum set every batch, recorder on, tqdm progress on (to a null stream).
* ``one_cycle/spe1``: the same with ``steps_per_execution=1`` (one batch per call).
* ``fit``: ``Learner.fit`` at a constant LR, progress off.

Each round trains one epoch with each side, in a rotating order; a warm-up round (tracing) is
discarded. This shared 2-core VM pins whole epochs of any side to one fixed low rate at random
(the same rate to 0.3 %, e.g. 11.74k img/s, for reasons outside the process), so three ratios
to ``model.fit`` are printed: the median of the per-round ratios, the ratio of the best rounds,
and the ratio of the medians over *unpinned* epochs (rate more than 2 % above the lowest rate
seen in the run), the headline figure.

    python benchmarks/bench_loop.py [--n 20000] [--rounds 7] [--batch-size 128]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from tflearner import SGD, DataBundle, Learner, LeNet, ProgressCallback  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20000, help="training images per epoch")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.01)
    args = p.parse_args()

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, args.n)
    data = DataBundle.from_arrays(x, y, batch_size=args.batch_size, valid_pct=0.0)
    null = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process

    keras.utils.set_random_seed(0)
    bar = functools.partial(tqdm, file=null)
    learners = {
        "one_cycle": Learner(LeNet(), data, opt=SGD(args.lr, momentum=0.9), quiet=True),
        "one_cycle/spe1": Learner(LeNet(), data, opt=SGD(args.lr, momentum=0.9), quiet=True,
                                  steps_per_execution=1),
        "fit": Learner(LeNet(), data, opt=SGD(args.lr, momentum=0.9), quiet=True),
    }
    baseline = LeNet()
    baseline.compile(optimizer=keras.optimizers.SGD(args.lr, momentum=0.9),
                     loss="sparse_categorical_crossentropy")

    def one_cycle(learn: Learner) -> None:
        progress = ProgressCallback(bar=bar, write=null.write)
        learn.fit_one_cycle(1, args.lr * 10, callbacks=[progress])

    runs = {
        "model.fit": lambda: baseline.fit(data.train, epochs=1, verbose=0),
        "one_cycle": lambda: one_cycle(learners["one_cycle"]),
        "one_cycle/spe1": lambda: one_cycle(learners["one_cycle/spe1"]),
        "fit": lambda: learners["fit"].fit(1),
    }

    def timed(name: str) -> float:
        t = time.perf_counter()
        runs[name]()
        return args.n / (time.perf_counter() - t)

    names = list(runs)
    for name in names:  # warm-up: tracing
        timed(name)
    speed: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            speed[name].append(timed(name))
        print(f"round {r}: " + "  ".join(f"{name} {speed[name][-1]:6.0f}" for name in names)
              + " img/s", flush=True)
    base = speed["model.fit"]
    pinned = min(min(v) for v in speed.values()) * 1.02

    def free(values: list[float]) -> float:
        above = [v for v in values if v > pinned]
        return statistics.median(above) if above else float("nan")

    print(f"baseline: keras model.fit (steps_per_execution=1), median "
          f"{statistics.median(base):.0f} img/s, best {max(base):.0f} img/s, unpinned median "
          f"{free(base):.0f} img/s ({sum(v > pinned for v in base)} of {len(base)} epochs)")
    for name in names[1:]:
        ratios = [a / b for a, b in zip(speed[name], base, strict=True)]
        unpinned = free(speed[name]) / free(base)
        print(f"{name:15s} ratio to model.fit: unpinned medians {unpinned:.3f}"
              f" ({sum(v > pinned for v in speed[name])} epochs), median of rounds "
              f"{statistics.median(ratios):.3f}, best rounds {max(speed[name]) / max(base):.3f}")
    print("traces: " + ", ".join(f"{k} {dict(v.loop.trace_counts)}" for k, v in learners.items()))


if __name__ == "__main__":
    main()
