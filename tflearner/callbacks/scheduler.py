"""ParamScheduler: hyper-parameters from per-step arrays, as a plan the loop reads (fastai's name).

The arrays come from the pure functions in :mod:`tflearner.schedules` (or your own); this
callback only slices them by the fit's update position (:class:`~tflearner.core.events.Planner`),
so schedules stay testable without TensorFlow and a whole chunk of batches runs in one compiled
call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..core.checks import fail
from ..core.events import PLAN_KEYS, Callback
from ..core.fit_state import FitState
from ..schedules import Plan

__all__ = ["ParamScheduler", "check_scheds"]

#: each name's requirement, and its test on an array (finiteness is checked for all)
_RANGES = {"lr": ("finite and > 0", lambda v: v > 0),
           "mom": ("in [0, 1)", lambda v: (v >= 0) & (v < 1)),
           "wd": ("finite and >= 0", lambda v: v >= 0)}


def check_scheds(scheds: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """``scheds`` as float64 arrays of one length, each value in its range (``lr`` > 0, ``mom``
    in [0, 1), ``wd`` >= 0, all finite); ``lr`` may be ``[steps, groups]``, the others are 1-D."""
    bad = set(scheds) - set(PLAN_KEYS)
    if bad:
        raise ValueError(f"scheds keys must be among 'lr', 'mom', 'wd', got {sorted(bad)}.")
    values = {k: np.asarray(v, dtype=np.float64) for k, v in scheds.items()}
    for name, v in values.items():
        if v.ndim not in ((1, 2) if name == "lr" else (1,)) or not len(v):
            raise fail(f"scheds[{name!r}]", "a non-empty 1-D array" + (
                " or [steps, groups]" if name == "lr" else ""), v.shape, "one value per step.")
        requirement, ok = _RANGES[name]
        good = np.isfinite(v) & ok(v)
        if not good.all():
            i = tuple(np.argwhere(~good)[0])
            raise fail(f"scheds[{name!r}][{', '.join(map(str, i))}]", requirement,
                       float(v[i]), "fix the schedule's values.")
    lengths = {len(v) for v in values.values()}
    if len(lengths) != 1:
        raise ValueError(f"all schedules must have the same length, got {sorted(lengths)}.")
    return values


class ParamScheduler(Callback):
    """Plays ``scheds`` (names ``lr``, ``mom``, ``wd``; arrays of one value per step, or a
    :class:`~tflearner.schedules.Plan`): step ``i`` of the fit gets ``values[i]`` just before its
    update. The fit must have exactly ``len(values)`` steps (checked in ``before_fit`` when the
    epoch length is known).

    ``lr`` may hold one column per layer group (``[steps, groups]``); a 1-D ``lr`` is the last
    group's, and every other group keeps its ratio to it as it is when the fit starts.
    With an optimizer that accumulates gradients (``gradient_accumulation_steps=k``), a step
    is an optimizer *update*: ``values[u]`` goes to every micro-batch of update ``u``
    (``state.update``), so each applied update gets its own value, and the fit must apply
    exactly ``len(values)`` updates."""

    order = -10
    #: the fit must run exactly as many steps as the arrays hold (lr_find's sweep may stop early)
    exact_length = True

    def __init__(self, scheds: Mapping[str, Any] | Plan) -> None:
        self.scheds = scheds.arrays() if isinstance(scheds, Plan) else check_scheds(scheds)
        self.n_steps = len(next(iter(self.scheds.values())))
        self._values = self.scheds  # per fit: lr with one column per layer group

    def before_fit(self, state: FitState) -> None:
        total = state.total_updates
        if self.exact_length and total is not None and total != self.n_steps:
            k = getattr(state.clock, "k", 1)
            what = (f"{state.epochs} epochs × {state.n_iter} batches" if k == 1 else
                    f"optimizer updates: {state.epochs} epochs × {state.n_iter} batches, "
                    f"{k} per update")
            raise ValueError(f"the schedule has {self.n_steps} steps but this fit runs {total} "
                             f"({what}).")
        if "mom" in self.scheds:
            state.hypers.require_mom(float(self.scheds["mom"][0]))
        self._values = {**self.scheds, "lr": self._group_lrs(state)} if (
            "lr" in self.scheds) else self.scheds

    def _group_lrs(self, state: FitState) -> np.ndarray:
        """``lr`` as ``[steps, groups]``: a 1-D ``lr`` times each group's current ratio."""
        lr, lrs = self.scheds["lr"], np.asarray(state.hypers.lrs, dtype=np.float64)
        if lr.ndim == 1:
            return lr[:, None] * (lrs / lrs[-1])[None, :]
        if lr.shape[1] != len(lrs):
            raise fail("scheds['lr']", f"one column per layer group ({len(lrs)})",
                       lr.shape, "pass [steps, groups], or 1-D for the last group.")
        return lr

    def plan(self, state: FitState, n: int) -> dict[str, np.ndarray]:
        """The values of the next ``n`` batches (steps past the end keep the last value)."""
        i = np.minimum(state.upcoming_updates(n), self.n_steps - 1)
        return {name: values[i] for name, values in self._values.items()}
