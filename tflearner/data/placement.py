"""Arrays placed on a device once: the training batches are gathered inside the compiled step.

``DataBundle.from_arrays`` builds its training pipeline as ``indices -> batch -> gather + scale
-> prefetch`` on the host: every batch is gathered from the host arrays by tf.data (which runs
on the CPU) and, on an accelerator, copied to it by the step. With ``device=`` naming a device
(``"/GPU:0"``), the arrays are also converted to tensors on that device once, and the Learner's
compiled training step receives only the batch's *indices* from tf.data and gathers (and scales)
the batch there itself: no per-batch host gather and no per-batch copy of the images, only of
the indices. The index stream is the host pipeline's own (the same ``epoch_order`` over the same
epoch counter), and the gather and scaling are the same ops, so the batches are identical
(``tests/test_data.py`` checks it on the CPU with ``device="/CPU:0"``).

``data.train`` stays the host pipeline, so everything else that reads batches (``show_batch``,
``model.fit`` users, validation, prediction) is unchanged; only the Learner's training loop
(``fit``, ``fit_one_cycle``, ``lr_find``...) uses the placed arrays. Validation batches are not
placed (they are read once per epoch).

``device``: ``"host"`` (as before), ``"auto"`` (the first GPU when TensorFlow sees one and the
arrays take at most :data:`AUTO_DEVICE_BYTES`; otherwise the host, so on a CPU-only machine
``"auto"`` is exactly the host pipeline) or a device name TensorFlow lists
(``tf.config.list_logical_devices()``), e.g. ``"/GPU:0"``, or ``"/CPU:0"`` (the in-step gather
on the CPU). Under a ``tf.distribute`` strategy the Learner uses the host pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from ..core.checks import fail

__all__ = ["PlacedArrays", "resolve_device", "DEVICE_CHOICES", "AUTO_DEVICE_BYTES"]

#: The named choices of ``from_arrays(device=...)`` (any listed device name is valid too).
DEVICE_CHOICES = ("auto", "host")
#: ``device="auto"`` places the training arrays on the first GPU up to this size (4 GiB).
AUTO_DEVICE_BYTES = 4 << 30


def _canonical(name: str) -> str | None:
    """``name`` as ``/device:<TYPE>:<i>`` (None if it is not a device name)."""
    try:
        spec = tf.DeviceSpec.from_string(name)
    except ValueError:
        return None
    if spec.device_type is None:
        return None
    return f"/device:{spec.device_type.upper()}:{spec.device_index or 0}"


def resolve_device(device: Any, nbytes: int) -> str | None:
    """The device to place ``nbytes`` of training arrays on, or None for the host pipeline."""
    listed = {_canonical(d.name): d.name for d in tf.config.list_logical_devices()}
    requirement = ("'auto', 'host' or a device name TensorFlow lists ("
                   + ", ".join(repr(v) for v in listed.values()) + ")")
    fix = "e.g. device='/GPU:0', or 'host' for the tf.data gather on the host."
    if not isinstance(device, str):
        raise fail("device", requirement, device, fix, error=TypeError, with_type=True)
    if device == "host":
        return None
    if device == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        return gpus[0].name if gpus and nbytes <= AUTO_DEVICE_BYTES else None
    name = _canonical(device)
    if name not in listed:
        raise fail("device", requirement, device, fix)
    return listed[name]


@dataclass
class PlacedArrays:
    """Training arrays as tensors on ``device`` and the index batches that pick from them.

    ``indices`` yields one int64 vector per batch, in the host pipeline's order (same epoch
    counter); ``gather(i)`` is the batch ``(x, y)`` / ``(x, y, w)`` of those indices, made by the
    same ops as the host pipeline's map function, from the tensors on ``device``.
    """

    device: str
    indices: tf.data.Dataset
    host_train: tf.data.Dataset
    gather: Callable[[tf.Tensor], Any]
    nbytes: int
