"""Transfer learning: fastai's ``fine_tune`` recipe, two one-cycle phases around ``unfreeze``.

The phases' peaks and options come from :func:`tflearner.schedules.fine_tune_phases` (pure, so
they can be laid out for any number of steps); each phase is a
:func:`~tflearner.training.policies.fit_policy` fit with its own checkpoint directory.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any, Protocol

from ..core.checks import check_int
from ..core.fit_state import FitState
from ..lr_finder.verify import planned_fit
from ..optim.groups import kept_trainable
from ..schedules import FASTAI_ONE_CYCLE, fine_tune_phases
from .fitting import check_epochs, check_fit, check_wd, fit_args
from .policies import PolicyHandle, auto_lr, fit_policy

__all__ = ["fine_tune", "frozen_for_sweep"]


class TransferHandle(PolicyHandle, Protocol):
    """What :func:`fine_tune` needs of a Learner besides a policy fit's."""

    def freeze(self) -> Any: ...
    def unfreeze(self) -> Any: ...


_FIT_KEYWORDS = ("callbacks", "quiet", "terminate_on_nan", "checkpoint_every")


def _check_groups(learn: TransferHandle) -> None:
    if len(learn.groups) < 2:
        raise ValueError(
            "fine_tune trains a frozen backbone, then every layer group at its own learning "
            "rate (slice(base_lr / lr_mult, base_lr)), so it needs at least two layer groups, "
            "but this Learner has one (learn.groups). Pass splitter=... to the Learner (e.g. "
            "lambda m: [backbone_layers, head_layers]), build the model with a keras.Model "
            "backbone as its first layer, or train this one with fit_one_cycle.")


def _fit_keywords(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` that are fit arguments; refuses a keyword fine_tune does not take."""
    for name in ("max_lr", "epochs"):
        if name in kwargs:
            raise TypeError(f"fine_tune() sets {name} itself; pass base_lr / epochs.")
    unknown = [k for k in kwargs if k not in FASTAI_ONE_CYCLE and k not in _FIT_KEYWORDS
               and k != "wd"]
    if unknown:
        raise TypeError(f"fine_tune() got an unexpected keyword argument {unknown[0]!r}; it "
                        f"takes one-cycle options ({', '.join(FASTAI_ONE_CYCLE)}), wd and "
                        f"fit options ({', '.join(_FIT_KEYWORDS)}); pass one of those (the "
                        "learning rate is base_lr, e.g. base_lr=2e-3).")
    return {k: v for k, v in kwargs.items() if k in _FIT_KEYWORDS}


def fine_tune(learn: TransferHandle, epochs: int, base_lr: float = 2e-3, freeze_epochs: int = 1,
              lr_mult: float = 100, pct_start: float = 0.3, div: float = 5.0,
              checkpoint: str | os.PathLike | None = None, **kwargs: Any
              ) -> tuple[FitState, ...]:
    """See :meth:`Learner.fine_tune <tflearner.Learner.fine_tune>`. Every argument is checked
    before the sweep of ``base_lr="auto"`` and before anything changes; if a phase fails, the
    trainable flags are put back as they were before the call."""
    epochs = check_epochs(epochs)
    freeze_epochs = check_int("freeze_epochs", freeze_epochs, 0)
    _check_groups(learn)
    args = _fit_keywords(kwargs)
    form = {k: v for k, v in kwargs.items() if k in FASTAI_ONE_CYCLE}
    wd = check_wd(kwargs.get("wd"))
    # every argument's error before any sweep or training
    check_fit(learn, fit_args(**args, checkpoint=checkpoint), "fit_one_cycle", as_it_is=False)
    if isinstance(base_lr, str):
        planned = planned_fit(learn, "fine_tune", epochs, wd, freeze_epochs=freeze_epochs,
                              lr_mult=lr_mult, pct_start=pct_start, div=div, **form)
        with frozen_for_sweep(learn, freeze_epochs):
            base_lr = auto_lr(learn, base_lr, "base_lr", args.get("quiet"), planned)
    (frozen_lr, frozen), (unfrozen_lr, unfrozen) = fine_tune_phases(
        base_lr, lr_mult, pct_start, div, **form)  # every phase's error before any training
    sub = (lambda name: None) if checkpoint is None else (
        lambda name: os.path.join(os.fspath(checkpoint), name))
    phases, states = [], []
    with kept_trainable(learn.model, on_error_only=True):
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


@contextlib.contextmanager
def frozen_for_sweep(learn: TransferHandle, freeze_epochs: int) -> Iterator[None]:
    """``base_lr="auto"``'s sweep and race start as ``fine_tune`` does: frozen when it has a
    frozen phase (as fastai sweeps a frozen Learner); every trainable flag put back after."""
    with kept_trainable(learn.model):
        if freeze_epochs:
            learn.freeze()
        yield
