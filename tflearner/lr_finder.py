"""The learning-rate range test (Leslie Smith's LR finder), run on the Learner's one loop.

``lr_find`` is ``fit`` with one extra callback, :class:`LRFinder`, inside :func:`preserved`:

1. snapshot model, optimizer (slots, iterations, lr), hyper-parameters and data order;
2. sweep ``lr_i = start_lr * (end_lr / start_lr) ** (i / (num_it - 1))``, one step per LR,
   recording the raw batch loss and its debiased EMA
   ``avg_i = beta*avg_{i-1} + (1-beta)*loss_i; smooth_i = avg_i / (1 - beta**(i+1))``, with
   ``beta = 1 - 2/num_it`` by default (:func:`sweep_beta`: fastai's 0.98 at its 100 steps);
3. stop early when ``smooth_i > div_threshold * min(smooth_0..i)`` (``stop_div``) and always
   after a NaN/Inf loss (recorded, then stop);
4. restore everything bit for bit, in a ``finally``, then compute the suggestions from the
   trimmed curve (:mod:`tflearner.suggest`).
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import warnings
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import tensorflow as tf

from .callbacks import Callback, CallbackList, FitState
from .progress import SweepProgress
from .schedules import exp_sweep, lin_sweep
from .snapshot import preserved
from .suggest import Suggestion, get_suggester, trim

if TYPE_CHECKING:
    from .learner import Learner

__all__ = ["LRFinder", "lr_find", "check_sweep_args", "resolve_suggesters", "compute_suggestions",
           "sweep_beta", "DEFAULT_SUGGESTIONS"]

#: What lr_find suggests by default: tflearner's own method first, fastai's valley beside it.
DEFAULT_SUGGESTIONS: tuple[str, ...] = ("robust", "valley")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}: {value!r}.")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, got nan.")
    return value


def sweep_beta(num_it: int) -> float:
    """The default loss-smoothing factor of an ``num_it``-step sweep: ``1 - 2 / num_it``.

    fastai fixes ``beta = 0.98`` for its 100 steps. The EMA's mean lag is ``beta / (1 - beta)``
    steps, so a fixed beta smooths over a shrinking share of a longer sweep, and the curve (and
    every suggestion read off it) changes with ``num_it``: on LeNet/CIFAR-10 with SGD, 300 steps
    at 0.98 gave a robust suggestion 2.6x lower than 100 steps. ``1 - 2/num_it`` keeps the lag
    at half the sweep (0.98 at 100, 0.9933 at 300): over 8 seeds of 4 CIFAR-10 combinations, the
    300-step median suggestions then stayed within 2x of the 100-step ones (0.98: up to 3.1x
    off) and spread less (``benchmarks/results/sweep_length-2026-11-29.txt``).
    """
    return 1.0 - 2.0 / num_it


def check_sweep_args(start_lr: float, end_lr: float, num_it: int, beta: float | None,
                     div_threshold: float, mode: str) -> tuple[float, float, int, float, float]:
    """Validate lr_find's numeric arguments; returns them as floats/ints (``beta=None``:
    :func:`sweep_beta`)."""
    start_lr, end_lr = _number("start_lr", start_lr), _number("end_lr", end_lr)
    if not 0 < start_lr < math.inf:
        raise ValueError(f"start_lr must be a finite number > 0, got {start_lr!r}; try 1e-7.")
    if not start_lr < end_lr < math.inf:
        raise ValueError(f"end_lr must be finite and > start_lr={start_lr!r}, got {end_lr!r}; "
                         "try end_lr=10.")
    if isinstance(num_it, bool) or not isinstance(num_it, (int, np.integer)):
        raise TypeError(f"num_it must be an int >= 2, got {type(num_it).__name__}: {num_it!r}.")
    if num_it < 2:
        raise ValueError(f"num_it must be an int >= 2, got {num_it!r}; 100 is typical.")
    beta = sweep_beta(int(num_it)) if beta is None else _number("beta", beta)
    if not 0 <= beta < 1:
        raise ValueError(f"beta must be in [0, 1) or None, got {beta!r}; None picks "
                         f"1 - 2/num_it (0.98 at 100 steps; 0 = no smoothing).")
    div_threshold = _number("div_threshold", div_threshold)
    if not div_threshold > 1:
        raise ValueError(f"div_threshold must be > 1, got {div_threshold!r}; the sweep stops "
                         "when the smoothed loss exceeds div_threshold × its best (4 is typical).")
    if mode not in ("exp", "linear"):
        raise ValueError(f"mode must be 'exp' or 'linear', got {mode!r}.")
    return start_lr, end_lr, int(num_it), beta, div_threshold


class LRFinder(Callback):
    """Sets the LR of step ``i`` to ``lrs[i]`` and stops at the end of the sweep, on divergence
    (``smooth > div_threshold * best`` with ``stop_div``) or after a non-finite loss.

    ``stop_step`` is the index of the last step run; ``stop_reason`` says why it ended
    (``"end"``, ``"diverged"`` or ``"non-finite"``).
    """

    order = -20

    def __init__(self, lrs: np.ndarray, stop_div: bool = True, div_threshold: float = 4.0):
        self.lrs = np.asarray(lrs, dtype=float)
        self.stop_div = stop_div
        self.div_threshold = div_threshold
        self.best = math.inf
        self.stop_step: int | None = None
        self.stop_reason: str | None = None

    def before_fit(self, state: FitState) -> None:
        self.best, self.stop_step, self.stop_reason = math.inf, None, None
        # The loop applies these inside the compiled step, so a chunk of batches ends at the
        # very batch this callback's own after_batch check stops at.
        state.max_steps = len(self.lrs)
        state.div_limit = self.div_threshold if self.stop_div else 0.0
        state.terminate_on_nan = True

    def before_batch(self, state: FitState) -> None:
        state.hypers.lr = self.lrs[state.step]

    def after_batch(self, state: FitState) -> None:
        reason = None
        if not (math.isfinite(state.loss) and math.isfinite(state.smooth_loss)):
            reason = "non-finite"
        elif self.stop_div and state.smooth_loss > self.div_threshold * self.best:
            reason = "diverged"
        elif state.step + 1 >= len(self.lrs):
            reason = "end"
        self.best = min(self.best, state.smooth_loss)
        if reason is not None:
            self.stop_step, self.stop_reason = state.step, reason
            state.stop_training = True


def _suggested_type(names: Sequence[str]) -> type:
    return namedtuple("SuggestedLRs", list(names))


def resolve_suggesters(suggest_funcs: Any) -> tuple[list[str], list[Callable]]:
    """Names and functions for ``suggest_funcs`` (names, callables, or one of either)."""
    if isinstance(suggest_funcs, str) or callable(suggest_funcs):
        suggest_funcs = [suggest_funcs]
    funcs = [get_suggester(f) for f in suggest_funcs]
    names = [f if isinstance(f, str) else getattr(fn, "__name__", f"func{i}")
             for i, (f, fn) in enumerate(zip(suggest_funcs, funcs, strict=True))]
    if len(set(names)) != len(names):
        raise ValueError(f"suggest_funcs has duplicate names {names!r}; pass each method once.")
    return names, funcs


def compute_suggestions(rec: Any, names: Sequence[str], funcs: Sequence[Callable],
                        num_it: int):
    """Trim ``rec``'s smoothed curve the fastai way, run each suggester, store the results in
    ``rec.suggestions`` and return them as a ``SuggestedLRs`` named tuple of LRs."""
    t_lrs, t_losses = trim(rec.lrs, rec.smooth_losses, num_it=num_it)
    beta = rec.lr_find_info.get("beta")
    # The suggesters' warnings ("no suggestion: ...") are re-issued at the caller's line (the
    # first frame outside tflearner, Keras and TensorFlow), where a notebook user looks.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec.suggestions = {name: _call(fn, t_lrs, t_losses, num_it, beta)
                           for name, fn in zip(names, funcs, strict=True)}
    if caught:
        level = _caller_stacklevel()  # one walk up the stack for all of them
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=level)
    return _suggested_type(names)(*(s.lr for s in rec.suggestions.values()))


#: Frames from these folders are library code, skipped when a warning is attributed to a line.
_LIBRARY_DIRS = tuple(os.path.dirname(f) + os.sep for f in (__file__, keras.__file__, tf.__file__))


def _caller_stacklevel() -> int:
    """``stacklevel`` for :func:`warnings.warn`, called from here, that names the first frame
    outside tflearner, Keras and TensorFlow (the outermost frame if there is none)."""
    frame, level = sys._getframe(1), 1  # the frame that calls warnings.warn
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame, level = frame.f_back, level + 1
    return level


def lr_find(learn: Learner, start_lr: float = 1e-7, end_lr: float = 10.0, num_it: int = 100,
            stop_div: bool = True, beta: float | None = None, div_threshold: float = 4.0,
            suggest_funcs: Sequence[str | Callable] = DEFAULT_SUGGESTIONS,
            show_plot: bool = False, mode: str = "exp", quiet: bool | None = None):
    """Run the LR range test on ``learn`` without side effects; see the module docstring.

    Returns a ``SuggestedLRs`` named tuple with one field per suggestion function (its LR, or
    None). The curve stays in ``learn.recorder`` (``plot()`` draws it with the suggestions).
    """
    start_lr, end_lr, num_it, beta, div_threshold = check_sweep_args(
        start_lr, end_lr, num_it, beta, div_threshold, mode)
    names, funcs = resolve_suggesters(suggest_funcs)

    lrs = (exp_sweep if mode == "exp" else lin_sweep)(start_lr, end_lr, num_it)
    finder = LRFinder(lrs, stop_div=stop_div, div_threshold=div_threshold)
    cbs: list[Callback] = [learn.recorder, *learn.callbacks, finder]
    if not (learn.quiet if quiet is None else quiet):
        cbs.append(SweepProgress(total=num_it))
    n_iter = learn.data.n_train_batches
    epochs = num_it if not n_iter else -(-num_it // n_iter)  # cycle the data if needed
    with preserved(learn.snapshot()):
        learn.loop.fit(learn.data.train, epochs, None, CallbackList(cbs), learner=learn,
                       smooth_beta=beta)

    rec = learn.recorder
    rec.lr_find_info = {"num_it": num_it, "stop_reason": finder.stop_reason,
                        "stop_step": finder.stop_step, "beta": beta}
    result = compute_suggestions(rec, names, funcs, num_it)
    learn.suggested_lr = result[0]
    if show_plot:
        rec.plot()
    return result


def _call(fn: Callable, lrs: np.ndarray, losses: np.ndarray, num_it: int,
          beta: float | None = None) -> Suggestion:
    """Run one suggester; a user function may return a Suggestion, an LR, None, or fastai's
    ``(lr, (x, y))`` pair. Suggesters with a ``beta`` keyword (robust) are told the EMA factor
    the curve was smoothed with."""
    kw = {"num_it": num_it}
    if beta is not None and _takes_beta(fn):
        kw["beta"] = beta
    out = fn(lrs, losses, **kw)
    if isinstance(out, Suggestion):
        return out
    if isinstance(out, tuple) and len(out) == 2:
        lr, point = out
        return Suggestion(None if lr is None else float(lr), tuple(point) if point else None)
    return Suggestion(None if out is None else float(out), None, None)


def _takes_beta(fn: Callable) -> bool:
    try:
        return "beta" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins and some callables have no signature
        return False
