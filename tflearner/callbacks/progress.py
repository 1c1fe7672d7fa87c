"""Progress: an epoch bar, a batch bar with the live smoothed loss, and a fastai-like table.

tqdm is imported when the first fit starts (:func:`default_bar`), not with this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.contract import FitState
from ..core.events import Callback

__all__ = ["ProgressCallback", "SweepProgress", "default_bar", "format_time"]


def default_bar() -> Callable[..., Any]:
    """The bar class used when none is injected: ``tqdm.auto.tqdm`` (widgets in Jupyter, text
    in terminals), imported on the first call."""
    from tqdm.auto import tqdm

    return tqdm


def format_time(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` past an hour), like fastai's table."""
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressCallback(Callback):
    """tqdm bars and one table row per epoch: ``epoch  train_loss  valid_loss  <metrics>  time``.

    Args:
        bar: a tqdm-like class, called as ``bar(total=, desc=, unit=, leave=, dynamic_ncols=)``
            and used through ``update``, ``set_postfix`` and ``close``; None (the default):
            :func:`default_bar`, resolved when the fit starts.
        write: prints one table line; None: ``bar.write`` if the bar class has one, else
            ``print``.
        table: print the per-epoch table.
        leave: keep the epoch bar on screen after the fit.

    Bars are built when training starts (``before_fit`` / ``before_train``), not in
    ``__init__``; from then on ``bar_cls`` and ``write`` hold the bar class and the printer in
    use (before that, what was passed).
    """

    order = 50

    def __init__(self, bar: Callable[..., Any] | None = None,
                 write: Callable[[str], None] | None = None, table: bool = True,
                 leave: bool = False) -> None:
        self._bar, self._write = bar, write
        self.bar_cls, self.write = bar, write
        self.table = table
        self.leave = leave
        self.epoch_bar = self.batch_bar = None
        self._header: list[str] | None = None

    def before_fit(self, state: FitState) -> None:
        self._header = None
        self.bar_cls = self._bar if self._bar is not None else default_bar()
        self.write = self._write if self._write is not None else getattr(self.bar_cls, "write",
                                                                         print)
        self.epoch_bar = self.bar_cls(total=state.epochs, desc="epoch", unit="epoch",
                                      leave=self.leave, dynamic_ncols=True)

    def before_train(self, state: FitState) -> None:
        self.batch_bar = self.bar_cls(total=state.n_iter, desc=f"epoch {state.epoch}",
                                      unit="batch", leave=False, dynamic_ncols=True)

    def after_batch(self, state: FitState) -> None:
        if self.batch_bar is not None:
            self.batch_bar.set_postfix(loss=f"{state.smooth_loss:.4f}", refresh=False)
            self.batch_bar.update(1)

    def after_train(self, state: FitState) -> None:
        self._close_batch_bar()

    def after_epoch(self, state: FitState) -> None:
        if self.epoch_bar is not None:
            self.epoch_bar.update(1)
        if self.table:
            self._row(state)

    def after_fit(self, state: FitState) -> None:
        self._close_batch_bar()
        if self.epoch_bar is not None:
            self.epoch_bar.close()
            self.epoch_bar = None

    def _close_batch_bar(self) -> None:
        if self.batch_bar is not None:
            self.batch_bar.close()
            self.batch_bar = None

    def _row(self, state: FitState) -> None:
        names = ["epoch"] + [k for k in state.logs if k != "time"] + ["time"]
        cells = [str(state.epoch)]
        cells += [f"{state.logs[k]:.6f}" for k in names[1:-1]]
        cells.append(format_time(state.logs.get("time", 0.0)))
        widths = [max(len(n), 8) for n in names]
        if self._header != names:
            self._header = names
            self.write("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
        self.write("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))


class SweepProgress(Callback):
    """One bar for an LR sweep: ``total`` steps, postfix with the LR and smoothed loss.

    ``bar_cls``: a tqdm-like class, or None (the default) for :func:`default_bar`, resolved
    when the sweep starts.
    """

    order = 50

    def __init__(self, total: int, bar: Callable[..., Any] | None = None) -> None:
        self.total, self.bar_cls, self.bar = total, bar, None

    def before_fit(self, state: FitState) -> None:
        bar_cls = self.bar_cls if self.bar_cls is not None else default_bar()
        self.bar = bar_cls(total=self.total, desc="lr_find", unit="step", leave=False,
                                dynamic_ncols=True)

    def after_batch(self, state: FitState) -> None:
        self.bar.set_postfix(lr=f"{state.lr:.2e}", loss=f"{state.smooth_loss:.4f}",
                             refresh=False)
        self.bar.update(1)

    def after_fit(self, state: FitState) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
