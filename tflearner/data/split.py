"""What every DataBundle constructor (arrays, folders, CSV files) shares: the seeded train/valid
split, the restorable training order and how a pipeline is finished (:func:`finish`).

Two things TensorFlow would otherwise log about our pipelines, and their causes:

* the epoch counter is a variable that the training pipeline increments, a stateful op. Under
  op determinism (``set_seed``) tf.data then rewrites every parallel map of that pipeline into
  a serial one and turns its prefetch off, and the rewrite logs an ``E0000 ... NodeDef mentions
  attribute use_unbounded_threadpool`` line. :func:`map_parallelism` builds those maps serial
  in the first place when determinism is on (what TensorFlow would run anyway), so there is
  nothing to rewrite;
* under a ``tf.distribute`` strategy, the default ``AutoShardPolicy.AUTO`` looks for files to
  shard, finds none (the pipelines read files by index inside a map) and falls back to sharding
  by element, with a ``W0000 ... auto-shard`` line per dataset and epoch. :func:`finish` sets
  ``AutoShardPolicy.DATA``, the policy AUTO falls back to, so nothing changes but the lines.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..core.checks import check_real
from ..core.internals import op_determinism_enabled

__all__ = ["split_indices", "epoch_order", "finish", "integers_as", "map_parallelism"]


def map_parallelism(stateful: bool) -> int | None:
    """``num_parallel_calls`` for a map of a pipeline: ``AUTOTUNE``, or None (serial) for a
    ``stateful`` pipeline (one with the epoch counter) under op determinism, where tf.data
    would make it serial anyway (see the module docstring)."""
    return None if stateful and op_determinism_enabled() else tf.data.AUTOTUNE


_OPTIONS = tf.data.Options()
_OPTIONS.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA


def finish(ds: tf.data.Dataset) -> tf.data.Dataset:
    """``ds`` prefetched, with the distribute options of every DataBundle pipeline (shard by
    element under a multi-worker strategy, as AUTO does for them, without its log lines)."""
    return ds.with_options(_OPTIONS).prefetch(tf.data.AUTOTUNE)


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


def integers_as(x: np.ndarray, raw: np.dtype, name: str) -> np.ndarray:
    """Integer ``x`` as dtype ``raw``, refused when a value lies outside ``raw``'s range (e.g.
    uint16 pixels for uint8 data: scaling them by 1/255 would be silently wrong)."""
    info = np.iinfo(raw)
    if x.size and (int(x.min()) < info.min or int(x.max()) > info.max):
        hint = " (16-bit pixels: (x // 257).astype('uint8'))" if raw == np.uint8 else ""
        raise ValueError(f"{name} must hold values in [{info.min}, {info.max}], got dtype "
                         f"{x.dtype.name} with values in [{int(x.min())}, {int(x.max())}]; "
                         f"convert them to {raw.name} first{hint}.")
    return x.astype(raw, copy=False)
