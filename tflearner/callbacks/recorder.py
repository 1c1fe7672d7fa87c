"""The Recorder: what happened in the last fit, per batch and per epoch, and plots of it.

matplotlib is imported by the plot methods, when first called, not with this module.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ..core.checks import check_int, fail
from ..core.events import Callback
from ..core.fit_state import FitState, StopReason
from ..lr_finder.repeats import band

__all__ = ["Recorder"]


def _pyplot() -> ModuleType:
    """``matplotlib.pyplot``, imported on the first plot (it takes ~0.3 s to import)."""
    import matplotlib.pyplot as plt

    return plt


def _stop_note(info: dict, lrs: list[float]) -> str:
    """The plot title's note on how the sweep in ``info`` (``lr_find_info``) ended."""
    reason, step = info.get("stop_reason"), info.get("stop_step")
    if reason in (StopReason.DIVERGED, StopReason.NON_FINITE):
        lr = info.get("stop_lr")
        if lr is None and lrs:
            lr = lrs[min(step if step is not None else len(lrs) - 1, len(lrs) - 1)]
        return f" (stopped: {reason} at step {step}" + (f" / lr {lr:.3g})" if lr else ")")
    if reason and reason != "end":
        return f" (stopped: {reason} at step {step})"
    return " (loss still falling at end_lr)" if info.get("still_falling") else ""


class Recorder(Callback):
    """Records every batch (``lrs`` of the last layer group, ``group_lrs`` of every group,
    ``moms``, ``wds``, ``losses`` raw, ``smooth_losses``) and
    every epoch (``values``: dicts with ``epoch``, ``train_loss``, ``valid_loss``, metrics and
    ``time``). It is reset at the start of each fit, like Keras' ``History`` and fastai's
    ``Recorder``; ``learn.recorder`` always holds the latest fit.
    """

    order = 0
    #: The per-batch (and epoch-end index) lists; checkpoints save and restore exactly these.
    HISTORY = ("lrs", "group_lrs", "moms", "wds", "losses", "smooth_losses", "iters",
               "epoch_ends")
    #: The lists with one entry per batch.
    BATCH_HISTORY = ("lrs", "group_lrs", "moms", "wds", "losses", "smooth_losses", "iters")

    def __init__(self) -> None:
        self._reset()
        #: the last ``lr_find(verify=True)``'s :class:`~tflearner.lr_finder.verify.Race` (its
        #: trials, their curves and the verified LR); kept across fits, None after a plain
        #: ``lr_find``
        self.race = None

    def _reset(self) -> None:
        self.lrs: list[float] = []
        self.group_lrs: list[list[float]] = []  # every layer group's LR (first group first)
        self.moms: list[float] = []
        self.wds: list[float] = []
        self.losses: list[float] = []
        self.smooth_losses: list[float] = []
        self.iters: list[int] = []  # global step of each recorded batch
        self.epoch_ends: list[int] = []  # number of batches done at the end of each epoch
        self.values: list[dict[str, float]] = []
        self.n_iter: int | None = None
        self.suggestions: dict = {}  # lr_find's {method name: Suggestion}
        #: lr_find's num_it, stop_reason, stop_step, stop_lr, beta, lr_mults (every group's LR
        #: over the last's), accumulation, repeats; compute_suggestions adds still_falling
        self.lr_find_info: dict = {}
        self.phases: tuple[dict, ...] = ()  # fine_tune: each phase's history_state()
        #: lr_find(repeats=k > 1): each sweep's lrs, losses, smooth_losses, stop_reason,
        #: stop_step and suggestions (empty after a single sweep or a fit)
        self.sweeps: list[dict] = []

    def before_fit(self, state: FitState) -> None:
        if state.resume is None:  # a resumed fit continues the history restored with it
            self._reset()

    def history_state(self) -> dict:
        """The per-batch lists, ``values`` and ``n_iter`` as plain JSON-able data."""
        return {**{k: list(getattr(self, k)) for k in self.HISTORY}, "values": self.values,
                "n_iter": self.n_iter}

    def load_history_state(self, saved: dict) -> None:
        """Put back what :meth:`history_state` returned (a checkpoint's history)."""
        self._reset()
        for k in self.HISTORY:
            setattr(self, k, list(saved[k]))
        self.values, self.n_iter = list(saved["values"]), saved["n_iter"]

    def after_batch(self, state: FitState) -> None:
        self.lrs.append(state.lr)
        self.group_lrs.append(list(state.lrs))
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
        check_int("skip_start", skip_start, 0, fix="the number of first batches to leave "
                  "out, e.g. skip_start=0 for all.")
        if ax is None:
            _, ax = _pyplot().subplots(figsize=(6, 4))
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

    def plot(self, skip_start: int = 5, skip_end: int = 5, suggest: bool = True, ax=None,
             show_raw: bool = True, show: bool = False):
        """The LR-finder curve: smoothed loss against LR (log axis), the raw loss faintly,
        one marker and legend entry per suggestion, and the first suggestion's range shaded.
        With ``lr_find(repeats=k)``: the band of the ``k`` curves and their median.
        The title says how the sweep ended, as the warnings do: ``stopped: diverged at step N
        / lr X`` (or ``non-finite``), ``stopped: <reason> at step N`` for any other early stop,
        ``loss still falling at end_lr`` for a sweep that ran to its end still falling
        (``lr_find_info["still_falling"]``), nothing more for one that ran past a minimum.

        Returns the matplotlib Axes; calls ``plt.show()`` only when ``show=True``.
        """
        check_int("skip_start", skip_start, 0, fix="the number of first points to leave out, "
                  "e.g. skip_start=0 for all.")
        check_int("skip_end", skip_end, 0, fix="the number of last points to leave out, e.g. "
                  "skip_end=0 for all.")
        if not self.lrs:
            raise ValueError("The recorder is empty: run learn.lr_find() before plot().")
        curve = self._curve()
        end = len(curve["lrs"]) - skip_end
        if end - skip_start < 2:
            skip_start, end = 0, len(curve["lrs"])  # too short to trim: show everything
        sl = slice(skip_start, end)
        if ax is None:
            race = self.race is not None and bool(self.lr_find_info)
            _, ax = _pyplot().subplots(figsize=(6.5, 5.4 if race else 4.2),
                                       layout="constrained")
        _draw_curve(ax, curve, sl, show_raw)
        if suggest and self.suggestions:
            _draw_suggestions(ax, self.suggestions, curve["lrs"], curve["smooth"])
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        self._title(ax)
        ax.grid(True, which="both", alpha=0.25)
        if self.race is not None and self.lr_find_info:  # this sweep's race, on its own axis
            twin = ax.twinx()
            _draw_race(twin, self.race)
            handles, labels = (a + b for a, b in zip(ax.get_legend_handles_labels(),
                                                      twin.get_legend_handles_labels(),
                                                      strict=True))
            # below the axes, two columns: the trials sit where a legend inside would go
            ax.legend(handles, labels, fontsize=7, ncol=2, loc="upper center",
                      bbox_to_anchor=(0.5, -0.14))
        else:
            ax.legend(fontsize=8)
        if show:
            _pyplot().show()
        return ax

    def _curve(self) -> dict[str, np.ndarray | int]:
        """What :meth:`plot` draws: this recorder's curve (``lrs``, ``smooth``, ``raw``), or
        the band (``low``, ``high``) and median of ``k`` sweeps (``k``: their number)."""
        k = len(self.sweeps)
        if k > 1:
            lrs, smooth, low, high = band([(s["lrs"], s["smooth_losses"]) for s in self.sweeps])
            return {"k": k, "lrs": lrs, "smooth": smooth, "low": low, "high": high}
        lrs, smooth, raw = (np.asarray(a, dtype=float)
                            for a in (self.lrs, self.smooth_losses, self.losses))
        return {"k": k, "lrs": lrs, "smooth": smooth, "raw": raw}

    def _title(self, ax) -> None:
        info, k = self.lr_find_info, len(self.sweeps)
        title = ("LR finder" if k < 2 else f"LR finder ({k} sweeps)") + _stop_note(info, self.lrs)
        mults = info.get("lr_mults") or []
        if len(mults) > 1:
            ratios = ", ".join(f"{m:.3g}" for m in mults[:-1])
            title += ("\nall layer groups at the same LR" if all(m == 1 for m in mults) else
                      f"\nLR of the last layer group; the others at × {ratios} of it")
        ax.set_title(title, fontsize=10 if len(mults) > 1 else None)

    def plot_race(self, ax=None, show: bool = False):
        """The last verified ``lr_find``'s race: each trial's validation loss against its LR
        (round 1, the refinement and round 2 marked apart), the untrained model's loss, and
        the verified LR, titled with how sure it is and what it cost. Returns the Axes."""
        if self.race is None:
            raise ValueError("No race to plot: run learn.lr_find(verify=True, epochs=...) or "
                             "learn.fit_one_cycle(epochs, max_lr='auto') first.")
        if ax is None:
            _, ax = _pyplot().subplots(figsize=(6.5, 4.2))
        _draw_race(ax, self.race)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        race = self.race
        ax.set_title(f"LR race: {'sure' if race.sure else 'not sure'}, cost "
                     f"{race.cost:.2g} fits of {race.planned.updates} updates")
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=8)
        if show:
            _pyplot().show()
        return ax

    def plot_sched(self, keys: tuple[str, ...] = ("lr", "mom"), axes=None):
        """Learning rate and momentum (or ``wd``) per batch, one panel per key with values.
        With several layer groups the LR panel has one line per group (log scale).

        A key with nothing recorded (the momentum of plain SGD, which has none) gets no panel:
        the figure holds only the others, and the first panel's title says what is missing.
        Returns a numpy array of the drawn Axes, in ``keys`` order. ``axes``, if given, holds one
        Axes per key; those of keys without values are hidden. A ``keys`` with no recorded
        values at all raises ``ValueError``.
        """
        if not self.lrs:
            raise ValueError("The recorder is empty: run learn.fit(...) before plot_sched().")
        series = {"lr": self.lrs, "mom": self.moms, "wd": self.wds}
        bad = [k for k in keys if k not in series]
        if bad or not keys:
            raise fail("keys", f"a non-empty subset of {tuple(series)}", keys,
                       "e.g. keys=('lr', 'mom').")
        labels = {"lr": "learning rate", "mom": "momentum / beta_1", "wd": "weight decay"}
        values = {k: np.asarray(series[k], dtype=float) for k in keys}
        drawn = [k for k in keys if not np.all(np.isnan(values[k]))]
        missing = [k for k in keys if k not in drawn]
        if not drawn:
            raise ValueError(
                f"keys={keys!r} has nothing to plot: this optimizer recorded no "
                f"{' or '.join(labels[k] for k in missing)}; plot keys=('lr',) instead.")
        if axes is None:
            _, axes = _pyplot().subplots(1, len(drawn), figsize=(4.5 * len(drawn), 3.5),
                                         squeeze=False)
            axes = np.asarray(axes).ravel()
        else:
            axes = np.asarray(axes).ravel()
            if len(axes) != len(keys):
                raise fail("axes", f"{len(keys)} Axes, one per key in keys={keys!r}", len(axes),
                           "pass as many Axes as keys.")
            for ax, key in zip(axes, keys, strict=True):
                ax.set_visible(key in drawn)
            axes = np.asarray([ax for ax, key in zip(axes, keys, strict=True) if key in drawn])
        groups = np.asarray(self.group_lrs, dtype=float) if self.group_lrs else None
        for i, (ax, key) in enumerate(zip(axes, drawn, strict=True)):
            if key == "lr" and groups is not None and groups.ndim == 2 and groups.shape[1] > 1:
                for g in range(groups.shape[1]):  # one line per layer group, first group first
                    ax.plot(np.arange(len(groups)), groups[:, g], color=f"C{g}",
                            label=f"group {g}" + (" (last)" if g == groups.shape[1] - 1
                                                  else ""))
                ax.set_yscale("log")
                ax.legend(fontsize=8)
            else:
                ax.plot(np.arange(len(values[key])), values[key], color="C2")
                ax.ticklabel_format(axis="y", useOffset=False)
            ax.set_xlabel("batch")
            note = f" (no {', '.join(labels[k] for k in missing)} recorded)" if missing else ""
            ax.set_title(labels[key] + (note if i == 0 else ""))
            ax.grid(True, alpha=0.3)
        axes[0].figure.tight_layout()
        return axes


def _draw_curve(ax, curve: dict, sl: slice, show_raw: bool) -> None:
    """The curve (or the band and median of ``k`` sweeps) over ``sl``, with y limits that keep
    a divergence from squashing the interesting part."""
    k, lrs, smooth = curve["k"], curve["lrs"], curve["smooth"]
    if k > 1:
        ax.fill_between(lrs[sl], curve["low"][sl], curve["high"][sl], color="C0", alpha=0.2,
                        lw=0, label=f"range of {k} sweeps")
        ax.plot(lrs[sl], smooth[sl], color="C0", lw=2, label=f"median of {k} sweeps")
    else:
        if show_raw:
            ax.plot(lrs[sl], curve["raw"][sl], color="C0", alpha=0.25, lw=1, label="loss (batch)")
        ax.plot(lrs[sl], smooth[sl], color="C0", lw=2, label="loss (smoothed)")
    finite = smooth[sl][np.isfinite(smooth[sl])]
    if finite.size:
        lo, hi = finite.min(), min(finite.max(), finite[0] + 2 * (finite[0] - finite.min()))
        if k > 1 and np.isfinite(curve["low"][sl]).any():  # the whole band's bottom
            lo = min(lo, float(np.nanmin(curve["low"][sl])))
        if hi > lo:
            pad = 0.05 * (hi - lo)
            ax.set_ylim(lo - pad, hi + pad)


def _draw_suggestions(ax, suggestions: dict, lrs: np.ndarray, smooth: np.ndarray) -> None:
    """One marker and legend entry per suggestion; the first one's range shaded."""
    for i, (name, sug) in enumerate(suggestions.items()):
        if sug.lr is None:
            ax.plot([], [], " ", label=f"{name}: no suggestion")
            continue
        x, y = sug.point if sug.point is not None else (sug.lr, np.interp(
            np.log(sug.lr), np.log(lrs), smooth))
        spread = getattr(sug, "spread", None)
        ax.plot([x], [y], "o", ms=8, color=f"C{i + 1}", zorder=3,
                label=f"{name}: {sug.lr:.2e}" + (
                    "" if spread is None else f" (spread ×{spread:.2g})"))
        if i == 0 and getattr(sug, "lr_range", None):
            low, high = sug.lr_range
            ax.axvspan(low, high, color=f"C{i + 1}", alpha=0.12,
                       label=f"{name} range: {low:.1e} – {high:.1e}")


def _draw_race(ax, race) -> None:
    """The race's trials (validation loss against LR, one marker style per round), the
    untrained model's loss and the verified LR."""
    styles = ("o", "^")
    for r, trials in enumerate(race.rounds):
        finite = [t for t in trials if np.isfinite(t.loss)]
        steps = trials[0].steps if trials else 0
        ax.plot([t.lr for t in finite], [t.loss for t in finite], styles[r % 2] + "--",
                color=f"C{5 + r}", ms=6, lw=0.8, alpha=0.9,
                label=f"trials, round {r + 1} ({steps} updates): valid loss")
        for t in trials:
            if not np.isfinite(t.loss):
                ax.plot([t.lr], [race.baseline], "x", color=f"C{5 + r}", ms=7)
    ax.axhline(race.baseline, color="grey", ls=":", lw=1, label="untrained: valid loss")
    ax.axvline(race.lr, color="C3", lw=2, alpha=0.8,
               label=f"verified: {race.lr:.2e} ({'sure' if race.sure else 'not sure'})")
    ax.set_ylabel("trial validation loss")
