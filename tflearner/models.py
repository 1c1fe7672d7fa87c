"""Reference models."""

from __future__ import annotations

import numbers

import keras
import numpy as np
from keras import layers

from .batchnorm import batchnorm_layers
from .core.checks import check_int, fail

__all__ = ["LeNet", "BatchNormMomentumWarning", "unconverged_batchnorm", "BN_HINT_MOMENTUM",
           "BN_HINT_STEPS"]


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


# ---- the short-fit BatchNormalization hint ---------------------------------------------------
#: BatchNormalization momentum at or above which a short fit gets the hint (Keras' default is
#: 0.99; ``keras.applications`` use 0.999).
BN_HINT_MOMENTUM = 0.99

#: Fits of fewer batches than this get the hint. ``benchmarks/bn_momentum.py`` (a BN CNN on
#: scikit-learn's digits, Adam, one-cycle, 3 seeds; ``docs/lr_finder.md`` has the table): with
#: momentum 0.99 the mean validation accuracy was 14 % after 90 batches, 31 % after 315 and 97 %
#: after 495 (94 % at worst), against 96 %, 99 % and 99 % with momentum 0.9; from 720 batches
#: on the two were within half a point.
BN_HINT_STEPS = 700


class BatchNormMomentumWarning(UserWarning):
    """A short fit of a model whose BatchNormalization layers evaluate with moving statistics
    that have not converged (given once per Learner; see :func:`unconverged_batchnorm`)."""


def unconverged_batchnorm(model: keras.Model, n_batches: int) -> str | None:
    """The hint for a fit of ``n_batches`` training batches, or None.

    A BatchNormalization layer evaluates with moving statistics updated once per training
    batch, ``moving = momentum * moving + (1 - momentum) * batch``: with ``momentum=0.99`` they
    average over the last ~100 batches, during which the weights (and so the statistics) are
    still moving fast, and the initial mean 0 / variance 1 still weigh ``0.99 ** n``. A message
    when ``n_batches < BN_HINT_STEPS`` and some trainable BatchNormalization layer has
    ``momentum >= BN_HINT_MOMENTUM`` and statistics still at their initial values (never
    trained: pretrained layers, a checkpoint's, or a second fit's, get none). Reads the
    model; changes nothing.
    """
    if n_batches >= BN_HINT_STEPS:
        return None
    slow = [la for la in batchnorm_layers(model) if la.trainable and la.momentum >= BN_HINT_MOMENTUM
            and not np.any(keras.ops.convert_to_numpy(la.moving_mean))
            and np.all(keras.ops.convert_to_numpy(la.moving_variance) == 1)]
    if not slow:
        return None
    names = ", ".join(repr(la.name) for la in slow[:3]) + (" ..." if len(slow) > 3 else "")
    return (f"this fit trains {n_batches} batches, and {len(slow)} BatchNormalization layer(s) "
            f"({names}) with momentum {slow[0].momentum} start from their initial moving "
            f"statistics: evaluation (validate, get_preds, predict) will use moving statistics "
            f"that have not converged, and can be far worse than training; build them with "
            f"BatchNormalization(momentum=0.9), or fit for {BN_HINT_STEPS} batches or more.")
