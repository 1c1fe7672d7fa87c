"""The one training loop: the Python event loop around :class:`~tflearner.loop.steps.CompiledSteps`.

``fit``, ``lr_find``, ``fit_one_cycle`` and ``fine_tune`` all run :meth:`TrainLoop.fit`; they
differ only by the callbacks, :class:`~tflearner.loop.contract.StopLimits` and
:class:`~tflearner.loop.contract.Resume` they pass. Per chunk of ``n`` batches the loop calls
``before_batch`` ``n`` times while :class:`~tflearner.optim.group_hypers.GroupHypers` collects the
hyper-parameters they set into a plan, runs one compiled call, then calls ``after_batch`` for
each batch with the values that batch's update used. See ``docs/architecture.md`` for the event
order.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..core import internals
from ..core.contract import SMOOTH_BETA, FitState, LossEMA, Resume, StopLimits
from ..core.events import CallbackList
from ..optim.group_hypers import GroupHypers
from . import rules
from .chunks import STEPS_PER_EXECUTION, Chunker, check_steps_per_execution, deferred_interrupt
from .steps import CompiledSteps, label_errors

__all__ = ["TrainLoop", "is_default_strategy"]

_NO_LIMITS = StopLimits()


def _relaxed(spec: Any, name: str) -> Any:
    """The same (nested) spec with a ``None`` batch dimension, so the last partial batch fits."""
    return tf.nest.map_structure(
        lambda s: tf.TensorSpec((None, *s.shape[1:]), s.dtype, name=name), spec)


def _compatible(spec: Any, other: Any) -> bool:
    """Whether ``other`` has ``spec``'s structure and compatible tensors (no retrace)."""
    try:
        tf.nest.assert_same_structure(spec, other)
    except (ValueError, TypeError):
        return False
    return all(a.is_compatible_with(b) for a, b in zip(tf.nest.flatten(spec),
                                                       tf.nest.flatten(other), strict=True))


def metric_results(m: keras.metrics.Metric) -> dict[str, float]:
    """``{name: value}`` of a metric; Keras' per-output container gives one entry per output
    and metric (``<output>_<metric>``, as ``model.fit`` logs them)."""
    res = m.result()
    if isinstance(res, dict):
        return {k: float(v) for k, v in res.items()}
    return {m.name: float(res)}


def _concat(batches: list) -> Any:
    """Per-batch (nested) arrays concatenated along the batch axis."""
    return tf.nest.map_structure(lambda *a: np.concatenate(a), *batches)


def _is_weight_spec(spec: tf.TensorSpec) -> bool:
    """Sample weights: one float per example, ``(batch,)`` or ``(batch, 1)``."""
    return (isinstance(spec, tf.TensorSpec) and spec.dtype.is_floating
            and (spec.shape.rank == 1 or (spec.shape.rank == 2 and spec.shape[-1] == 1)))


def is_default_strategy(strategy: tf.distribute.Strategy) -> bool:
    """True for TensorFlow's default (no-op) strategy, which needs no distributed datasets."""
    return internals.is_default_strategy(strategy)


class TrainLoop:
    """Compiled steps for one model/loss/metrics and one optimizer per layer group, and the
    event loop that drives them.

    ``group_variables[g]`` lists the variables optimizer ``optimizers[g]`` updates (every
    trainable variable of the model is in exactly one group). ``element_spec`` is the ``(x, y)``
    spec of the training data; every dataset passed later must be compatible with it (same
    dtypes and example shapes). ``train_metrics``: metric objects of their own (not
    ``metrics``) that the compiled train step updates on each applied batch's training forward
    pass; each epoch reports them as ``train_<name>`` after ``train_loss`` (empty: none).
    """

    def __init__(self, model: keras.Model, optimizers: list[keras.optimizers.Optimizer],
                 group_variables: list[list], loss_fn: Callable,
                 metrics: list[keras.metrics.Metric],
                 element_spec: tuple[tf.TensorSpec, tf.TensorSpec], hypers: GroupHypers,
                 jit_compile: bool = False,
                 steps_per_execution: int | str = STEPS_PER_EXECUTION,
                 strategy: tf.distribute.Strategy | None = None,
                 train_metrics: list[keras.metrics.Metric] | None = None,
                 n_classes: int | None = None,
                 class_weight: tf.Variable | None = None,
                 placed: Any = None) -> None:
        #: training arrays placed on a device (``DataBundle.placed``): fitting ``placed.host_train``
        #: iterates ``placed.indices`` and the step gathers the batches (None: no placement)
        self.placed = placed
        self.n_classes = n_classes  # sparse labels are checked to lie in [0, n_classes)
        self.class_weight = class_weight
        self.model, self.optimizers, self.loss_fn, self.metrics = (model, list(optimizers),
                                                                   loss_fn, metrics)
        self.train_metrics = list(train_metrics or [])
        self._with_train_metrics = False
        self.group_variables = [list(vs) for vs in group_variables]
        self.hypers = hypers
        self.strategy = strategy if strategy is not None else tf.distribute.get_strategy()
        self.distributed = not is_default_strategy(self.strategy)
        self.jit_compile = bool(jit_compile)
        self.chunker = Chunker(check_steps_per_execution(steps_per_execution))
        self.x_spec = _relaxed(element_spec[0], "x")
        self.y_spec = _relaxed(element_spec[1], "y")
        #: the training data's sample-weight spec (None: (x, y) batches)
        self.w_spec = _relaxed(element_spec[2], "w") if len(element_spec) > 2 else None
        self.trace_counts: Counter[str] = Counter()
        self.steps = self._build()

    def _build(self) -> CompiledSteps:
        return CompiledSteps(self.model, self.optimizers, self.group_variables, self.loss_fn,
                             self.metrics, self.hypers, self.strategy, self.distributed,
                             self.x_spec, self.y_spec, self.jit_compile, self.trace_counts,
                             self.train_metrics, n_classes=self.n_classes, w_spec=self.w_spec,
                             class_weight=self.class_weight,
                             gather=None if self.placed is None else self.placed.gather)

    def set_class_weight(self, class_weight: tf.Variable) -> None:
        """Weigh the training loss by ``class_weight[label]`` from now on (rebuilds the steps
        once: the weighting is part of the compiled step)."""
        self.class_weight = class_weight
        self.steps = self._build()

    def _ensure_current(self) -> None:
        """Rebuild the steps only when the set of trainable variables changed."""
        if tuple(id(v) for v in self.model.trainable_variables) != self.steps.trainable_key:
            self.steps = self._build()

    def check_dataset(self, name: str, ds: tf.data.Dataset, with_y: bool = True) -> None:
        """Refuse a dataset the compiled steps would have to retrace for."""
        spec = ds.element_spec
        labelled = self.labelled(spec)
        ok = (labelled and _compatible(self.y_spec, spec[1]) and (
            len(spec) == 2 or _is_weight_spec(spec[2]))) if with_y else (
            labelled or _compatible(self.x_spec, spec))
        if not ok:
            raise ValueError(
                f"{name} has element_spec={spec}, which does not match the training data "
                f"(x: {self.x_spec}, y: {self.y_spec}). Map it to the same dtypes and example "
                "shapes (e.g. cast images to float32 and scale them the same way).")

    # ---- the event loop -----------------------------------------------------------------------
    def fit(self, train: tf.data.Dataset, epochs: int, valid: tf.data.Dataset | None,
            cbs: CallbackList, *, learner: object = None, limits: StopLimits = _NO_LIMITS,
            resume: Resume | None = None, smooth_beta: float = SMOOTH_BETA,
            with_train_metrics: bool = True,
            finalize: Callable[[], None] | None = None) -> FitState:
        """Run epochs ``resume.epoch`` (or 0) to ``epochs - 1`` over ``train``, calling ``cbs`` at
        each event, within ``limits``; returns the final :class:`FitState` (``stop_reason``:
        ``"non-finite"``, ``"diverged"``, ``"max_steps"``, ``"callback"`` or None).
        ``with_train_metrics=False`` leaves the training metrics out (lr_find): not updated,
        not logged, same compiled step.

        ``finalize`` runs once the epochs are over (also after a stop, not after an exception),
        before ``after_fit``: where ``model.fit`` calls ``optimizer.finalize_variable_values``.
        """
        self._ensure_current()
        self.check_dataset("train", train)
        if valid is not None:
            self.check_dataset("valid", valid)
        n = int(train.cardinality())
        placed = self.placed is not None and train is self.placed.host_train
        source = self.placed.indices if placed else train  # same order, gathered in the step
        self._with_train_metrics = bool(with_train_metrics) and bool(self.train_metrics)
        state = FitState(learner=learner, hypers=self.hypers, epochs=epochs,
                         n_iter=n if n >= 0 else None, limits=limits, resume=resume,
                         train_metrics=self.train_metrics if self._with_train_metrics else [])
        if resume is not None:
            state.step, state.ema = resume.step, LossEMA(**resume.ema.as_dict())
        const = {"beta": smooth_beta, "div_limit": limits.div_limit,
                 "terminate": float(limits.terminate_on_nan),
                 "metrics": float(self._with_train_metrics)}
        self._limits = {k: tf.constant(v, tf.float64) for k, v in const.items()}
        try:
            cbs("before_fit", state)
            for epoch in range(resume.epoch if resume else 0, epochs):
                skip = resume.iter if resume is not None and epoch == resume.epoch else 0
                state.epoch, state.iter, state.logs = epoch, skip, {}
                start = time.perf_counter()
                cbs("before_epoch", state)
                self._train_epoch(source, state, cbs, skip)
                if valid is not None:
                    self._validate(valid, state, cbs)
                state.logs["time"] = time.perf_counter() - start
                cbs("after_epoch", state)
                if state.stop_training:
                    break
            if finalize is not None:
                finalize()
        finally:
            cbs("after_fit", state)
        return state

    def _validate(self, valid: tf.data.Dataset, state: FitState, cbs: CallbackList) -> None:
        """``before_validate``, ``after_valid_batch`` per batch, ``after_validate`` (logs:
        ``valid_loss`` and the metrics)."""
        state.training = False

        def after_valid_batch(i: int, running_loss: float) -> None:
            state.valid_iter, state.valid_loss = i, running_loss
            cbs("after_valid_batch", state)

        cbs("before_validate", state)
        state.logs.update(self.evaluate(valid, prefix_loss="valid_loss",
                                        on_batch=after_valid_batch))
        cbs("after_validate", state)

    def _train_epoch(self, train: tf.data.Dataset, state: FitState, cbs: CallbackList,
                     skip: int) -> None:
        """``before_train``, the epoch's chunks, ``after_train`` (logs: ``train_loss``)."""
        state.training, state.chunk_end = True, True
        resumed = state.resume is not None and skip
        state.loss_sum, state.seen = ((state.resume.loss_sum, state.resume.seen) if resumed
                                      else (0.0, 0))
        for m in state.train_metrics:
            m.reset_state()
        if resumed:  # the metrics continue from the checkpoint, as the loss sums do
            for m, values in zip(state.train_metrics, state.resume.train_metric_state,
                                 strict=False):
                for v, value in zip(m.variables, values, strict=True):
                    v.assign(np.asarray(value, dtype=v.dtype))
        cbs("before_train", state)
        iterator = iter(self._distribute(train))
        for _ in range(skip):  # resuming mid-epoch: the same order, minus what ran
            next(iterator)
        sync = any(getattr(cb, "sync_every_batch", False) for cb in cbs)
        for n in self.chunker.sizes(state, sync, state.limits.max_steps):
            if self._run_chunk(iterator, n, state, cbs) < n and not state.stop_training:
                break  # the data ran out: the epoch has ended
        if state.iter == 0:
            raise ValueError("train yielded no batches in this epoch; it must yield at least "
                             "one batch per epoch.")
        if state.n_iter is None and not state.stop_training:
            state.n_iter = state.iter
        limit = state.limits.max_steps
        if limit is not None and state.step >= limit and not state.stop_training:
            state.stop_training, state.stop_reason = True, "max_steps"
        state.chunk_end = True
        state.logs["train_loss"] = state.loss_sum / state.seen if state.seen else math.nan
        for m in state.train_metrics:
            state.logs[f"train_{m.name}"] = float(m.result()) if state.seen else math.nan
        cbs("after_train", state)

    def _run_chunk(self, iterator, n: int, state: FitState, cbs: CallbackList) -> int:
        """Plan, run and report one chunk of up to ``n`` batches; returns how many ran."""
        plan = self._plan(n, state, cbs)
        carry = {k: tf.constant(v, tf.float64) for k, v in state.ema.as_dict().items()}
        with deferred_interrupt():  # a Ctrl-C waits until this chunk is reported
            started = time.perf_counter()
            with label_errors(self.n_classes):
                out = self.steps.train_steps(iterator, plan, tf.constant(n), carry,
                                             self._limits)
            rows = {k: v.numpy().tolist() for k, v in out["rows"].items()}
            rows["group_lrs"] = out["group_lrs"].numpy().tolist()
            self.chunker.observe(time.perf_counter() - started, len(rows["loss"]))
            code = int(out["code"])
            state.ema = LossEMA(**{k: float(v) for k, v in out["carry"].items()})
            self._report(rows, code, state, cbs)
        ran = len(rows["loss"])
        if code == rules.END_OF_DATA and state.n_iter is not None and state.iter < state.n_iter:
            raise ValueError(f"train yielded {state.iter} batches in epoch {state.epoch} but its "
                             f"cardinality says {state.n_iter}; fix the dataset's length.")
        return ran

    def _report(self, rows: dict[str, list], code: int, state: FitState,
                cbs: CallbackList) -> None:
        """``after_batch`` for each batch that ran, with the values its update used."""
        ran = len(rows["loss"])
        for j in range(ran):
            ok = rows["ok"][j] > 0.5
            state.chunk_end = j == ran - 1
            state.loss, state.smooth_loss = rows["loss"][j], rows["smooth"][j]
            state.lr, state.wd, state.lrs = rows["lr"][j], rows["wd"][j], rows["group_lrs"][j]
            state.mom = None if self.hypers.mom_attr is None else rows["mom"][j]
            state.batch_size = int(rows["batch_size"][j])
            if ok:
                state.loss_sum += state.loss * state.batch_size
                state.seen += state.batch_size
            else:
                state.n_skipped += 1
            if state.chunk_end and code in rules.STOP_REASONS:
                state.stop_training, state.stop_reason = True, rules.STOP_REASONS[code]
            stop_before = state.stop_training
            cbs("after_batch", state)
            if state.stop_training and not stop_before:
                state.stop_reason = state.stop_reason or "callback"
            state.iter += 1
            state.step += 1

    def _plan(self, n: int, state: FitState, cbs: CallbackList) -> tf.Tensor:
        """Call ``before_batch`` for the next ``n`` batches (``state.iter`` / ``state.step`` as
        each will be) and collect the hyper-parameters they set into a plan of ``max_chunk``
        rows (``hypers.plan_columns()``; rows past ``n`` are NaN and never used)."""
        rows = []
        it0, step0 = state.iter, state.step
        self.hypers.begin_plan()
        try:
            for j in range(n):
                state.iter, state.step = it0 + j, step0 + j
                cbs("before_batch", state)
                rows.append(self.hypers.take_row())
        finally:
            self.hypers.end_plan()
            state.iter, state.step = it0, step0
        rows += [[math.nan] * len(self.hypers.plan_columns())] * (self.chunker.max_chunk - n)
        return tf.constant(rows, tf.float32)

    def _distribute(self, ds: tf.data.Dataset):
        """``ds`` itself, or split across the strategy's replicas."""
        return self.strategy.experimental_distribute_dataset(ds) if self.distributed else ds

    def evaluate(self, ds: tf.data.Dataset, prefix_loss: str = "loss",
                 on_batch: Callable[[int, float], None] | None = None) -> dict[str, float]:
        """Mean loss (weighted by batch size) and metric results over ``ds``; ``on_batch(i,
        mean loss so far)`` after each batch (the metrics then hold their running totals).
        Several outputs: also each output's unweighted loss, ``<output>_loss``, as Keras
        logs it (the trackers of Keras' CompileLoss)."""
        per_output = list(getattr(self.loss_fn, "metrics", None) or [])
        for m in [*self.metrics, *per_output]:
            m.reset_state()
        loss_sum, seen = 0.0, 0
        for i, elem in enumerate(self._distribute(ds)):
            step = self.steps.eval_step if len(elem) == 2 else self.steps.eval_step_weighted
            with label_errors(self.n_classes):
                loss, bs = step(*elem).numpy().tolist()
            loss_sum += loss * bs
            seen += int(bs)
            if on_batch is not None:
                on_batch(i, loss_sum / seen if seen else math.nan)
        if seen == 0:
            raise ValueError("the evaluation dataset yielded no batches.")
        out = {prefix_loss: loss_sum / seen}
        for m in self.metrics:
            out.update(metric_results(m))
        for m in per_output:
            out.update(metric_results(m))
        return out

    def predict(self, ds: tf.data.Dataset) -> np.ndarray:
        """Concatenated model outputs over ``ds`` (elements ``x`` or ``(x, y)``)."""
        return self.gather(ds)[0]

    def gather(self, ds: tf.data.Dataset, inputs: bool = False
               ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``(outputs, targets, inputs)`` over ``ds``, concatenated on the host; ``targets`` is
        None for elements ``x`` without labels, ``inputs`` None unless asked for."""
        outs, ys, xs = [], [], []
        labelled = self.labelled(ds.element_spec)
        for elem in self._distribute(ds):
            x = elem[0] if labelled else elem
            outs.append(tf.nest.map_structure(np.asarray, self.steps.predict_step(x)))
            if labelled:
                ys.append(self._host(elem[1]))
            if inputs:
                xs.append(self._host(x))
        if not outs:
            raise ValueError("the dataset passed to predict yielded no batches.")
        return (_concat(outs), _concat(ys) if ys else None, _concat(xs) if inputs else None)

    def labelled(self, spec: Any) -> bool:
        """Whether a dataset of ``spec`` yields ``(x, y[, w])`` rather than ``x`` alone (told
        apart by the training data's x structure, so a tuple of inputs is not taken for one)."""
        return (isinstance(spec, tuple) and len(spec) in (2, 3)
                and _compatible(self.x_spec, spec[0]) and not _compatible(self.x_spec, spec))

    def _host(self, value) -> Any:
        """A (possibly per-replica, possibly nested) batch as numpy, in the dataset's order."""
        if self.distributed:
            value = tf.nest.map_structure(lambda v: self.strategy.gather(v, axis=0), value)
        return tf.nest.map_structure(np.asarray, value)
