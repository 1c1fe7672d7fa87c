"""Draw the schedule-shape figure used by the docs (docs/img/schedules.png).

    python tools/make_doc_plots.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tflearner.schedules import flat_cos, one_cycle  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "schedules.png"


def main() -> None:
    n = 1000
    smith = one_cycle(n, 1.0, 0.45, 10.0, 1e4, (0.95, 0.85, 0.95), "linear", True)
    fastai = one_cycle(n, 1.0, 0.25, 25.0, 1e5, (0.95, 0.85, 0.95), "cos", False)
    fig, (ax_lr, ax_mom) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_lr.plot(smith[0], label="fit_one_cycle default (Smith, three-phase linear)")
    ax_lr.plot(fastai[0], label="fastai form (pct_start .25, div 25, cos)")
    ax_lr.plot(flat_cos(n, 1.0), label="fit_flat_cos", ls="--")
    ax_lr.set_title("learning rate / max_lr")
    ax_mom.plot(smith[1], label="Smith")
    ax_mom.plot(fastai[1], label="fastai")
    ax_mom.set_title("momentum / beta_1")
    for ax in (ax_lr, ax_mom):
        ax.set_xlabel("training progress (batch of 1000)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    fig.savefig(OUT, dpi=110, bbox_inches="tight")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
