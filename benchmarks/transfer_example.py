"""The offline transfer example over seeds: fine_tune of a backbone pretrained on CIFAR-10
classes 0-4 against the same network from scratch and chance, on few labels of classes 5-9.

Runs ``examples/transfer_learning.py`` (its defaults: the shipped sample, 50 labelled images
per class, 12 pretraining epochs, 1 frozen + 5 epochs against 6 from scratch) for each seed and
prints per seed, then the mean and range of each side and of the margin. The README's transfer
block quotes this output (``benchmarks/results/transfer_example-*.txt``).

    python benchmarks/transfer_example.py [--seeds 0,1,2] [-- EXTRA EXAMPLE ARGS]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import transfer_learning  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("extra", nargs="*", help="arguments for the example")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"examples/transfer_learning.py {' '.join(args.extra) or '(defaults)'}; seeds {seeds}")
    rows, start = [], time.perf_counter()
    for seed in seeds:
        with contextlib.redirect_stdout(io.StringIO()):
            acc = transfer_learning.main(["--seed", str(seed), *args.extra])
        rows.append({k: 100 * v for k, v in acc.items()})
        r = rows[-1]
        print(f"  seed {seed}: fine_tune {r['fine_tune']:5.1f} %  scratch {r['scratch']:5.1f} %  "
              f"margin {r['fine_tune'] - r['scratch']:+5.1f} points", flush=True)

    def summary(values: list[float]) -> str:
        return f"mean {statistics.mean(values):5.1f}, range {min(values):.1f}-{max(values):.1f}"

    print(f"fine_tune (%):          {summary([r['fine_tune'] for r in rows])}")
    print(f"from scratch (%):       {summary([r['scratch'] for r in rows])}")
    print(f"fine_tune - scratch:    {summary([r['fine_tune'] - r['scratch'] for r in rows])}")
    print(f"fine_tune - chance 20%: {summary([r['fine_tune'] - 20.0 for r in rows])}")
    print(f"total run time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
