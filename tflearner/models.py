"""Reference models."""

from __future__ import annotations

import numbers

import keras
from keras import layers

from .core.checks import check_int, fail

__all__ = ["LeNet"]


def LeNet(num_classes: int = 10, input_shape: tuple[int, int, int] = (32, 32, 3)) -> keras.Model:
    """The seed's LeNet-5 as a functional model (62,006 parameters for 32×32×3 and 10 classes).

    conv1 6@5×5 (valid, relu, he_normal) → pool1 2×2 max → conv2 16@5×5 → pool2 2×2 →
    flatten → dense1 120 → dense2 84 (relu, he_normal) → dense3 ``num_classes`` softmax.
    Being functional, ``summary()`` shows every layer's output shape.

    Args:
        num_classes: width of the softmax output, an int >= 2.
        input_shape: ``(height, width, channels)`` of positive ints, height and width >= 16
            (two 5×5 valid convolutions and two 2×2 poolings).

    Returns:
        An uncompiled functional ``keras.Model`` named ``"lenet"``.
    """
    num_classes = check_int("num_classes", num_classes, 2, fix="e.g. num_classes=10.")
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0
            for d in input_shape):
        raise fail("input_shape", "(height, width, channels) of positive ints", input_shape,
                   "e.g. input_shape=(32, 32, 3).")
    if input_shape[0] < 16 or input_shape[1] < 16:
        raise fail("input_shape", "at least 16×16 for LeNet (two 5×5 valid convolutions and "
                   "two 2×2 poolings)", input_shape, "resize the images, or use another model.")
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
