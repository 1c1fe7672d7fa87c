"""In-memory snapshots of training state, restored bit for bit.

:class:`Snapshot` keeps a copy of every state variable and copies in both directions with one
compiled function each (``benchmarks/bench_lr_find.py`` measures it). Where the copy lives is
``where``:

* ``"device"``: one shadow ``tf.Variable`` per variable, beside it (same device, mirrored under
  a strategy). The fastest (ResNet50 + Adam: ~10 ms each way), but on an accelerator it doubles
  the memory the training state takes there.
* ``"host"``: host-memory (CPU) tensors, copied out by one compiled call and back by another;
  nothing extra stays on the accelerator. Slower (a device-to-host copy and back).
* ``"auto"`` (:func:`resolve_where`): ``"host"`` when the variables live on an accelerator and
  take more than :data:`AUTO_HOST_BYTES`, else ``"device"``. On a CPU-only machine host and
  device are one memory, so a host copy would save nothing: ``"auto"`` is ``"device"`` there.

:func:`preserved` is the context manager every temporary operation uses::

    with preserved(learn.state_variables()):
        ...   # train, sweep, experiment
    # model, optimizer slots and counters, hyper-parameters and data order are back, bitwise

The restore runs in a ``finally``: after success, an exception, or ``KeyboardInterrupt``
(which is re-raised after restoring).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import keras
import tensorflow as tf

from .checks import check_choice
from .tracing import instance_function

__all__ = ["Snapshot", "preserved", "flatten_state", "resolve_where", "state_bytes",
           "SNAPSHOT_PLACES", "AUTO_HOST_BYTES"]

#: Where a :class:`Snapshot` keeps its copy (``"auto"``: :func:`resolve_where`).
SNAPSHOT_PLACES = ("auto", "device", "host")
#: ``"auto"`` keeps the copy on the host when the state on an accelerator is larger than this
#: (1 GiB). A fixed size because TensorFlow reports the memory in use
#: (``tf.config.experimental.get_memory_info``) but not the device's total, so no fraction of
#: it can be computed without private APIs; 1 GiB keeps the ~10 ms device copy for models up to
#: several ResNet50s with Adam (293 MiB) and moves the copy of anything that could crowd a
#: 16-80 GiB accelerator to the host.
AUTO_HOST_BYTES = 1 << 30


def flatten_state(variables: Mapping[str, Iterable] | Iterable) -> list:
    """A flat, de-duplicated list of variables from a list or a ``{group: [vars]}`` mapping."""
    groups = variables.values() if isinstance(variables, Mapping) else [variables]
    seen: set[int] = set()
    out = []
    for group in groups:
        for v in group:
            key = id(_raw(v))
            if key not in seen:
                seen.add(key)
                out.append(v)
    return out


def _raw(v):
    """The underlying ``tf.Variable`` of a Keras variable (or the variable itself)."""
    return v.value if isinstance(v, keras.Variable) else v


def _copy(sources: list, targets: list) -> None:
    """``targets[i].assign(sources[i])`` for every pair (traced into one graph)."""
    for src, dst in zip(sources, targets, strict=True):
        dst.assign(src)


def _assign(targets: list, values: list) -> None:
    """``targets[i].assign(values[i])`` (the host copy back, in one graph)."""
    _copy(values, targets)


def _to_host(sources: list) -> list:
    """The values of ``sources`` as tensors in host memory (one graph; on a CPU the read shares
    the variable's buffer until the variable is next written, which then copies: TensorFlow's
    copy-on-write for resource variables, so the snapshot never changes)."""
    with tf.device("/CPU:0"):
        return [tf.identity(src) for src in sources]


def state_bytes(variables: Mapping[str, Iterable] | Iterable) -> int:
    """The bytes the (de-duplicated) ``variables`` hold."""
    return sum(int(_raw(v).shape.num_elements() or 0) * _raw(v).dtype.size
               for v in flatten_state(variables))


def _on_accelerator(variables: list) -> bool:
    """Whether any variable lives on a device other than a CPU."""
    for v in variables:
        device = getattr(_raw(v), "device", "") or ""
        kind = tf.DeviceSpec.from_string(device).device_type if device else None
        if kind not in (None, "CPU"):
            return True
    return False


def resolve_where(variables: Mapping[str, Iterable] | Iterable, where: str = "auto") -> str:
    """``where`` checked against :data:`SNAPSHOT_PLACES`; ``"auto"`` becomes ``"host"`` when the
    variables live on an accelerator and hold more than :data:`AUTO_HOST_BYTES`, else
    ``"device"`` (always on a CPU-only machine, where both are the same memory)."""
    check_choice("snapshot", where, SNAPSHOT_PLACES,
                 fix="'device' keeps the copy beside the variables (fastest), 'host' in host "
                     "memory (no second copy on the accelerator), 'auto' picks by size.")
    if where != "auto":
        return where
    flat = flatten_state(variables)
    big = state_bytes(flat) > AUTO_HOST_BYTES
    return "host" if big and _on_accelerator(flat) else "device"


class Snapshot:
    """A copy of ``variables``; :meth:`save` and :meth:`restore` are single graph calls.

    ``where="device"``: shadow variables created once and reused, so a snapshot costs only the
    copy; ``scope`` (a context-manager factory such as ``strategy.scope``) is entered to create
    them, so the shadows of mirrored variables are mirrored too. ``where="host"``: each
    :meth:`save` replaces host-memory tensors (``self.host``) with the current values;
    :meth:`restore` assigns them back (a mirrored variable gets the value on every replica).
    Both restore bit for bit. ``"auto"`` is resolved once, here (:func:`resolve_where`).
    """

    def __init__(self, variables: Mapping[str, Iterable] | Iterable,
                 scope: Callable[[], Any] | None = None, where: str = "device") -> None:
        self.variables = flatten_state(variables)
        self.where = resolve_where(self.variables, where)
        self._scope = scope or contextlib.nullcontext
        self._shadows: list[tf.Variable] | None = None
        #: the host copy (``where="host"``, after :meth:`save`): one CPU tensor per variable
        self.host: list[tf.Tensor] | None = None
        self._save_fn = self._restore_fn = None

    @property
    def nbytes(self) -> int:
        """The bytes one copy of the variables takes."""
        return state_bytes(self.variables)

    def _build(self) -> None:
        raws = [_raw(v) for v in self.variables]
        if self.where == "host":
            self._save_fn = instance_function(_to_host, raws, autograph=False)
            self._restore_fn = instance_function(
                _assign, raws, autograph=False,
                input_signature=[[tf.TensorSpec(r.shape, r.dtype) for r in raws]])
            return
        with self._scope():  # beside the originals: mirrored when they are
            self._shadows = [tf.Variable(tf.zeros(r.shape, r.dtype), trainable=False,
                                         name="tflearner_shadow") for r in raws]
        # One tf.function per direction and snapshot, each traced once (see tracing.py).
        self._save_fn = instance_function(_copy, raws, self._shadows, autograph=False)
        self._restore_fn = instance_function(_copy, self._shadows, raws, autograph=False)

    def save(self) -> Snapshot:
        """Copy the current values into the shadows (``"host"``: into new host tensors)."""
        if self._save_fn is None:
            self._build()
        if self.where == "host":
            self.host = list(self._save_fn())
        else:
            self._save_fn()
        return self

    def restore(self) -> None:
        """Copy the saved values back into the variables (bitwise)."""
        if self._save_fn is None or (self.where == "host" and self.host is None):
            raise RuntimeError("Snapshot.restore() called before save().")
        if self.where == "host":
            self._restore_fn(self.host)
        else:
            self._restore_fn()


@contextmanager
def preserved(variables: Mapping[str, Iterable] | Iterable | Snapshot) -> Iterator[Snapshot]:
    """Run the ``with`` body, then put ``variables`` back exactly as they were, whatever happens.

    Pass a :class:`Snapshot` to reuse its shadows (no allocation), or the variables themselves.
    """
    snap = variables if isinstance(variables, Snapshot) else Snapshot(variables)
    snap.save()
    try:
        yield snap
    finally:
        snap.restore()
