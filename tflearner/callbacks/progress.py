"""Progress: an epoch bar, a batch bar with the live smoothed loss, and a fastai-like table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tqdm.auto import tqdm

from ..core.contract import FitState
from ..core.events import Callback

__all__ = ["ProgressCallback", "SweepProgress", "format_time"]


def format_time(seconds: float) -> str:
    """``mm:ss`` (``h:mm:ss`` past an hour), like fastai's table."""
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressCallback(Callback):
    """tqdm bars (``tqdm.auto``: widgets in Jupyter, text in terminals) and one table row per
    epoch: ``epoch  train_loss  valid_loss  <metrics>  time``.

    ``bar`` (a tqdm-like class) and ``write`` (a one-line printer) are injectable; bars are
    built when training starts, not in ``__init__``.
    """

    order = 50

    def __init__(self, bar: Callable[..., Any] = tqdm,
                 write: Callable[[str], None] | None = None, table: bool = True,
                 leave: bool = False) -> None:
        self.bar_cls = bar
        self.write = write if write is not None else getattr(bar, "write", print)
        self.table = table
        self.leave = leave
        self.epoch_bar = self.batch_bar = None
        self._header: list[str] | None = None

    def before_fit(self, state: FitState) -> None:
        self._header = None
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
    """One bar for an LR sweep: ``total`` steps, postfix with the LR and smoothed loss."""

    order = 50

    def __init__(self, total: int, bar: Callable[..., Any] = tqdm) -> None:
        self.total, self.bar_cls, self.bar = total, bar, None

    def before_fit(self, state: FitState) -> None:
        self.bar = self.bar_cls(total=self.total, desc="lr_find", unit="step", leave=False,
                                dynamic_ncols=True)

    def after_batch(self, state: FitState) -> None:
        self.bar.set_postfix(lr=f"{state.lr:.2e}", loss=f"{state.smooth_loss:.4f}",
                             refresh=False)
        self.bar.update(1)

    def after_fit(self, state: FitState) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
