"""One loss wrapper: a loss given by name or as a plain function, as a Keras ``Loss``."""

from __future__ import annotations

from collections.abc import Callable

import keras

__all__ = ["FunctionLoss", "named_loss"]


class FunctionLoss(keras.losses.Loss):
    """A per-example loss function ``fn(y_true, y_pred)`` as a Keras ``Loss`` reduced to the batch
    mean (Keras' default reduction), as ``model.compile`` wraps a loss given by name or function.
    ``name`` defaults to the function's."""

    def __init__(self, fn: Callable, name: str | None = None) -> None:
        super().__init__(name=name or getattr(fn, "__name__", "loss"))
        self.fn = fn

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)


def named_loss(name: str, where: str = "loss_fn") -> keras.losses.Loss:
    """A Keras loss by name, as ``model.compile(loss=name)`` takes it (``"mse"``,
    ``"sparse_categorical_crossentropy"``, ...), as a ``Loss`` that reduces to the batch mean;
    ``where`` names the argument in the error."""
    try:
        found = keras.losses.get(name)
    except ValueError:
        found = None
    if found is None:
        raise ValueError(f"{where}={name!r} is not a Keras loss name; pass one model.compile "
                         "accepts (e.g. 'mse', 'sparse_categorical_crossentropy'), a "
                         "keras.losses.Loss, or a function (y_true, y_pred) -> scalar.")
    return found if isinstance(found, keras.losses.Loss) else FunctionLoss(found, name=name)
