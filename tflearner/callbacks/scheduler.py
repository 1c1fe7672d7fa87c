"""ParamScheduler: set hyper-parameters from per-step arrays, every batch (fastai's name).

The arrays come from the pure functions in :mod:`tflearner.schedules`; this callback only
indexes them by the loop's global step, so schedules stay testable without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..core.contract import FitState
from ..core.events import Callback
from ..core.internals import raw_iterations
from ..optim.accumulate import update_index, updates_in

__all__ = ["ParamScheduler"]


class ParamScheduler(Callback):
    """Before batch ``i`` of the fit, set ``hypers.<name> = values[i]`` for each entry of
    ``scheds`` (names: ``lr``, ``mom``, ``wd``). The fit must have exactly ``len(values)``
    steps (checked in ``before_fit`` when the epoch length is known).

    With an optimizer that accumulates gradients (``gradient_accumulation_steps=k``), a step
    is an optimizer *update*: ``values[u]`` goes to every micro-batch of update ``u`` (see
    :mod:`tflearner.optim.accumulate`), so each applied update gets its own value, and the fit
    must apply exactly ``len(values)`` updates."""

    order = -10

    def __init__(self, scheds: Mapping[str, np.ndarray]) -> None:
        bad = set(scheds) - {"lr", "mom", "wd"}
        if bad:
            raise ValueError(f"scheds keys must be among 'lr', 'mom', 'wd', got {sorted(bad)}.")
        lengths = {len(v) for v in scheds.values()}
        if len(lengths) != 1:
            raise ValueError(f"all schedules must have the same length, got {sorted(lengths)}.")
        self.scheds = {k: np.asarray(v, dtype=float) for k, v in scheds.items()}
        self.n_steps = lengths.pop()
        self.k, self.r0 = 1, 0  # accumulation: set in before_fit

    def before_fit(self, state: FitState) -> None:
        opt = getattr(state.learner, "opt", None)
        self.k = getattr(state.learner, "accumulation", 1)
        # the optimizer's raw counter when this fit's step 0 ran (a resumed fit is past it)
        self.r0 = raw_iterations(opt) - state.step if self.k > 1 else 0
        total = state.total_steps
        if total is not None and self.k > 1:
            total = updates_in(self.r0, total, self.k)
        if total is not None and total != self.n_steps:
            what = (f"{state.epochs} epochs × {state.n_iter} batches" if self.k == 1 else
                    f"optimizer updates: {state.epochs} epochs × {state.n_iter} batches, "
                    f"{self.k} per update")
            raise ValueError(f"the schedule has {self.n_steps} steps but this fit runs {total} "
                             f"({what}).")

    def before_batch(self, state: FitState) -> None:
        step = state.step if self.k == 1 else update_index(self.r0, state.step, self.k)
        i = min(step, self.n_steps - 1)
        for name, values in self.scheds.items():
            setattr(state.hypers, name, values[i])
