"""Test-time augmentation: predictions over augmented copies of a dataset, mixed with the plain
pass by fastai's rule.

``tta_mix(aug, plain, beta) = beta * plain + (1 - beta) * mean(aug)`` (fastai's
``torch.lerp(aug_mean, plain, beta)``); ``use_max`` takes the element-wise maximum of the plain
pass and the per-pass maximum instead. :func:`augmented` applies an augmentation (anything
:func:`~tflearner.data.augment.as_augment` accepts: ``aug_transforms()``, a Keras layer, a
seeded ``aug(image, seed)``) to a batched dataset, keyed by ``(seed, pass, index)`` (per image)
or ``(seed, pass, batch)`` (a Keras layer, per batch) with the same stateless seeds as training,
so TTA repeats exactly. :func:`tta_passes` makes the plain pass and the augmented ones, and
refuses a dataset that reshuffles between passes (its items would be mixed with other items'
predictions and scored against other targets).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from ..core.checks import check_real
from ..data.augment import as_augment, example_seed
from .outputs import check_same_order

__all__ = ["augmented", "tta_mix", "tta_passes"]


def augmented(ds: tf.data.Dataset, augment: Any, seed: int, k: int,
              batch_size: int) -> tf.data.Dataset:
    """``ds``'s batches (``x`` or ``(x, y)``) with ``augment`` applied to each image ``x[i]``
    under the stateless seed of ``(seed, -1 - k, i)`` (negative: never a training epoch's), or,
    for a Keras layer, to each batch ``j`` under that of ``(seed, -1 - k, j)``."""
    augment = as_augment(augment)
    labelled = isinstance(ds.element_spec, tuple)
    s, epoch = tf.constant(seed, tf.int64), tf.constant(-1 - k, tf.int64)

    def aug(i, elem):
        x = elem[0] if labelled else elem
        x = tf.ensure_shape(augment(x, example_seed(s, epoch, i)), x.shape)
        return (x, elem[1]) if labelled else x

    if augment.per_batch:  # serial: the layer's generators are set before each batch
        return ds.enumerate().map(aug).prefetch(tf.data.AUTOTUNE)
    return (ds.unbatch().enumerate().map(aug, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size).prefetch(tf.data.AUTOTUNE))


def tta_passes(get_preds: Callable[[tf.data.Dataset], tuple], ds: tf.data.Dataset, augment: Any,
               seed: int, n: int, batch_size: int) -> tuple[np.ndarray, np.ndarray, Any]:
    """``(aug, plain, targets)``: ``get_preds``' probabilities over ``n`` augmented passes
    (``(n, items, ...)``) and the plain pass, and the plain pass's targets. ``augment`` is
    checked before any pass; a dataset whose labels come back in another order on a later pass
    is refused."""
    augment = as_augment(augment)
    plain, targets = get_preds(ds)
    aug = []
    for k in range(n):
        probs, again = get_preds(augmented(ds, augment, seed, k, batch_size))
        if targets is not None:
            check_same_order(targets, again, "tta")
        aug.append(probs)
    return np.stack(aug), plain, targets


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
