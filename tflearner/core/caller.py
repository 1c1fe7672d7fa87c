"""Warnings said at the user's line: the first frame outside tflearner, Keras and TensorFlow.

A fixed ``stacklevel`` breaks whenever a verb delegates one call deeper; :func:`warn_at_caller`
walks the stack instead, so a notebook user sees the warning at the cell line that caused it.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["caller_stacklevel", "warn_at_caller"]


def _library_dirs() -> tuple[str, ...]:
    """The folders of tflearner, Keras and TensorFlow (already imported by then)."""
    import keras
    import tensorflow as tf
    tflearner = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return tuple(d + os.sep for d in (tflearner, os.path.dirname(keras.__file__),
                                      os.path.dirname(tf.__file__)))


def caller_stacklevel() -> int:
    """``stacklevel`` for :func:`warnings.warn` called by the caller of this function, naming
    the first frame outside tflearner, Keras and TensorFlow (the outermost frame if there is
    none)."""
    library = _library_dirs()
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(library):
        frame, level = frame.f_back, level + 1
    return level


def warn_at_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` at the user's line (see the module doc)."""
    warnings.warn(message, category, stacklevel=caller_stacklevel())
