"""The README's demo figures: run ``tflearner demo`` and keep what it printed and plotted.

Runs the demo (its defaults: LeNet-5 with plain SGD on the shipped CIFAR-10 sample, lr_find and
the verified race, then ``fit_one_cycle(20)`` at the verified LR) in a child process, once per
numerics variant asked for (``TF_ENABLE_ONEDNN_OPTS`` and ``TF_NUM_INTRAOP_THREADS`` must be set
before TensorFlow starts), and writes ``benchmarks/results/demo-<date>.txt``: per variant the
verified LR, whether the race was sure, its cost, and the test accuracy. With ``--images`` the
first variant's plots are copied to ``docs/img/demo/`` (the README shows them).

    python benchmarks/demo_figures.py --images                   # this machine's defaults
    python benchmarks/demo_figures.py --variants default,onednn0-t1,onednn1-t1,onednn0-t2
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"default": {}, **{f"onednn{o}-t{t}": {"TF_ENABLE_ONEDNN_OPTS": str(o),
                                                   "TF_NUM_INTRAOP_THREADS": str(t)}
                              for o in (1, 0) for t in (2, 1)}}


def run(variant: str, out: Path) -> dict:
    """One demo run under ``variant``; its figures in ``out``."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TFLEARNER_PROGRESS": "plain",
           **VARIANTS[variant]}
    res = subprocess.run([sys.executable, "-m", "tflearner.cli", "demo", "--out", str(out)],
                         capture_output=True, text=True, env=env, timeout=3600, check=True)
    history = json.loads((out / "history.json").read_text())
    race = history["race"]
    return {"variant": variant, "verified": race["lr"], "sure": race["sure"],
            "cost": race["cost"], "reasons": race["reasons"],
            "test_accuracy": 100 * history["test"]["accuracy"],
            "lines": [ln for ln in res.stdout.splitlines() if ln.startswith(("race", "test"))]}


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", default="default")
    p.add_argument("--images", action="store_true", help="copy the plots to docs/img/demo/")
    a = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, variant in enumerate(a.variants.split(",")):
            out = Path(tmp) / variant
            rows.append(run(variant, out))
            if a.images and i == 0:
                for name in ("lr_find.png", "race.png", "loss.png", "sched.png"):
                    shutil.copy(out / name, ROOT / "docs" / "img" / "demo" / name)
    cpu = re.sub(r"\s+", " ", platform.processor() or platform.machine())
    lines = [f"# tflearner demo, {datetime.date.today()}, {os.cpu_count()} CPUs ({cpu})",
             "variant          verified LR  sure   cost (fits)  test accuracy"]
    for r in rows:
        lines.append(f"{r['variant']:16s} {r['verified']:11.3g}  {'yes' if r['sure'] else 'no':5s}"
                     f"  {r['cost']:11.2f}  {r['test_accuracy']:6.2f} %")
        lines += [f"    {ln}" for ln in r["lines"]] + [f"    not sure: {x}" for x in r["reasons"]]
    text = "\n".join(lines) + "\n"
    print(text)
    path = ROOT / "benchmarks" / "results" / f"demo-{datetime.date.today()}.txt"
    path.write_text(text)
    return rows


if __name__ == "__main__":
    main()
