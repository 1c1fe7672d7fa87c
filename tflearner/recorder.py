"""The Recorder: what happened in the last fit, per batch and per epoch, and plots of it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .callbacks import Callback, FitState

__all__ = ["Recorder"]


class Recorder(Callback):
    """Records every batch (``lrs``, ``moms``, ``wds``, ``losses`` raw, ``smooth_losses``) and
    every epoch (``values``: dicts with ``epoch``, ``train_loss``, ``valid_loss``, metrics and
    ``time``). It is reset at the start of each fit, like Keras' ``History`` and fastai's
    ``Recorder``; ``learn.recorder`` always holds the latest fit.
    """

    order = 0

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.lrs: list[float] = []
        self.moms: list[float] = []
        self.wds: list[float] = []
        self.losses: list[float] = []
        self.smooth_losses: list[float] = []
        self.iters: list[int] = []  # global step of each recorded batch
        self.epoch_ends: list[int] = []  # number of batches done at the end of each epoch
        self.values: list[dict[str, float]] = []
        self.n_iter: int | None = None

    def before_fit(self, state: FitState) -> None:
        self._reset()

    def after_batch(self, state: FitState) -> None:
        self.lrs.append(state.lr)
        self.moms.append(float("nan") if state.mom is None else state.mom)
        self.wds.append(state.wd)
        self.losses.append(state.loss)
        self.smooth_losses.append(state.smooth_loss)
        self.iters.append(state.step)

    def after_epoch(self, state: FitState) -> None:
        self.n_iter = state.n_iter
        self.epoch_ends.append(len(self.losses))
        self.values.append({"epoch": state.epoch, **state.logs})

    # ---- views --------------------------------------------------------------------------------
    @property
    def metric_names(self) -> list[str]:
        """Column names of the per-epoch table, in order."""
        names: list[str] = []
        for row in self.values:
            names += [k for k in row if k not in names]
        return names

    def history(self) -> dict[str, list[float]]:
        """Per-epoch values as columns, Keras ``History.history``-style."""
        return {k: [row.get(k, float("nan")) for row in self.values] for k in self.metric_names}

    # ---- plots ---------------------------------------------------------------------------------
    def plot_loss(self, skip_start: int = 5, with_valid: bool = True, ax=None):
        """Raw and smoothed training loss per batch, with validation loss at each epoch end.

        Returns the matplotlib Axes; never calls ``plt.show()``.
        """
        if not self.losses:
            raise ValueError("The recorder is empty: run learn.fit(...) before plot_loss().")
        if isinstance(skip_start, bool) or not isinstance(skip_start, int) or skip_start < 0:
            raise ValueError(f"skip_start must be an int >= 0, got {skip_start!r}.")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        start = min(skip_start, len(self.losses) - 1)
        steps = np.arange(start, len(self.losses))
        ax.plot(steps, self.losses[start:], color="C0", alpha=0.3, lw=1, label="train (batch)")
        ax.plot(steps, self.smooth_losses[start:], color="C0", lw=2, label="train (smoothed)")
        ends = zip(self.epoch_ends, self.values, strict=True)
        valid = [(end - 1, row["valid_loss"]) for end, row in ends if "valid_loss" in row]
        if with_valid and valid:
            vx, vy = zip(*valid, strict=True)
            ax.plot(vx, vy, "o-", color="C1", lw=2, label="valid (epoch end)")
        ax.set_xlabel("batch")
        ax.set_ylabel("loss")
        ax.set_title("Loss")
        ax.grid(True, alpha=0.3)
        ax.legend()
        return ax

    def plot_sched(self, keys: tuple[str, ...] = ("lr", "mom"), axes=None):
        """Learning rate and momentum (or ``wd``) per batch, one panel each.

        Returns a numpy array of Axes (one per key); keys with no recorded values (momentum of an
        optimizer without one) are drawn empty with a note.
        """
        if not self.lrs:
            raise ValueError("The recorder is empty: run learn.fit(...) before plot_sched().")
        series = {"lr": self.lrs, "mom": self.moms, "wd": self.wds}
        bad = [k for k in keys if k not in series]
        if bad or not keys:
            raise ValueError(f"keys must be a non-empty subset of {tuple(series)}, got {keys!r}.")
        if axes is None:
            _, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5), squeeze=False)
        axes = np.asarray(axes).ravel()
        if len(axes) != len(keys):
            raise ValueError(f"axes has {len(axes)} Axes but keys has {len(keys)} entries.")
        labels = {"lr": "learning rate", "mom": "momentum / beta_1", "wd": "weight decay"}
        for ax, key in zip(axes, keys, strict=True):
            values = np.asarray(series[key], dtype=float)
            if np.all(np.isnan(values)):
                ax.text(0.5, 0.5, f"no {labels[key]} in this optimizer", ha="center",
                        va="center", transform=ax.transAxes)
                ax.set_yticks([])
            else:
                ax.plot(np.arange(len(values)), values, color="C2")
                ax.ticklabel_format(axis="y", useOffset=False)
            ax.set_xlabel("batch")
            ax.set_title(labels[key])
            ax.grid(True, alpha=0.3)
        return axes
