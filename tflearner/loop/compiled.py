"""The compiled steps of one Learner and the data they accept, shared by the event loop and the
runner.

:class:`Compiled` builds :class:`~tflearner.loop.steps.CompiledSteps` from one frozen
:class:`~tflearner.loop.steps.StepConfig`, one set for each set of trainable variables it has
seen (freezing and unfreezing switch between them without tracing again: a ``fine_tune`` race
toggles them for every trial), and builds them anew when the configuration changes (a class
weight given to a later ``fit``). It also owns what every dataset must match: the training
data's specs with a free batch dimension, so no dataset passed later retraces a step.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import tensorflow as tf

from .steps import CompiledSteps, StepConfig

__all__ = ["Compiled"]


def _relaxed(spec: Any, name: str) -> Any:
    """The same (nested) spec with a ``None`` batch dimension, so the last partial batch fits."""
    return tf.nest.map_structure(
        lambda s: tf.TensorSpec((None, *s.shape[1:]), s.dtype, name=name), spec)


def _compatible(spec: Any, other: Any) -> bool:
    """Whether ``other`` has ``spec``'s structure and compatible tensors (no retrace)."""
    try:
        tf.nest.assert_same_structure(spec, other)
    except (ValueError, TypeError):
        return False
    return all(a.is_compatible_with(b) for a, b in zip(tf.nest.flatten(spec),
                                                       tf.nest.flatten(other), strict=True))


def _is_weight_spec(spec: tf.TensorSpec) -> bool:
    """Sample weights: one float per example, ``(batch,)`` or ``(batch, 1)``."""
    return (isinstance(spec, tf.TensorSpec) and spec.dtype.is_floating
            and (spec.shape.rank == 1 or (spec.shape.rank == 2 and spec.shape[-1] == 1)))


class Compiled:
    """The :class:`CompiledSteps` of ``config`` (``steps``), their
    ``trace_counts`` (shared by every rebuild, so tests can prove there is no retrace), the
    strategy and the data specs."""

    def __init__(self, config: StepConfig) -> None:
        self.config = config.replace(strategy=config.strategy or tf.distribute.get_strategy())
        self.strategy = self.config.strategy
        spec = config.element_spec
        self.x_spec, self.y_spec = _relaxed(spec[0], "x"), _relaxed(spec[1], "y")
        #: the training data's sample-weight spec (None: (x, y) batches)
        self.w_spec = _relaxed(spec[2], "w") if len(spec) > 2 else None
        self.trace_counts: Counter[str] = Counter()
        #: the steps as last used for training (evaluation and prediction use them as they are)
        self.steps = self._build()
        self._by_trainable = {self.steps.trainable_key: self.steps}
        self.distributed = self.steps.distributed

    def _build(self) -> CompiledSteps:
        return CompiledSteps(self.config, self.x_spec, self.y_spec, self.w_spec,
                             self.trace_counts)

    def for_training(self) -> CompiledSteps:
        """The steps for the current trainable variables: those built for this set before
        (a fit after freezing or unfreezing back), else built now."""
        key = tuple(id(v) for v in self.config.model.trainable_variables)
        if key != self.steps.trainable_key:
            if key not in self._by_trainable:
                self._by_trainable[key] = self._build()
            self.steps = self._by_trainable[key]
        return self.steps

    def set_class_weight(self, class_weight: tf.Variable) -> None:
        """Weigh the training loss by ``class_weight[label]`` from now on (rebuilds the steps
        once: the weighting is part of the compiled step)."""
        self.config = self.config.replace(class_weight=class_weight)
        self.steps = self._build()
        self._by_trainable = {self.steps.trainable_key: self.steps}

    # ---- data -------------------------------------------------------------------------------
    def labelled(self, spec: Any) -> bool:
        """Whether a dataset of ``spec`` yields ``(x, y[, w])`` rather than ``x`` alone (told
        apart by the training data's x structure, so a tuple of inputs is not taken for one)."""
        return (isinstance(spec, tuple) and len(spec) in (2, 3)
                and _compatible(self.x_spec, spec[0]) and not _compatible(self.x_spec, spec))

    def check_dataset(self, name: str, ds: tf.data.Dataset, with_y: bool = True) -> None:
        """Refuse a dataset the compiled steps would have to retrace for."""
        spec = ds.element_spec
        labelled = self.labelled(spec)
        ok = (labelled and _compatible(self.y_spec, spec[1]) and (
            len(spec) == 2 or _is_weight_spec(spec[2]))) if with_y else (
            labelled or _compatible(self.x_spec, spec))
        if not ok:
            raise ValueError(
                f"{name} has element_spec={spec}, which does not match the training data "
                f"(x: {self.x_spec}, y: {self.y_spec}). Map it to the same dtypes and example "
                "shapes (e.g. cast images to float32 and scale them the same way).")

    def distribute(self, ds: tf.data.Dataset):
        """``ds`` itself, or split across the strategy's replicas."""
        return self.strategy.experimental_distribute_dataset(ds) if self.distributed else ds

    def host(self, value: Any) -> Any:
        """A (possibly per-replica, possibly nested) batch as numpy, in the dataset's order."""
        if self.distributed:
            value = tf.nest.map_structure(lambda v: self.strategy.gather(v, axis=0), value)
        return tf.nest.map_structure(np.asarray, value)
