"""The one training loop: compiled train / eval / predict steps and the Python event loop.

``fit``, ``lr_find`` and ``fit_one_cycle`` all run :meth:`TrainLoop.fit`; they differ only by the
callbacks they pass. The training step is one ``tf.function``, traced once per Learner (not per
epoch, LR change, partial batch or chunk size): ``train_steps(iterator, plan)`` runs
``len(plan)`` batches in a ``tf.while_loop``, where row ``i`` of ``plan`` holds ``[lr, mom, wd]``
for batch ``i`` (NaN: keep the current value). Running up to ``steps_per_execution`` batches per
call (``"auto"``: chunks of ~0.25 s, at most 32 batches) removes most of the per-batch Python and
dispatch cost; callbacks still see every batch,
because ``before_batch`` is called for each batch of a chunk while the plan is collected
(hyper-parameter assignments are deferred into the plan, see :meth:`Hypers.begin_plan`) and
``after_batch`` for each batch from the per-batch results the call returns.
Hyper-parameters reach the step through variables (:class:`tflearner.optim.Hypers`), never as
Python arguments. ``trace_counts`` counts traces (a Python side effect inside each step), so
tests can prove the no-retrace promise.
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

from .callbacks import CallbackList, FitState
from .optim import Hypers
from .tracing import instance_function

__all__ = ["TrainLoop", "SMOOTH_BETA", "STEPS_PER_EXECUTION"]

#: Smoothing factor of the running loss shown in progress bars and recorded per batch.
SMOOTH_BETA = 0.98

#: Default batches per compiled call: ``"auto"`` sizes chunks to take about
#: :data:`AUTO_CHUNK_SECONDS` each, between 1 and :data:`AUTO_MAX_STEPS` batches.
STEPS_PER_EXECUTION = "auto"
#: ``"auto"``: the most batches per call (LeNet/CIFAR on CPU: 32 batches cost ~2 % less CPU per
#: image than 8, and ~13 % less than 1).
AUTO_MAX_STEPS = 32
#: ``"auto"``: target wall time of one call, so progress bars and stop requests stay responsive
#: for heavy models (which then run one batch per call; their per-call overhead is negligible).
AUTO_CHUNK_SECONDS = 0.25


def _relaxed(spec: tf.TensorSpec, name: str) -> tf.TensorSpec:
    """The same spec with a ``None`` batch dimension, so the last partial batch fits."""
    return tf.TensorSpec((None, *spec.shape[1:]), spec.dtype, name=name)


def is_default_strategy(strategy: tf.distribute.Strategy) -> bool:
    """True for TensorFlow's default (no-op) strategy, which needs no distributed datasets."""
    return type(strategy).__name__ == "_DefaultDistributionStrategy"


def auto_chunk(seconds_per_batch: float) -> int:
    """``"auto"``'s chunk size: ``floor(AUTO_CHUNK_SECONDS / seconds_per_batch)`` clipped to
    ``[1, AUTO_MAX_STEPS]`` (e.g. 6 ms per batch -> 32, 0.1 s -> 2, 1 s -> 1)."""
    if not seconds_per_batch > 0:
        return AUTO_MAX_STEPS
    fits = math.floor(AUTO_CHUNK_SECONDS / seconds_per_batch + 1e-9)  # 0.25 / 0.01 -> 25
    return int(min(AUTO_MAX_STEPS, max(1, fits)))


def check_steps_per_execution(value: Any) -> int | str:
    """``value`` as a positive int or ``"auto"``, or a ValueError/TypeError naming it."""
    if value == "auto":
        return "auto"
    if isinstance(value, str):
        raise ValueError(f"steps_per_execution must be a positive int or 'auto', got {value!r}.")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"steps_per_execution must be a positive int or 'auto', got "
                        f"{type(value).__name__}: {value!r}.")
    if value < 1:
        raise ValueError(f"steps_per_execution must be >= 1, got {value!r}; use 1 for one batch "
                         "per compiled call, or 'auto' (the default).")
    return int(value)


class TrainLoop:
    """Compiled steps for one model/optimizer/loss/metrics, plus the event loop that drives them.

    ``element_spec`` is the ``(x, y)`` spec of the training data; every dataset passed later
    must be compatible with it (same dtypes and example shapes).
    """

    def __init__(self, model: keras.Model, optimizer: keras.optimizers.Optimizer,
                 loss_fn: Callable, metrics: list[keras.metrics.Metric],
                 element_spec: tuple[tf.TensorSpec, tf.TensorSpec], hypers: Hypers,
                 jit_compile: bool = False,
                 steps_per_execution: int | str = STEPS_PER_EXECUTION,
                 strategy: tf.distribute.Strategy | None = None) -> None:
        self.model = model
        self.strategy = strategy if strategy is not None else tf.distribute.get_strategy()
        self.distributed = not is_default_strategy(self.strategy)
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metrics = metrics
        self.hypers = hypers
        self.jit_compile = bool(jit_compile)
        self.steps_per_execution = check_steps_per_execution(steps_per_execution)
        self.auto = self.steps_per_execution == "auto"
        self.max_chunk = AUTO_MAX_STEPS if self.auto else int(self.steps_per_execution)
        self._auto_chunk = 1  # "auto": the current chunk size, kept from fit to fit
        self.x_spec = _relaxed(element_spec[0], "x")
        self.y_spec = _relaxed(element_spec[1], "y")
        self.trace_counts: Counter[str] = Counter()
        self._trainable_key: tuple[int, ...] | None = None
        self._build_steps()

    # ---- compiled steps ---------------------------------------------------------------------
    def _build_steps(self) -> None:
        """(Re)create the tf.functions; called once, and again only if trainability changed."""
        model, opt, strategy = self.model, self.optimizer, self.strategy
        tvars = list(model.trainable_variables)
        self._trainable_key = tuple(id(v) for v in tvars)
        replicas = strategy.num_replicas_in_sync
        # Keras losses with a mean reduction already divide by the replica count under a
        # strategy (keras.src.losses.loss.scale_loss_for_distribution); other losses and the
        # model's own losses (regularisers) are divided here, so that the gradients summed over
        # replicas are those of the global-batch mean.
        keras_scaled = isinstance(self.loss_fn, keras.losses.Loss) and getattr(
            self.loss_fn, "reduction", None) in ("sum_over_batch_size", "mean")

        loss_scaling = hasattr(opt, "scale_loss") and hasattr(opt, "inner_optimizer")

        def compute_loss(y, pred):
            """The replica's share of the global-batch mean loss (the mean itself on one)."""
            loss = self.loss_fn(y, tf.cast(pred, tf.float32) if pred.dtype != tf.float64 else pred)
            if replicas > 1 and not keras_scaled:
                loss = loss / replicas
            if model.losses:
                loss = loss + tf.add_n(model.losses) / replicas
            return loss

        def replica_grads(x, y):
            with tf.GradientTape() as tape:
                loss = compute_loss(y, model(x, training=True))
                scaled = opt.scale_loss(loss) if loss_scaling else loss
            grads = tape.gradient(scaled, tvars)
            bad = tf.logical_not(tf.math.is_finite(loss))
            # With loss scaling, overflowing gradients are the LossScaleOptimizer's to handle
            # (it skips the step and lowers the scale), so only the loss is checked here.
            for g in [] if loss_scaling else grads:
                if g is not None:
                    bad = tf.logical_or(bad, tf.logical_not(tf.reduce_all(tf.math.is_finite(g))))
            return (tf.cast(loss, tf.float32), grads, tf.cast(bad, tf.float32),
                    tf.cast(tf.shape(x)[0], tf.float32))

        # XLA (jit_compile) compiles the math only: the forward/backward pass and the forward
        # pass of eval/predict. The outer functions hold the iterator, the while loop and the
        # optimizer's cross-replica update, which XLA cannot compile or must not nest.
        def forward(x):
            return model(x, training=False)

        if self.jit_compile:
            replica_grads = instance_function(replica_grads, jit_compile=True)
            forward = instance_function(forward, jit_compile=True)

        def replica_apply(grads):
            opt.apply_gradients(zip(grads, tvars, strict=True))

        def total(per_replica):
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        def train_steps(iterator, plan, n, guard):
            """Up to ``n`` updates; row ``i`` of ``plan`` is ``[lr, mom, wd]`` for batch ``i``
            (NaN: keep). ``guard`` is ``[avg, best, step, beta, div_limit, terminate]``
            (float64): the loss EMA so far, the best smoothed loss so far, the global step of
            the first batch, the EMA factor, the divergence limit (0: off) and whether a
            non-finite loss ends the call. Returns one float64 row per batch run,
            ``[loss, lr, mom, wd, batch_size, smooth, avg, ok]``, with the values the update
            actually used (mom NaN if there is none); ``ok`` is 0 when the loss or a gradient
            was non-finite on any replica, in which case the update was skipped everywhere.
            The loop ends early after such a batch (``terminate``) or after the smoothed loss
            exceeds ``div_limit * best`` (lr_find's divergence stop).

            Gradients are computed in one ``strategy.run`` and applied in a second one, inside
            a ``tf.cond`` on the all-replica finiteness flag: a synchronisation point (Keras'
            gradient all-reduce) may not sit inside control flow within a replica function.
            """
            self.trace_counts["train"] += 1
            beta, div_limit = guard[3], guard[4]
            terminate = guard[5] > 0

            def body(i, avg, best, stop, out):
                x, y = iterator.get_next()
                # Every state change waits for the batch (ops on other resources are not
                # ordered otherwise), so running out of data leaves all variables alone.
                with tf.control_dependencies(tf.nest.flatten((x, y), expand_composites=True)):
                    self.hypers.assign_row(plan[i])
                    hp = self.hypers.read()  # read before the update that uses them
                    loss, grads, bad, bs = strategy.run(replica_grads, args=(x, y))
                    loss, bad, bs = total(loss), total(bad), total(bs)
                    ok = bad < 0.5

                    def update():
                        strategy.run(replica_apply, args=(grads,))
                        return tf.constant(True)

                    tf.cond(ok, update, lambda: tf.constant(False))
                    loss64 = tf.cast(loss, tf.float64)
                    # Debiased EMA of the finite losses (a skipped batch leaves it alone).
                    avg = tf.where(ok, beta * avg + (1 - beta) * loss64, avg)
                    step = guard[2] + tf.cast(i, tf.float64)
                    smooth = avg / (1 - tf.pow(beta, step + 1))
                    diverged = tf.logical_and(div_limit > 0, smooth > div_limit * best)
                    best = tf.minimum(best, smooth)
                    stop = tf.logical_or(diverged, tf.logical_and(tf.logical_not(ok), terminate))
                    row = tf.stack([loss64, *(tf.cast(h, tf.float64) for h in hp),
                                    tf.cast(bs, tf.float64), smooth, avg,
                                    tf.cast(ok, tf.float64)])
                return i + 1, avg, best, stop, out.write(i, row)

            out = tf.TensorArray(tf.float64, size=0, dynamic_size=True, element_shape=[8])
            loop_vars = [tf.constant(0), guard[0], guard[1], tf.constant(False), out]
            *_, out = tf.while_loop(lambda i, _a, _b, stop, _o: tf.logical_and(
                i < n, tf.logical_not(stop)), body, loop_vars)
            return out.stack()

        def replica_eval(x, y):
            pred = forward(x)
            for m in self.metrics:
                m.update_state(y, pred)
            return (tf.cast(compute_loss(y, pred), tf.float32),
                    tf.cast(tf.shape(x)[0], tf.float32))

        def eval_step(x, y):
            """``[loss, batch_size]`` of one global batch (loss: the global-batch mean)."""
            self.trace_counts["eval"] += 1
            loss, bs = strategy.run(replica_eval, args=(x, y))
            return tf.stack([total(loss), total(bs)])

        def predict_step(x):
            self.trace_counts["predict"] += 1
            out = strategy.run(forward, args=(x,))
            return strategy.gather(out, axis=0) if self.distributed else out

        # No input signatures: every iterator over the training data has the same type spec
        # (batch dimension None, so the partial last batch fits), the plan always has
        # max_chunk rows (n says how many to run) and the guard 6, so each function
        # traces once per Learner. Distributed iterators and values get the same treatment.
        # instance_function: keyed per Learner in TensorFlow's retracing detector (tracing.py).
        self.train_steps = instance_function(train_steps)
        if self.distributed:
            self.eval_step = instance_function(eval_step)
            self.predict_step = instance_function(predict_step)
        else:
            xy = [self.x_spec, self.y_spec]
            self.eval_step = instance_function(eval_step, input_signature=xy)
            self.predict_step = instance_function(predict_step, input_signature=[self.x_spec])

    def _ensure_current(self) -> None:
        """Retrace only when the set of trainable variables changed (freeze / unfreeze)."""
        if tuple(id(v) for v in self.model.trainable_variables) != self._trainable_key:
            self._build_steps()

    def check_dataset(self, name: str, ds: tf.data.Dataset, with_y: bool = True) -> None:
        """Refuse a dataset the compiled steps would have to retrace for."""
        spec = ds.element_spec
        ok = (isinstance(spec, tuple) and len(spec) == 2 and self.x_spec.is_compatible_with(
            spec[0]) and self.y_spec.is_compatible_with(spec[1])) if with_y else (
            self.x_spec.is_compatible_with(spec[0] if isinstance(spec, tuple) else spec))
        if not ok:
            raise ValueError(
                f"{name} has element_spec={spec}, which does not match the training data "
                f"(x: {self.x_spec}, y: {self.y_spec}). Map it to the same dtypes and example "
                "shapes (e.g. cast images to float32 and scale them the same way)."
            )

    # ---- the event loop -----------------------------------------------------------------------
    def fit(self, train: tf.data.Dataset, epochs: int, valid: tf.data.Dataset | None,
            cbs: CallbackList, learner: Any = None, smooth_beta: float = SMOOTH_BETA,
            terminate_on_nan: bool = True) -> FitState:
        """Run ``epochs`` epochs over ``train``, calling ``cbs`` at each event; see module doc.

        ``smooth_beta`` is the factor of the debiased moving average in ``state.smooth_loss``.
        A batch with a non-finite loss or gradient is never applied; ``terminate_on_nan`` also
        ends the fit there (see :class:`FitState`).
        """
        self._ensure_current()
        self.check_dataset("train", train)
        if valid is not None:
            self.check_dataset("valid", valid)
        n = int(train.cardinality())
        # Callbacks that must act between any two batches get one batch per call; otherwise a
        # stop request from after_batch takes effect at the end of a chunk. (Non-finite losses
        # and lr_find's divergence end a chunk inside the compiled loop, at the very batch.)
        sync = any(getattr(cb, "sync_every_batch", False) for cb in cbs)
        state = FitState(learner=learner, hypers=self.hypers, epochs=epochs,
                         n_iter=n if n >= 0 else None, terminate_on_nan=bool(terminate_on_nan))
        avg, best = 0.0, math.inf
        try:
            cbs("before_fit", state)
            resume = state.resume or {}
            first_epoch = int(resume.get("epoch", 0))
            if resume:
                state.step = int(resume["step"])
                avg, best = float(resume["avg"]), float(resume["best"])
                state.smooth_avg, state.smooth_best = avg, best
            for epoch in range(first_epoch, epochs):
                skip = int(resume.get("iter", 0)) if epoch == first_epoch else 0
                state.epoch, state.iter, state.logs = epoch, skip, {}
                start = time.perf_counter()
                cbs("before_epoch", state)
                state.training = True
                cbs("before_train", state)
                loss_sum, seen = ((float(resume.get("loss_sum", 0.0)), int(resume.get("seen", 0)))
                                  if skip else (0.0, 0))
                iterator = iter(self._distribute(train))
                for _ in range(skip):  # resuming mid-epoch: the same order, minus what ran
                    next(iterator)
                while not state.stop_training:
                    known = state.n_iter is not None
                    chunk = 1 if sync else self._auto_chunk if self.auto else self.max_chunk
                    n = min(chunk, state.n_iter - state.iter) if known else 1
                    if state.max_steps is not None:
                        n = min(n, state.max_steps - state.step)
                    if n <= 0:
                        break
                    plan = self._plan(n, state, cbs)
                    guard = tf.constant([avg, best, state.step, smooth_beta, state.div_limit,
                                         float(state.terminate_on_nan)], tf.float64)
                    started = time.perf_counter()
                    try:
                        rows = self.train_steps(iterator, plan, tf.constant(n),
                                                guard).numpy().tolist()
                    except tf.errors.OutOfRangeError:
                        if known:
                            raise
                        break  # an unknown-length epoch ends when a batch is asked for
                    if self.auto and rows:
                        self._auto_chunk = auto_chunk((time.perf_counter() - started) / len(rows))
                    for j, (loss, lr, mom, wd, bs, smooth, avg_after, ok) in enumerate(rows):
                        avg = avg_after  # the EMA state the next chunk continues from
                        state.chunk_end = j == len(rows) - 1
                        state.lr, state.wd = lr, wd
                        state.mom = None if self.hypers.mom_attr is None else mom
                        state.loss, state.batch_size = loss, int(bs)
                        state.smooth_loss = smooth
                        if ok:
                            loss_sum += loss * bs
                            seen += int(bs)
                        else:
                            state.n_skipped += 1
                            if state.terminate_on_nan:
                                state.stop_training, state.stop_reason = True, "non-finite"
                        if state.div_limit > 0 and smooth > state.div_limit * best:
                            state.stop_training, state.stop_reason = True, "diverged"
                        best = min(best, smooth)
                        state.smooth_avg, state.smooth_best = avg, best
                        state.loss_sum, state.seen = loss_sum, seen
                        cbs("after_batch", state)
                        state.iter += 1
                        state.step += 1
                    if state.max_steps is not None and state.step >= state.max_steps:
                        state.stop_training = True
                if state.n_iter is None and not state.stop_training:
                    state.n_iter = state.iter
                if state.iter == 0:
                    raise ValueError("train yielded no batches in this epoch; it must yield at "
                                     "least one batch per epoch.")
                state.chunk_end = True
                state.logs["train_loss"] = loss_sum / seen if seen else math.nan
                cbs("after_train", state)
                if valid is not None:
                    state.training = False
                    cbs("before_validate", state)
                    state.logs.update(self.evaluate(valid, prefix_loss="valid_loss"))
                    cbs("after_validate", state)
                state.logs["time"] = time.perf_counter() - start
                cbs("after_epoch", state)
                if state.stop_training:
                    break
        finally:
            cbs("after_fit", state)
        return state

    def _plan(self, n: int, state: FitState, cbs: CallbackList) -> tf.Tensor:
        """Call ``before_batch`` for the next ``n`` batches (``state.iter`` / ``state.step`` as
        each will be) and collect the hyper-parameters they set into a plan of
        ``max_chunk`` rows (rows past ``n`` are NaN and never used)."""
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
        rows += [[math.nan] * 3] * (self.max_chunk - n)
        return tf.constant(rows, tf.float32)

    def _distribute(self, ds: tf.data.Dataset):
        """``ds`` itself, or split across the strategy's replicas."""
        return self.strategy.experimental_distribute_dataset(ds) if self.distributed else ds

    def evaluate(self, ds: tf.data.Dataset, prefix_loss: str = "loss") -> dict[str, float]:
        """Mean loss (weighted by batch size) and metric results over ``ds``."""
        for m in self.metrics:
            m.reset_state()
        loss_sum, seen = 0.0, 0
        for x, y in self._distribute(ds):
            loss, bs = self.eval_step(x, y).numpy().tolist()
            loss_sum += loss * bs
            seen += int(bs)
        if seen == 0:
            raise ValueError("the evaluation dataset yielded no batches.")
        out = {prefix_loss: loss_sum / seen}
        for m in self.metrics:
            out[m.name] = float(m.result())
        return out

    def predict(self, ds: tf.data.Dataset) -> np.ndarray:
        """Concatenated model outputs over ``ds`` (elements ``x`` or ``(x, y)``)."""
        outs = []
        for elem in self._distribute(ds):
            x = elem[0] if isinstance(elem, tuple) else elem
            outs.append(self.predict_step(x).numpy())
        if not outs:
            raise ValueError("the dataset passed to predict yielded no batches.")
        return np.concatenate(outs)
