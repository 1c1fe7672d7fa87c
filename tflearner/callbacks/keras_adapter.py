"""Keras callbacks inside tflearner's loop.

Pass any ``keras.callbacks.Callback`` to ``Learner.fit`` / ``fit_one_cycle`` / ``fit_flat_cos``
next to tflearner callbacks. :class:`KerasCallbacks` drives them through a
``keras.callbacks.CallbackList`` with the standard hooks and Keras' log names:

===========================  =====================================================
Keras hook                   called at (tflearner event) with logs
===========================  =====================================================
``set_model``, ``set_params`` ``before_fit`` (params: ``epochs``, ``steps``, ``verbose=0``)
``on_train_begin``           ``before_fit``
``on_epoch_begin(epoch)``    ``before_epoch``
``on_train_batch_begin(i)``  ``before_batch`` (while the chunk's plan is collected)
``on_train_batch_end(i)``    ``after_batch``: ``loss`` = running mean of the epoch so far
``on_epoch_end(epoch)``      ``after_epoch``: ``loss``, ``<metric>`` (with
                             ``Learner(train_metrics=True)``), ``val_loss``,
                             ``val_<metric>``, ``learning_rate``
``on_train_end``             ``after_fit``
===========================  =====================================================

``model.stop_training = True`` (EarlyStopping) ends the fit after that epoch (or chunk), as in
Keras. As with Keras' ``steps_per_execution > 1``, a batch hook that reads the weights sees them
after the whole chunk. Metrics on the validation data appear as ``val_<name>``; with
``Learner(train_metrics=True)`` those on the training batches (``train_<name>`` in tflearner's
logs) appear as ``<name>``, as in Keras. ``model.optimizer`` is set to the Learner's optimizer
for the fit, so LR-changing callbacks work in ``fit``; in ``fit_one_cycle`` / ``fit_flat_cos`` /
``fit_sgdr`` the schedule owns the LR and such callbacks are refused.
"""

from __future__ import annotations

from typing import Any

import keras

from ..core.contract import FitState
from ..core.events import Callback

__all__ = ["KerasCallbacks", "LR_CALLBACKS", "check_no_lr_callbacks"]

#: Keras callbacks that set the learning rate themselves.
LR_CALLBACKS = (keras.callbacks.ReduceLROnPlateau, keras.callbacks.LearningRateScheduler)


def check_no_lr_callbacks(callbacks: list, method: str) -> None:
    """Refuse LR-setting Keras callbacks in a fit whose schedule owns the learning rate."""
    for i, cb in enumerate(callbacks):
        if isinstance(cb, LR_CALLBACKS):
            raise ValueError(
                f"callbacks[{i}] is {type(cb).__name__}, which sets the learning rate, but "
                f"{method} sets it every batch from its schedule; the two would fight. Use it "
                "with learn.fit(...) (constant LR), or drop it.")


class KerasCallbacks(Callback):
    """Runs a list of ``keras.callbacks.Callback`` at the matching tflearner events (the model
    and optimizer come from ``state.learner``)."""

    order = 60  # after the recorder (0) and the checkpoint (40): logs are complete

    def __init__(self, callbacks: list[keras.callbacks.Callback]) -> None:
        self.learn: Any = None
        self.keras_callbacks = list(callbacks)
        self.cbs: keras.callbacks.CallbackList | None = None
        self._saved_optimizer: Any = None

    def before_fit(self, state: FitState) -> None:
        self.learn = state.learner
        model = self.learn.model
        self._saved_optimizer = getattr(model, "optimizer", None)
        model.optimizer = self.learn.opt
        model.stop_training = False
        self.cbs = keras.callbacks.CallbackList(
            self.keras_callbacks, add_history=False, add_progbar=False, model=model,
            epochs=state.epochs, steps=state.n_iter, verbose=0)
        self.cbs.on_train_begin({})

    def before_epoch(self, state: FitState) -> None:
        self.cbs.on_epoch_begin(state.epoch, {})

    def before_batch(self, state: FitState) -> None:
        self.cbs.on_train_batch_begin(state.iter, {})

    def after_batch(self, state: FitState) -> None:
        mean = state.loss_sum / state.seen if state.seen else state.loss
        self.cbs.on_train_batch_end(state.iter, {"loss": mean})
        if self.learn.model.stop_training:
            state.stop_training = True

    def after_epoch(self, state: FitState) -> None:
        logs = self.epoch_logs(state)
        self.cbs.on_epoch_end(state.epoch, logs)
        if self.learn.model.stop_training:
            state.stop_training = True

    def after_fit(self, state: FitState) -> None:
        try:
            if self.cbs is not None:
                self.cbs.on_train_end({})
        finally:
            self.learn.model.optimizer = self._saved_optimizer

    def epoch_logs(self, state: FitState) -> dict[str, float]:
        """The epoch's results under Keras' names."""
        logs: dict[str, float] = {}
        train = {f"train_{m.name}": m.name for m in state.train_metrics}
        for key, value in state.logs.items():
            if key == "time":
                continue
            if key == "train_loss":
                logs["loss"] = value
            elif key == "valid_loss":
                logs["val_loss"] = value
            elif key in train:
                logs[train[key]] = value
            else:
                logs[f"val_{key}"] = value
        logs["learning_rate"] = self.learn.hypers.lr
        return logs
