"""In-memory snapshots of training state, restored bit for bit.

:class:`Snapshot` keeps one shadow variable per state variable and copies in both directions
with one compiled function each (``benchmarks/bench_lr_find.py`` measures it).
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

from .tracing import instance_function

__all__ = ["Snapshot", "preserved", "flatten_state"]


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


class Snapshot:
    """Shadow copies of ``variables``; :meth:`save` and :meth:`restore` are single graph calls.

    Shadows are created once and reused, so a snapshot costs only the copy. ``scope`` (a
    context-manager factory such as ``strategy.scope``) is entered to create them, so the
    shadows of mirrored variables are mirrored too.
    """

    def __init__(self, variables: Mapping[str, Iterable] | Iterable,
                 scope: Callable[[], Any] | None = None) -> None:
        self.variables = flatten_state(variables)
        self._scope = scope or contextlib.nullcontext
        self._shadows: list[tf.Variable] | None = None
        self._save_fn = self._restore_fn = None

    def _build(self) -> None:
        raws = [_raw(v) for v in self.variables]
        with self._scope():  # beside the originals: mirrored when they are
            self._shadows = [tf.Variable(tf.zeros(r.shape, r.dtype), trainable=False,
                                         name="tflearner_shadow") for r in raws]
        # One tf.function per direction and snapshot, each traced once (see tracing.py).
        self._save_fn = instance_function(_copy, raws, self._shadows, autograph=False)
        self._restore_fn = instance_function(_copy, self._shadows, raws, autograph=False)

    def save(self) -> Snapshot:
        """Copy the current values into the shadows."""
        if self._shadows is None:
            self._build()
        self._save_fn()
        return self

    def restore(self) -> None:
        """Copy the shadows back into the variables (bitwise)."""
        if self._shadows is None:
            raise RuntimeError("Snapshot.restore() called before save().")
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
