"""The one path from a fit verb into the loop: ``fit``, ``fit_one_cycle``, ``fit_flat_cos``,
``fit_sgdr`` and ``fine_tune``'s phases all end in :func:`run_fit`.

It checks the arguments every fit shares (:func:`fit_args`), adds the recorder, progress,
Keras callbacks and the checkpoint to the fit's callbacks, loads a checkpoint to resume, runs
:meth:`TrainLoop.fit <tflearner.loop.TrainLoop.fit>` with the optimizers' ``finalize`` step,
and says what went wrong (a non-finite stop, skipped batches) at the user's line.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import keras
import numpy as np
import tensorflow as tf

from ..callbacks.checkpoint import CheckpointCallback, read_checkpoint, restore_checkpoint
from ..callbacks.keras_adapter import KerasCallbacks, check_keras_callbacks, lr_owner
from ..callbacks.progress import ProgressCallback
from ..core.caller import warn_at_caller
from ..core.checks import check_bool, check_int, check_real
from ..core.events import Callback, CallbackList
from ..core.fit_state import FitState, StopLimits, StopReason
from ..models import BatchNormMomentumWarning, unconverged_batchnorm

__all__ = ["FitArgs", "fit_args", "check_callbacks", "check_epochs", "check_wd", "check_fit",
           "run_fit", "HyperSettings", "ClassWeights", "FitHandle"]


class FitHandle(Protocol):
    """What :func:`run_fit` needs of a Learner."""

    model: keras.Model
    data: Any
    recorder: Any
    callbacks: list
    keras_callbacks: list
    quiet: bool
    groups: list
    opts: list
    loop: Any
    warned: set
    averaging: Any
    hypers: Any
    class_weights: Any

    def scope(self) -> Any: ...
    def state_variables(self) -> dict[str, list]: ...


def check_epochs(epochs: Any) -> int:
    return check_int("epochs", epochs, 1, fix="to skip training, don't call fit.")


def check_wd(wd: Any) -> float | None:
    return check_real("wd", wd, 0.0, allow_none=True, fix="e.g. wd=0.01, or None to keep it.")


def check_callbacks(callbacks: Any) -> list:
    """``callbacks`` as a list of tflearner or Keras callbacks (None: empty); errors index into
    the caller's list."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of tflearner.Callback or "
                        f"keras.callbacks.Callback, got {type(callbacks).__name__}: "
                        f"{callbacks!r}; pass a list, e.g. callbacks=[cb] for one.")
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, (Callback, keras.callbacks.Callback)):
            raise TypeError(
                f"callbacks[{i}] must be a tflearner.Callback or a keras.callbacks.Callback, "
                f"got {type(cb).__name__}: {cb!r}; pass e.g. keras.callbacks.EarlyStopping("
                "patience=3), or subclass tflearner.Callback for your own.")
    return list(callbacks)


@dataclass(frozen=True)
class FitArgs:
    """The arguments every fit verb shares, checked (see :meth:`Learner.fit
    <tflearner.Learner.fit>`)."""

    callbacks: tuple = ()
    quiet: bool | None = None
    terminate_on_nan: bool = True
    checkpoint: str | os.PathLike | None = None
    checkpoint_every: int | None = None


def fit_args(callbacks: Any = None, quiet: bool | None = None, terminate_on_nan: Any = True,
             checkpoint: Any = None, checkpoint_every: Any = None) -> FitArgs:
    """:class:`FitArgs`, every argument checked before anything changes."""
    callbacks = check_callbacks(callbacks)
    check_bool("terminate_on_nan", terminate_on_nan, fix="pass True (end the fit at the "
               "first NaN/Inf loss, the default) or False (skip such batches).")
    if quiet is not None:
        check_bool("quiet", quiet)
    if checkpoint is not None:
        checkpoint = _check_checkpoint_dir(checkpoint)
    if checkpoint is None and checkpoint_every is not None:
        raise ValueError(f"checkpoint_every needs checkpoint=<directory>, got "
                         f"checkpoint_every={checkpoint_every!r} and checkpoint=None; pass "
                         "e.g. checkpoint='ckpt' to save there, or drop checkpoint_every.")
    check_int("checkpoint_every", checkpoint_every, 1, allow_none=True,
              fix="it counts batches between saves; None saves at epoch ends only.")
    return FitArgs(tuple(callbacks), quiet, terminate_on_nan, checkpoint, checkpoint_every)


@dataclass(frozen=True)
class HyperSettings:
    """The hyper-parameters a fit sets as it starts, already checked: every layer group's
    learning rate (``lrs``; None keeps them) and the weight decay (``wd``; None keeps it).
    They are assigned only once every check of the fit has passed."""

    lrs: tuple[float, ...] | None = None
    wd: float | None = None

    def signed(self, hypers: Any) -> dict[str, Any]:
        """``{"lr": [...], "wd": ...}`` as the variables will hold them (float32), for a
        checkpoint's signature, without assigning anything."""
        lrs = hypers.lrs if self.lrs is None else [float(np.float32(v)) for v in self.lrs]
        wd = hypers.wd if self.wd is None else float(np.float32(self.wd))
        return {"lr": lrs, "wd": wd}

    def apply(self, hypers: Any) -> None:
        if self.lrs is not None:
            hypers.set_lrs(self.lrs)
        hypers.set(wd=self.wd)


def check_fit(learn: FitHandle, args: FitArgs, method: str, as_it_is: bool = True) -> None:
    """Every check of a fit that reads the Learner rather than one argument, changing
    nothing: Keras callbacks that cannot work in this fit (:func:`check_keras_callbacks`), the
    trainable variables (some, each with its group's optimizer; ``as_it_is=False`` for a verb
    that freezes and unfreezes first) and the datasets."""
    keras_cbs = [*learn.keras_callbacks,
                 *(cb for cb in args.callbacks if isinstance(cb, keras.callbacks.Callback))]
    check_keras_callbacks(keras_cbs, method, len(learn.groups), args.checkpoint)
    if not as_it_is:
        return
    if not learn.model.trainable_variables:
        raise ValueError(
            f"{method} would train nothing: the model has no trainable variables (model."
            f"trainable={learn.model.trainable}; every layer frozen?). Unfreeze what should "
            "train (model.trainable = True, learn.unfreeze()).")
    learn.loop.check(learn.data.train, learn.data.valid)


def _check_checkpoint_dir(checkpoint: Any) -> str:
    """``checkpoint`` as a directory path (``~`` expanded) that is one, or can be made, and
    can be written: refused before the fit, not at its first save."""
    if not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be a directory path, got "
                        f"{type(checkpoint).__name__}: {checkpoint!r}; pass e.g. "
                        "checkpoint='ckpt' (a str or pathlib.Path), or None for no checkpoint.")
    path = os.path.abspath(os.path.expanduser(os.fspath(checkpoint)))
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"checkpoint={os.fspath(checkpoint)!r} must be a directory, but "
                         f"{existing!r} is a file; pass a directory (it is made if missing).")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"checkpoint={os.fspath(checkpoint)!r} cannot be written ({existing!r} "
                         "is not writable); pass a directory you can write to.")
    return path


def run_fit(learn: FitHandle, epochs: int, args: FitArgs, signature: dict[str, Any],
            schedule: Callback | None = None, settings: HyperSettings | None = None,
            class_weight: np.ndarray | None = None,
            on_start: Callable[[], None] | None = None) -> FitState:
    """Train ``epochs`` epochs (``signature`` identifies the fit for checkpoints; ``schedule``:
    the fit's planner, e.g. a ``ParamScheduler``); returns the :class:`FitState`.

    Everything that can refuse the fit runs first (:func:`check_fit`, the checkpoint's
    signature); only then ``on_start()`` runs, ``settings`` are assigned, the checkpoint is
    restored and ``class_weight`` (Keras' form, as a vector) is put in force for the fit."""
    check_fit(learn, args, signature["method"])
    callbacks = [*([] if schedule is None else [schedule]), *args.callbacks]
    cbs, signature = _callbacks(learn, epochs, args, signature, callbacks)
    saved = (read_checkpoint(learn, args.checkpoint, signature)
             if args.checkpoint is not None else None)
    if on_start is not None:
        on_start()
    (settings or HyperSettings()).apply(learn.hypers)
    resume = None if saved is None else restore_checkpoint(learn, saved)
    _batchnorm_hint(learn, epochs)
    with learn.class_weights.applied(class_weight, learn.loop.compiled):
        state = learn.loop.fit(learn.data.train, epochs, learn.data.valid, cbs, learner=learn,
                               limits=StopLimits(terminate_on_nan=args.terminate_on_nan),
                               resume=resume, finalize=lambda: finalize_optimizers(learn))
    _warn_non_finite(state)
    return state


def _warn_non_finite(state: FitState) -> None:
    """Say at the user's line that the fit stopped at, or skipped, non-finite batches."""
    if state.stop_reason == StopReason.NON_FINITE:
        what = (f"its loss was {state.loss}" if not math.isfinite(state.loss) else
                f"its gradients were NaN/Inf though its loss ({state.loss:.4g}) was finite "
                "(NaN/Inf inputs can give a finite loss, e.g. through a ReLU or a loss that "
                "clips probabilities)")
        warn_at_caller(
            f"fit stopped at epoch {state.epoch}, batch {state.iter - 1} (step "
            f"{state.step - 1}, lr {state.lr:.3g}): {what}; that batch was not applied, so "
            "the weights are those from before it. Check that batch's data for NaN/Inf, "
            "lower the learning rate (run learn.lr_find()), or pass terminate_on_nan=False "
            "to skip such batches.", RuntimeWarning)
    elif state.n_skipped:
        warn_at_caller(f"fit skipped {state.n_skipped} batch(es) whose loss or gradients were "
                       "NaN/Inf (terminate_on_nan=False).", RuntimeWarning)


def _callbacks(learn: FitHandle, epochs: int, args: FitArgs, signature: dict[str, Any],
               callbacks: list) -> tuple[CallbackList, dict[str, Any]]:
    """The fit's callbacks (recorder, the Learner's, the fit's, Keras', checkpoint, progress)
    and its signature with what a checkpoint must match."""
    keras_cbs = [*learn.keras_callbacks,
                 *(cb for cb in callbacks if isinstance(cb, keras.callbacks.Callback))]
    ours = [learn.recorder, *learn.averaging.callbacks(), *learn.callbacks,
            *(cb for cb in callbacks if not isinstance(cb, keras.callbacks.Callback))]
    if keras_cbs:
        ours.append(KerasCallbacks(keras_cbs, lr_owner(signature["method"], len(learn.groups))))
    if args.checkpoint is not None:
        signature = {**signature, "epochs": epochs, "n_iter": learn.data.n_train_batches,
                     "model": [list(v.shape) for v in learn.model.variables],
                     "trainable": [sum(v.trainable for v in g.variables) for g in learn.groups]}
        ours.append(CheckpointCallback(args.checkpoint, signature, args.checkpoint_every))
    if not (learn.quiet if args.quiet is None else args.quiet):
        ours.append(ProgressCallback())
    return CallbackList(ours), signature


def _batchnorm_hint(learn: FitHandle, epochs: int) -> None:
    """Once per Learner: the hint that a short fit of fresh BatchNormalization layers with
    a slow momentum evaluates with unconverged statistics (:func:`~tflearner.models.
    unconverged_batchnorm`). Only fits give it; lr_find restores the statistics anyway."""
    n_iter = learn.data.n_train_batches
    if "batchnorm" in learn.warned or not n_iter:
        return
    message = unconverged_batchnorm(learn.model, epochs * n_iter)
    if message is not None:
        learn.warned.add("batchnorm")
        warn_at_caller(message, BatchNormMomentumWarning)


def finalize_optimizers(learn: FitHandle) -> None:
    """What ``model.fit`` does after its last epoch, before ``on_train_end``:
    ``optimizer.finalize_variable_values(variables)`` for every layer group's optimizer
    (``use_ema=True`` swaps in the moving averages of the weights; others do nothing).
    An optimizer that has never stepped has no averages yet and is left alone."""
    group_variables = learn.loop.compiled.config.group_variables
    with learn.scope():
        for opt, variables in zip(learn.opts, group_variables, strict=True):
            if int(opt.iterations.numpy()) > 0:
                opt.finalize_variable_values(list(variables))


class ClassWeights:
    """The class-weight variable the compiled step reads: made at construction from
    ``vector`` (None: no weighting yet), or on the first fit given a class weight."""

    def __init__(self, vector: np.ndarray | None, scope: Any) -> None:
        self.scope = scope
        self.variable: tf.Variable | None = None
        if vector is not None:
            self.variable = self._make(vector)

    def _make(self, vector: np.ndarray) -> tf.Variable:
        with self.scope():
            return tf.Variable(vector, trainable=False, name="class_weight")

    @contextlib.contextmanager
    def applied(self, vector: np.ndarray | None, compiled: Any) -> Iterator[None]:
        """``vector`` in force inside the block (None: the Learner's own), then put back. The
        first weighting rebuilds ``compiled``'s steps once, with the weighting built in."""
        if vector is None:
            yield
            return
        if self.variable is None:
            self.variable = self._make(np.ones_like(vector))
            compiled.set_class_weight(self.variable)
        saved = self.variable.numpy()
        self.variable.assign(vector)
        try:
            yield
        finally:
            self.variable.assign(saved)
