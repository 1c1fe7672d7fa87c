"""Test-time augmentation: predictions over augmented copies of a dataset, mixed with the plain
pass by fastai's rule.

``tta_mix(aug, plain, beta) = beta * plain + (1 - beta) * mean(aug)`` (fastai's
``torch.lerp(aug_mean, plain, beta)``); ``use_max`` takes the element-wise maximum of the plain
pass and the per-pass maximum instead. :func:`augmented` applies a seeded augmentation
(``aug(image, seed)``, e.g. ``aug_transforms()``) to every image of a batched dataset, keyed by
``(seed, pass, index)`` with the same stateless ops as training, so TTA repeats exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from ..core.checks import check_real
from ..data.augment import example_seed

__all__ = ["augmented", "tta_mix"]


def augmented(ds: tf.data.Dataset, augment: Callable, seed: int, k: int,
              batch_size: int) -> tf.data.Dataset:
    """``ds``'s batches (``x`` or ``(x, y)``) with ``augment`` applied to each image ``x[i]``
    under the stateless seed of ``(seed, -1 - k, i)`` (negative: never a training epoch's)."""
    labelled = isinstance(ds.element_spec, tuple)
    s, epoch = tf.constant(seed, tf.int64), tf.constant(-1 - k, tf.int64)

    def aug(i, elem):
        x = elem[0] if labelled else elem
        x = tf.ensure_shape(augment(x, example_seed(s, epoch, i)), x.shape)
        return (x, elem[1]) if labelled else x

    return (ds.unbatch().enumerate().map(aug, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size).prefetch(tf.data.AUTOTUNE))


def tta_mix(aug: np.ndarray, plain: np.ndarray, beta: float | None = 0.25,
            use_max: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Mix ``aug`` (``(n_passes, n, ...)`` predictions) with ``plain`` (``(n, ...)``).

    ``beta`` in [0, 1] is the plain pass's weight; None returns ``(mean(aug), plain)``."""
    aug, plain = np.asarray(aug), np.asarray(plain)
    if aug.ndim != plain.ndim + 1 or aug.shape[1:] != plain.shape:
        raise ValueError(f"aug must have shape (n_passes, *{plain.shape}), got {aug.shape}.")
    if use_max:
        return np.maximum(aug.max(axis=0), plain)
    mean = aug.mean(axis=0)
    if beta is None:
        return mean, plain
    beta = check_real("beta", beta, 0.0, 1.0, fix="the plain pass's weight, e.g. beta=0.25.")
    return (beta * plain + (1.0 - beta) * mean).astype(plain.dtype, copy=False)
