"""Transfer learning: fastai's ``fine_tune`` recipe, two one-cycle phases around ``unfreeze``.

The phases' peaks and options come from :func:`tflearner.schedules.fine_tune_phases` (pure, so
they can be laid out for any number of steps); each phase is a
:func:`~tflearner.training.policies.fit_policy` fit with its own checkpoint directory.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from ..core.checks import check_int
from ..core.fit_state import FitState
from ..schedules import FASTAI_ONE_CYCLE, fine_tune_phases
from .fitting import check_epochs, fit_args
from .policies import PolicyHandle, fit_policy

__all__ = ["fine_tune"]


class TransferHandle(PolicyHandle, Protocol):
    """What :func:`fine_tune` needs of a Learner besides a policy fit's."""

    def freeze(self) -> Any: ...
    def unfreeze(self) -> Any: ...


def fine_tune(learn: TransferHandle, epochs: int, base_lr: float = 2e-3, freeze_epochs: int = 1,
              lr_mult: float = 100, pct_start: float = 0.3, div: float = 5.0,
              checkpoint: str | os.PathLike | None = None, **kwargs: Any
              ) -> tuple[FitState, ...]:
    """See :meth:`Learner.fine_tune <tflearner.Learner.fine_tune>`."""
    epochs = check_epochs(epochs)
    freeze_epochs = check_int("freeze_epochs", freeze_epochs, 0)
    for name in ("max_lr", "epochs"):
        if name in kwargs:
            raise TypeError(f"fine_tune() sets {name} itself; pass base_lr / epochs.")
    form = {k: v for k, v in kwargs.items() if k in FASTAI_ONE_CYCLE}
    wd = kwargs.pop("wd", None)
    args = {k: v for k, v in kwargs.items() if k not in FASTAI_ONE_CYCLE and k != "wd"}
    (frozen_lr, frozen), (unfrozen_lr, unfrozen) = fine_tune_phases(
        base_lr, lr_mult, pct_start, div, **form)  # every phase's error before any training
    sub = (lambda name: None) if checkpoint is None else (
        lambda name: os.path.join(os.fspath(checkpoint), name))
    phases, states = [], []
    if freeze_epochs:
        learn.freeze()
        states.append(fit_policy(learn, "one_cycle", freeze_epochs, frozen_lr,
                                 fit_args(**args, checkpoint=sub("frozen")), wd, **frozen))
        phases.append(learn.recorder.history_state())
    learn.unfreeze()
    states.append(fit_policy(learn, "one_cycle", epochs, unfrozen_lr,
                             fit_args(**args, checkpoint=sub("unfrozen")), wd, **unfrozen))
    phases.append(learn.recorder.history_state())
    learn.recorder.phases = tuple(phases)
    return tuple(states)
