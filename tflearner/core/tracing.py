"""``tf.function`` for functions built per object (closures), without false retracing warnings.

TensorFlow's frequent-retracing detector keys a ``tf.function`` by its Python function's code
object, so the closures that every :class:`~tflearner.loop.TrainLoop` and
:class:`~tflearner.core.snapshot.Snapshot` build share one key. Each object traces its own functions
once, yet after a handful of Learners in one process TensorFlow warned "5 out of the last 5
calls ... triggered tf.function retracing", which reads like the per-step retrace tflearner
promises never to do. :func:`instance_function` wraps the closure in a ``functools.partial``
(no ``__wrapped__``, no ``__code__``), which the detector keys by identity: one key per object.
Real retraces of one function are still counted and still warned about.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import tensorflow as tf

__all__ = ["instance_function"]


def instance_function(fn: Callable, *args: Any, **tf_function_kwargs: Any) -> Callable:
    """``tf.function(functools.partial(fn, *args), **tf_function_kwargs)``, named like ``fn``.

    ``args`` are bound first (Python values, e.g. lists of variables, fixed at trace time).
    """
    bound = functools.partial(fn, *args)
    bound.__name__ = fn.__name__  # for traces and profiles; not __wrapped__ (see module doc)
    bound.__qualname__ = getattr(fn, "__qualname__", fn.__name__)
    return tf.function(bound, **tf_function_kwargs)
