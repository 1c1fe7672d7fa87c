"""The LR range test's pieces: its argument checks, the sweep callback and the suggestions.

:mod:`tflearner.lr_finder.driver` runs them; this module never sees a Learner:

1. :func:`check_sweep_args` and :func:`resolve_suggesters` validate everything before the sweep;
2. :class:`LRFinder` plans ``lr_i = lrs[i]`` for batch ``i``; the loop's
   :class:`~tflearner.core.fit_state.StopLimits` (``max_steps = num_it``,
   ``div_limit = div_threshold`` with ``stop_div``, ``terminate_on_nan``) end the sweep, applied
   inside the compiled step at the very batch;
3. :func:`compute_suggestions` trims the recorded curve the fastai way and runs each suggester.

The loss is smoothed with a debiased EMA of factor ``beta``, by default :func:`sweep_beta`.
"""

from __future__ import annotations

import inspect
import keyword
import warnings
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..callbacks.scheduler import ParamScheduler
from ..core.caller import caller_stacklevel
from ..core.checks import check_bool, check_choice, check_int, check_real
from ..core.fit_state import StopLimits, StopReason
from .repeats import BOOTSTRAP_CURVES, SPREAD_WARN, band, bootstrap_curves, combine, spread
from .suggest import MIN_POINTS, SUGGESTERS, Suggestion, get_suggester, trim

__all__ = ["LRFinder", "check_sweep_args", "resolve_suggesters", "compute_suggestions",
           "sweep_limits", "sweep_beta", "sweep_reason", "DEFAULT_SUGGESTIONS",
           "collapse_accumulated", "still_falling", "above_divergence", "DIVERGED_LR_FACTOR"]

#: What lr_find suggests by default: tflearner's own method first, fastai's valley beside it.
DEFAULT_SUGGESTIONS: tuple[str, ...] = ("robust", "valley")

#: A schedule whose peak LR is more than this many times the LR at which the last lr_find
#: diverged (``lr_find_info["stop_lr"]``) gets a warning. 1x, no margin, because ``stop_lr`` is
#: already past where the loss turned: the sweep stops only once the *smoothed* loss exceeds
#: ``div_threshold`` (4) x its best, so the raw loss had been rising for some steps before it,
#: and one sweep step at an LR is a far milder test than the tens of steps a schedule spends
#: near its peak. ``robust`` never suggests past the curve's minimum (lower still), so this
#: never fires on a suggestion of the same sweep.
DIVERGED_LR_FACTOR = 1.0

# The keywords a suggester may take, passed when its signature has them (or **kwargs).
_KEYWORDS = ("num_it", "beta", "stop_reason")


def sweep_beta(num_it: int) -> float:
    """The default loss-smoothing factor of an ``num_it``-step sweep: ``1 - 2 / num_it``
    (0.98 at fastai's 100 steps). It keeps the EMA's mean lag, ``beta / (1 - beta)`` steps, at
    half the sweep whatever its length, so a longer sweep smooths over the same share of the
    curve (see ``docs/lr_finder.md``, "Sweep length")."""
    return 1.0 - 2.0 / num_it


def check_sweep_args(start_lr: Any, end_lr: Any, num_it: Any, beta: Any, div_threshold: Any,
                     mode: Any, stop_div: Any = True) -> tuple[float, float, int, float, float]:
    """Validate lr_find's numeric arguments; returns ``(start_lr, end_lr, num_it, beta,
    div_threshold)`` as floats/ints (``beta=None``: :func:`sweep_beta`)."""
    start_lr = check_real("start_lr", start_lr, 0.0, low_open=True, fix="try 1e-7.")
    end_lr = check_real("end_lr", end_lr, start_lr, low_open=True, fix="try end_lr=10.",
                        requirement=f"a finite number > start_lr={start_lr!r}")
    num_it = check_int("num_it", num_it, 2, fix="100 is typical.")
    beta = sweep_beta(num_it) if beta is None else check_real(
        "beta", beta, 0.0, 1.0, high_open=True, requirement="in [0, 1) or None",
        fix="e.g. beta=0.98, 0 for no smoothing, or None for 1 - 2/num_it (0.98 at 100 "
            "steps).")
    div_threshold = check_real(
        "div_threshold", div_threshold, 1.0, low_open=True,
        fix="the sweep stops when the smoothed loss exceeds div_threshold x its best (4 is "
            "typical).")
    check_choice("mode", mode, ("exp", "linear"),
                 fix="e.g. mode='exp' (learning rates spaced on a log scale, the usual sweep).")
    check_bool("stop_div", stop_div)
    return start_lr, end_lr, num_it, beta, div_threshold


def sweep_limits(num_it: int, stop_div: bool, div_threshold: float) -> StopLimits:
    """The loop limits of a sweep: ``num_it`` steps, divergence stop, stop on NaN/Inf."""
    return StopLimits(max_steps=num_it, div_limit=div_threshold if stop_div else 0.0,
                      terminate_on_nan=True)


class LRFinder(ParamScheduler):
    """Plans the LR of sweep step ``i`` as ``lrs[i]`` (the loop's limits end the sweep; steps
    past the end keep the last LR), for the last layer group; the others keep their ratio to
    it. With gradient accumulation a step is an optimizer update (``state.update``): the
    micro-batches of update ``u`` all get ``lrs[u]``, the LR that update applies.

    ``r0`` and ``k`` are deprecated and ignored: the fit's clock (``state.clock``) gives each
    batch its update."""

    order = -20
    exact_length = False

    def __init__(self, lrs: np.ndarray, r0: int | None = None, k: int | None = None) -> None:
        if r0 is not None or k is not None:
            warnings.warn("LRFinder(lrs, r0, k): r0 and k are deprecated and ignored; the fit's "
                          "state.clock maps batches to optimizer updates. Pass LRFinder(lrs).",
                          DeprecationWarning, stacklevel=2)
        super().__init__({"lr": lrs})

    @property
    def lrs(self) -> np.ndarray:
        """The sweep's LRs, one per step."""
        return self.scheds["lr"]


def sweep_reason(reason: StopReason | str | None) -> StopReason | None:
    """A sweep's stop reason from its fit's: ``END`` when it ran all its steps
    (``MAX_STEPS``), the fit's otherwise (None: none)."""
    if reason is None:
        return None
    reason = StopReason(reason)
    return StopReason.END if reason is StopReason.MAX_STEPS else reason


def collapse_accumulated(rec: Any, clock: Any) -> None:
    """Reduce a sweep's per-micro-batch records in ``rec`` to one point per applied update
    (``clock``: the sweep's :class:`~tflearner.optim.accumulate.UpdateClock`): its LR, the mean
    raw loss of its ``k`` micro-batches (the loss whose mean gradient was applied), the smoothed
    loss at its last micro-batch. An update left incomplete at the end is dropped (it was never
    applied)."""
    n = len(rec.lrs)
    ends = [i for i in range(n) if clock.ends_update(i)]
    starts = [0] + [e + 1 for e in ends[:-1]]
    for name in ("lrs", "group_lrs", "moms", "wds", "smooth_losses", "iters"):
        values = getattr(rec, name)
        setattr(rec, name, [values[e] for e in ends])
    losses = rec.losses
    rec.losses = [float(np.mean(losses[s:e + 1])) for s, e in zip(starts, ends, strict=True)]


# ---- suggestions ------------------------------------------------------------------------------
def _field_name(fn: Callable, given: Any, i: int) -> str:
    """A ``SuggestedLRs`` field for suggester ``i``: its name, or ``func<i>`` for a lambda or a
    name namedtuple cannot hold (leading underscores are dropped)."""
    name = given if isinstance(given, str) else getattr(fn, "__name__", "")
    name = name.lstrip("_")
    if not name.isidentifier() or keyword.iskeyword(name):
        name = f"func{i}"
    return name


class _Takes(NamedTuple):
    """How a suggester is called: ``ok`` (callable as ``f(lrs, losses)`` or fastai's
    ``f(lrs, losses, num_it)``), the ``keywords`` of ``num_it`` / ``beta`` / ``stop_reason`` it
    takes by name, and whether ``num_it`` goes third by position (``positional``)."""

    ok: bool
    keywords: frozenset
    positional: bool = False


def _accepts(fn: Callable) -> _Takes:
    """How ``fn`` takes a sweep: ``fn(lrs, losses)`` with the keywords it names (all of them
    if it has ``**kwargs``), or fastai's ``fn(lrs, losses, num_it)`` with ``num_it`` third."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins and some callables have no signature
        return _Takes(True, frozenset({"num_it"}))
    params = list(sig.parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return _Takes(True, frozenset(_KEYWORDS))
    named = frozenset(p.name for p in params if p.name in _KEYWORDS and p.kind in (
        p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    for n_args, positional in ((2, False), (3, True)):
        try:
            sig.bind(*[None] * n_args)
        except TypeError:
            continue
        third = params[2].name if positional and len(params) > 2 else None
        if third in ("beta", "stop_reason"):  # named as a keyword it gets: given by name
            return _Takes(True, named)
        return _Takes(True, named - {third, "num_it"} if positional else named, positional)
    return _Takes(False, frozenset())


def resolve_suggesters(suggest_funcs: Any) -> tuple[list[str], list[Callable]]:
    """Names and functions for ``suggest_funcs`` (names, callables, or one of either), checked
    before any sweep: at least one, each a known name or a function ``f(lrs, losses, ...)``."""
    if isinstance(suggest_funcs, str) or callable(suggest_funcs):
        suggest_funcs = [suggest_funcs]
    if not isinstance(suggest_funcs, Sequence) or len(suggest_funcs) == 0:
        raise ValueError(f"suggest_funcs must name at least one suggestion method, got "
                         f"{suggest_funcs!r}; e.g. suggest_funcs=('robust', 'valley').")
    funcs = [get_suggester(f) for f in suggest_funcs]
    for i, fn in enumerate(funcs):
        if not _accepts(fn).ok:
            raise TypeError(f"suggest_funcs[{i}]={fn!r} cannot be called as f(lrs, losses) or "
                            "f(lrs, losses, num_it); a suggester takes the LRs and the smoothed "
                            "losses (and optionally num_it, beta= and stop_reason=) and returns "
                            "an LR, None or a Suggestion.")
    names = [_field_name(fn, f, i) for i, (f, fn) in enumerate(zip(suggest_funcs, funcs,
                                                                   strict=True))]
    if len(set(names)) != len(names):
        raise ValueError(f"suggest_funcs has duplicate names {names!r}; pass each method once.")
    return names, funcs


def still_falling(lrs: Any, losses: Any) -> bool:
    """Whether a trimmed curve's lowest loss is its last point (its finite points, at least
    :data:`~tflearner.lr_finder.suggest.MIN_POINTS` of them): the loss was still falling where
    the curve ends. The same test as ``robust``'s hard cap."""
    lrs_a, losses_a = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    finite = losses_a[np.isfinite(lrs_a) & np.isfinite(losses_a)]
    return len(finite) >= MIN_POINTS and int(np.argmin(finite)) == len(finite) - 1


def compute_suggestions(rec: Any, names: Sequence[str], funcs: Sequence[Callable],
                        num_it: int, sweeps: Sequence[dict] | None = None):
    """Trim the smoothed curve the fastai way, run each suggester, store the results in
    ``rec.suggestions`` and return them as a ``SuggestedLRs`` named tuple of LRs.

    ``sweeps`` (``lr_find(repeats=k)``, ``k > 1``): the ``k`` recorded curves (dicts with
    ``lrs`` and ``smooth_losses``); each gets its own ``"suggestions"``, and ``rec.suggestions``
    holds their :func:`~tflearner.lr_finder.repeats.combine` (geometric median and spread). The
    result then also has ``.spread``, ``{name: max / min of the k LRs}``, and a spread of the
    first method above :data:`~tflearner.lr_finder.repeats.SPREAD_WARN` warns. Without
    ``sweeps`` the curve is ``rec``'s and ``.spread`` is each built-in method's spread over
    :data:`~tflearner.lr_finder.repeats.BOOTSTRAP_CURVES` bootstrap copies of its noise (None
    for custom suggesters and when the method has no suggestion), with the same warning.

    What each sweep did is said once, here, and agrees with the plot title: the suggesters
    that take ``stop_reason`` get the sweep's (``"end"`` when there is none), and
    ``rec.lr_find_info["still_falling"]`` (and each sweep's ``"still_falling"``) is whether the
    sweep ran to its last LR (``"end"``) with the trimmed curve lowest at its last point
    (:func:`still_falling`). Only then one warning says the suggestions are lower bounds and to
    raise ``end_lr``; a sweep that diverged or hit NaN/Inf never says so (its trimmed tail hid
    the turn; the plot title names the stop).
    """
    info = rec.lr_find_info
    curves = list(sweeps) if sweeps else [{"lrs": rec.lrs, "smooth_losses": rec.smooth_losses,
                                            "stop_reason": info.get("stop_reason")}]
    beta = info.get("beta")
    per_sweep, messages = _per_sweep(curves, names, funcs, num_it, beta)
    info["still_falling"] = bool(curves[0]["still_falling"])  # the first sweep's, as the title
    if len(curves) == 1:
        rec.suggestions = _with_bootstrap_spread(per_sweep[0], rec, names, funcs, num_it,
                                                 beta, curves[0].get("stop_reason") or "end")
        messages += _bootstrap_spread_warning(names[0], rec.suggestions[names[0]])
    else:
        messages = _grouped(messages, len(curves))
        rec.suggestions = _combined(curves, per_sweep, names)
        messages += _repeats_spread_warning(names[0], rec.suggestions[names[0]], per_sweep)
    if messages:
        level = caller_stacklevel()  # one walk up the stack for all of them
        for message, category, _ in messages:
            warnings.warn(message, category, stacklevel=level)
    return _suggested_lrs(rec.suggestions)


_Message = tuple[str, type[Warning], int]  # text, category, the sweep (0-based) that gave it


def _per_sweep(curves: list[dict], names: Sequence[str], funcs: Sequence[Callable],
               num_it: int, beta: float | None) -> tuple[list[dict], list[_Message]]:
    """Each curve's suggestions (its ``still_falling`` set on it) and the warnings they gave."""
    per_sweep, messages = [], []
    for r, curve in enumerate(curves):
        t_lrs, t_losses = trim(curve["lrs"], curve["smooth_losses"], num_it=num_it)
        stop_reason = curve.get("stop_reason") or "end"
        curve["still_falling"] = stop_reason == "end" and still_falling(t_lrs, t_losses)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            per_sweep.append({name: _call(fn, t_lrs, t_losses, num_it, beta, stop_reason)
                              for name, fn in zip(names, funcs, strict=True)})
        messages += [(str(w.message), w.category, r) for w in caught]
        if curve["still_falling"]:
            messages.append((
                f"lr_find: the loss was still falling at the end of the sweep (end_lr="
                f"{float(curve['lrs'][-1]):.3g}), so its minimum lies beyond it: the suggestions "
                "are lower bounds; rerun the LR finder with a larger end_lr (the tflearner "
                "command: --end-lr).", UserWarning, r))
    return per_sweep, messages


def _grouped(messages: list[_Message], k: int) -> list[_Message]:
    """One warning per distinct message of ``k`` sweeps, naming the sweeps that gave it."""
    grouped: dict[tuple[str, type[Warning]], list[int]] = {}
    for message, category, r in messages:
        grouped.setdefault((message, category), []).append(r + 1)
    return [(f"sweep{'s' if len(rs) > 1 else ''} {', '.join(map(str, rs))} of {k}: {message}",
             category, 0) for (message, category), rs in grouped.items()]


def _combined(curves: list[dict], per_sweep: list[dict], names: Sequence[str]) -> dict:
    """Each method's :func:`~tflearner.lr_finder.repeats.combine` over the sweeps (each curve
    keeps its own ``"suggestions"``)."""
    for curve, found in zip(curves, per_sweep, strict=True):
        curve["suggestions"] = found
    b_lrs, median, _, _ = band([(c["lrs"], c["smooth_losses"]) for c in curves])
    return {name: combine([found[name] for found in per_sweep], curve=(b_lrs, median))
            for name in names}


def _bootstrap_spread_warning(first: str, sug: Suggestion) -> list[_Message]:
    if sug.lr is None or sug.spread is None or not sug.spread > SPREAD_WARN:
        return []
    return [(f"lr_find: the suggestion is uncertain: {first}'s {sug.lr:.2e} moves over a "
             f"x{sug.spread:.3g} range (above x{SPREAD_WARN:g}) on {BOOTSTRAP_CURVES} "
             "bootstrap copies of this sweep's batch noise; run lr_find(repeats=3) to see "
             "it across data orders, or make the curve less noisy with a longer sweep "
             "(num_it=200 or more) or a larger batch size.", UserWarning, 0)]


def _repeats_spread_warning(first: str, sug: Suggestion,
                            per_sweep: list[dict]) -> list[_Message]:
    if sug.spread is None or not sug.spread > SPREAD_WARN:
        return []
    lrs = ", ".join("none" if f[first].lr is None else f"{f[first].lr:.2e}" for f in per_sweep)
    return [(f"lr_find: the {len(per_sweep)} sweeps disagree: {first} suggested {lrs} (a "
             f"spread of x{sug.spread:.3g}, above x{SPREAD_WARN:g}), so the suggestion "
             f"{'none' if sug.lr is None else f'{sug.lr:.2e}'} (their geometric median) "
             "is uncertain; run a longer sweep (num_it=200 or more) or use a larger batch "
             "size, which both make the curve less noisy.", UserWarning, 0)]


def _suggested_lrs(suggestions: dict):
    """``SuggestedLRs``: a named tuple of the LRs, with ``.spread`` ``{name: spread}``."""
    cls = namedtuple("SuggestedLRs", list(suggestions))
    result = cls(*(s.lr for s in suggestions.values()))
    spreads = {name: s.spread for name, s in suggestions.items()}
    return type("SuggestedLRs", (cls,), {"__slots__": (), "spread": spreads,
                                         "__doc__": cls.__doc__})(*result)


def above_divergence(peak_lr: float, info: dict, suggested: float | None = None) -> str | None:
    """The warning for a schedule peaking at ``peak_lr`` (the last layer group's LR, which is
    the one lr_find sweeps) after a sweep described by ``info`` (``recorder.lr_find_info``),
    or None.

    A message only when that sweep stopped because the loss diverged or became NaN/Inf and
    ``peak_lr > DIVERGED_LR_FACTOR * info["stop_lr"]``; it names both LRs and the fix (the
    suggestion ``suggested``, if any, or a peak below ``stop_lr``). Pure: it reads ``info``."""
    stop_lr, reason = info.get("stop_lr"), info.get("stop_reason")
    if reason is None or not StopReason(reason).blew_up or not stop_lr:
        return None
    if not peak_lr > DIVERGED_LR_FACTOR * stop_lr:
        return None
    use = (f"max_lr=None for the suggestion ({suggested:.3g}), or " if suggested else "")
    return (f"this fit's peak LR {peak_lr:.3g} (the last layer group's) is {peak_lr / stop_lr:.3g}"
            f"x the LR at which the last lr_find stopped with the loss {info['stop_reason']} "
            f"({stop_lr:.3g}, step {info.get('stop_step')}): training will likely diverge too; "
            f"use {use}a peak LR below {stop_lr:.3g}.")


def _with_bootstrap_spread(found: dict, rec: Any, names: Sequence[str],
                           funcs: Sequence[Callable], num_it: int, beta: float | None,
                           stop_reason: str) -> dict:
    """``found`` with each built-in method's ``spread``: max / min of its suggestions on the
    :func:`~tflearner.lr_finder.repeats.bootstrap_curves` of the recorded raw losses (``inf``
    if some give none). Custom suggesters keep ``spread=None`` (they may not be pure)."""
    if beta is None:
        return found
    curves = bootstrap_curves(rec.losses, beta)
    if not curves:
        return found
    lrs = np.asarray(rec.lrs[: len(curves[0])], dtype=np.float64)
    out = dict(found)
    builtin = set(SUGGESTERS.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in zip(names, funcs, strict=True):
            if fn in builtin and found[name].lr is not None:
                lrs_b = [_call(fn, *trim(lrs, c, num_it=num_it), num_it, beta, stop_reason).lr
                         for c in curves]
                lr, point, lr_range, _ = found[name]
                out[name] = Suggestion(lr, point, lr_range, spread(lrs_b))
    return out


def _call(fn: Callable, lrs: np.ndarray, losses: np.ndarray, num_it: int,
          beta: float | None = None, stop_reason: str | None = None) -> Suggestion:
    """Run one suggester with the keywords it takes; it may return a Suggestion, an LR, None,
    or fastai's ``(lr, (x, y))`` pair."""
    takes = _accepts(fn)
    kw: dict[str, Any] = {}
    if "num_it" in takes.keywords:
        kw["num_it"] = num_it
    if "beta" in takes.keywords and beta is not None:
        kw["beta"] = beta
    if "stop_reason" in takes.keywords and stop_reason is not None:
        kw["stop_reason"] = stop_reason
    out = fn(lrs, losses, num_it, **kw) if takes.positional else fn(lrs, losses, **kw)
    if isinstance(out, Suggestion):
        return out
    if isinstance(out, tuple) and len(out) == 2:
        lr, point = out
        return Suggestion(None if lr is None else float(lr), tuple(point) if point else None)
    return Suggestion(None if out is None else float(out), None, None)
