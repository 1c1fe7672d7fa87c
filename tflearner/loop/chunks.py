"""How many batches each compiled call runs, and Ctrl-C held back until a chunk is recorded.

:class:`Chunker` owns chunking (as Keras' ``EpochIterator`` does): ``chunker.sizes(state, ...)``
yields the size of each call of an epoch, reading the position from the fit's state before each
one, and never crosses the epoch's end or the fit's ``max_steps``. ``steps_per_execution="auto"``
sizes chunks to take about :data:`AUTO_CHUNK_SECONDS` (at most :data:`AUTO_MAX_STEPS` batches),
from the time per batch it is told after each call.

:func:`deferred_interrupt` delays a ``KeyboardInterrupt`` that arrives during a compiled call
until the call's batches have been reported to the callbacks, so the recorder, the epoch sums and
``optimizer.iterations`` always agree on what ran.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..core.checks import check_int

__all__ = ["Chunker", "auto_chunk", "check_steps_per_execution", "deferred_interrupt",
           "STEPS_PER_EXECUTION", "AUTO_MAX_STEPS", "AUTO_CHUNK_SECONDS"]

#: Default batches per compiled call (Keras' name).
STEPS_PER_EXECUTION = "auto"
#: ``"auto"``: the most batches per call.
AUTO_MAX_STEPS = 32
#: ``"auto"``: target wall time of one call, so progress and stop requests stay responsive.
AUTO_CHUNK_SECONDS = 0.5


def auto_chunk(seconds_per_batch: float) -> int:
    """``"auto"``'s chunk size: ``floor(AUTO_CHUNK_SECONDS / seconds_per_batch)`` clipped to
    ``[1, AUTO_MAX_STEPS]`` (e.g. 6 ms per batch -> 32, 0.1 s -> 5, 1 s -> 1)."""
    if not seconds_per_batch > 0:
        return AUTO_MAX_STEPS
    fits = math.floor(AUTO_CHUNK_SECONDS / seconds_per_batch + 1e-9)  # 0.5 / 0.02 -> 25
    return int(min(AUTO_MAX_STEPS, max(1, fits)))


def check_steps_per_execution(value: Any) -> int | str:
    """``value`` as a positive int or ``"auto"``."""
    if isinstance(value, str) and value == "auto":
        return "auto"
    fix = "use 1 for one batch per compiled call, or 'auto' (the default)."
    if isinstance(value, str):
        raise ValueError(f"steps_per_execution must be a positive int or 'auto', got "
                         f"{value!r}; {fix}")
    return check_int("steps_per_execution", value, 1, fix=fix)


class Chunker:
    """Chunk sizes for one Learner's fits (``steps_per_execution``: an int or ``"auto"``)."""

    def __init__(self, steps_per_execution: int | str) -> None:
        self.auto = steps_per_execution == "auto"
        self.max_chunk = AUTO_MAX_STEPS if self.auto else int(steps_per_execution)
        self.current = 1 if self.auto else self.max_chunk  # "auto" starts small, then adapts

    def observe(self, seconds: float, batches: int) -> None:
        """Tell ``"auto"`` how long the last call took for ``batches`` batches."""
        if self.auto and batches:
            self.current = auto_chunk(seconds / batches)

    def sizes(self, state: Any, sync: bool, max_steps: int | None) -> Iterator[int]:
        """Sizes of the next calls of this epoch, while ``state`` has not stopped.

        Before each size it reads ``state.iter``, ``state.step``, ``state.n_iter`` (None: unknown
        length, the data says when it ends) and ``state.stop_training``. ``sync``: one batch per
        call (a callback acts between any two batches).
        """
        while not state.stop_training:
            n = 1 if sync else self.current
            if state.n_iter is not None:
                n = min(n, state.n_iter - state.iter)
            if max_steps is not None:
                n = min(n, max_steps - state.step)
            if n <= 0:
                return
            yield n


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold back SIGINT inside the block and raise ``KeyboardInterrupt`` at its end.

    Only in the main thread and only while Python's default SIGINT handler is installed (a
    notebook kernel's or the user's own handler is left alone).
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    received: list[Any] = []
    previous = signal.signal(signal.SIGINT, lambda sig, frame: received.append(sig))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
