"""What the distribution check scripts share: the model, the data and the initial weights.

Import it only after TensorFlow is configured (logical devices, TF_CONFIG): it imports Keras.
"""

from __future__ import annotations

import keras
import numpy as np


def model() -> keras.Model:
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])


def blobs(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    return (rng.normal(size=(n, 8)) + y[:, None]).astype("float32"), y


def initial_weights(seed: int = 0) -> list[np.ndarray]:
    keras.utils.set_random_seed(seed)
    return model().get_weights()


def model_under(strategy, init: list[np.ndarray]) -> keras.Model:
    """``model()`` with weights ``init``, built in ``strategy``'s scope (or none)."""
    if strategy is None:
        m = model()
    else:
        with strategy.scope():
            m = model()
    m.set_weights(init)
    return m
