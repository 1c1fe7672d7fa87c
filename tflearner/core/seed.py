"""Reproducibility: one call seeds every random source the training loop uses (fastai's name)."""

from __future__ import annotations

import keras
import tensorflow as tf

from .checks import check_bool, check_int

__all__ = ["set_seed"]


def set_seed(seed: int, reproducible: bool = True) -> None:
    """Seed Python's ``random``, numpy, TensorFlow and Keras (``keras.utils.set_random_seed``);
    with ``reproducible`` also turn on TensorFlow's op determinism, so the same model, data and
    calls give bit-identical lr_find curves and fits from run to run on CPU.

    Call it before building the model and the data (weights, the validation split and the
    dropout seeds are drawn then). Op determinism is process-wide and can slow some GPU ops.
    """
    seed = check_int("seed", seed, 0, 2**32 - 1, fix="e.g. set_seed(42).")
    reproducible = check_bool("reproducible", reproducible)
    keras.utils.set_random_seed(seed)
    if reproducible:
        tf.config.experimental.enable_op_determinism()
