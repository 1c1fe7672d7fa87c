"""What ``tflearner demo 2> log`` writes: the plain progress lines the README quotes.

Runs ``tflearner demo --seed 0`` (its defaults: the shipped sample, a 200-step sweep, 20 epochs)
in a subprocess with stderr to a pipe, so progress takes its plain form (one line per epoch,
one when ``lr_find`` ends), and prints those lines, then the count of stderr lines that the bar
form (``TFLEARNER_PROGRESS=bar``, tqdm redrawing in place) writes for the same run, counting each
``\\r`` redraw as a line, as a log file shows them. TensorFlow's own start-up lines are left out
of both counts (``TF_CPP_MIN_LOG_LEVEL=2``; Python warnings are kept).

    python benchmarks/demo_progress.py [--bar]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile


def run(mode: str) -> tuple[str, str]:
    env = {**os.environ, "TFLEARNER_PROGRESS": mode, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([sys.executable, "-m", "tflearner", "--seed", "0", "--out", out],
                              capture_output=True, text=True, env=env, timeout=1200)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return proc.stdout, proc.stderr


def ours(stderr: str) -> list[str]:
    """The lines of stderr that are not TensorFlow's start-up chatter."""
    lines = [ln for ln in re.split(r"[\r\n]", stderr) if ln.strip()]
    return [ln for ln in lines if not re.match(r"(WARNING: All log|I0000|E0000|W0000|"
                                               r"To enable the following|oneDNN)", ln)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bar", action="store_true", help="also count the bar form's lines")
    args = p.parse_args()
    _, err = run("plain")
    lines = ours(err)
    print(f"plain progress (TFLEARNER_PROGRESS=plain): {len(lines)} stderr lines")
    for line in lines:
        print(f"  {line}")
    if args.bar:
        _, err = run("bar")
        print(f"bar progress (TFLEARNER_PROGRESS=bar): {len(ours(err))} stderr lines, each "
              "carriage-return redraw counted")


if __name__ == "__main__":
    main()
