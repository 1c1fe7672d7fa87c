"""Import time of ``tflearner`` over ``tensorflow``: what tflearner itself adds (target <= 0.15 s).

Each run is a fresh Python subprocess that times ``import tensorflow``, then ``import tflearner``
right after it in the same process, then reads every name in ``tflearner.__all__``, so the
second figure is tflearner's own cost: its modules and whatever they pull in beyond TensorFlow
and Keras (matplotlib.pyplot, scipy.signal and tqdm are imported lazily, when first used).
``import tflearner`` alone loads only the package shell (its names are imported on first
access, PEP 562); that figure is printed too. The figures are medians over ``--runs`` fresh
subprocesses; the child also reports which of those lazy modules loading every name added.

``--src DIR`` times the tflearner found in another checkout (e.g. an older commit unpacked with
``git archive``), for a before/after comparison on the same machine.

    python benchmarks/bench_import.py [--runs 7] [--src DIR ...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

TARGET_S = 0.15
ROOT = Path(__file__).resolve().parent.parent
LAZY = ("matplotlib.pyplot", "scipy.signal", "tqdm")

CHILD = f"""
import json, sys, time
t0 = time.perf_counter()
import tensorflow
t1 = time.perf_counter()
before = set(sys.modules)
import tflearner
t_shell = time.perf_counter()
for name in tflearner.__all__:
    getattr(tflearner, name)
t2 = time.perf_counter()
added = sorted(m for m in {LAZY!r} if m in sys.modules and m not in before)
print(json.dumps({{"tensorflow": t1 - t0, "tflearner": t2 - t1, "shell": t_shell - t1,
                  "file": tflearner.__file__,
                  "added": added}}))
"""


def run_once(src: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", CHILD], cwd=src, env=env, capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"the child failed:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if not Path(out["file"]).resolve().is_relative_to(src.resolve()):
        raise SystemExit(f"imported {out['file']}, not the tflearner under {src}")
    return out


def measure(src: Path, runs: int) -> None:
    results = [run_once(src) for _ in range(runs)]
    tf_s = [r["tensorflow"] for r in results]
    tfl_s = [r["tflearner"] for r in results]
    med = statistics.median(tfl_s)
    verdict = "meets" if med <= TARGET_S else "MISSES"
    print(f"{src}")
    print(f"  import tensorflow:              median {statistics.median(tf_s):.2f} s "
          f"(min {min(tf_s):.2f}, max {max(tf_s):.2f})")
    print(f"  tflearner after it, all names:  median {med:.3f} s "
          f"(min {min(tfl_s):.3f}, max {max(tfl_s):.3f}); {verdict} the target <= {TARGET_S} s")
    shell = [r.get("shell", math.nan) for r in results]
    print(f"  of which import tflearner:      median {statistics.median(shell):.3f} s "
          "(the package shell; the rest is reading its names)")
    print(f"  per run (s):                    {', '.join(f'{t:.3f}' for t in tfl_s)}")
    added = sorted({m for r in results for m in r["added"]})
    print(f"  lazy modules all names added:   {', '.join(added) if added else 'none'}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7, help="fresh subprocesses per checkout (>= 5)")
    p.add_argument("--src", type=Path, nargs="*", default=[ROOT],
                   help="checkouts to time (default: this one)")
    args = p.parse_args()
    if args.runs < 5:
        p.error(f"--runs must be an int >= 5, got {args.runs}; the median needs a few runs.")
    print(f"python {sys.version.split()[0]}, {args.runs} fresh subprocesses per checkout; "
          "tflearner is timed in the same process, right after tensorflow")
    for src in args.src:
        measure(src, args.runs)


if __name__ == "__main__":
    main()
