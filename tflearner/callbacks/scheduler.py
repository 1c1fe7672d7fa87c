"""ParamScheduler: set hyper-parameters from per-step arrays, every batch (fastai's name).

The arrays come from the pure functions in :mod:`tflearner.schedules`; this callback only
indexes them by the loop's global step, so schedules stay testable without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..core.contract import FitState
from ..core.events import Callback

__all__ = ["ParamScheduler"]


class ParamScheduler(Callback):
    """Before batch ``i`` of the fit, set ``hypers.<name> = values[i]`` for each entry of
    ``scheds`` (names: ``lr``, ``mom``, ``wd``). The fit must have exactly ``len(values)``
    steps (checked in ``before_fit`` when the epoch length is known)."""

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

    def before_fit(self, state: FitState) -> None:
        total = state.total_steps
        if total is not None and total != self.n_steps:
            raise ValueError(f"the schedule has {self.n_steps} steps but this fit runs {total} "
                             f"({state.epochs} epochs × {state.n_iter} batches).")

    def before_batch(self, state: FitState) -> None:
        i = min(state.step, self.n_steps - 1)
        for name, values in self.scheds.items():
            setattr(state.hypers, name, values[i])
