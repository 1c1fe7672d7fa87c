"""The compiled steps of one model / optimizer / loss / metrics, for one set of trainable variables.

``train_steps(iterator, plan, n, carry, limits)`` runs up to ``n`` batches in a ``tf.while_loop``
(Keras' ``multi_step_on_iterator`` is the model): each takes the next batch with
``iterator.get_next_as_optional()`` (an epoch of unknown length ends there, without an
exception), applies row ``i`` of ``plan`` (NaN = keep) to the hyper-parameter variables, runs
forward and backward, and applies the gradients only if the loss and every gradient are finite.
It updates the loss average (:mod:`tflearner.core.running_loss`) and ends early when the stop
rule fires.

Inputs, all tensors (so values never retrace): ``plan`` float32 ``[max_chunk, len(plan_columns)]``
(:meth:`~tflearner.optim.group_hypers.GroupHypers.plan_columns`: one LR per layer group, then
mom and wd); ``n`` int32; ``carry`` = ``{"avg", "count", "best"}`` float64 (the loss average so
far); ``limits`` = ``{"beta", "div_limit", "terminate", "metrics"}`` float64
(``metrics`` > 0: update the training metrics, see below).
Outputs: ``{"rows": {column: [k]} for column in STEP_COLUMNS, "group_lrs": [k, n_groups],
"carry": {"avg", "count", "best"}, "code": int32}`` where ``k <= n`` batches ran (``lr`` is the
last group's) and ``code`` is the :mod:`~tflearner.core.running_loss` code that ended the call
(``CONTINUE``: ``n`` batches ran; ``END_OF_DATA``: the iterator ran out). The columns hold the
values each update actually used (``mom`` NaN without momentum; ``ok`` 0 for a batch that was
skipped on every replica).

With ``gather`` (arrays placed on a device, :mod:`tflearner.data.placement`) the iterator may
yield index batches instead: ``gather(indices)`` makes the batch inside the step.

Training metrics (``train_metrics``, objects of their own, never the validation ones): when
there are any and ``limits["metrics"] > 0``, each applied batch updates them with its labels and
the predictions of its training forward pass (``training=True``, before the update), as Keras'
``train_step`` does; a skipped (non-finite) batch does not count, as it does not in the loss.
Whether they run is a tensor, so lr_find (0) and fits (1) share one trace.

Each layer group has an optimizer of its own; the gradients of the currently trainable variables
are split by group and each optimizer applies its share. Under a ``tf.distribute`` strategy,
gradients come from one ``strategy.run`` and are applied in a
second, inside a ``tf.cond`` on the all-replica finiteness flag (a synchronisation point may not
sit inside control flow within a replica function).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import tensorflow as tf

from ..core import running_loss as rules
from ..core.internals import is_default_strategy
from ..core.tracing import instance_function
from ..optim.group_hypers import GroupHypers

__all__ = ["CompiledSteps", "StepConfig", "STEP_COLUMNS", "LABEL_CHECK", "WEIGHT_CHECK",
           "batch_errors", "group_index"]

#: The per-batch outputs of ``train_steps``, in this order (then one LR per group).
STEP_COLUMNS = ("loss", "lr", "mom", "wd", "batch_size", "smooth", "ok")


LABEL_CHECK = "tflearner: label out of range"
WEIGHT_CHECK = "tflearner: sample weight negative or not finite"


def _batch_size(x) -> tf.Tensor:
    """The batch size of (possibly nested) inputs, as float32."""
    return tf.cast(tf.shape(tf.nest.flatten(x)[0])[0], tf.float32)


@contextlib.contextmanager
def batch_errors(n_classes: int | None):
    """Turn the compiled steps' data assertions (a label out of range, a negative or
    non-finite sample weight) into a ``ValueError`` naming the value found and the fix (no
    TensorFlow graph trace)."""
    try:
        yield
    except tf.errors.InvalidArgumentError as exc:
        message = exc.message or ""
        weight = re.search(re.escape(WEIGHT_CHECK) + r"\D*?(-?(?:nan|inf|[\d.e+-]+))", message)
        if weight is not None:
            raise ValueError(
                f"the data has the sample weight {weight.group(1)}, but sample weights must be "
                "finite and >= 0 (a negative weight rewards the loss it weighs). Fix the "
                "weights in the dataset (e.g. np.clip(w, 0, None)), or drop them.") from None
        found = re.search(re.escape(LABEL_CHECK) + r"\D*?(-?\d+)\D+?(\d+)", message)
        if found is None:
            raise
        value, c = int(found.group(1)), int(found.group(2))
        raise ValueError(
            f"the data has the label {value}, but the model has {c} classes, so labels must be "
            f"class indices in [0, {c}) (0..{c - 1}). Check the labels (e.g. 1-based ids: "
            f"subtract 1), or build the model with more outputs.") from None


def group_index(tvars: list, group_variables: tuple) -> list[list[int]]:
    """Per layer group, the indices into ``tvars`` (the model's trainable variables now) of the
    group's variables. Refuses a trainable variable that no group's optimizer was built for
    (``group_variables``: what each optimizer was built for), naming it and the fix."""
    group_of = {id(v): g for g, vs in enumerate(group_variables) for v in vs}
    unknown = [v.path for v in tvars if id(v) not in group_of]
    if unknown:
        raise ValueError(
            f"{len(unknown)} variable(s) are trainable now but no layer group's optimizer was "
            f"built for them, e.g. {unknown[:3]}: they could not train when the Learner was "
            "built (a variable made non-trainable by itself, e.g. LoRA's frozen kernels, or one "
            "the splitter left out). Make them non-trainable again, or build a new Learner on "
            "the model as it is now (as Keras needs model.compile(...) again).")
    return [[i for i, v in enumerate(tvars) if group_of[id(v)] == g]
            for g in range(len(group_variables))]


@dataclass(frozen=True)
class StepConfig:
    """Everything the compiled steps are built from, fixed for one Learner (built once).

    ``optimizers[g]`` updates ``group_variables[g]`` (every trainable variable of the model is
    in exactly one group; the last optimizer scales the loss under float16). ``element_spec``
    is the training data's ``(x, y[, w])`` spec. ``train_metrics``: metric objects of their own
    (not ``metrics``) the train step updates on each applied batch. ``n_classes``: sparse labels
    are checked to lie in ``[0, n_classes)``. ``class_weight``: a variable of one loss weight
    per class (None: none). ``placed``: training arrays on a device
    (:class:`~tflearner.data.placement.PlacedArrays`; the step gathers the batches). ``strategy``
    None: TensorFlow's default one.
    """

    model: keras.Model
    optimizers: tuple
    group_variables: tuple
    loss_fn: Callable
    metrics: tuple
    hypers: GroupHypers
    element_spec: tuple
    jit_compile: bool = False
    strategy: tf.distribute.Strategy | None = None
    train_metrics: tuple = ()
    n_classes: int | None = None
    class_weight: tf.Variable | None = None
    placed: Any = None

    def replace(self, **changes: Any) -> StepConfig:
        """A copy with ``changes`` (e.g. a class-weight variable given after construction)."""
        return dataclasses.replace(self, **changes)


class CompiledSteps:
    """``train_steps``, ``eval_step`` and ``predict_step`` as ``tf.function`` s, each traced once.

    ``trace_counts`` (shared with the owner) counts traces, so tests can prove there is no
    retrace. ``trainable_key`` identifies the trainable set the steps were built for.
    ``x_spec`` / ``y_spec`` / ``w_spec``: the data's specs with a ``None`` batch dimension.
    """

    def __init__(self, config: StepConfig, x_spec: Any, y_spec: Any, w_spec: Any,
                 trace_counts: Counter) -> None:
        self.config = config
        self.model, self.opts, self.loss_fn = config.model, config.optimizers, config.loss_fn
        self.metrics, self.train_metrics = config.metrics, config.train_metrics
        self.gather = None if config.placed is None else config.placed.gather
        self.opt = self.opts[-1]  # scales the loss under float16 (one group only)
        self.hypers = config.hypers
        self.plan_targets = config.hypers.plan_targets()
        self.strategy = config.strategy or tf.distribute.get_strategy()
        self.distributed = not is_default_strategy(self.strategy)
        self.trace_counts = trace_counts
        self.n_classes, self.class_weight = config.n_classes, config.class_weight
        self.tvars = list(self.model.trainable_variables)
        self.trainable_key = tuple(id(v) for v in self.tvars)
        # indices into tvars of each group's currently trainable variables
        self.group_index = group_index(self.tvars, config.group_variables)
        self.replicas = self.strategy.num_replicas_in_sync
        # Keras losses with a mean reduction already divide by the replica count under a
        # strategy (keras.src.losses.loss.scale_loss_for_distribution); other losses and the
        # model's own losses (regularisers) are divided here.
        self.keras_scaled = isinstance(self.loss_fn, keras.losses.Loss) and getattr(
            self.loss_fn, "reduction", None) in ("sum_over_batch_size", "mean")
        self.loss_scaling = isinstance(self.opt, keras.optimizers.LossScaleOptimizer)
        self._compile(x_spec, y_spec, w_spec)

    def _compile(self, x_spec: Any, y_spec: Any, w_spec: Any) -> None:
        """The ``tf.function`` s. XLA (``jit_compile``) compiles the math only (forward and
        backward): the outer functions hold the iterator, the while loop and the cross-replica
        update, which XLA cannot compile."""
        self.grads_fn, self.forward_fn = self._replica_grads, self._forward
        if self.config.jit_compile:
            self.grads_fn = instance_function(self._replica_grads, jit_compile=True)
            self.forward_fn = instance_function(self._forward, jit_compile=True)
        self.train_steps = instance_function(self._train_steps)
        w_spec = tf.TensorSpec(None, w_spec.dtype if w_spec is not None else tf.float32)
        if self.distributed:
            self.eval_step = instance_function(self._eval_step)
            self.eval_step_weighted = instance_function(self._eval_step)
            self.predict_step = instance_function(self._predict_step)
        else:  # a None batch dimension: the last, partial batch does not retrace
            self.eval_step = instance_function(self._eval_step, input_signature=[x_spec, y_spec])
            # validation data with sample weights (traced only when such data is evaluated)
            self.eval_step_weighted = instance_function(
                self._eval_step, input_signature=[x_spec, y_spec, w_spec])
            self.predict_step = instance_function(self._predict_step, input_signature=[x_spec])

    def apply_plan_row(self, row: tf.Tensor) -> None:
        """Assign one plan row (:meth:`~tflearner.optim.group_hypers.GroupHypers.plan_columns`)
        to the hyper-parameter variables, keeping a variable where the row is NaN. Inside the
        train step before each batch; eagerly, before ``before_batch``, at one batch per call."""
        for col, var in self.plan_targets:
            value = tf.cast(row[col], var.dtype)
            var.assign(tf.where(tf.math.is_nan(value), tf.convert_to_tensor(var), value))

    # ---- per replica ------------------------------------------------------------------------
    def _checked_labels(self, y):
        """``y``, after an assertion that sparse labels lie in ``[0, n_classes)`` (its message
        carries the first bad value; :func:`batch_errors` turns it into a ``ValueError``)."""
        if self.n_classes is None:
            return y
        flat = tf.reshape(y, [-1])
        bad = tf.logical_or(flat < 0, flat >= self.n_classes)
        first = tf.gather(flat, tf.argmax(tf.cast(bad, tf.int32)))
        check = tf.debugging.Assert(tf.logical_not(tf.reduce_any(bad)),
                                    [LABEL_CHECK, first, self.n_classes])
        with tf.control_dependencies([check]):
            return tf.identity(y)


    @staticmethod
    def _checked_weights(w):
        """``w``, after an assertion that every sample weight is finite and >= 0 (its message
        carries the first bad value; :func:`batch_errors` turns it into a ``ValueError``)."""
        flat = tf.reshape(w, [-1])
        bad = tf.logical_or(tf.logical_not(tf.math.is_finite(flat)), flat < 0)
        first = tf.gather(flat, tf.argmax(tf.cast(bad, tf.int32)))
        check = tf.debugging.Assert(tf.logical_not(tf.reduce_any(bad)), [WEIGHT_CHECK, first])
        with tf.control_dependencies([check]):
            return tf.identity(w)

    def _class_weighted(self, y, w):
        """``w`` times the class weight of each label (``w`` None: the class weights alone)."""
        if self.class_weight is None:
            return w
        labels = (tf.argmax(y, axis=-1) if y.shape.rank == 2 and (y.shape[-1] or 0) > 1
                  else tf.reshape(y, [-1]))
        cw = tf.gather(self.class_weight, tf.cast(labels, tf.int32))
        return cw if w is None else tf.cast(w, cw.dtype) * cw

    def _loss(self, y, pred, w=None):
        """The replica's share of the global-batch mean loss (the mean itself on one); with
        sample weights ``w``, Keras' weighted mean ``sum(w * loss) / batch``."""
        pred = tf.nest.map_structure(
            lambda p: tf.cast(p, tf.float32) if p.dtype != tf.float64 else p, pred)
        loss = (self.loss_fn(y, pred) if w is None else
                self.loss_fn(y, pred, sample_weight=tf.cast(tf.reshape(w, [-1]), tf.float32)))
        if self.replicas > 1 and not self.keras_scaled:
            loss = loss / self.replicas
        if self.model.losses:
            loss = loss + tf.add_n(self.model.losses) / self.replicas
        return loss

    def _replica_grads(self, x, y, w=None):
        w = self._class_weighted(y, w)
        with tf.GradientTape() as tape:
            pred = self.model(x, training=True)
            loss = self._loss(y, pred, w)
            scaled = self.opt.scale_loss(loss) if self.loss_scaling else loss
        grads = tape.gradient(scaled, self.tvars)
        bad = tf.logical_not(tf.math.is_finite(loss))
        # With loss scaling, overflowing gradients are the LossScaleOptimizer's to handle.
        for g in [] if self.loss_scaling else grads:
            if g is not None:
                bad = tf.logical_or(bad, tf.logical_not(tf.reduce_all(tf.math.is_finite(g))))
        out = (tf.cast(loss, tf.float32), grads, tf.cast(bad, tf.float32),
               _batch_size(x))
        # the predictions leave the step only when training metrics need them
        return (*out, pred) if self.train_metrics else out

    def _replica_train_metrics(self, y, pred):
        for m in self.train_metrics:
            m.update_state(y, pred)

    def _replica_apply(self, grads):
        for opt, index in zip(self.opts, self.group_index, strict=True):
            if index:  # a frozen group's optimizer is not called (its state waits)
                opt.apply_gradients([(grads[i], self.tvars[i]) for i in index])

    def _forward(self, x):
        return self.model(x, training=False)

    def _total(self, per_replica):
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    # ---- one batch, then the chunk ----------------------------------------------------------
    def _one_batch(self, x, y, w, plan_row, carry, limits):
        """Train on one global batch; returns ``(row, carry, code)``."""
        self.apply_plan_row(plan_row)
        hp = self.hypers.read()  # [lr, mom, wd, lr_0..]: read before the update that uses them
        y = self.strategy.run(self._checked_labels, args=(y,))
        if w is not None:
            w = self.strategy.run(self._checked_weights, args=(w,))
        args = (x, y) if w is None else (x, y, w)
        loss, grads, bad, bs, *pred = self.strategy.run(self.grads_fn, args=args)
        # scalars, whatever shape a user's loss reports (a py_function's is unknown)
        loss, bad, bs = (tf.reshape(self._total(t), []) for t in (loss, bad, bs))
        ok = bad < 0.5

        def update_metrics():
            self.strategy.run(self._replica_train_metrics, args=(y, pred[0]))
            return tf.constant(True)

        def update():
            self.strategy.run(self._replica_apply, args=(grads,))
            if self.train_metrics:
                tf.cond(limits["metrics"] > 0, update_metrics, lambda: tf.constant(False))
            return tf.constant(True)

        tf.cond(ok, update, lambda: tf.constant(False))
        loss64 = tf.cast(loss, tf.float64)
        avg, count, smooth = rules.ema_update(carry["avg"], carry["count"], loss64, ok,
                                              limits["beta"], xp=tf)
        code = rules.stop_code(ok, smooth, carry["best"], limits["terminate"] > 0,
                               limits["div_limit"], xp=tf)
        best = rules.update_best(carry["best"], smooth, xp=tf)
        hp = [tf.cast(h, tf.float64) for h in hp]
        row = tf.stack([loss64, *hp[:3], tf.cast(bs, tf.float64), smooth,
                        tf.cast(ok, tf.float64), *hp[3:]])
        return row, {"avg": avg, "count": count, "best": best}, code

    def _train_steps(self, iterator, plan, n, carry, limits):
        self.trace_counts["train"] += 1
        ema = {k: carry[k] for k in ("avg", "count", "best")}
        spec = iterator.element_spec
        indices = self.gather is not None and isinstance(spec, tf.TensorSpec)  # placed arrays

        def body(i, ema, code, out):
            batch = iterator.get_next_as_optional()

            def run():
                elem = batch.get_value()  # (x, y) or (x, y, sample_weight), or indices
                if indices:
                    elem = self.gather(elem)
                x, y, w = elem[0], elem[1], elem[2] if len(elem) > 2 else None
                row, new_ema, new_code = self._one_batch(x, y, w, plan[i], ema, limits)
                return new_ema, new_code, out.write(i, row)

            def end():
                return ema, tf.constant(rules.END_OF_DATA), out

            ema, code, out = tf.cond(batch.has_value(), run, end)
            return i + 1, ema, code, out

        out = tf.TensorArray(tf.float64, size=0, dynamic_size=True,
                             element_shape=[len(STEP_COLUMNS) + len(self.opts)])
        init = [tf.constant(0), ema, tf.constant(rules.CONTINUE), out]
        _, ema, code, out = tf.while_loop(
            lambda i, _e, code, _o: tf.logical_and(i < n, tf.equal(code, rules.CONTINUE)),
            body, init)
        rows = out.stack()
        n = len(STEP_COLUMNS)
        return {"rows": {name: rows[:, k] for k, name in enumerate(STEP_COLUMNS)},
                "group_lrs": rows[:, n:], "carry": ema, "code": code}

    # ---- evaluation and prediction ----------------------------------------------------------
    def _replica_eval(self, x, y, w=None):
        pred = self.forward_fn(x)
        for m in self.metrics:  # unweighted, as Keras' compile(metrics=...); the loss is weighted
            m.update_state(y, pred)
        return tf.cast(self._loss(y, pred, w), tf.float32), _batch_size(x)

    def _eval_step(self, x, y, w=None):
        """``[loss, batch_size]`` of one global batch (loss: the global-batch mean)."""
        self.trace_counts["eval"] += 1
        y = self.strategy.run(self._checked_labels, args=(y,))
        if w is not None:
            w = self.strategy.run(self._checked_weights, args=(w,))
        args = (x, y) if w is None else (x, y, w)
        loss, bs = self.strategy.run(self._replica_eval, args=args)
        return tf.stack([self._total(loss), self._total(bs)])

    def _predict_step(self, x):
        self.trace_counts["predict"] += 1
        out = self.strategy.run(self.forward_fn, args=(x,))
        if not self.distributed:
            return out
        return tf.nest.map_structure(lambda o: self.strategy.gather(o, axis=0), out)
