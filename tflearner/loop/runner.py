"""The model runner: loss and metrics over a dataset, and predictions, on the compiled steps.

Apart from the training event loop: :class:`Runner` reads datasets (validation, test, raw items
made into batches) and never changes training state (no optimizer, no data order moves).
``TrainLoop`` uses :meth:`Runner.evaluate` for each epoch's validation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .compiled import Compiled
from .steps import batch_errors

__all__ = ["Runner", "metric_results"]


def metric_results(m: keras.metrics.Metric) -> dict[str, float]:
    """``{name: value}`` of a metric; Keras' per-output container gives one entry per output
    and metric (``<output>_<metric>``, as ``model.fit`` logs them)."""
    res = m.result()
    if isinstance(res, dict):
        return {k: float(v) for k, v in res.items()}
    return {m.name: float(res)}


def _concat(batches: list) -> Any:
    """Per-batch (nested) arrays concatenated along the batch axis."""
    return tf.nest.map_structure(lambda *a: np.concatenate(a), *batches)


class Runner:
    """Evaluation and prediction with the compiled steps of ``compiled``."""

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled

    def labelled(self, spec: Any) -> bool:
        """Whether a dataset of ``spec`` yields ``(x, y[, w])`` (see :meth:`Compiled.labelled`)."""
        return self.compiled.labelled(spec)

    def check_dataset(self, name: str, ds: tf.data.Dataset, with_y: bool = True) -> None:
        """Refuse a dataset the compiled steps would have to retrace for."""
        self.compiled.check_dataset(name, ds, with_y)

    def evaluate(self, ds: tf.data.Dataset, prefix_loss: str = "loss",
                 on_batch: Callable[[int, float], None] | None = None) -> dict[str, float]:
        """Mean loss (weighted by batch size) and metric results over ``ds``; ``on_batch(i,
        mean loss so far)`` after each batch (the metrics then hold their running totals).
        Several outputs: also each output's unweighted loss, ``<output>_loss``, as Keras
        logs it (the trackers of Keras' CompileLoss)."""
        config, steps = self.compiled.config, self.compiled.steps
        per_output = list(getattr(config.loss_fn, "metrics", None) or [])
        for m in [*config.metrics, *per_output]:
            m.reset_state()
        loss_sum, seen = 0.0, 0
        for i, elem in enumerate(self.compiled.distribute(ds)):
            step = steps.eval_step if len(elem) == 2 else steps.eval_step_weighted
            with batch_errors(config.n_classes):
                loss, bs = step(*elem).numpy().tolist()
            loss_sum += loss * bs
            seen += int(bs)
            if on_batch is not None:
                on_batch(i, loss_sum / seen if seen else math.nan)
        if seen == 0:
            raise ValueError("the evaluation dataset yielded no batches.")
        out = {prefix_loss: loss_sum / seen}
        for m in [*config.metrics, *per_output]:
            out.update(metric_results(m))
        return out

    def predict(self, ds: tf.data.Dataset) -> np.ndarray:
        """Concatenated model outputs over ``ds`` (elements ``x`` or ``(x, y)``)."""
        return self.gather(ds)[0]

    def gather(self, ds: tf.data.Dataset, inputs: bool = False
               ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``(outputs, targets, inputs)`` over ``ds``, concatenated on the host; ``targets`` is
        None for elements ``x`` without labels, ``inputs`` None unless asked for."""
        outs, ys, xs = [], [], []
        labelled = self.labelled(ds.element_spec)
        predict_step, host = self.compiled.steps.predict_step, self.compiled.host
        for elem in self.compiled.distribute(ds):
            x = elem[0] if labelled else elem
            outs.append(tf.nest.map_structure(np.asarray, predict_step(x)))
            if labelled:
                ys.append(host(elem[1]))
            if inputs:
                xs.append(host(x))
        if not outs:
            raise ValueError("the dataset passed to predict yielded no batches.")
        return (_concat(outs), _concat(ys) if ys else None, _concat(xs) if inputs else None)
