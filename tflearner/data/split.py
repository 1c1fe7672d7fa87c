"""What every DataBundle constructor (arrays, folders, CSV files) shares: the seeded train/valid
split and the restorable training order."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..core.checks import check_real

__all__ = ["split_indices", "epoch_order"]


def split_indices(n: int, valid_pct: float, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of ``range(n)`` into sorted ``(train_idx, valid_idx)``.

    ``n_valid = round(n * valid_pct)``; the split depends only on ``(n, valid_pct, seed)``.
    """
    valid_pct = check_real("valid_pct", valid_pct, 0.0, 1.0, high_open=True,
                           requirement="a finite number in [0, 1)",
                           fix="the fraction held out for validation, e.g. 0.1 (0: none).")
    n_valid = int(round(n * valid_pct))
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_valid:]), np.sort(perm[:n_valid])


def epoch_order(n: int, shuffle_seed: int, epoch_counter: tf.Variable,
                with_epoch: bool = False) -> tf.data.Dataset:
    """The indices of one training epoch: ``stateless_shuffle(range(n), (shuffle_seed, e))``
    where ``e`` is ``epoch_counter`` after it is incremented as the epoch's iteration starts.

    The order is a pure function of one variable, which snapshots (``lr_find``) and
    checkpoints save and restore. ``with_epoch``: elements ``(index, e)``, for randomness that
    must differ per epoch and repeat when the counter is restored (augmentation).
    """
    seed = tf.constant(shuffle_seed, tf.int64)

    def one_epoch(_):
        epoch = epoch_counter.assign_add(1)
        perm = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64),
                                                        seed=tf.stack([seed, epoch]))
        return tf.data.Dataset.from_tensor_slices((perm, tf.fill([n], epoch)) if with_epoch
                                                  else perm)

    return tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).flat_map(one_epoch)
