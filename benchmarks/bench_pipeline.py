"""The array pipeline alone against the training step alone, host gather against arrays placed on
a device (``DataBundle.from_arrays(device=...)``), in one process.

LeNet-5, ``--n`` CIFAR-shaped random uint8 images in memory, batch 128, SGD momentum 0.9, no
validation. The device is the first GPU when TensorFlow sees one, else ``/CPU:0`` (the in-step
gather then runs on the CPU too: on a CPU the measurement shows what the placed path costs or
saves there; on a GPU, what removing the per-batch host gather and image copy is worth). Sides,
each timed over whole epochs (wall and process CPU time):

* ``pipe/host``: iterating ``data.train`` alone (tf.data: shuffled indices, gather + scale on
  the host, prefetch);
* ``pipe/indices``: iterating ``data.placed.indices`` alone (what tf.data still does per batch
  with placed arrays);
* ``step/prefetched``: the compiled ``train_steps`` alone, chunks of 32, on batches already
  made (one epoch of ``data.train`` cached in memory): the step without any gather;
* ``step/placed``: the same compiled call on index batches, gathering from the placed arrays
  inside the step (the gather's cost is the difference to ``step/prefetched``);
* ``fit/host`` and ``fit/placed``: ``Learner.fit(1)`` end to end, each way.

A warm-up round is discarded; then ``--rounds`` rounds run every side once in a rotating order.
Printed: median images/s (wall), median CPU seconds per epoch, and the ratios
``pipe/host ÷ step/prefetched`` (above 1: the host pipeline keeps up with the step) and
``fit/placed ÷ fit/host`` (wall and CPU). The load average is printed at the start and end.

    python benchmarks/bench_pipeline.py [--n 10240] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tflearner import SGD, DataBundle, Learner, LeNet  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10240)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    args = p.parse_args()
    gpus = tf.config.list_logical_devices("GPU")
    device = gpus[0].name if gpus else "/CPU:0"
    print(f"# load average at start (1, 5, 15 min): {os.getloadavg()}; {os.cpu_count()} CPUs; "
          f"placed on {device}; n={args.n}, batch {args.batch_size}", flush=True)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, args.n)
    kw = dict(batch_size=args.batch_size, valid_pct=0.0, seed=0)
    host = DataBundle.from_arrays(x, y, device="host", **kw)
    placed = DataBundle.from_arrays(x, y, device=device, **kw)
    learn_h = Learner(LeNet(), host, opt=SGD(0.01, momentum=0.9), quiet=True,
                      steps_per_execution=32)
    learn_p = Learner(LeNet(), placed, opt=SGD(0.01, momentum=0.9), quiet=True,
                      steps_per_execution=32)
    cached = host.train.cache()
    for _ in cached:  # fill the cache: the batches are made once, before timing
        pass

    steps = learn_h.loop.steps
    cols = len(learn_h.hypers.plan_columns())
    plan = tf.constant(np.full((32, cols), np.nan, np.float32))
    carry = {k: tf.constant(v, tf.float64) for k, v in
             {"avg": 0.0, "count": 0.0, "best": np.inf}.items()}
    limits = {k: tf.constant(v, tf.float64) for k, v in
              {"beta": 0.98, "div_limit": np.inf, "terminate": 1.0, "metrics": 0.0}.items()}

    def step_epoch(compiled, ds) -> None:
        it = iter(ds)
        while len(compiled(it, plan, tf.constant(32), carry, limits)["rows"]["loss"]) == 32:
            pass

    def drain(ds) -> None:
        for _ in ds:
            pass

    sides = {
        "pipe/host": lambda: drain(host.train),
        "pipe/indices": lambda: drain(placed.placed.indices),
        "step/prefetched": lambda: step_epoch(steps.train_steps, cached),
        "step/placed": lambda: step_epoch(learn_p.loop.steps.train_steps,
                                          placed.placed.indices),
        "fit/host": lambda: learn_h.fit(1),
        "fit/placed": lambda: learn_p.fit(1),
    }

    def timed(name: str) -> tuple[float, float]:
        c, t = time.process_time(), time.perf_counter()
        sides[name]()
        return args.n / (time.perf_counter() - t), time.process_time() - c

    names = list(sides)
    for name in names:
        timed(name)
    rate: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            a, b = timed(name)
            rate[name].append(a)
            cpu[name].append(b)
        print(f"round {r} img/s: " + "  ".join(f"{n} {rate[n][-1]:7.0f}" for n in names),
              flush=True)
    med = {n: statistics.median(rate[n]) for n in names}
    mcpu = {n: statistics.median(cpu[n]) for n in names}
    print(f"{'side':16s} {'img/s':>9s} {'CPU s/epoch':>11s}")
    for n in names:
        print(f"{n:16s} {med[n]:9.0f} {mcpu[n]:11.3f}")
    print(f"pipe/host / step/prefetched: wall {med['pipe/host'] / med['step/prefetched']:.2f}x "
          f"(the host pipeline alone is that many times faster than the step alone)")
    print(f"step/placed / step/prefetched: wall "
          f"{med['step/placed'] / med['step/prefetched']:.3f}, CPU "
          f"{mcpu['step/prefetched'] / mcpu['step/placed']:.3f} (the in-step gather's cost)")
    print(f"fit/placed / fit/host: wall {med['fit/placed'] / med['fit/host']:.3f}, CPU "
          f"{mcpu['fit/host'] / mcpu['fit/placed']:.3f} (> 1: placed is faster)")
    print("traces: host " + str(dict(learn_h.loop.trace_counts)) + ", placed "
          + str(dict(learn_p.loop.trace_counts)))
    print(f"# load average at end (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
