"""Callbacks: named events around the one compiled training loop, and the plan protocol.

Event order for one ``fit`` (:class:`tflearner.loop.TrainLoop` calls them)::

    before_fit
      for each epoch:
        before_epoch
          before_train
            for each chunk of up to steps_per_execution batches:
              before_batch → [one compiled call: n train steps] → after_batch × n
          after_train
          before_validate                                            (if there is valid data)
            after_valid_batch × m   (after each compiled eval step: state.valid_iter,
                                     state.valid_loss = the running mean so far)
          after_validate
        after_epoch
      finalize                        (fit only, not lr_find: optimizer.finalize_variable_values)
    after_fit                                                          (always, in a finally)

Every hook receives the one :class:`~tflearner.core.fit_state.FitState` of the running fit: it
says explicitly what the loop knows (epoch, batch, loss, hyper-parameters, logs). Callbacks
change training only through it: ``state.hypers`` (lr / mom / wd), ``state.stop_training``,
and a plan.

**Plans.** A callback whose hyper-parameters for the coming batches are known in advance (a
schedule, the LR finder's sweep) is a :class:`Planner`: ``plan(state, n)`` returns them for the
next ``n`` batches as arrays, and the loop runs all ``n`` in one compiled call, each with its
row. **Acting between batches.** A callback that must act right before each batch (set a
hyper-parameter from the last loss, stop at the very batch) has a ``before_batch`` of its own or
sets ``sync_every_batch = True``: the loop then runs one batch per call while it is present and
calls ``before_batch`` before every batch (see :func:`acts_between_batches`). Otherwise
``before_batch`` runs once per compiled call, before its first batch (as Keras calls
``on_train_batch_begin`` with ``steps_per_execution``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .fit_state import FitState

__all__ = ["Callback", "CallbackList", "EVENTS", "Planner", "PLAN_KEYS", "acts_between_batches"]

EVENTS = ("before_fit", "before_epoch", "before_train", "before_batch", "after_batch",
          "after_train", "before_validate", "after_valid_batch", "after_validate", "after_epoch",
          "after_fit")

#: What a plan may hold: ``lr`` (``[n, groups]``: one column per layer group), ``mom``, ``wd``
#: (``[n]``).
PLAN_KEYS = ("lr", "mom", "wd")


@runtime_checkable
class Planner(Protocol):
    """A callback that knows its hyper-parameters ahead: ``plan(state, n)`` returns, for the
    batches ``state.step .. state.step + n - 1``, ``{name: array}`` with names from
    :data:`PLAN_KEYS` (``"lr"`` of shape ``[n, n_groups]``, the others ``[n]``; NaN: keep the
    current value). The values are applied just before each batch's update; ``plan`` must not
    change anything (the loop may ask again for the same batches)."""

    def plan(self, state: FitState, n: int) -> Mapping[str, np.ndarray]: ...


class Callback:
    """Base class: override any of :data:`EVENTS`; each receives the :class:`FitState`.

    ``order`` sorts callbacks (lower runs first): schedules (< 0) set hyper-parameters before
    the recorder (0) reads them, progress (> 0) shows what the recorder stored. Reset any
    per-run state in ``before_fit`` so one instance can be reused.

    ``sync_every_batch``: ``True`` makes the loop run one batch per compiled call while this
    callback is present, ``False`` never does; ``None`` (the default) does exactly when the
    callback has a ``before_batch`` of its own (see the module doc).
    """

    order: int = 0
    sync_every_batch: bool | None = None

    def before_fit(self, state: FitState) -> None: ...
    def before_epoch(self, state: FitState) -> None: ...
    def before_train(self, state: FitState) -> None: ...
    def before_batch(self, state: FitState) -> None: ...
    def after_batch(self, state: FitState) -> None: ...
    def after_train(self, state: FitState) -> None: ...
    def before_validate(self, state: FitState) -> None: ...
    def after_valid_batch(self, state: FitState) -> None: ...
    def after_validate(self, state: FitState) -> None: ...
    def after_epoch(self, state: FitState) -> None: ...
    def after_fit(self, state: FitState) -> None: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def acts_between_batches(cb: Any) -> bool:
    """Whether ``cb`` makes the loop run one batch per call: its ``sync_every_batch`` when that
    is True or False, else whether its ``before_batch`` is its own (not :class:`Callback`'s)."""
    sync = getattr(cb, "sync_every_batch", None)
    if sync is not None:
        return bool(sync)
    hook = getattr(cb, "before_batch", None)
    return getattr(hook, "__func__", None) is not Callback.before_batch


class CallbackList:
    """Callbacks sorted by ``order`` (stable); ``cbs(event, state)`` calls them in turn."""

    def __init__(self, callbacks: list[Callback] | tuple[Callback, ...] = ()) -> None:
        callbacks = list(callbacks)
        for i, cb in enumerate(callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks[{i}] must be a tflearner.Callback, got {type(cb).__name__}: "
                    f"{cb!r}. Subclass tflearner.Callback and override its events."
                )
        self.callbacks = sorted(callbacks, key=lambda cb: cb.order)

    def __call__(self, event: str, state: FitState) -> None:
        for cb in self.callbacks:
            getattr(cb, event)(state)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    @property
    def planners(self) -> list[Planner]:
        """The callbacks that plan ahead (a callable ``plan``), in order (a later one's values
        win)."""
        return [cb for cb in self.callbacks if callable(getattr(cb, "plan", None))]

    @property
    def sync(self) -> bool:
        """One batch per compiled call: some callback acts between batches."""
        return any(acts_between_batches(cb) for cb in self.callbacks)
