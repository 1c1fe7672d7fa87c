"""Throughput of ``Learner.fit`` against ``model.fit`` (the named baseline), in one process.

LeNet-5, CIFAR-shaped data in memory (random uint8 images, scaled to [0, 1] by the same tf.data
pipeline for both), batch 128, plain SGD, progress off, no validation. Each round trains one
epoch with each side, alternating which goes first; the first round (tracing) is discarded.
Prints img/s per round, the median of the per-round ratios Learner.fit / model.fit, and the
ratio of the best rounds (robust to the stalls this shared 2-core VM shows: some epochs of
either side take ~2x as long for reasons outside the process).

    python benchmarks/bench_loop.py [--n 20000] [--rounds 7] [--batch-size 128]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tflearner import DataBundle, Learner, LeNet  # noqa: E402


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

    keras.utils.set_random_seed(0)
    learn = Learner(LeNet(), data, lr=args.lr, quiet=True)
    baseline = LeNet()
    baseline.compile(optimizer=keras.optimizers.SGD(args.lr),
                     loss="sparse_categorical_crossentropy")

    def run_learner() -> float:
        t = time.perf_counter()
        learn.fit(1)
        return args.n / (time.perf_counter() - t)

    def run_keras() -> float:
        t = time.perf_counter()
        baseline.fit(data.train, epochs=1, verbose=0)
        return args.n / (time.perf_counter() - t)

    run_learner(), run_keras()  # warm-up: tracing
    ours, theirs = [], []
    for r in range(args.rounds):
        order = (run_learner, run_keras) if r % 2 == 0 else (run_keras, run_learner)
        res = {f.__name__: f() for f in order}
        ours.append(res["run_learner"])
        theirs.append(res["run_keras"])
        print(f"round {r}: Learner.fit {ours[-1]:8.0f} img/s   model.fit {theirs[-1]:8.0f} img/s"
              f"   ratio {ours[-1] / theirs[-1]:.3f}")
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    print(f"median: Learner.fit {statistics.median(ours):.0f} img/s, model.fit "
          f"{statistics.median(theirs):.0f} img/s, ratio {statistics.median(ratios):.3f} "
          f"(baseline: keras model.fit, steps_per_execution=1)")
    print(f"best rounds: Learner.fit {max(ours):.0f} img/s, model.fit {max(theirs):.0f} img/s, "
          f"ratio {max(ours) / max(theirs):.3f}")
    print(f"traces: {dict(learn.loop.trace_counts)}")


if __name__ == "__main__":
    main()
