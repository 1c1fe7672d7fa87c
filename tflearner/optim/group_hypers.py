"""The hyper-parameters of every layer group, behind the interface the loop and callbacks use.

Each layer group has an optimizer of its own (a copy of the Learner's, same configuration) and
its own :class:`~tflearner.optim.hypers.Hypers`, so a group's update is exactly what an optimizer
of its own at that learning rate applies (for Adam too, where scaling gradients would not be).
:class:`GroupHypers` ties them together:

* ``lr`` reads the last group's (the head's) learning rate; assigning ``lr = v`` gives every
  group ``v`` times its current ratio to the head (``ratios``, read from the variables), so one
  value drives every group while keeping their spread (set by ``fit(lr=slice(...))`` or a
  schedule's last step, see :func:`~tflearner.schedules.group_lrs`);
* ``mom`` and ``wd`` are shared: assigning sets every group's;
* ``lrs`` reads every group's learning rate, :meth:`set_lrs` sets them.

A plan row is ``[lr_0, ..., lr_{G-1}, mom, wd]`` (:meth:`plan_columns`); :meth:`plan_targets`
says which variables each column goes to.
"""

from __future__ import annotations

import warnings
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

    def require_mom(self, value: Any = None) -> None:
        """Raise the ``ValueError`` that says why ``mom`` cannot be set, if it cannot."""
        self.head.require_mom(value)

    @property
    def variables(self) -> list:
        return [v for h in self.groups for v in h.variables]

    # ---- learning rates -------------------------------------------------------------------------
    @property
    def lr(self) -> float:
        return self.head.lr

    @lr.setter
    def lr(self, value: float) -> None:
        value = check_positive("lr", value)
        for h, ratio in zip(self.groups, self.ratios, strict=True):
            h.lr = value * ratio

    @property
    def lrs(self) -> list[float]:
        """Every group's learning rate, first group first."""
        return [h.lr for h in self.groups]

    @property
    def ratios(self) -> np.ndarray:
        """Every group's learning rate over the last group's, as the variables hold them now."""
        lrs = np.asarray(self.lrs, dtype=np.float64)
        return lrs / lrs[-1]

    @property
    def lr_mults(self) -> np.ndarray:
        """Deprecated: :attr:`ratios` (read only; set the rates with :meth:`set_lrs`)."""
        warnings.warn("GroupHypers.lr_mults is deprecated: read hypers.ratios, set the groups' "
                      "rates with hypers.set_lrs([...]).", DeprecationWarning, stacklevel=2)
        return self.ratios

    def set_lrs(self, lrs: Sequence[float]) -> None:
        """Give group ``g`` the learning rate ``lrs[g]``."""
        lrs = np.asarray(lrs, dtype=np.float64)
        if lrs.shape != (self.n_groups,):
            raise ValueError(f"lrs must have one learning rate per group ({self.n_groups}), "
                             f"got {lrs.tolist()}.")
        for h, lr in zip(self.groups, lrs, strict=True):
            h.lr = float(lr)

    # ---- shared -------------------------------------------------------------------------------
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

    # ---- what the compiled step reads and writes ----------------------------------------------
    def plan_columns(self) -> tuple[str, ...]:
        """A plan row's columns: one learning rate per group, then ``mom`` and ``wd``."""
        lrs = ("lr",) if self.n_groups == 1 else tuple(f"lr/{g}" for g in range(self.n_groups))
        return (*lrs, "mom", "wd")

    def plan_targets(self) -> list[tuple[int, Any]]:
        """``(column, variable)`` for every variable a plan row sets: each group's LR from its
        own column, every group's momentum and weight decay from the shared ones."""
        n, out = self.n_groups, []
        for g, h in enumerate(self.groups):
            lr, mom, wd = h.targets()
            out += [(g, lr), *([] if mom is None else [(n, mom)]), (n + 1, wd)]
        return out

    def read(self) -> list[tf.Tensor]:
        """``[lr_head, mom, wd, lr_0, ..., lr_{G-1}]`` as float32 tensors, inside a step."""
        values = [h.read() for h in self.groups]
        return values[-1] + [v[0] for v in values]

    def __repr__(self) -> str:
        if self.n_groups == 1:
            return repr(self.head)
        lrs = ", ".join(f"{lr:.3g}" for lr in self.lrs)
        return f"GroupHypers(lrs=[{lrs}], mom={self.mom}, wd={self.wd:.3g})"
