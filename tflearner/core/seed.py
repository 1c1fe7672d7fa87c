"""Reproducibility: one call seeds every random source the training loop uses (fastai's name)."""

from __future__ import annotations

import keras
import tensorflow as tf

__all__ = ["set_seed"]


def set_seed(seed: int, reproducible: bool = True) -> None:
    """Seed Python's ``random``, numpy, TensorFlow and Keras (``keras.utils.set_random_seed``);
    with ``reproducible`` also turn on TensorFlow's op determinism, so the same model, data and
    calls give bit-identical lr_find curves and fits from run to run on CPU.

    Call it before building the model and the data (weights, the validation split and the
    dropout seeds are drawn then). Op determinism is process-wide and can slow some GPU ops.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an int in [0, 2**32), got {seed!r}.")
    keras.utils.set_random_seed(seed)
    if reproducible:
        tf.config.experimental.enable_op_determinism()
