"""Cost of lr_find over plain training, and of the snapshot it takes, in one process.

1. LeNet-5 on CIFAR-shaped data in memory (100 batches of 128, no validation), progress off:
   wall time of ``lr_find(num_it=100)`` ÷ wall time of 100 training steps (``fit(1)``) of the
   same Learner. Rounds alternate which goes first; prints every round and the median ratio
   (target ≤ 1.15).
2. ResNet50 (``weights=None``) + Adam: median time of ``Snapshot.save()`` and ``restore()``
   over all of its model and optimizer variables (target ≤ 25 ms for both together).

    python benchmarks/bench_lr_find.py [--rounds 7]
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
from tflearner.core.snapshot import Snapshot  # noqa: E402


def lr_find_ratio(rounds: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (100 * 128, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, len(x))
    data = DataBundle.from_arrays(x, y, batch_size=128, valid_pct=0.0)
    keras.utils.set_random_seed(0)
    learn = Learner(LeNet(), data, lr=0.01, quiet=True)

    def fit_100() -> float:
        t = time.perf_counter()
        learn.fit(1)
        return time.perf_counter() - t

    def find_100() -> float:
        t = time.perf_counter()
        learn.lr_find(num_it=100, stop_div=False)
        return time.perf_counter() - t

    fit_100(), find_100()  # warm-up: traces, snapshot shadows
    ratios = []
    for r in range(rounds):
        if r % 2:
            f, t = find_100(), fit_100()
        else:
            t, f = fit_100(), find_100()
        ratios.append(f / t)
        print(f"round {r}: lr_find(100) {f * 1e3:7.1f} ms   fit 100 steps {t * 1e3:7.1f} ms   "
              f"ratio {f / t:.3f}")
    print(f"median ratio lr_find / 100 training steps: {statistics.median(ratios):.3f} "
          f"(target <= 1.15); traces {dict(learn.loop.trace_counts)}")


def snapshot_time(rounds: int) -> None:
    model = keras.applications.ResNet50(weights=None)
    opt = keras.optimizers.Adam()
    opt.build(model.trainable_variables)
    snap = Snapshot({"model": model.variables, "opt": opt.variables})
    snap.save()
    snap.restore()
    saves, restores = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        snap.save()
        saves.append(time.perf_counter() - t)
        t = time.perf_counter()
        snap.restore()
        restores.append(time.perf_counter() - t)
    n = sum(int(np.prod(v.shape)) for v in snap.variables)
    s, r = statistics.median(saves) * 1e3, statistics.median(restores) * 1e3
    print(f"ResNet50 + Adam: {len(snap.variables)} variables, {n * 4 / 2**20:.0f} MiB; "
          f"snapshot {s:.1f} ms + restore {r:.1f} ms = {s + r:.1f} ms (target <= 25 ms)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    lr_find_ratio(args.rounds)
    snapshot_time(args.rounds)


if __name__ == "__main__":
    main()
