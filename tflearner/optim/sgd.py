"""``tflearner.SGD``: Keras' SGD with a momentum that may change between compiled steps.

Keras 3's SGD reads ``momentum`` as a Python float when its update is traced, so changing it later
silently does nothing. This subclass reads ``self.momentum`` on every step, so a variable put there
after ``build`` (see :class:`~tflearner.optim.hypers.Hypers`) is honoured without a retrace.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from ..core.internals import optimizer_variable_index

__all__ = ["SGD"]


class SGD(keras.optimizers.SGD):
    """``keras.optimizers.SGD`` whose momentum may be a variable changed between steps.

    Same update as Keras: ``v = mom * v - lr * g; w = w + v`` (Nesterov:
    ``w = w + mom * v - lr * g``). Momentum slots exist iff ``momentum > 0`` at build time, as
    in Keras; the value itself is read from ``self.momentum`` on every step, so a
    ``tf.Variable`` put there after ``build`` changes it without a retrace.
    """

    def build(self, variables: list) -> None:
        if self.built:
            return
        self._uses_momentum = float(self.momentum) != 0.0
        super().build(variables)

    @property
    def uses_momentum(self) -> bool:
        """Whether this (built) optimizer has momentum slots, i.e. had momentum > 0 at build."""
        if not self.built:
            raise ValueError(f"{type(self).__name__}.uses_momentum is fixed by build(); call "
                             "optimizer.build(variables) first.")
        return self._uses_momentum

    def update_step(self, gradient, variable, learning_rate) -> None:
        if not self._uses_momentum:
            self.assign_sub(variable, tf.cast(gradient, variable.dtype) * tf.cast(
                learning_rate, variable.dtype))
            return
        lr = tf.cast(learning_rate, variable.dtype)
        g = tf.cast(gradient, variable.dtype)
        mom = tf.cast(self.momentum, variable.dtype)
        m = self.momentums[optimizer_variable_index(self, variable)]
        self.assign(m, m * mom - g * lr)
        if self.nesterov:
            self.assign_add(variable, m * mom - g * lr)
        else:
            self.assign_add(variable, m)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["momentum"] = float(self.momentum)
        if config.get("weight_decay") is not None:
            config["weight_decay"] = float(config["weight_decay"])
        return config
