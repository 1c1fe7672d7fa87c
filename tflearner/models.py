"""Reference models."""

from __future__ import annotations

import keras
from keras import layers

__all__ = ["LeNet"]


def LeNet(num_classes: int = 10, input_shape: tuple[int, int, int] = (32, 32, 3)) -> keras.Model:
    """The seed's LeNet-5 as a functional model (62,006 parameters for 32×32×3 and 10 classes).

    conv1 6@5×5 (valid, relu, he_normal) → pool1 2×2 max → conv2 16@5×5 → pool2 2×2 →
    flatten → dense1 120 → dense2 84 (relu, he_normal) → dense3 ``num_classes`` softmax.
    Being functional, ``summary()`` shows every layer's output shape.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}.")
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or not all(isinstance(d, int) and d > 0 for d in input_shape):
        raise ValueError(
            f"input_shape must be (height, width, channels) of positive ints, got {input_shape!r}."
        )
    if input_shape[0] < 16 or input_shape[1] < 16:
        raise ValueError(
            f"input_shape={input_shape!r} is too small: LeNet needs at least 16×16 inputs "
            "(two 5×5 valid convolutions and two 2×2 poolings)."
        )
    kw = {"activation": "relu", "kernel_initializer": "he_normal"}
    inputs = keras.Input(shape=input_shape, name="input")
    x = layers.Conv2D(6, 5, padding="valid", name="conv1", **kw)(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 5, padding="valid", name="conv2", **kw)(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(120, name="dense1", **kw)(x)
    x = layers.Dense(84, name="dense2", **kw)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="dense3")(x)
    return keras.Model(inputs, outputs, name="lenet")
