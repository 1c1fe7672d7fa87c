"""The hyper-parameters of every layer group, behind the interface the loop and callbacks use.

Each layer group has an optimizer of its own (a copy of the Learner's, same configuration) and
its own :class:`~tflearner.optim.hypers.Hypers`, so a group's update is exactly what an optimizer
of its own at that learning rate applies (for Adam too, where scaling gradients would not be).
:class:`GroupHypers` ties them together:

* ``lr`` reads the last group's (the head's) learning rate; assigning ``lr = v`` gives group ``g``
  ``v * lr_mults[g]``, so one schedule shape drives every group while keeping their ratios
  (``lr_mults`` is set from ``fit(lr=slice(...))``, see :func:`~tflearner.optim.groups.group_lrs`);
* ``mom`` and ``wd`` are shared: assigning sets every group's;
* ``lrs`` reads every group's learning rate.

A chunk's plan row is ``[lr_0, ..., lr_{G-1}, mom, wd]`` (:meth:`plan_columns`); with one group
it is the single optimizer's ``[lr, mom, wd]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from ..core.checks import check_positive
from .hypers import Hypers

__all__ = ["GroupHypers"]


class GroupHypers:
    """Hyper-parameters of ``len(groups)`` optimizers (see the module doc)."""

    def __init__(self, groups: Sequence[Hypers]) -> None:
        if not groups:
            raise ValueError("GroupHypers needs at least one group's Hypers.")
        self.groups = list(groups)
        self.lr_mults = np.ones(len(self.groups))

    # ---- what the loop and callbacks use ----------------------------------------------------
    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def head(self) -> Hypers:
        return self.groups[-1]

    @property
    def optimizer(self) -> Any:
        """The head's optimizer (names the optimizer class in saved state)."""
        return self.head.optimizer

    @property
    def mom_attr(self) -> str | None:
        return self.head.mom_attr

    @property
    def mom_problem(self) -> str | None:
        """Why momentum cannot be cycled on these optimizers (None: it can, or there is none)."""
        return self.head.mom_problem

    @property
    def variables(self) -> list:
        return [v for h in self.groups for v in h.variables]

    @property
    def lr(self) -> float:
        return self.head.lr

    @lr.setter
    def lr(self, value: float) -> None:
        value = check_positive("lr", value)
        for h, mult in zip(self.groups, self.lr_mults, strict=True):
            h.lr = value * mult

    @property
    def lrs(self) -> list[float]:
        """Every group's learning rate, first group first."""
        return [h.lr for h in self.groups]

    def set_lrs(self, lrs: Sequence[float]) -> None:
        """Give group ``g`` the learning rate ``lrs[g]`` and keep the ratios for later ``lr``
        assignments (``lr_mults = lrs / lrs[-1]``)."""
        lrs = np.asarray(lrs, dtype=np.float64)
        if lrs.shape != (self.n_groups,):
            raise ValueError(f"lrs must have one learning rate per group ({self.n_groups}), "
                             f"got {lrs.tolist()}.")
        self.lr_mults = lrs / lrs[-1]
        for h, lr in zip(self.groups, lrs, strict=True):
            h.lr = float(lr)

    @property
    def mom(self) -> float | None:
        return self.head.mom

    @mom.setter
    def mom(self, value: float) -> None:
        for h in self.groups:
            h.mom = value

    @property
    def wd(self) -> float:
        return self.head.wd

    @wd.setter
    def wd(self, value: float) -> None:
        for h in self.groups:
            h.wd = value

    #: ``set(lr=None, mom=None, wd=None)``: Hypers' own, through the properties above (``lr``
    #: keeps the groups' ratios).
    set = Hypers.set

    def as_dict(self) -> dict[str, float | None]:
        """``{"lr", "mom", "wd"}`` (``lr``: the last group's), plus ``"lr/<g>"`` for every group
        when there are several."""
        out = {"lr": self.lr, "mom": self.mom, "wd": self.wd}
        if self.n_groups > 1:
            out.update({f"lr/{g}": lr for g, lr in enumerate(self.lrs)})
        return out

    # ---- chunk plans --------------------------------------------------------------------------
    def plan_columns(self) -> tuple[str, ...]:
        """The plan's columns: one learning rate per group, then ``mom`` and ``wd``."""
        lrs = ("lr",) if self.n_groups == 1 else tuple(f"lr/{g}" for g in range(self.n_groups))
        return (*lrs, "mom", "wd")

    def begin_plan(self) -> None:
        for h in self.groups:
            h.begin_plan()

    def take_row(self) -> list[float]:
        rows = [h.take_row() for h in self.groups]
        return [r[0] for r in rows] + rows[-1][1:]

    def end_plan(self) -> None:
        for h in self.groups:
            h.end_plan()

    def assign_row(self, row: tf.Tensor) -> None:
        """In a compiled step: assign ``row`` (:meth:`plan_columns`) to every group."""
        n = self.n_groups
        for g, h in enumerate(self.groups):
            h.assign_row(tf.stack([row[g], row[n], row[n + 1]]))

    def read(self) -> list[tf.Tensor]:
        """``[lr_head, mom, wd, lr_0, ..., lr_{G-1}]`` as float32 tensors, inside a step."""
        values = [h.read() for h in self.groups]
        return values[-1] + [v[0] for v in values]

    def __repr__(self) -> str:
        if self.n_groups == 1:
            return repr(self.head)
        lrs = ", ".join(f"{lr:.3g}" for lr in self.lrs)
        return f"GroupHypers(lrs=[{lrs}], mom={self.mom}, wd={self.wd:.3g})"
