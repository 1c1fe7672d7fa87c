"""Callbacks: named events around the one compiled training loop.

Event order for one ``fit`` (:class:`tflearner.loop.TrainLoop` calls them)::

    before_fit
      for each epoch:
        before_epoch
          before_train
            for each chunk of up to steps_per_execution batches:
              before_batch × n → [one compiled call: n train steps] → after_batch × n
          after_train
          before_validate                                            (if there is valid data)
            after_valid_batch × m   (after each compiled eval step: state.valid_iter,
                                     state.valid_loss = the running mean so far)
          after_validate
        after_epoch
      finalize                        (fit only, not lr_find: optimizer.finalize_variable_values)
    after_fit                                                          (always, in a finally)

Every hook receives the one :class:`~tflearner.core.contract.FitState` of the running fit: it
says explicitly what the loop knows (epoch, batch, loss, hyper-parameters, logs). Callbacks
change training only through it: ``state.hypers`` (lr / mom / wd for the coming batch) and
``state.stop_training``.
"""

from __future__ import annotations

from .contract import FitState

__all__ = ["Callback", "CallbackList", "EVENTS"]

EVENTS = ("before_fit", "before_epoch", "before_train", "before_batch", "after_batch",
          "after_train", "before_validate", "after_valid_batch", "after_validate", "after_epoch",
          "after_fit")


class Callback:
    """Base class: override any of :data:`EVENTS`; each receives the :class:`FitState`.

    ``order`` sorts callbacks (lower runs first): schedules (< 0) set hyper-parameters before
    the recorder (0) reads them, progress (> 0) shows what the recorder stored. Reset any
    per-run state in ``before_fit`` so one instance can be reused.

    The loop runs several batches per compiled call (``steps_per_execution``): it calls
    ``before_batch`` for each batch of a chunk first (hyper-parameters set there are planned
    per batch, so schedules work unchanged), runs the chunk, then calls ``after_batch`` for
    each. A callback that must act between two batches (stop at the very batch, or set a
    hyper-parameter from the last loss) sets ``sync_every_batch = True``; the loop then runs
    one batch per call while it is present.
    """

    order: int = 0
    sync_every_batch: bool = False

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
