"""Schedule-free optimizers: which they are, and the averaged point ``x`` they evaluate at.

A schedule-free optimizer (Defazio et al. 2024; Keras' ``ScheduleFreeAdamW``) keeps three
sequences. Its gradient steps go to the base sequence ``z`` (an optimizer slot), the gradient is
taken at the training point ``y`` (what the model's variables hold) and the point to evaluate and
ship is the running average ``x``; with the interpolation ``y = (1 - beta_1) z + beta_1 x``,

    x = (y - (1 - beta_1) * z) / beta_1,

computed here with the optimizer's own operations in the variable's dtype (Keras' ``update_step``
recovers ``x_old`` the same way). An optimizer that has not stepped has ``x = y``.

Detection is by type (subclasses count), looked through a ``LossScaleOptimizer``
(:func:`~tflearner.optim.detect.is_schedule_free`).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from ..core.internals import schedule_free_base
from .detect import SCHEDULE_FREE_OPTIMIZERS, is_schedule_free, unwrap

__all__ = ["SCHEDULE_FREE_OPTIMIZERS", "is_schedule_free", "averaged_point", "base_sequence",
           "interpolation", "warmup_left", "sweep_warmup_problem"]


def interpolation(optimizer: keras.optimizers.Optimizer) -> float:
    """``beta_1``: the weight of ``x`` in ``y`` (a float, or a variable's value)."""
    return float(keras.ops.convert_to_numpy(unwrap(optimizer).beta_1))


def base_sequence(optimizer: keras.optimizers.Optimizer, variable: Any) -> Any:
    """The slot holding ``z`` for ``variable`` (the optimizer must be built on it)."""
    return schedule_free_base(unwrap(optimizer), variable)


def averaged_point(y: Any, z: Any, beta_1: Any) -> tf.Tensor:
    """``x = (y - (1 - beta_1) * z) / beta_1`` in ``y``'s dtype, as the optimizer computes it."""
    y = tf.convert_to_tensor(y)
    beta = tf.cast(beta_1, y.dtype)
    return tf.math.divide(tf.math.subtract(y, tf.math.multiply(1 - beta, tf.cast(z, y.dtype))),
                          beta)


def warmup_left(optimizer: keras.optimizers.Optimizer) -> int:
    """How many of the next updates the optimizer's own ``warmup_steps`` still scales down
    (``lr * (iterations + 1) / warmup_steps``); 0 without a warm-up."""
    opt = unwrap(optimizer)
    steps = int(getattr(opt, "warmup_steps", 0) or 0)
    return max(0, steps - int(opt.iterations.numpy()))


def sweep_warmup_problem(optimizer: keras.optimizers.Optimizer, num_it: int) -> str | None:
    """What an LR sweep of ``num_it`` updates should be told when the optimizer's own warm-up
    will scale its first learning rates down (the sweep would record LRs it never applied);
    None when it will not."""
    left = warmup_left(optimizer) if is_schedule_free(optimizer) else 0
    if not left:
        return None
    name, steps = type(unwrap(optimizer)).__name__, unwrap(optimizer).warmup_steps
    return (f"lr_find: {name}(warmup_steps={steps}) multiplies the learning rate of its next "
            f"{left} update(s) by (step / {steps}), so the first {min(left, num_it)} of this "
            f"sweep's {num_it} steps apply less than the LR they record: the start of the "
            "curve moves to higher LRs and the suggestion can be too high. Sweep on a Learner "
            "whose optimizer has warmup_steps=0 (the fit can keep its warm-up).")
