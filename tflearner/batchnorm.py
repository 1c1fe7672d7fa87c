"""BatchNormalization statistics recomputed at the current weights.

A BatchNormalization layer evaluates with moving statistics gathered while the weights were
moving. Where the weights evaluated are not the weights trained (the averaged point of a
schedule-free optimizer, an average of checkpoints, the LR finder's trial weights), those
statistics belong to other weights, and the schedule-free authors require recomputing them
(Defazio et al. 2024: "a few training-mode forward passes over training batches").

:class:`BatchNormRefresh` does that: ``n`` training-mode forward passes over training batches,
no gradient, no weight update, each trainable BatchNormalization layer's momentum set to 0 for
them (its moving statistics become each batch's own); the result is the batch-size-weighted mean
of the batches' means and variances (PyTorch's cumulative average, ``momentum=None``).
:meth:`BatchNormRefresh.applied` restores every variable it touched (statistics, the dropout
layers' seed state, and any ``keep`` variables such as the data's epoch counter) in a ``finally``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .core.checks import check_int
from .core.snapshot import preserved

__all__ = ["DEFAULT_BN_BATCHES", "BatchNormRefresh", "batchnorm_layers"]

#: Forward passes a refresh runs by default (the schedule-free authors' example uses 50).
DEFAULT_BN_BATCHES = 50


def batchnorm_layers(layer: Any) -> list:
    """The BatchNormalization layers in ``layer`` and in the models nested in it."""
    out = [layer] if isinstance(layer, keras.layers.BatchNormalization) else []
    for sub in getattr(layer, "layers", None) or []:
        out += batchnorm_layers(sub)
    return out


def _inputs(batch: Any) -> Any:
    """The model inputs of a ``(x, y[, w])`` batch (``x`` alone stays ``x``)."""
    return batch[0] if isinstance(batch, tuple) else batch


class BatchNormRefresh:
    """Recompute the moving statistics of ``model``'s trainable BatchNormalization layers from
    ``n_batches`` training batches (see the module doc).

    Layers that are frozen (``trainable=False``: Keras runs them in inference mode) keep their
    statistics; ``renorm=True`` layers are left alone with a warning (their update is not a
    moving average that momentum 0 turns into the batch's statistics).
    """

    def __init__(self, model: keras.Model, n_batches: int = DEFAULT_BN_BATCHES) -> None:
        self.model = model
        self.n_batches = check_int("n_batches", n_batches, 1,
                                   fix=f"the forward passes per refresh, e.g. "
                                       f"{DEFAULT_BN_BATCHES}.")
        self.all = batchnorm_layers(model)
        self._fn: Any = None
        self._key: tuple | None = None
        self._warned = False

    @property
    def layers(self) -> list:
        """The layers a refresh recomputes now (trainable, no renorm)."""
        renorm = [la for la in self.all if la.trainable and la.renorm]
        if renorm and not self._warned:
            self._warned = True
            warnings.warn(f"{len(renorm)} BatchNormalization layer(s) with renorm=True keep "
                          "their statistics: a refresh recomputes plain moving averages only.",
                          stacklevel=3)
        return [la for la in self.all if la.trainable and not la.renorm]

    def statistics_variables(self) -> list:
        """Every moving mean and variance a refresh writes (in layer order)."""
        return [v for la in self.layers for v in (la.moving_mean, la.moving_variance)]

    def _forward(self, layers: Sequence) -> Any:
        """The compiled training-mode forward pass, traced with every layer at momentum 0 (the
        trace reads momentum and ``trainable`` as Python values: retraced when they change)."""
        key = tuple(la.trainable for la in self.all)
        if self._fn is None or key != self._key:
            def forward(x):
                self.model(x, training=True)
                return [(tf.identity(la.moving_mean.value), tf.identity(la.moving_variance.value))
                        for la in layers]

            self._fn, self._key = tf.function(forward, reduce_retracing=True), key
        return self._fn

    def refresh(self, batches: Iterable) -> int:
        """Set the statistics from the first ``n_batches`` of ``batches`` (``(x, y[, w])`` or
        ``x``); returns the batches used. Changes the statistics and whatever else a training
        forward pass moves (dropout seeds): use :meth:`applied` to get them back."""
        layers = self.layers
        if not layers:
            return 0
        saved = [la.momentum for la in layers]
        sums: list[np.ndarray] | None = None
        total, used = 0.0, 0
        try:
            for la in layers:
                la.momentum = 0.0
            forward = self._forward(layers)
            for batch in batches:
                x = _inputs(batch)
                n = float(tf.shape(tf.nest.flatten(x)[0])[0])
                stats = [np.asarray(s, np.float64) * n for pair in forward(x) for s in pair]
                sums = stats if sums is None else [a + b for a, b in zip(sums, stats,
                                                                         strict=True)]
                total, used = total + n, used + 1
                if used == self.n_batches:
                    break
        finally:
            for la, m in zip(layers, saved, strict=True):
                la.momentum = m
        if not used:
            raise ValueError("the BatchNormalization refresh got no training batch; the "
                             "training data is empty.")
        for var, s in zip(self.statistics_variables(), sums, strict=True):
            var.assign((s / total).astype(var.dtype))
        return used

    @contextmanager
    def applied(self, batches: Iterable, keep: Sequence = ()) -> Iterator[int]:
        """The statistics refreshed inside the block (yields the batches used); afterwards every
        non-trainable variable of the model and every ``keep`` variable is back, bit for bit."""
        with preserved([*self.model.non_trainable_variables, *keep]):
            yield self.refresh(batches)
