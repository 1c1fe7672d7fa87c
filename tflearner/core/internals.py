"""Every private Keras / TensorFlow attribute tflearner relies on, one small function each.

Nothing else in tflearner reads a ``_``-prefixed attribute of a Keras or TensorFlow object; what
has a public equivalent uses it (``optimizer.learning_rate``, ``model.metrics``,
``strategy.extended.variable_created_in_scope``, ``LossScaleOptimizer.inner_optimizer``).
``tests/test_internals.py`` checks each function below on the installed versions, so a Keras or
TensorFlow upgrade that moves one of these breaks a test, not a user.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from tensorflow.python.distribute import distribute_lib as _distribute_lib
from tensorflow.python.framework import config as _tf_config

__all__ = ["is_default_strategy", "metric_direction", "optimizer_variable_index",
           "raw_iterations", "compile_loss", "compile_metrics", "op_determinism_enabled",
           "variable_strategy", "schedule_free_base", "multi_optimizer_choice",
           "take_initial_epoch"]


def variable_strategy(variable: Any) -> tf.distribute.Strategy | None:
    """The ``tf.distribute`` strategy whose scope ``variable`` was created in (None: none).

    Reads ``tf.Variable._distribute_strategy`` (of the backing variable of a ``keras.Variable``),
    which TensorFlow sets for every variable made under a strategy's scope (plain variables of
    ``OneDeviceStrategy`` included). The public ``strategy.extended.variable_created_in_scope(v)``
    answers only "this strategy?", not "which one?".
    """
    raw = variable.value if isinstance(variable, keras.Variable) else variable
    return getattr(raw, "_distribute_strategy", None)


def is_default_strategy(strategy: tf.distribute.Strategy) -> bool:
    """True for TensorFlow's default (no-op) strategy, the one ``tf.distribute.get_strategy()``
    returns outside every ``strategy.scope()``.

    ``isinstance`` on TensorFlow's private ``distribute_lib._DefaultDistributionStrategy``; the
    public ``tf.distribute.has_strategy()`` only describes the current scope.
    """
    return isinstance(strategy, _distribute_lib._DefaultDistributionStrategy)


def optimizer_variable_index(optimizer: keras.optimizers.Optimizer, variable: Any) -> int:
    """The index of the trainable ``variable`` in the optimizer's per-variable slot lists
    (e.g. ``optimizer.momentums``), for a custom ``update_step``.

    Keras' own optimizers call the protected ``BaseOptimizer._get_variable_index`` for this;
    there is no public equivalent.
    """
    return optimizer._get_variable_index(variable)


def schedule_free_base(optimizer: keras.optimizers.Optimizer, variable: Any) -> Any:
    """The base sequence ``z`` a schedule-free optimizer keeps for ``variable`` (the slot its
    gradient steps go to; Keras' ``ScheduleFreeAdamW`` calls it ``momentum``).

    Reads ``ScheduleFreeAdamW._momentums`` at :func:`optimizer_variable_index`; Keras keeps the
    list private and names no slot for the averaged point."""
    return optimizer._momentums[optimizer_variable_index(optimizer, variable)]


def multi_optimizer_choice(multi: keras.optimizers.Optimizer, variable: Any) -> Any:
    """The optimizer a ``keras.optimizers.MultiOptimizer`` gives ``variable``: its
    ``OptimizerMap`` (an exact path, else the one regular expression that matches it in full,
    else the default) or its selector function, called as ``MultiOptimizer.build`` calls it.

    Reads ``MultiOptimizer._optimizer_map``; Keras has no public accessor for the mapping."""
    return multi._optimizer_map(variable)


def metric_direction(metric: Any) -> str | None:
    """``"up"`` for a metric that is better when higher (accuracy, AUC, ...), ``"down"`` when
    lower, None when the metric does not say.

    Reads ``Metric._direction``, which Keras' own ``MonitorCallback._set_monitor_op`` reads to
    infer ``mode="auto"``; Keras has no public equivalent.
    """
    direction = getattr(metric, "_direction", None)
    return direction if direction in ("up", "down") else None


def raw_iterations(optimizer: keras.optimizers.Optimizer) -> int:
    """How many times ``optimizer.apply_gradients`` ran: with ``gradient_accumulation_steps=k``
    the micro-batch counter, whose phase ``% k`` says when the next update is applied.

    Reads ``BaseOptimizer._iterations``; the public ``iterations`` is ``_iterations // k``
    under accumulation, which loses the phase. ``LossScaleOptimizer``: its inner optimizer's.
    """
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    return int(inner._iterations.numpy())


def compile_loss(loss: Any, loss_weights: Any, output_names: list[str] | None) -> Any:
    """Keras' own multi-output loss, what ``model.compile(loss=[...] / {...}, loss_weights=...)``
    builds: per-output losses matched to the outputs by position or name, weighted and summed
    (``keras.src.trainers.compile_utils.CompileLoss``; Keras has no public equivalent)."""
    from keras.src.trainers.compile_utils import CompileLoss

    return CompileLoss(loss, loss_weights=loss_weights, output_names=output_names)


def compile_metrics(metrics: Any, output_names: list[str] | None) -> Any:
    """Keras' own per-output metrics container (``compile(metrics=...)`` for several outputs):
    a ``keras.metrics.Metric`` whose ``result()`` is a dict named as ``model.fit`` logs them
    (``<output>_<metric>``) (``keras.src.trainers.compile_utils.CompileMetrics``)."""
    from keras.src.trainers.compile_utils import CompileMetrics

    return CompileMetrics(metrics, None, output_names=output_names)


def op_determinism_enabled() -> bool:
    """Whether TensorFlow's op determinism is on (``tf.config.experimental.
    enable_op_determinism``, which ``set_seed`` turns on). TensorFlow has a public setter but no
    public getter: this reads ``tensorflow.python.framework.config.is_op_determinism_enabled``."""
    return bool(_tf_config.is_op_determinism_enabled())


def take_initial_epoch(model: Any) -> int | None:
    """The epoch a Keras callback told ``model.fit`` to start at (None: none), cleared once read.

    Keras' ``BackupAndRestore.on_train_begin`` writes the epoch of its backup to the private
    ``model._initial_epoch``, and ``model.fit`` starts at ``self._initial_epoch or
    initial_epoch``; there is no public equivalent. Keras never clears it (a later ``model.fit``
    of the same model starts there again); read here once, it is set back to None.
    """
    epoch = getattr(model, "_initial_epoch", None)
    if epoch is not None:
        model._initial_epoch = None
    return epoch
