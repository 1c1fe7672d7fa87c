"""Where a Learner evaluates: the averaged point ``x`` of a schedule-free optimizer.

With a schedule-free optimizer (:mod:`tflearner.optim.schedule_free`) the model's variables hold
the training point ``y``; the point the method evaluates and ships is the average ``x``.
:class:`Averaging` swaps ``x`` in for reading and puts ``y`` back, bit for bit, in a ``finally``:

* ``learn.validate``, ``get_preds``, ``predict``, ``tta``, ``show_results``, the interpretation,
  ``export`` and each epoch's validation inside a fit read at :attr:`Averaging.point` (``"x"``
  by default, ``"y"`` on request: ``learn.averaging.point = "y"``, or ``with
  learn.averaging.at("y"):`` for one block);
* at ``x``, the trainable BatchNormalization layers' statistics are recomputed at ``x``
  (:class:`~tflearner.batchnorm.BatchNormRefresh` over the first training batches of the current
  epoch order), and cached until the weights, the optimizers' steps or the data order change;
* between verbs the model holds ``y``, so training, ``save``, checkpoints and ``lr_find``
  continue exactly (and ``model.fit`` on ``learn.model`` sees what it would see).

Every other optimizer has nothing to swap: its :class:`Averaging` is disabled and reading is a
no-op.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..batchnorm import DEFAULT_BN_BATCHES, BatchNormRefresh
from ..core.checks import check_choice
from ..core.events import Callback
from ..core.snapshot import Snapshot
from ..core.tracing import instance_function
from ..optim.detect import is_schedule_free
from ..optim.schedule_free import averaged_point, base_sequence, interpolation

__all__ = ["Averaging", "AveragedValidation", "POINTS"]

#: The points a schedule-free Learner can read at: the average ``x`` or the training point ``y``.
POINTS = ("x", "y")


def _assign_x(ys: list, zs: list, which: list[int], betas: tf.Tensor) -> None:
    """``y <- x`` for every variable, each with its optimizer's ``beta_1`` (``betas[which[i]]``)."""
    for y, z, k in zip(ys, zs, which, strict=True):
        y.assign(averaged_point(y, z, betas[k]))


def _fingerprint(variables: list) -> list:
    """One float64 sum per variable: what the BatchNorm cache is keyed by (with the steps)."""
    return [tf.reduce_sum(tf.cast(v, tf.float64)) for v in variables]


class Averaging:
    """Which point a Learner reads at, and the swap (see the module doc).

    ``opts`` / ``group_variables``: each layer group's optimizer and the variables it is built
    on; ``data``: the Learner's ``DataBundle`` (its training batches refresh BatchNorm, its
    epoch counter is restored); ``scope``: the strategy's scope factory.
    """

    def __init__(self, model: keras.Model, opts: tuple, group_variables: tuple, data: Any,
                 scope: Callable[[], Any], bn_batches: int = DEFAULT_BN_BATCHES) -> None:
        self.model, self.data, self.scope = model, data, scope
        self.groups = [(o, tuple(v)) for o, v in zip(opts, group_variables, strict=True)
                       if is_schedule_free(o)]
        self.enabled = bool(self.groups)
        self._point = "x" if self.enabled else None
        self.current = "y"  # what the model's variables hold now
        self._pinned: list[str] = []
        self.bn = BatchNormRefresh(model, bn_batches)
        self._snapshot: Snapshot | None = None
        self._assign: Any = None
        self._cache: tuple[tuple, list[np.ndarray]] | None = None
        self._sums: Any = None

    # ---- the point read at ----------------------------------------------------------------
    @property
    def pinned(self) -> str | None:
        """The point of the innermost :meth:`at` block (None outside every block)."""
        return self._pinned[-1] if self._pinned else None

    @property
    def point(self) -> str | None:
        """``"x"`` (default) or ``"y"`` for a schedule-free optimizer; None otherwise."""
        return self._point

    @point.setter
    def point(self, value: str) -> None:
        self._require("averaging.point")
        self._point = check_choice("averaging.point", value, POINTS,
                                   fix="'x' reads at the averaged point, 'y' at the training "
                                       "point.")

    def _require(self, what: str) -> None:
        if not self.enabled:
            raise ValueError(f"{what} needs a schedule-free optimizer (e.g. keras.optimizers."
                             "ScheduleFreeAdamW), whose variables hold a training point y and "
                             "whose averaged point x is evaluated; this Learner's optimizers "
                             "have one point only.")

    def reading(self) -> contextlib.AbstractContextManager:
        """The context every reading verb runs in: at the pinned point (an enclosing
        :meth:`at`), else at :attr:`point`; a no-op without a schedule-free optimizer."""
        if not self.enabled:
            return contextlib.nullcontext()
        return self._at(self._pinned[-1] if self._pinned else self._point)

    @contextlib.contextmanager
    def at(self, point: str = "x") -> Iterator[None]:
        """The model holds ``point`` inside the block (readers inside read there too), then
        ``y`` again, bit for bit (BatchNorm statistics and the data order included)."""
        self._require("averaging.at")
        point = check_choice("point", point, POINTS,
                             fix="'x' (the averaged point) or 'y' (the training point).")
        if self._pinned and self._pinned[-1] != point:
            raise ValueError(f"averaging.at({point!r}) inside averaging.at("
                             f"{self._pinned[-1]!r}); leave the outer block first.")
        self._pinned.append(point)
        try:
            with self._at(point):
                yield
        finally:
            self._pinned.pop()

    @contextlib.contextmanager
    def _at(self, point: str) -> Iterator[None]:
        if point == self.current:
            yield
            return
        snap = self._snap().save()
        try:
            with self.scope():
                self._to_x()
            self.current = "x"
            yield
        finally:
            snap.restore()
            self.current = "y"

    # ---- the swap --------------------------------------------------------------------------
    def _snap(self) -> Snapshot:
        """One reusable copy of everything a swap and a refresh may change."""
        if self._snapshot is None:
            self._snapshot = Snapshot([*self.model.variables, *self.data.rng_state],
                                      scope=self.scope, where="device")
        return self._snapshot

    def _stepped(self) -> list[tuple[int, Any, tuple]]:
        """``(index, optimizer, variables)`` of the optimizers that have stepped (``x = y``
        for the others: their base sequence still holds the weights they were built on)."""
        return [(k, o, v) for k, (o, v) in enumerate(self.groups) if int(o.iterations.numpy())]

    def _to_x(self) -> None:
        stepped = self._stepped()
        if stepped:
            key = tuple(k for k, _, _ in stepped)
            if self._assign is None or self._assign[0] != key:
                ys = [y for _, _, vs in stepped for y in vs]
                zs = [base_sequence(o, y) for _, o, vs in stepped for y in vs]
                which = [i for i, (_, _, vs) in enumerate(stepped) for _ in vs]
                self._assign = (key, instance_function(_assign_x, ys, zs, which,
                                                       autograph=False))
            betas = tf.constant([interpolation(o) for _, o, _ in stepped], tf.float32)
            self._assign[1](betas)
        if self.bn.layers:
            self._refresh_batchnorm()

    def _refresh_batchnorm(self) -> None:
        """The statistics at ``x``: from the cache when nothing they depend on changed."""
        stats = self.bn.statistics_variables()
        if self._sums is None:
            self._sums = instance_function(_fingerprint, list(self.model.variables),
                                           autograph=False)
        key = (tuple(int(o.iterations.numpy()) for o, _ in self.groups),
               tuple(float(s) for s in self._sums()),
               tuple(int(v.numpy()) for v in self.data.rng_state),
               tuple(id(v) for v in stats))
        if self._cache is not None and self._cache[0] == key:
            for var, value in zip(stats, self._cache[1], strict=True):
                var.assign(value)
            return
        self.bn.refresh(self.data.train)
        self._cache = (key, [np.asarray(v.numpy()) for v in stats])

    def sync_base(self) -> None:
        """``z <- y`` for every optimizer that has not stepped: the base sequence starts at the
        weights training starts from (they may have been loaded after the optimizer was built;
        Keras builds ``z`` as a copy of the weights)."""
        for o, variables in self.groups:
            if not int(o.iterations.numpy()):
                for y in variables:
                    base_sequence(o, y).assign(y)

    def callbacks(self) -> list[Callback]:
        """The fit's callback (each epoch's validation at :attr:`point`); none when disabled."""
        return [AveragedValidation(self)] if self.enabled else []

    def __repr__(self) -> str:
        return (f"Averaging(point={self._point!r}, optimizers={len(self.groups)}, "
                f"batchnorm={len(self.bn.all)})")


class AveragedValidation(Callback):
    """Each epoch's validation at the Learner's point (``x`` by default), ``y`` back after it,
    also when the fit ends inside it; starts the base sequence at the fit's weights
    (:meth:`Averaging.sync_base`) and refuses a fit inside ``averaging.at(...)``."""

    order = -30

    def __init__(self, averaging: Averaging) -> None:
        self.averaging = averaging
        self._stack = contextlib.ExitStack()

    def before_fit(self, state: Any) -> None:
        if self.averaging.current != "y" or self.averaging.pinned:
            raise RuntimeError("fit inside learn.averaging.at(...): training must start from "
                               "the training point y; leave the with-block first.")
        self.averaging.sync_base()

    def before_validate(self, state: Any) -> None:
        self._stack.enter_context(self.averaging.reading())

    def after_validate(self, state: Any) -> None:
        self._stack.close()

    def after_fit(self, state: Any) -> None:
        self._stack.close()
