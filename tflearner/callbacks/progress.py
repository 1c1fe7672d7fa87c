"""Progress that fits where it runs: tqdm bars in a terminal or a notebook, plain lines elsewhere.

Where the output goes decides its form (``mode="auto"``, the default):

* **bar**: the progress stream (``sys.stderr`` unless ``stream=`` says otherwise) is a terminal
  (``stream.isatty()``), or the code runs in a Jupyter notebook (when ``tqdm.auto`` itself picks
  its notebook widget): an epoch bar, a batch bar with the live smoothed loss, and a fastai-like
  table row per epoch (printed with ``tqdm.write``, on stdout), as fastai does.
* **plain**: anything else (a CI log, ``nohup``, ``2> file``, a pipe): no bars and no control
  characters, one line per epoch written to the progress stream (stderr, where the bars would
  have gone; stdout stays for results)::

      epoch 3/10  train_loss 1.2345  valid_loss 1.3456  accuracy 0.5123  time 12.3s

  The values are the epoch table's (4 decimals); the epoch counts from 1, out of the fit's
  epochs (the table's ``epoch`` column and ``recorder.values`` count from 0). ``lr_find``
  prints one line when the sweep ends: the iterations run and why it stopped; a verified
  ``lr_find`` one line per round of its race.

The mode can be forced: ``ProgressCallback(mode="bar" | "plain")``, or the environment variable
``TFLEARNER_PROGRESS=bar | plain | auto``, read when a fit starts and used when the callback's
own ``mode`` is ``"auto"`` (the default ones the Learner adds included; an argument wins over the
environment, as with tqdm's ``TQDM_*`` variables). Passing a ``bar=`` class means bar mode under
``"auto"``. In bar mode tqdm's own variables apply (``TQDM_DISABLE=1`` hides the bars and keeps
the table); ``quiet=True`` on the Learner or the fit turns all progress output off.

tqdm is imported when the first fit in bar mode starts (:func:`default_bar`), never in plain mode
outside a notebook, and not with this module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from ..core.checks import check_choice, fail
from ..core.events import Callback
from ..core.fit_state import FitState

__all__ = ["ENV_VAR", "MODES", "ProgressCallback", "RaceProgress", "SweepProgress",
           "default_bar", "format_time", "progress_mode"]

#: The environment variable that sets the mode of callbacks left at ``mode="auto"``.
ENV_VAR = "TFLEARNER_PROGRESS"
#: The progress modes: ``"auto"`` resolves to ``"bar"`` or ``"plain"`` when a fit starts.
MODES = ("auto", "bar", "plain")


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


def _in_notebook() -> bool:
    """Whether ``tqdm.auto`` picks its notebook widget here (it decides from the IPython kernel
    modules loaded; without one loaded tqdm is not even imported)."""
    if not any(m in sys.modules for m in ("ipykernel.zmqshell",
                                          "IPython.utils._process_emscripten")):
        return False
    return any(c.__module__ == "tqdm.notebook" for c in default_bar().__mro__)


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def progress_mode(mode: str = "auto", stream: Any = None, bar: Any = None) -> str:
    """``"bar"`` or ``"plain"``: ``mode`` unless it is ``"auto"``; then ``$TFLEARNER_PROGRESS``
    unless it is unset, empty or ``auto``; then ``"bar"`` for an injected ``bar`` class, a
    terminal ``stream`` (None: ``sys.stderr``) or a notebook, else ``"plain"``."""
    mode = check_choice("mode", mode, MODES, "e.g. mode='plain' for one line per epoch.")
    if mode != "auto":
        return mode
    env = os.environ.get(ENV_VAR, "").strip().lower()
    if env not in ("", "auto"):
        if env not in MODES:
            raise fail(ENV_VAR, "one of 'auto', 'bar', 'plain' (or unset)",
                       os.environ[ENV_VAR], f"e.g. export {ENV_VAR}=plain, or unset it.")
        return env
    if bar is not None:
        return "bar"
    stream = sys.stderr if stream is None else stream
    return "bar" if _is_tty(stream) or _in_notebook() else "plain"


def _printer(stream: Any) -> Callable[[str], None]:
    """One flushed line to ``stream`` (None: the ``sys.stderr`` of the time of the call)."""

    def write(line: str) -> None:
        out = sys.stderr if stream is None else stream
        print(line, file=out, flush=True)

    return write


class ProgressCallback(Callback):
    """Progress bars and a per-epoch table in a terminal or notebook, one plain line per epoch
    elsewhere (see the module docstring for how the mode is chosen).

    Bar mode: an epoch bar, a batch bar with the smoothed loss and one table row per epoch:
    ``epoch  train_loss  valid_loss  <metrics>  time``. Plain mode: one line per epoch,
    ``epoch 3/10  train_loss 1.2345  valid_loss 1.3456  accuracy 0.5123  time 12.3s``.

    Args:
        bar: a tqdm-like class, called as ``bar(total=, desc=, unit=, leave=, dynamic_ncols=)``
            (plus ``file=stream`` when ``stream`` is given) and used through ``update``,
            ``set_postfix`` and ``close``; None (the default): :func:`default_bar`, resolved when
            the fit starts. Passing one selects bar mode under ``mode="auto"``.
        write: prints one table line (or, in plain mode, one epoch line); None: ``bar.write``
            if the bar class has one, else ``print``; in plain mode, a flushed line on ``stream``.
        table: print the per-epoch table (plain mode: the per-epoch line).
        leave: keep the epoch bar on screen after the fit.
        mode: ``"auto"`` (the default), ``"bar"`` or ``"plain"``.
        stream: the progress stream, whose ``isatty()`` decides ``"auto"`` and which receives the
            plain lines (and the bars, when given); None: ``sys.stderr`` when the fit starts.

    Bars are built when training starts (``before_fit`` / ``before_train``), not in
    ``__init__``; from then on ``mode`` holds the mode in use (``"bar"`` or ``"plain"``) and
    ``bar_cls`` and ``write`` the bar class (None in plain mode) and the printer in use (before
    that, what was passed).
    """

    order = 50

    def __init__(self, bar: Callable[..., Any] | None = None,
                 write: Callable[[str], None] | None = None, table: bool = True,
                 leave: bool = False, mode: str = "auto", stream: TextIO | None = None) -> None:
        self._mode = check_choice("mode", mode, MODES,
                                  "e.g. mode='plain' for one line per epoch.")
        self._bar, self._write = bar, write
        self.mode, self.bar_cls, self.write = self._mode, bar, write
        self.stream = stream
        self.table = table
        self.leave = leave
        self.epoch_bar = self.batch_bar = None
        self._header: list[str] | None = None

    def _new_bar(self, **kw: Any) -> Any:
        if self.stream is not None:
            kw["file"] = self.stream
        return self.bar_cls(dynamic_ncols=True, **kw)

    def before_fit(self, state: FitState) -> None:
        self._header = None
        self.mode = progress_mode(self._mode, self.stream, self._bar)
        if self.mode == "plain":
            self.bar_cls = None
            self.write = self._write if self._write is not None else _printer(self.stream)
            return
        self.bar_cls = self._bar if self._bar is not None else default_bar()
        self.write = self._write if self._write is not None else getattr(self.bar_cls, "write",
                                                                         print)
        self.epoch_bar = self._new_bar(total=state.epochs, desc="epoch", unit="epoch",
                                       leave=self.leave)

    def before_train(self, state: FitState) -> None:
        if self.mode == "bar":
            self.batch_bar = self._new_bar(total=state.n_iter, desc=f"epoch {state.epoch}",
                                           unit="batch", leave=False)

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
            (self._line if self.mode == "plain" else self._row)(state)

    def after_fit(self, state: FitState) -> None:
        self._close_batch_bar()
        if self.epoch_bar is not None:
            self.epoch_bar.close()
            self.epoch_bar = None

    def _close_batch_bar(self) -> None:
        if self.batch_bar is not None:
            self.batch_bar.close()
            self.batch_bar = None

    def _line(self, state: FitState) -> None:
        cells = [f"epoch {state.epoch + 1}/{state.epochs}"]
        cells += [f"{k} {v:.4f}" for k, v in state.logs.items() if k != "time"]
        cells.append(f"time {state.logs.get('time', 0.0):.1f}s")
        self.write("  ".join(cells))

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
    """An LR sweep's progress: in bar mode one bar of ``total`` steps with the LR and smoothed
    loss; in plain mode one line when the sweep ends, e.g.
    ``lr_find: 87/100 iterations, stopped: diverged (lr 1.23e-01, smooth loss 4.5678)``.

    ``bar``: a tqdm-like class, or None (the default) for :func:`default_bar`, resolved when
    the sweep starts; ``mode``, ``stream``: as :class:`ProgressCallback`'s; ``write``: the
    printer of the plain line (None: a flushed line on ``stream``). From the start of the sweep
    ``mode`` holds the mode in use.
    """

    order = 50

    def __init__(self, total: int, bar: Callable[..., Any] | None = None, mode: str = "auto",
                 stream: TextIO | None = None,
                 write: Callable[[str], None] | None = None) -> None:
        self._mode = check_choice("mode", mode, MODES, "e.g. mode='plain' for one line.")
        self.total, self.bar_cls, self.bar = total, bar, None
        self.mode, self.stream, self.write = self._mode, stream, write
        self.done = 0

    def before_fit(self, state: FitState) -> None:
        self.done = 0
        self.mode = progress_mode(self._mode, self.stream, self.bar_cls)
        if self.mode == "plain":
            return
        bar_cls = self.bar_cls if self.bar_cls is not None else default_bar()
        kw = {"file": self.stream} if self.stream is not None else {}
        self.bar = bar_cls(total=self.total, desc="lr_find", unit="step", leave=False,
                           dynamic_ncols=True, **kw)

    def after_batch(self, state: FitState) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix(lr=f"{state.lr:.2e}", loss=f"{state.smooth_loss:.4f}",
                                 refresh=False)
            self.bar.update(1)

    def after_fit(self, state: FitState) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.mode == "plain" and state is not None:
            reason = state.stop_reason or "end of data"
            reason = "end of the sweep" if reason == "max_steps" else reason
            write = self.write if self.write is not None else _printer(self.stream)
            write(f"lr_find: {self.done}/{self.total} iterations, stopped: {reason} "
                  f"(lr {state.lr:.2e}, smooth loss {state.smooth_loss:.4f})")


class RaceProgress(Callback):
    """One round of the verified LR finder's race (``n`` trial fits of ``updates`` updates
    each), given to every trial of the round: in bar mode one bar over the round's batches
    with the trial's LR; in plain mode one line when the round ends (:meth:`close`), e.g.
    ``race: round 1: 6 trials x 40 updates, best valid_loss 0.4321 at lr 1.23e-02``.
    ``bar``, ``mode``, ``stream``, ``write``: as :class:`SweepProgress`'s."""

    order = 50

    def __init__(self, label: str, n: int, updates: int, bar: Callable[..., Any] | None = None,
                 mode: str = "auto", stream: TextIO | None = None,
                 write: Callable[[str], None] | None = None) -> None:
        self.mode = check_choice("mode", mode, MODES, "e.g. mode='plain' for one line.")
        self.label, self.n, self.updates = label, n, updates
        self.bar_cls, self.stream, self.write, self.bar = bar, stream, write, None
        self.mode = progress_mode(self.mode, stream, bar)

    def before_fit(self, state: FitState) -> None:
        if self.mode == "bar" and self.bar is None:
            bar_cls = self.bar_cls if self.bar_cls is not None else default_bar()
            kw = {"file": self.stream} if self.stream is not None else {}
            self.bar = bar_cls(total=self.n * self.updates, desc=self.label, unit="step",
                               leave=False, dynamic_ncols=True, **kw)
        if self.bar is not None:
            self.bar.set_postfix(lr=f"{state.hypers.lr:.2e}", refresh=False)

    def after_batch(self, state: FitState) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self, trials: list) -> None:
        """End the round: close the bar; in plain mode, say how the round went."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.mode != "plain":
            return
        finite = [t for t in trials if t.loss < float("inf")]
        best = (f"best valid_loss {min(t.loss for t in finite):.4f} at lr "
                f"{min(finite, key=lambda t: t.loss).lr:.2e}" if finite else "every trial diverged")
        write = self.write if self.write is not None else _printer(self.stream)
        write(f"{self.label}: {len(trials)} trials x {self.updates} updates, {best}")
