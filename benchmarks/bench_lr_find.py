"""Cost of lr_find over plain training, and of the snapshot it takes, in one process.

1. LeNet-5 on CIFAR-shaped data in memory (100 batches of 128, no validation), progress off:
   wall time of ``lr_find(num_it=100)`` ÷ wall time of 100 training steps (``fit(1)``) of the
   same Learner. Rounds alternate which goes first; prints every round and the median ratio
   (target ≤ 1.15).
2. ResNet50 (``weights=None``) + Adam: median time of ``Snapshot.save()`` and ``restore()``
   over all of its model and optimizer variables, for each place of the copy
   (``where="device"``: shadow variables, target ≤ 25 ms for both together; ``"host"``: host
   memory tensors, ``lr_find(snapshot="host")``), with process CPU time beside wall time.
3. Peak memory of ``lr_find`` (snapshot on the device, on the host) against a plain fit of as
   many steps, each in a fresh subprocess: an MLP with 34M parameters + Adam (~400 MiB of
   state), a few batches. With a GPU: ``tf.config.experimental.get_memory_info('GPU:0')``'s
   peak after ``reset_memory_stats``; on a CPU: the growth of the process's peak RSS
   (``ru_maxrss``) over what it had after a warm-up fit (on a CPU the device *is* the host, so
   both places cost one copy of the state in RAM).

    python benchmarks/bench_lr_find.py [--rounds 7] [--skip-ratio]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
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
    for where in ("device", "host"):
        snap = Snapshot({"model": model.variables, "opt": opt.variables}, where=where)
        snap.save()
        snap.restore()
        saves, restores, cpu = [], [], []
        for _ in range(rounds):
            c = time.process_time()
            t = time.perf_counter()
            snap.save()
            saves.append(time.perf_counter() - t)
            t = time.perf_counter()
            snap.restore()
            restores.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        s, r = statistics.median(saves) * 1e3, statistics.median(restores) * 1e3
        target = " (target <= 25 ms)" if where == "device" else ""
        print(f"ResNet50 + Adam, snapshot={where}: {len(snap.variables)} variables, "
              f"{snap.nbytes / 2**20:.0f} MiB; snapshot {s:.1f} ms + restore {r:.1f} ms = "
              f"{s + r:.1f} ms wall{target}, CPU {statistics.median(cpu) * 1e3:.1f} ms",
              flush=True)
        del snap


_MEMORY_CHILD = r"""
import json, os, resource, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np, keras, tensorflow as tf
from tflearner import DataBundle, Learner
what, steps = sys.argv[1], int(sys.argv[2])
gpu = bool(tf.config.list_logical_devices("GPU"))
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(steps * 32, 2048)).astype("float32"); y = rng.integers(0, 10, len(x))
data = DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0.0)
model = keras.Sequential([keras.Input((2048,)), keras.layers.Dense(4096, activation="relu"),
                          keras.layers.Dense(4096, activation="relu"),
                          keras.layers.Dense(2048, activation="relu"), keras.layers.Dense(10)])
learn = Learner(model, data, opt="adam", lr=1e-4, quiet=True)
learn.fit(1)  # warm-up: slots built, steps traced
state = sum(v.numpy().nbytes for vs in learn.state_variables().values() for v in vs)
if gpu:
    tf.config.experimental.reset_memory_stats("GPU:0")
    before = tf.config.experimental.get_memory_info("GPU:0")["current"]
else:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
if what == "fit":
    learn.fit(1)
else:
    learn.lr_find(num_it=steps, stop_div=False, snapshot=what, suggest_funcs=("minimum",))
if gpu:
    peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] - before
else:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
print(json.dumps({"what": what, "gpu": gpu, "peak_growth": peak, "state": state}))
"""


def peak_memory(steps: int = 8) -> None:
    rows = []
    for what in ("fit", "device", "host"):
        res = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, what, str(steps)],
                             capture_output=True, text=True, timeout=900,
                             env={**os.environ, "TFLEARNER_PROGRESS": "plain"})
        if res.returncode != 0:
            print(f"{what}: failed: {res.stderr[-2000:]}")
            return
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    kind = ("GPU:0 peak above the memory in use before (get_memory_info)" if rows[0]["gpu"]
            else "growth of the process's peak RSS (ru_maxrss) over its peak after warm-up")
    print(f"peak memory, MLP 2048-4096-4096-2048-10 + Adam, {steps} steps, fresh process each; "
          f"{kind}; training state {rows[0]['state'] / 2**20:.0f} MiB:")
    for r in rows:
        label = "fit(1)" if r["what"] == "fit" else f"lr_find(snapshot={r['what']!r})"
        print(f"  {label:28s} {r['peak_growth'] / 2**20:8.1f} MiB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--skip-ratio", action="store_true", help="skip part 1 (lr_find / fit)")
    args = p.parse_args()
    print(f"# load average at start (1, 5, 15 min): {os.getloadavg()}; {os.cpu_count()} CPUs",
          flush=True)
    if not args.skip_ratio:
        lr_find_ratio(args.rounds)
    snapshot_time(args.rounds)
    peak_memory()
    print(f"# load average at end (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
