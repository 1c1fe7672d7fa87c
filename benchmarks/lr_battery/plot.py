"""The battery's figure: one panel per problem (the grid's test score against the LR, mean over
seeds with the seeds' range; the LR-finder methods' choices at their scores; the ``model.fit``
peers' mean scores as horizontal lines), then the mean regret per row on each split."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["plot_battery"]

_MARKERS = {"default": ("v", "C3"), "valley": ("x", "C2")}
_LINES = {"keras-default": ("--", "0.4"), "schedule-free": (":", "C4"),
          "kerastuner-equal": ("-.", "C1"), "kerastuner-8": ((0, (1, 3)), "C5")}


def _panel(ax, name: str, prob: dict) -> None:
    seeds = list(prob["seeds"].values())
    keys = list(seeds[0]["grid"])
    lrs = np.array([float(k) for k in keys])
    scores = np.array([[r["grid"][k] for k in keys] for r in seeds])
    ax.fill_between(lrs, scores.min(0), scores.max(0), color="C0", alpha=0.2, lw=0)
    ax.plot(lrs, scores.mean(0), "o-", color="C0", ms=3, lw=1.5, label="grid (mean, range)")
    extra = [n for n in seeds[0]["rows"] if n not in _MARKERS and n not in _LINES
             and "@" not in n and n != "oracle"]
    markers = {**_MARKERS, **{n: ("D", f"C{6 + i}") for i, n in enumerate(extra)}}
    for row, (m, c) in markers.items():
        pts = [(r["rows"][row]["lr"], r["rows"][row]["score"]) for r in seeds
               if row in r["rows"] and r["rows"][row]["lr"] is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), m, color=c, ms=6, ls="none", label=row)
    for row, (ls, c) in _LINES.items():
        vals = [r["rows"][row]["score"] for r in seeds if row in r["rows"]]
        if vals:
            ax.axhline(float(np.mean(vals)), ls=ls, color=c, lw=1.2, label=row)
    ax.set_xscale("log")
    ax.set_title(f"{name} [{'T' if prob['split'] == 'tuning' else 'H'}]", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, which="both", alpha=0.2)


def _bars(ax, summary: dict) -> None:
    rows = sorted({n for s in summary.values() for n in s["rows"]})
    x = np.arange(len(rows))
    for i, (split, s) in enumerate(summary.items()):
        vals = [s["rows"].get(n, {}).get("mean", np.nan) for n in rows]
        ax.bar(x + (i - 0.5) * 0.4, vals, 0.4, label=split, color=f"C{i}")
    ax.set_xticks(x, rows, rotation=70, fontsize=6, ha="right")
    ax.set_ylabel("mean regret (points)", fontsize=7)
    ax.set_title("mean regret per row, tuning vs held-out", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=6)


def plot_battery(results: dict, summary: dict, out: str, cols: int = 5):
    """Draw the figure into ``out`` (PNG); returns the axes array."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results) + 1
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.5 * rows), squeeze=False)
    flat = list(axes.flat)
    for ax, (name, prob) in zip(flat, results.items(), strict=False):
        _panel(ax, name, prob)
    _bars(flat[len(results)], summary)
    for ax in flat[n:]:
        ax.axis("off")
    handles = {}
    for ax in flat[:len(results)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    fig.legend(handles.values(), handles.keys(), loc="lower right", fontsize=7, ncol=2)
    fig.supxlabel("LR of the final fit (fit_one_cycle max_lr; fine_tune base_lr)", fontsize=9)
    fig.supylabel("test accuracy % (regression: R² × 100)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return axes
