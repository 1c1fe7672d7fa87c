"""Keras callbacks inside tflearner's loop.

Pass any ``keras.callbacks.Callback`` to ``Learner.fit`` / ``fit_one_cycle`` / ``fit_flat_cos``
next to tflearner callbacks. :class:`KerasCallbacks` drives them through a
``keras.callbacks.CallbackList`` with the hooks ``model.fit`` calls, in its order, with its batch
numbering and log names:

================================  ==============================================================
Keras hook                        called at (tflearner event) with logs
================================  ==============================================================
``set_model``, ``set_params``     ``before_fit`` (params: ``epochs``, ``steps``, ``verbose=0``)
``on_train_begin``                ``before_fit``
``on_epoch_begin(epoch)``         ``before_epoch``
``on_train_batch_begin(i)``       ``after_batch`` of batch ``i``, just before its end hook
                                  (``before_batch`` when the loop runs one batch per call, see
                                  below)
``on_train_batch_end(i)``         ``after_batch`` of batch ``i``: ``loss`` = the epoch's
                                  batch-size-weighted mean loss up to batch ``i``
``on_test_begin``                 ``before_validate``
``on_test_batch_begin(j)``,       ``after_valid_batch`` of validation batch ``j``: ``loss`` and
``on_test_batch_end(j)``          each metric by name, their means so far
``on_test_end``                   ``after_validate``: ``loss``, each metric by name
``on_epoch_end(epoch)``           ``after_epoch``: ``loss``, ``<metric>`` (with
                                  ``Learner(train_metrics=True)``), ``val_loss``,
                                  ``val_<metric>``, ``learning_rate``
``on_train_end``                  ``after_fit`` (after the optimizers' ``finalize_variable_values``,
                                  as in ``model.fit``): the last epoch's logs; not called
                                  when an exception ends the fit, as in ``model.fit`` (so
                                  ``BackupAndRestore`` keeps its backup)
================================  ==============================================================

**Batch hooks: one pair per batch, replayed after the chunk.** The loop runs several batches per
compiled call; after the call it reports each batch, and this adapter calls
``on_train_batch_begin(i)`` then ``on_train_batch_end(i, logs_i)`` for each, in order, each with
that batch's own logs. The hooks therefore see exactly the sequence ``model.fit`` produces with
``steps_per_execution=1`` (``begin(0), end(0), begin(1), end(1), ...``, ``i`` counting from 0 in
every epoch), whatever the chunk size, so ``TensorBoard(update_freq="batch")`` writes one point per
batch at steps 1, 2, 3, ... We chose this over Keras' own ``steps_per_execution=k`` behaviour (one
``begin(first)`` / ``end(first + k - 1)`` pair per compiled call) because tflearner's default chunk
size (``"auto"``) changes during a fit: per-chunk hooks would number TensorBoard's steps by
however many calls happened to run. As with ``steps_per_execution > 1`` in Keras, a hook that
reads the weights sees them after the whole chunk.

**Hooks that act before their batch.** A Keras callback whose ``on_train_batch_begin`` (or
``on_batch_begin``) is its own (not one of Keras' callbacks, e.g. a per-batch LR warm-up, or a
``LambdaCallback(on_train_batch_begin=...)``), or that sets ``sync_every_batch = True``, makes
the loop run one batch per compiled call while it is present (a callback whose begin hook only
records sets ``sync_every_batch = False`` to keep the chunks); ``on_train_batch_begin(i)`` is
then called before batch ``i`` runs, so a learning rate it writes is the one batch ``i`` uses, as
in ``model.fit``. A Keras callback that changes the learning rate in a replayed batch hook (e.g.
in ``on_train_batch_end``, for the next batch) would change it after the chunk it meant: the fit
is stopped with a ``RuntimeError`` that says to set ``sync_every_batch = True`` on it.

``BackupAndRestore`` works as in ``model.fit`` (one layer group; not beside ``checkpoint=``):
its ``on_train_begin`` restores the model and ``model.optimizer`` (the Learner's) from the backup,
and the fit starts at the epoch it names (``model.fit``'s ``initial_epoch``), with the schedule
at that epoch's first batch.

``model.stop_training = True`` (EarlyStopping) ends the fit after that epoch (or chunk), as in
Keras. Metrics on the validation data appear as ``val_<name>``; with
``Learner(train_metrics=True)`` those on the training batches (``train_<name>`` in tflearner's
logs) appear as ``<name>`` in epoch logs, as in Keras; batch logs hold no training metrics.
``mode="auto"`` of ``EarlyStopping``, ``ModelCheckpoint`` and ``ReduceLROnPlateau`` is resolved
from the Learner's metrics as ``model.fit`` resolves it from the compiled ones (``val_accuracy``:
max). ``model.optimizer`` is set to the Learner's optimizer for the fit, so LR-changing callbacks
work in ``fit`` of a one-group Learner. Where tflearner owns the LR (``fit_one_cycle`` /
``fit_flat_cos`` / ``fit_sgdr``, whose schedule sets it every batch, and any fit of several layer
groups, where ``model.optimizer`` is the last group's only: :func:`lr_owner`),
``ReduceLROnPlateau`` and ``LearningRateScheduler`` are refused before the fit, and any other
callback whose hook changes the LR (``optimizer.learning_rate.assign(...)`` or ``= ...``) or the
momentum stops the fit at that hook with a ``RuntimeError`` naming it, the value put back: never a
silent override. In every fit, a hook that replaces a variable the compiled step reads
(``optimizer.weight_decay = 0.5``; assigning works) or ``model.optimizer`` is refused the same way
(:mod:`tflearner.callbacks.keras_guard`).
"""

from __future__ import annotations

import math
from typing import Any

import keras

from ..core import internals
from ..core.events import Callback
from ..core.fit_state import FitState
from ..loop.runner import metric_results
from .keras_guard import HyperGuard, Watched

__all__ = ["KerasCallbacks", "LR_CALLBACKS", "check_no_lr_callbacks", "check_keras_callbacks",
           "lr_owner", "acts_before_batch"]

#: Keras callbacks that set the learning rate themselves.
LR_CALLBACKS = (keras.callbacks.ReduceLROnPlateau, keras.callbacks.LearningRateScheduler)

_BEGIN_HOOKS = ("on_train_batch_begin", "on_batch_begin")
_BATCH_HOOKS = (*_BEGIN_HOOKS, "on_train_batch_end", "on_batch_end")


def check_no_lr_callbacks(callbacks: list, method: str) -> None:
    """Refuse LR-setting Keras callbacks in a fit whose schedule owns the learning rate."""
    for i, cb in enumerate(callbacks):
        if isinstance(cb, LR_CALLBACKS):
            raise ValueError(
                f"callbacks[{i}] is {type(cb).__name__}, which sets the learning rate, but "
                f"{method} sets it every batch from its schedule; the two would fight. Use it "
                "with learn.fit(...) (constant LR), or drop it.")


def lr_owner(method: str, n_groups: int) -> str | None:
    """What owns the learning rate in a fit, so that Keras callbacks must not set it (None: a
    plain ``fit`` of one layer group, where they may, as in ``model.fit``)."""
    if method == "fit" and n_groups == 1:
        return None
    return method if n_groups == 1 else f"a Learner with {n_groups} layer groups"


def check_keras_callbacks(callbacks: list, method: str, n_groups: int,
                          checkpoint: Any = None) -> None:
    """Refuse, before the fit changes anything, Keras callbacks that cannot work in it:
    LR-setting ones where the LR is not theirs (:func:`lr_owner`), and ``BackupAndRestore``
    beside ``checkpoint=`` (two resumes) or with several layer groups (its backup holds one
    optimizer: ``model.optimizer``)."""
    owner = lr_owner(method, n_groups)
    if owner is not None:
        check_no_lr_callbacks(callbacks, owner)
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, keras.callbacks.BackupAndRestore):
            continue
        if checkpoint is not None:
            raise ValueError(
                f"callbacks[{i}] is BackupAndRestore, and checkpoint={checkpoint!r} was given "
                "too: both would resume the fit. Use one (checkpoint= also resumes mid-epoch "
                "and keeps the schedule, the history and the data order).")
        if n_groups > 1:
            raise ValueError(
                f"callbacks[{i}] is BackupAndRestore, which backs up one optimizer "
                f"(model.optimizer), but this Learner has {n_groups} layer groups, each with "
                "its own; pass checkpoint=<directory> to the fit instead (it saves them all).")


def _hook_owner(cb: keras.callbacks.Callback, name: str) -> Any:
    """The class whose code ``cb.<name>`` runs (None: set on the instance, as LambdaCallback
    does)."""
    if name in vars(cb):
        return None
    return next(k for k in type(cb).__mro__ if name in vars(k))


def _own_hook(cb: keras.callbacks.Callback, name: str) -> bool:
    """True when ``cb.<name>`` is not one of Keras' own callbacks' code."""
    owner = _hook_owner(cb, name)
    return owner is None or not owner.__module__.startswith("keras.")


def acts_before_batch(cb: keras.callbacks.Callback) -> bool:
    """True when ``cb`` must run ``on_train_batch_begin`` before its batch: a
    ``sync_every_batch`` attribute says so (True) or not (False); without one, when the hook
    (or ``on_batch_begin``, which Keras' default calls) is its own code, not Keras'."""
    if hasattr(cb, "sync_every_batch"):
        return bool(cb.sync_every_batch)
    return any(_own_hook(cb, name) for name in _BEGIN_HOOKS)


class KerasCallbacks(Callback):
    """Runs a list of ``keras.callbacks.Callback`` at the matching tflearner events (the model
    and optimizer come from ``state.learner``)."""

    order = 60  # after the recorder (0) and the checkpoint (40): logs are complete

    def __init__(self, callbacks: list[keras.callbacks.Callback],
                 lr_owner: str | None = None) -> None:
        self.learn: Any = None
        self.keras_callbacks = list(callbacks)
        #: what sets the LR in this fit (:func:`lr_owner`); then no Keras hook may change it
        self.lr_owner = lr_owner
        self.cbs: keras.callbacks.CallbackList | None = None
        self._saved_optimizer: Any = None
        self._auto_modes: list[Any] = []
        self._last_logs: dict[str, float] | None = None
        self._guard: HyperGuard | None = None
        self._chunk_before: Watched | None = None  # at the chunk's first replayed batch
        #: one batch per compiled call, begin hooks before their batch (see the module doc)
        self.sync_every_batch = any(acts_before_batch(cb) for cb in self.keras_callbacks)

    # ---- fit --------------------------------------------------------------------------------
    def before_fit(self, state: FitState) -> None:
        self.learn = state.learner
        model = self.learn.model
        self._saved_optimizer = getattr(model, "optimizer", None)
        model.optimizer = self.learn.opt
        model.stop_training = False
        self._last_logs, self._chunk_before = None, None
        self._guard = HyperGuard(self.learn, self.lr_owner)
        self._resolve_auto_modes()
        self.cbs = keras.callbacks.CallbackList(
            self.keras_callbacks, add_history=False, add_progbar=False, model=model,
            epochs=state.epochs, steps=state.n_iter, verbose=0)
        self._hook(state, "on_train_begin", {})
        epoch = internals.take_initial_epoch(model)  # BackupAndRestore: where model.fit starts
        if epoch:
            state.start_at(epoch)

    def _resolve_auto_modes(self) -> None:
        """``mode="auto"`` as ``model.fit`` resolves it: Keras looks the monitored name up in the
        compiled metrics (``model.metrics``), which a Learner's model does not have; the same
        lookup over the Learner's metrics gives ``"max"`` or ``"min"`` (``*_loss`` is Keras'
        own rule). The callback's ``mode`` is set back to ``"auto"`` after the fit."""
        self._auto_modes = []
        by_name = {m.name: m for m in getattr(self.learn, "metrics", None) or []}
        for cb in self.keras_callbacks:
            if (getattr(cb, "mode", None) != "auto" or getattr(cb, "monitor_op", 0) is not None
                    or not isinstance(getattr(cb, "monitor", None), str)):
                continue
            metric = by_name.get(cb.monitor.removeprefix("val_"))
            direction = None if metric is None else internals.metric_direction(metric)
            if direction is not None:
                cb.mode = "max" if direction == "up" else "min"
                self._auto_modes.append(cb)

    def after_fit(self, state: FitState) -> None:
        try:
            if self.cbs is not None and state.exception is None:  # Keras' contract: no
                self.cbs.on_train_end(self._last_logs)  # on_train_end when the fit raises
        finally:
            self.learn.model.optimizer = self._saved_optimizer
            for cb in self._auto_modes:
                cb.mode = "auto"
            self._auto_modes = []

    # ---- epochs -----------------------------------------------------------------------------
    def before_epoch(self, state: FitState) -> None:
        self._hook(state, "on_epoch_begin", state.epoch, {})

    def after_epoch(self, state: FitState) -> None:
        logs = self.epoch_logs(state)
        self._hook(state, "on_epoch_end", state.epoch, logs)
        self._last_logs = logs
        self._check_stop(state)

    # ---- training batches -------------------------------------------------------------------
    def before_batch(self, state: FitState) -> None:
        if self.sync_every_batch:  # one batch per call: the hook runs before its batch
            self._hook(state, "on_train_batch_begin", state.iter, {})

    def after_batch(self, state: FitState) -> None:
        replay = not self.sync_every_batch
        if replay and self._chunk_before is None:  # the chunk's first batch
            self._chunk_before = self._guard.watch(values=True)
        mean = state.loss_sum / state.seen if state.seen else state.loss
        if replay:  # the chunk's hooks are checked once, at its end (below)
            self.cbs.on_train_batch_begin(state.iter, {})
            self.cbs.on_train_batch_end(state.iter, {"loss": mean})
        else:
            self._hook(state, "on_train_batch_end", state.iter, {"loss": mean})
        if replay and state.chunk_end:
            before, self._chunk_before = self._chunk_before, None
            hooked = [self._name(cb) for cb in self.keras_callbacks
                      if any(_own_hook(cb, n) for n in _BATCH_HOOKS)]
            self._guard.check(state, "a batch hook of " + (" or ".join(hooked) or "a callback"),
                              before, replayed=True)
        self._check_stop(state)

    def _hook(self, state: FitState, name: str, *args: Any) -> None:
        """``name`` on every Keras callback, then :class:`~tflearner.callbacks.keras_guard.
        HyperGuard`'s check of what it may change. ``on_train_begin`` may set the values beside
        a ``BackupAndRestore``: that restores the optimizer of the epoch the fit starts at."""
        restores = name == "on_train_begin" and any(
            isinstance(cb, keras.callbacks.BackupAndRestore) for cb in self.keras_callbacks)
        before = self._guard.watch(values=False if restores else None)
        getattr(self.cbs, name)(*args)
        suspects = [self._name(cb) for cb in self.keras_callbacks if _own_hook(cb, name)]
        self._guard.check(state, f"{' or '.join(suspects) or 'a callback'}'s {name}", before)

    def _name(self, cb: keras.callbacks.Callback) -> str:
        i = next(i for i, c in enumerate(self.keras_callbacks) if c is cb)
        return f"callbacks[{i}] ({type(cb).__name__})"

    def _check_stop(self, state: FitState) -> None:
        if self.learn.model.stop_training:
            state.stop_training = True

    # ---- validation -------------------------------------------------------------------------
    def before_validate(self, state: FitState) -> None:
        self._hook(state, "on_test_begin", {})

    def after_valid_batch(self, state: FitState) -> None:
        logs = {"loss": state.valid_loss}
        for m in self.learn.metrics:
            logs.update(metric_results(m))
        self._hook(state, "on_test_batch_begin", state.valid_iter, {})
        self._hook(state, "on_test_batch_end", state.valid_iter, logs)

    def after_validate(self, state: FitState) -> None:
        logs = {"loss": state.logs.get("valid_loss", math.nan)}
        logs.update({m.name: state.logs[m.name] for m in self.learn.metrics
                     if m.name in state.logs})
        self._hook(state, "on_test_end", logs)

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
