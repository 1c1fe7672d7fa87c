"""Plot a suggest_battery.py --json file: one panel per combination, the grid's score against the
LR (mean over seeds, the band between the lowest and highest seed), and each seed's default
suggestion (robust, else valley) and valley suggestion at their measured scores.

    python benchmarks/plot_battery.py RESULTS.json OUT.png
"""

from __future__ import annotations

import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main(path: str, out: str) -> None:
    results = json.load(open(path))["results"]
    by: dict[str, list[dict]] = {}
    for r in results:
        by.setdefault(r["combo"], []).append(r)
    n = len(by)
    cols = 4
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.6 * rows), squeeze=False)
    for ax, (combo, rs) in zip(list(axes.flat)[:n], by.items(), strict=True):
        lrs = np.array([float(k) for k in rs[0]["grid"]])
        scores = np.array([[r["grid"][k] for k in rs[0]["grid"]] for r in rs])
        ax.fill_between(lrs, scores.min(0), scores.max(0), color="C0", alpha=0.2, lw=0)
        ax.plot(lrs, scores.mean(0), "o-", color="C0", ms=3, lw=1.5, label="grid (mean, range)")
        for i, r in enumerate(rs):
            d = r["at"]["robust"] or r["at"]["valley"]
            v = r["at"]["valley"]
            if d:
                ax.plot(d["lr"], d["score"], "v", color="C3", ms=7,
                        label="default suggestion" if i == 0 else None)
            if v:
                ax.plot(v["lr"], v["score"], "x", color="C2", ms=6,
                        label="valley" if i == 0 else None)
        ax.set_xscale("log")
        ax.set_title(f"{combo} ({len(rs)} seeds)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="both", alpha=0.2)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6, loc="lower left")
    fig.supxlabel("max LR of fit_one_cycle (fine_tune: base_lr)", fontsize=9)
    fig.supylabel("validation accuracy % (diabetes: R² × 100)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
