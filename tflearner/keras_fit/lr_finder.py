"""The LR range test for plain Keras users: a standalone finder and a ``model.fit`` callback.

Two entry points, both built on the code ``Learner.lr_find`` runs (no second sweep, stop rule,
suggester or plot):

* :class:`KerasLRFinder` — ``KerasLRFinder(model, dataset).range_test()`` then ``.plot()``, in
  the spirit of the classic ``LRFinder(model, optimizer, loss_fn, dataset).range_test(...)``.
  It wraps the model in a :class:`~tflearner.learner.Learner` and calls its ``lr_find``, so the
  sweep, the smoothing, the stop rules, the bitwise restore and the suggestions are exactly
  those of ``Learner.lr_find``.
* :class:`LRFinderCallback` — a ``keras.callbacks.Callback`` for ``model.fit(ds, epochs=...,
  callbacks=[cb])``. It drives :class:`tflearner.lr_finder.LRFinder` (sets the LR per batch,
  stop rules) and a :class:`tflearner.callbacks.recorder.Recorder` (curve, ``plot()``) from
  Keras' batch hooks through a :class:`~tflearner.core.fit_state.FitState`, snapshots with
  :class:`~tflearner.core.snapshot.Snapshot` and suggests with :mod:`tflearner.lr_finder.suggest`.

What Keras 3 reports per batch (``keras/src/backend/tensorflow/trainer.py``, ``train_step`` and
``fit``; ``keras/src/trainers/trainer.py``, ``metrics``/``get_metrics_result``;
``keras/src/metrics/reduction_metrics.py``, ``Mean``): ``logs["loss"]`` in
``on_train_batch_end`` is the result of the model's loss tracker, a ``keras.metrics.Mean`` named
``"loss"`` (the first entry of ``model.metrics`` once compiled) updated once per step with
``update_state(loss, sample_weight=batch_size)``. It is therefore the running mean of the batch
losses *since the start of the epoch*, weighted by batch size (the tracker is reset by
``reset_metrics()`` before ``on_epoch_begin``); it includes the model's regularization losses.
The logs carry nothing else about the loss. The callback recovers the raw loss of each batch
from the tracker's ``total``/``count`` variables (public attributes of ``Mean``): ``loss_k =
(total_k - total_{k-1}) / (count_k - count_{k-1})`` (in float64), read around each step. This
is exact in the batch sizes (the last, partial batch of an epoch included); the only error is
the float32 rounding of the running ``total``, about ``k * 6e-8`` relative after ``k`` batches
of the epoch. If there is no such tracker, or it did not move (a custom ``train_step`` that
keeps its own loss metric under another name), it falls back to the running mean of the logs,
assuming equal batches: ``loss_k = (n_k * mean_k - n_{k-1} * mean_{k-1}) / (n_k - n_{k-1})``
with ``n`` the batches done in the epoch, i.e. ``(k+1)*mean_k - k*mean_{k-1}``; that fallback
is approximate for the last partial batch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..callbacks.recorder import Recorder
from ..core import running_loss
from ..core.events import CallbackList
from ..core.fit_state import FitState, StopReason
from ..core.snapshot import Snapshot, flatten_state
from ..data.bundle import DataBundle
from ..learner import Learner
from ..lr_finder.finder import (
    DEFAULT_SUGGESTIONS,
    LRFinder,
    check_sweep_args,
    compute_suggestions,
    resolve_suggesters,
    sweep_limits,
)
from ..optim.detect import learning_rate_problem
from ..schedules import exp_sweep, lin_sweep
from ..training.losses import FunctionLoss, named_loss

__all__ = ["KerasLRFinder", "LRFinderCallback", "raw_loss_from_running_mean"]


# --------------------------------------------------------------------------------------------
# Helpers shared by both entry points
# --------------------------------------------------------------------------------------------

def _resolve_loss(loss: Any, where: str) -> Any:
    """A callable ``(y_true, y_pred) -> scalar`` from what ``model.compile(loss=...)`` accepts."""
    if isinstance(loss, (list, tuple)) and len(loss) == 1:
        loss = loss[0]
    if isinstance(loss, (list, tuple, dict)):
        raise ValueError(f"{where} is {loss!r}: one loss per output. KerasLRFinder supports "
                         "single-output models; pass loss_fn=... for the output to sweep.")
    if isinstance(loss, str):
        if loss.lower() in ("crossentropy", "ce"):
            raise ValueError(f"{where}={loss!r} depends on the label shapes; pass the loss "
                             "itself, e.g. loss_fn=keras.losses.SparseCategoricalCrossentropy().")
        return named_loss(loss, where)
    if isinstance(loss, keras.losses.Loss):
        return loss
    if not callable(loss):
        raise TypeError(f"{where} must be a Keras loss (name, function or keras.losses.Loss), "
                        f"got {type(loss).__name__}: {loss!r}.")
    return FunctionLoss(loss)


def _fresh_optimizer(opt: Any) -> Any:
    """An unbuilt copy of an optimizer instance (``type(opt).from_config(opt.get_config())``),
    so the user's object is never built, mutated or advanced; names and classes pass through.

    An instance whose config does not round-trip is used as is when it is unbuilt (the Learner
    then builds it and puts variables on its momentum / weight decay attributes)."""
    if not isinstance(opt, keras.optimizers.Optimizer):
        return opt
    try:
        return type(opt).from_config(opt.get_config())
    except Exception as exc:  # noqa: BLE001 - custom optimizers: fall back or explain
        if not opt.built:
            return opt
        raise ValueError(f"optimizer {type(opt).__name__} is already built and cannot be "
                         f"copied from its config ({exc}); pass a fresh instance, its class or "
                         "its name.") from None


def raw_loss_from_running_mean(mean: float, prev_mean: float, batches: int,
                               prev_batches: int) -> float:
    """The mean loss of the batches ``prev_batches .. batches-1`` of an epoch, from Keras'
    running epoch means after ``prev_batches`` and ``batches`` batches (float64).

    ``(batches * mean - prev_batches * prev_mean) / (batches - prev_batches)``; one batch at a
    time this is ``(k+1)*mean_k - k*mean_{k-1}``. Exact only when the batches have equal sizes:
    the epoch's last, partial batch makes it approximate (Keras weights the mean by batch size).
    """
    n = batches - prev_batches
    if n <= 0:
        raise ValueError(f"batches={batches} must exceed prev_batches={prev_batches}.")
    return (float(batches) * float(mean) - float(prev_batches) * float(prev_mean)) / n


# --------------------------------------------------------------------------------------------
# KerasLRFinder: the standalone finder, a Learner underneath
# --------------------------------------------------------------------------------------------

class _CurveViews:
    """Read-only views of a finished sweep held in ``self.recorder`` (shared by both finders);
    subclasses define ``recorder`` and ``_check_run()``."""

    @property
    def lrs(self) -> np.ndarray:
        """The LR of each step, as the optimizer's variable held it."""
        self._check_run()
        return np.asarray(self.recorder.lrs, dtype=np.float64)

    @property
    def losses(self) -> np.ndarray:
        """Raw loss of each step."""
        self._check_run()
        return np.asarray(self.recorder.losses, dtype=np.float64)

    @property
    def smooth_losses(self) -> np.ndarray:
        """Debiased moving average of the losses (``beta``)."""
        self._check_run()
        return np.asarray(self.recorder.smooth_losses, dtype=np.float64)

    def plot(self, **kwargs):
        """The curve with the suggestions; ``Recorder.plot(**kwargs)``, returns the Axes."""
        self._check_run()
        return self.recorder.plot(**kwargs)


class KerasLRFinder(_CurveViews):
    """LR range test for a plain ``keras.Model``, compiled or not, on ``Learner.lr_find``.

    ``model``: a ``keras.Model``. When it is compiled and ``optimizer`` / ``loss_fn`` are None,
    its ``model.optimizer`` / ``model.loss`` are used (loss names resolved as
    ``model.compile`` does). An uncompiled model needs both.

    ``dataset``: a batched ``tf.data.Dataset`` of ``(x, y)``, or a pair of numpy arrays
    ``(x, y)`` (batched by ``batch_size`` and shuffled each epoch, all of it used for the
    sweep), or a :class:`~tflearner.data.DataBundle`.

    ``optimizer``: an optimizer instance, class or name. An instance (the compiled model's
    included) is never used directly: the sweep runs on an unbuilt copy,
    ``type(opt).from_config(opt.get_config())``. The user's optimizer object is left untouched
    (not built, no slots, iterations or learning rate changed) and ``model.compile`` state is
    not touched. The copy starts with empty slots (Adam moments, momentum), as a freshly
    compiled optimizer would; the model's weights are restored bit for bit after the sweep
    anyway. A ``keras.optimizers.SGD`` runs as :class:`tflearner.SGD` (same update).

    What ``range_test`` restores: every ``model.variables`` (weights, non-trainable state such
    as batch-norm statistics and random-seed state) bit for bit. What it cannot: the shuffle
    state of a ``tf.data`` pipeline you pass in (it advances as it is iterated).
    """

    def __init__(self, model: keras.Model, dataset: Any, optimizer: Any = None,
                 loss_fn: Any = None, *, batch_size: int = 32, quiet: bool = False) -> None:
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model, got {type(model).__name__}: "
                            f"{model!r}.")
        compiled = bool(getattr(model, "compiled", False))
        if not compiled:
            missing = [n for n, v in (("optimizer", optimizer), ("loss_fn", loss_fn)) if v is None]
            if missing:
                raise ValueError(
                    f"model {model.name!r} is not compiled, so KerasLRFinder needs "
                    f"{' and '.join(missing)}: pass e.g. optimizer=keras.optimizers.Adam(), "
                    "loss_fn=keras.losses.SparseCategoricalCrossentropy(), or call "
                    "model.compile(optimizer=..., loss=...) first.")
        if optimizer is None:
            optimizer = getattr(model, "optimizer", None)
            if optimizer is None:
                raise ValueError(f"model {model.name!r} was compiled without an optimizer; pass "
                                 "optimizer=... (an instance, class or name such as 'adam').")
        if loss_fn is None:
            loss_fn = getattr(model, "loss", None)
            if loss_fn is None:
                raise ValueError(f"model {model.name!r} was compiled without a loss; pass "
                                 "loss_fn=... (e.g. keras.losses.MeanSquaredError()).")
            loss_fn = _resolve_loss(loss_fn, "model.loss")
        else:
            loss_fn = _resolve_loss(loss_fn, "loss_fn")
        self.data = self._bundle(dataset, batch_size)
        self.model = model
        self.learner = Learner(model, self.data, loss_fn=loss_fn,
                               opt=_fresh_optimizer(optimizer), metrics=[], quiet=quiet)
        self._result = None

    @staticmethod
    def _bundle(dataset: Any, batch_size: int) -> DataBundle:
        if isinstance(dataset, DataBundle):
            return dataset
        if isinstance(dataset, tf.data.Dataset):
            return DataBundle.from_datasets(dataset)
        if isinstance(dataset, (tuple, list)) and len(dataset) == 2:
            x, y = dataset
            return DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=batch_size)
        raise TypeError(f"dataset must be a batched tf.data.Dataset of (x, y), a pair of numpy "
                        f"arrays (x, y) or a DataBundle, got {type(dataset).__name__}.")

    def range_test(self, start_lr: float = 1e-7, end_lr: float = 10.0, num_it: int = 100,
                   stop_div: bool = True, beta: float | None = None, div_threshold: float = 4.0,
                   suggest_funcs: Sequence[str | Callable] = DEFAULT_SUGGESTIONS,
                   mode: str = "exp"):
        """Run ``Learner.lr_find`` with these arguments; returns its ``SuggestedLRs``.

        The model's variables are bitwise unchanged afterwards. See
        :meth:`tflearner.Learner.lr_find` for the sweep, the smoothing and the stop rules.
        """
        self._result = self.learner.lr_find(start_lr=start_lr, end_lr=end_lr, num_it=num_it,
                                            stop_div=stop_div, beta=beta,
                                            div_threshold=div_threshold,
                                            suggest_funcs=suggest_funcs, mode=mode)
        return self._result

    def _check_run(self) -> None:
        if self._result is None:
            raise RuntimeError("No range test yet: call finder.range_test() first.")

    @property
    def recorder(self) -> Recorder:
        """The Learner's recorder (curve, ``suggestions`` details, ``lr_find_info``)."""
        return self.learner.recorder

    @property
    def suggestions(self):
        """The ``SuggestedLRs`` of the last ``range_test``."""
        self._check_run()
        return self._result



# --------------------------------------------------------------------------------------------
# LRFinderCallback: the same sweep inside model.fit
# --------------------------------------------------------------------------------------------

def _read(v: Any) -> float:
    """A scalar Keras / TF variable's value as a Python float."""
    v = v.value if isinstance(v, keras.Variable) else v
    return float(v.numpy())


class _OptimizerLR:
    """The ``hypers`` of the sweep's state: a Keras optimizer's LR variable (one layer group)."""

    def __init__(self, optimizer: keras.optimizers.Optimizer) -> None:
        self.optimizer = optimizer

    @property
    def lr(self) -> float:
        return _read(self.optimizer.learning_rate)

    @property
    def lrs(self) -> list[float]:
        return [self.lr]

    @lr.setter
    def lr(self, value: float) -> None:
        self.optimizer.learning_rate = float(value)  # assigns Keras' LR variable


def _loss_tracker(model: keras.Model) -> keras.metrics.Mean | None:
    """The ``keras.metrics.Mean`` named ``"loss"`` whose result Keras reports as
    ``logs["loss"]``: the first such metric in ``model.metrics`` (Keras lists its compiled loss
    tracker first); None when there is none."""
    for metric in model.metrics:
        if isinstance(metric, keras.metrics.Mean) and metric.name == "loss":
            return metric
    return None


class LRFinderCallback(_CurveViews, keras.callbacks.Callback):
    """LR range test inside ``model.fit``: one batch per LR, then the weights are put back.

    ``model.fit(ds, epochs=E, callbacks=[cb])`` with ``E * steps_per_epoch >= num_it`` (the
    fit stops by itself when the sweep ends or diverges). Then ``cb.suggestions`` (the same
    ``SuggestedLRs`` as ``Learner.lr_find``), ``cb.lrs``, ``cb.losses``, ``cb.smooth_losses``
    and ``cb.plot()``.

    * ``on_train_begin``: snapshots ``model.variables`` and ``model.optimizer.variables`` (slots,
      iterations, LR) with :class:`~tflearner.core.snapshot.Snapshot`; computes the sweep
      ``exp_sweep(start_lr, end_lr, num_it)`` (``mode="linear"``: ``lin_sweep``). Refuses an
      optimizer whose LR is a ``LearningRateSchedule``; warns when ``steps_per_execution > 1``
      (Keras then calls the batch hooks once per ``steps_per_execution`` batches, so each LR
      is used for that many batches and each recorded loss is their mean).
    * ``on_train_batch_begin``: step ``i`` assigns ``lrs[i]`` to the optimizer's LR variable
      (through :class:`tflearner.lr_finder.LRFinder`).
    * ``on_train_batch_end``: the raw batch loss (see the module docstring for how it is
      recovered from Keras' running epoch mean), its debiased EMA ``avg = beta*avg +
      (1-beta)*loss; smooth = avg / (1 - beta**(i+1))``, and ``LRFinder``'s stop rule: end of
      the sweep, ``smooth > div_threshold * best`` (``stop_div``) or a non-finite loss set
      ``model.stop_training = True``.
    * ``on_train_end``: restores the snapshot (``restore_weights=True``; with ``False`` the
      weights, optimizer state and LR stay where the sweep left them), then computes the
      suggestions from the curve trimmed as ``lr_find`` does.

    Keras calls ``on_train_end`` only when ``fit`` returns: if ``fit`` raises (or is
    interrupted), call ``cb.restore()`` to put the weights back. Not restored: the compiled
    metrics, ``model.history`` and a ``tf.data`` pipeline's shuffle state.
    """

    def __init__(self, start_lr: float = 1e-7, end_lr: float = 10.0, num_it: int = 100,
                 stop_div: bool = True, beta: float | None = None, div_threshold: float = 4.0,
                 suggest_funcs: Sequence[str | Callable] = DEFAULT_SUGGESTIONS,
                 mode: str = "exp", restore_weights: bool = True) -> None:
        super().__init__()
        (self.start_lr, self.end_lr, self.num_it, self.beta,
         self.div_threshold) = check_sweep_args(start_lr, end_lr, num_it, beta, div_threshold,
                                                mode)
        self.stop_div, self.mode = bool(stop_div), mode
        self.restore_weights = bool(restore_weights)
        self._names, self._funcs = resolve_suggesters(suggest_funcs)
        self.recorder = Recorder()
        self.suggestions = None
        self._state: FitState | None = None
        self.stop_step: int | None = None
        self._snapshot: Snapshot | None = None
        self._finder: LRFinder | None = None

    @property
    def stop_reason(self) -> StopReason | None:
        """Why the last sweep ended: ``"end"``, ``"diverged"``, ``"non-finite"`` or ``"fit
        ended"`` (``model.fit`` ended first); None before one."""
        return None if self._state is None else self._state.stop_reason

    # ---- Keras hooks --------------------------------------------------------------------------
    def on_train_begin(self, logs=None) -> None:
        model = self.model
        opt = getattr(model, "optimizer", None)
        if opt is None:
            raise ValueError("LRFinderCallback needs a compiled model with an optimizer; call "
                             "model.compile(optimizer=..., loss=...) first.")
        source = learning_rate_problem(opt)
        if source is not None:
            raise ValueError(
                f"{type(opt).__name__} takes its learning rate from {source}: "
                "LRFinderCallback sets the learning rate every batch, "
                "so compile the model with an optimizer built with a float learning_rate, "
                "e.g. keras.optimizers.Adam(1e-3), for the range test.")
        spe = int(getattr(model, "steps_per_execution", 1) or 1)
        if spe > 1:
            warnings.warn(
                f"model.steps_per_execution={spe}: Keras calls batch callbacks once every {spe} "
                f"batches, so each LR of the sweep is used for {spe} batches and each recorded "
                "loss is their mean. Compile with steps_per_execution=1 for a one-batch-per-LR "
                "range test.", UserWarning, stacklevel=2)
        sweep = exp_sweep if self.mode == "exp" else lin_sweep
        self._finder = LRFinder(sweep(self.start_lr, self.end_lr, self.num_it))
        self._cbs = CallbackList([self.recorder, self._finder])
        steps = (self.params or {}).get("steps")
        self._state = FitState(learner=None, hypers=_OptimizerLR(opt),
                               epochs=int((self.params or {}).get("epochs") or 1),
                               n_iter=int(steps) if steps else None,
                               limits=sweep_limits(self.num_it, self.stop_div,
                                                   self.div_threshold))
        self._tracker = _loss_tracker(model)
        self._step, self._active = 0, True
        self._before = (0.0, 0.0)
        self._prev_mean, self._prev_batches = 0.0, 0
        self.suggestions, self.stop_step = None, None
        self._cbs("before_fit", self._state)
        self._snapshot = self._snapshot_of(list(model.variables) + list(opt.variables))

    def _snapshot_of(self, variables: list) -> Snapshot | None:
        """The saved snapshot of ``variables``; reuses the last run's shadows (and compiled
        copy functions) when the variables are the same."""
        if not self.restore_weights:
            return None
        variables = flatten_state(variables)
        snap = self._snapshot
        if snap is None or [id(v) for v in snap.variables] != [id(v) for v in variables]:
            snap = Snapshot(variables)
        return snap.save()

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._prev_mean, self._prev_batches = 0.0, 0  # Keras resets its running mean here
        self._state.epoch, self._state.iter = epoch, 0

    def on_train_batch_begin(self, batch, logs=None) -> None:
        if not self._active:
            return
        self._before = self._read_tracker()
        self._state.step = self._step
        self._state.hypers.lr = self._finder.plan(self._state, 1)["lr"][0, -1]

    def on_train_batch_end(self, batch, logs=None) -> None:
        if not self._active:
            return
        state = self._state
        loss, batch_size = self._raw_loss(batch, logs or {})
        state.lr = state.hypers.lr
        state.loss, state.batch_size = loss, batch_size
        ema, limits = state.ema, state.limits
        ema.avg, ema.count, ema.best, state.smooth_loss, code = running_loss.step_eagerly(
            ema.avg, ema.count, ema.best, loss, self.beta, limits.div_limit,
            limits.terminate_on_nan)  # the compiled step's rules, run eagerly
        self._cbs("after_batch", state)
        state.iter += 1
        self._step += 1
        reason = running_loss.reason_of(code) or (
            StopReason.END if self._step >= limits.max_steps else None)
        if reason is not None:
            state.stop(reason)
            self.stop_step = self._step - 1
            self._active = False
            self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        self.restore()
        finder = self._finder
        if finder is None:
            return
        self._active = False
        rec = self.recorder
        if self.stop_reason is None:
            self._state.stop(StopReason.FIT_ENDED)
            self.stop_step = len(rec.lrs) - 1 if rec.lrs else None
            steps = (self.params or {}).get("steps")
            need = f" (epochs >= {-(-self.num_it // int(steps))})" if steps else ""
            warnings.warn(f"model.fit ended after {len(rec.lrs)} of the sweep's {self.num_it} "
                          f"steps; pass more epochs{need} or a smaller num_it.", UserWarning,
                          stacklevel=2)
        rec.lr_find_info = {"num_it": self.num_it, "stop_reason": self.stop_reason,
                            "stop_step": self.stop_step, "beta": self.beta}
        self.suggestions = compute_suggestions(rec, self._names, self._funcs, self.num_it)

    # ---- raw loss -----------------------------------------------------------------------------
    def _read_tracker(self) -> tuple[float, float]:
        if self._tracker is None:
            return 0.0, 0.0
        return _read(self._tracker.total), _read(self._tracker.count)

    def _raw_loss(self, batch: int, logs: dict) -> tuple[float, int]:
        """The loss of the step(s) just run, and their number of samples (0 if unknown)."""
        total0, count0 = self._before
        total1, count1 = self._read_tracker()
        batches = int(batch) + 1  # batches done in this epoch (Keras passes the end step)
        mean = logs.get("loss")
        if count1 > count0:  # the loss tracker moved: exact in the batch sizes
            raw = (total1 - total0) / (count1 - count0)
            size = int(round(count1 - count0))
        elif mean is not None and batches > self._prev_batches:
            raw = raw_loss_from_running_mean(float(mean), self._prev_mean, batches,
                                             self._prev_batches)
            size = 0
        else:
            raise ValueError("LRFinderCallback cannot read the batch loss: the model's loss "
                             "tracker did not change and logs has no 'loss'. Return "
                             "{'loss': ...} from a custom train_step.")
        if mean is not None:
            self._prev_mean, self._prev_batches = float(mean), batches
        return raw, size

    # ---- results ------------------------------------------------------------------------------
    def restore(self) -> None:
        """Put the model's and optimizer's variables back as they were at ``on_train_begin``
        (a no-op without a snapshot, i.e. with ``restore_weights=False`` or before a fit)."""
        if self._snapshot is not None:
            self._snapshot.restore()

    def _check_run(self) -> None:
        if not self.recorder.lrs:
            raise RuntimeError("No range test yet: pass the callback to model.fit(..., "
                               "callbacks=[cb]) first.")

