"""What a Keras callback may change in a tflearner fit, checked around its hooks.

``model.fit`` lets a callback write the optimizer's hyper-parameters. A tflearner fit reads them
from variables it owns (:mod:`tflearner.optim.hypers`: ``optimizer.learning_rate``, the momentum
attribute, ``weight_decay``), captured by the compiled step, and sets them itself where a schedule
or several layer groups own them. So, around the Keras hooks:

* in every fit, those variables stay in place, and so does ``model.optimizer`` (the Learner's):
  ``optimizer.weight_decay = 0.5`` would put a float the compiled step never reads where the
  variable was (``optimizer.weight_decay.assign(0.5)`` works), and another ``model.optimizer``
  would never train;
* where tflearner owns the learning rate (``lr_owner``: a schedule's fit, or several layer groups,
  where ``model.optimizer`` is the last group's only), their values too: the LR and momentum a
  hook writes would be silently overridden by the next batch's plan, or reach one group only;
* a learning rate changed in a batch hook replayed after its chunk would reach the wrong batches
  (:class:`~tflearner.callbacks.keras_adapter.KerasCallbacks`' module doc).

A refused change is put back where it can be, and the fit stops with a ``RuntimeError`` naming
the hook and the fix: never a silent override.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.fit_state import FitState
from ..optim.detect import learning_rate_variable

__all__ = ["Watched", "HyperGuard"]


@dataclass(frozen=True)
class Watched:
    """What the guard compares: each group's ``(lr, mom)`` values (empty when only the
    variables' places are watched) and, per watched attribute, whether its variable is still
    in place."""

    values: tuple
    intact: tuple


class HyperGuard:
    """The checks around the Keras hooks of one fit of ``learn`` (see the module doc);
    ``lr_owner`` names what owns the LR (None: the callbacks may set it, a one-group ``fit``)."""

    def __init__(self, learn: Any, lr_owner: str | None) -> None:
        self.learn, self.lr_owner = learn, lr_owner

    def watch(self, values: bool | None = None) -> Watched:
        """The state to compare after a hook; ``values`` (default: where the LR is owned)
        also reads every group's LR and momentum."""
        if values is None:
            values = self.lr_owner is not None
        groups = self.learn.hypers.groups
        read = tuple((h.lr, h.mom) for h in groups) if values else ()
        intact = [("model.optimizer", self.learn.model.optimizer is self.learn.opt)]
        for g, h in enumerate(groups):
            lr, mom, wd = h.targets()
            which = "" if len(groups) == 1 else f" (group {g})"
            intact += [(f"optimizer.learning_rate{which}",
                        learning_rate_variable(h.optimizer) is lr),
                       (f"optimizer.weight_decay{which}", h.optimizer.weight_decay is wd)]
            if mom is not None:
                intact.append((f"optimizer.{h.mom_attr}{which}",
                               getattr(h.optimizer, h.mom_attr) is mom))
        return Watched(read, tuple(intact))

    def check(self, state: FitState, where: str, before: Watched,
              replayed: bool = False) -> None:
        """Refuse what ``where`` (a hook, named for the message) changed since ``before``:
        put it back and raise. ``replayed``: a batch hook called after its chunk ran."""
        after = self.watch(bool(before.values))
        if after == before:
            return
        replaced = [name for (name, ok) in after.intact if not ok]
        self._put_back(before)
        if replaced:
            raise RuntimeError(
                f"{where} replaced {', '.join(replaced)} at epoch {state.epoch}: tflearner "
                "sets these variables every batch and its compiled step reads them, so what "
                "replaced them would be silently ignored. Assign a value instead (e.g. "
                "self.model.optimizer.weight_decay.assign(1e-4)); model.optimizer is the "
                "Learner's (to train with another optimizer, build the Learner with it: "
                "Learner(opt=...)).")
        change = (f"the learning rate from {_lrs(before)} to {_lrs(after)}"
                  if _lrs(after) != _lrs(before) else "the momentum")
        if self.lr_owner is not None:
            raise RuntimeError(
                f"{where} changed {change} at epoch {state.epoch}, but in "
                f"{self.lr_owner} tflearner sets every layer group's LR and momentum itself, "
                "so the change would be silently overridden (or reach one group only). Use "
                "that callback with learn.fit(...) on a one-group Learner, or drop it (the "
                "values were put back; the fit stopped here).")
        raise RuntimeError(
            f"{where} changed {change} at epoch {state.epoch}, batch "
            f"{state.iter}, but tflearner calls batch hooks after the compiled chunk they "
            "belong to, so the change would reach the wrong batches. Set sync_every_batch = "
            "True on that callback (one batch per call, hooks before their batch, as in "
            "model.fit), or Learner(steps_per_execution=1).")

    def _put_back(self, before: Watched) -> None:
        """The variables' places (all but a replaced LR variable, which Keras' public setter
        cannot put back) and the values of ``before``."""
        learn = self.learn
        learn.model.optimizer = learn.opt
        for h in learn.hypers.groups:
            lr, mom, wd = h.targets()
            h.optimizer.weight_decay = wd
            if mom is not None:
                setattr(h.optimizer, h.mom_attr, mom)
        if before.values and all(ok for _, ok in self.watch(False).intact):
            for h, (lr, mom) in zip(learn.hypers.groups, before.values, strict=True):
                h.lr = lr
                if mom is not None:
                    h.mom = mom


def _lrs(watched: Watched) -> list[float]:
    return [lr for lr, _ in watched.values]
