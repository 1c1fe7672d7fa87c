"""``get_optimizer``: an optimizer instance, class or name -> an unbuilt Keras optimizer."""

from __future__ import annotations

from typing import Any

import keras

from .detect import learning_rate_problem
from .sgd import SGD

__all__ = ["get_optimizer"]


def get_optimizer(opt: Any, lr: float = 1e-3) -> keras.optimizers.Optimizer:
    """Turn ``opt`` (instance, class, name or None) into an unbuilt Keras optimizer.

    ``None`` is plain SGD (:class:`tflearner.SGD`, no momentum). A ``keras.optimizers.SGD``
    (instance, class or ``"sgd"``) becomes :class:`tflearner.SGD` with the same configuration so
    its momentum can be scheduled.
    """
    if opt is None:
        return SGD(learning_rate=lr)
    if isinstance(opt, str):
        if opt.lower() == "sgd":
            return SGD(learning_rate=lr)
        try:
            opt = keras.optimizers.get({"class_name": opt, "config": {"learning_rate": lr}})
        except ValueError:
            raise ValueError(
                f"opt={opt!r} is not a Keras optimizer name; use e.g. 'sgd', 'adam', 'adamw', "
                "or pass a keras.optimizers.Optimizer instance."
            ) from None
    elif isinstance(opt, type):
        if not issubclass(opt, keras.optimizers.Optimizer):
            raise TypeError(
                f"opt={opt!r} is a class but not a keras.optimizers.Optimizer subclass; pass e.g. "
                "keras.optimizers.Adam or an instance of it."
            )
        opt = opt(learning_rate=lr)
    if not isinstance(opt, keras.optimizers.Optimizer):
        raise TypeError(
            f"opt must be a keras.optimizers.Optimizer instance, class or name, got "
            f"{type(opt).__name__}: {opt!r}; pass e.g. opt='adam', "
            "opt=keras.optimizers.AdamW or opt=keras.optimizers.SGD(momentum=0.9)."
        )
    source = learning_rate_problem(opt)
    if source is not None:
        raise ValueError(
            f"opt={type(opt).__name__} takes its learning rate from {source}: the Learner owns "
            "the learning rate and sets it every batch. Build the optimizer with a float "
            "learning_rate and use Learner.fit(lr=...) or a schedule such as fit_one_cycle "
            "instead."
        )
    if opt.built:
        raise ValueError(
            f"opt={type(opt).__name__} is already built (it holds state for other variables); "
            "pass a fresh optimizer instance, its class, or its name."
        )
    if type(opt) is keras.optimizers.SGD:
        opt = SGD.from_config(opt.get_config())
    return opt
