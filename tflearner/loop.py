"""The one training loop: compiled train / eval / predict steps and the Python event loop.

``fit``, ``lr_find`` and ``fit_one_cycle`` all run :meth:`TrainLoop.fit`; they differ only by the
callbacks they pass. Each step is a ``tf.function`` with an ``input_signature`` whose batch
dimension is ``None``, traced once per Learner (not per epoch, LR change or partial batch).
Hyper-parameters reach the step through variables (:class:`tflearner.optim.Hypers`), never as
Python arguments. ``trace_counts`` counts traces (a Python side effect inside each step), so
tests can prove the no-retrace promise.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .callbacks import CallbackList, FitState
from .optim import Hypers

__all__ = ["TrainLoop", "SMOOTH_BETA"]

#: Smoothing factor of the running loss shown in progress bars and recorded per batch.
SMOOTH_BETA = 0.98


def _relaxed(spec: tf.TensorSpec, name: str) -> tf.TensorSpec:
    """The same spec with a ``None`` batch dimension, so the last partial batch fits."""
    return tf.TensorSpec((None, *spec.shape[1:]), spec.dtype, name=name)


class TrainLoop:
    """Compiled steps for one model/optimizer/loss/metrics, plus the event loop that drives them.

    ``element_spec`` is the ``(x, y)`` spec of the training data; every dataset passed later
    must be compatible with it (same dtypes and example shapes).
    """

    def __init__(self, model: keras.Model, optimizer: keras.optimizers.Optimizer,
                 loss_fn: Callable, metrics: list[keras.metrics.Metric],
                 element_spec: tuple[tf.TensorSpec, tf.TensorSpec], hypers: Hypers,
                 jit_compile: bool = False) -> None:
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metrics = metrics
        self.hypers = hypers
        self.jit_compile = bool(jit_compile)
        self.x_spec = _relaxed(element_spec[0], "x")
        self.y_spec = _relaxed(element_spec[1], "y")
        self.trace_counts: Counter[str] = Counter()
        self._trainable_key: tuple[int, ...] | None = None
        self._build_steps()

    # ---- compiled steps ---------------------------------------------------------------------
    def _build_steps(self) -> None:
        """(Re)create the tf.functions; called once, and again only if trainability changed."""
        model, opt = self.model, self.optimizer
        tvars = list(model.trainable_variables)
        self._trainable_key = tuple(id(v) for v in tvars)

        def compute_loss(y, pred):
            loss = self.loss_fn(y, pred)
            if model.losses:
                loss = loss + tf.add_n(model.losses)
            return loss

        def train_step(x, y):
            """One update; returns ``[loss, lr, mom, wd]`` as the step saw them (mom NaN if
            none), so Python learns the values actually used without extra reads."""
            self.trace_counts["train"] += 1
            hp = self.hypers.read()  # read before the update that uses them
            with tf.GradientTape() as tape:
                loss = compute_loss(y, model(x, training=True))
            grads = tape.gradient(loss, tvars)
            opt.apply_gradients(zip(grads, tvars, strict=True))
            return tf.stack([tf.cast(loss, tf.float32), *hp])

        def eval_step(x, y):
            self.trace_counts["eval"] += 1
            pred = model(x, training=False)
            for m in self.metrics:
                m.update_state(y, pred)
            return compute_loss(y, pred)

        def predict_step(x):
            self.trace_counts["predict"] += 1
            return model(x, training=False)

        kw = {"jit_compile": self.jit_compile}
        xy = [self.x_spec, self.y_spec]
        self.train_step = tf.function(train_step, input_signature=xy, **kw)
        self.eval_step = tf.function(eval_step, input_signature=xy, **kw)
        self.predict_step = tf.function(predict_step, input_signature=[self.x_spec], **kw)

    def _ensure_current(self) -> None:
        """Retrace only when the set of trainable variables changed (freeze / unfreeze)."""
        if tuple(id(v) for v in self.model.trainable_variables) != self._trainable_key:
            self._build_steps()

    def check_dataset(self, name: str, ds: tf.data.Dataset, with_y: bool = True) -> None:
        """Refuse a dataset the compiled steps would have to retrace for."""
        spec = ds.element_spec
        ok = (isinstance(spec, tuple) and len(spec) == 2 and self.x_spec.is_compatible_with(
            spec[0]) and self.y_spec.is_compatible_with(spec[1])) if with_y else (
            self.x_spec.is_compatible_with(spec[0] if isinstance(spec, tuple) else spec))
        if not ok:
            raise ValueError(
                f"{name} has element_spec={spec}, which does not match the training data "
                f"(x: {self.x_spec}, y: {self.y_spec}). Map it to the same dtypes and example "
                "shapes (e.g. cast images to float32 and scale them the same way)."
            )

    # ---- the event loop -----------------------------------------------------------------------
    def fit(self, train: tf.data.Dataset, epochs: int, valid: tf.data.Dataset | None,
            cbs: CallbackList, learner: Any = None, smooth_beta: float = SMOOTH_BETA) -> FitState:
        """Run ``epochs`` epochs over ``train``, calling ``cbs`` at each event; see module doc.

        ``smooth_beta`` is the factor of the debiased moving average in ``state.smooth_loss``.
        """
        self._ensure_current()
        self.check_dataset("train", train)
        if valid is not None:
            self.check_dataset("valid", valid)
        n = int(train.cardinality())
        state = FitState(learner=learner, hypers=self.hypers, epochs=epochs,
                         n_iter=n if n >= 0 else None)
        avg = 0.0
        try:
            cbs("before_fit", state)
            for epoch in range(epochs):
                state.epoch, state.iter, state.logs = epoch, 0, {}
                start = time.perf_counter()
                cbs("before_epoch", state)
                state.training = True
                cbs("before_train", state)
                loss_sum, seen = 0.0, 0
                for x, y in train:
                    cbs("before_batch", state)
                    loss, lr, mom, wd = self.train_step(x, y).numpy().tolist()
                    state.lr, state.wd = lr, wd
                    state.mom = None if self.hypers.mom_attr is None else mom
                    bs = int(x.shape[0])
                    avg = smooth_beta * avg + (1 - smooth_beta) * loss
                    state.loss, state.batch_size = loss, bs
                    state.smooth_loss = avg / (1 - smooth_beta ** (state.step + 1))
                    loss_sum += loss * bs
                    seen += bs
                    cbs("after_batch", state)
                    state.iter += 1
                    state.step += 1
                    if state.stop_training:
                        break
                if state.n_iter is None and not state.stop_training:
                    state.n_iter = state.iter
                if seen == 0:
                    raise ValueError("train yielded no batches in this epoch; it must yield at "
                                     "least one batch per epoch.")
                state.logs["train_loss"] = loss_sum / seen
                cbs("after_train", state)
                if valid is not None:
                    state.training = False
                    cbs("before_validate", state)
                    state.logs.update(self.evaluate(valid, prefix_loss="valid_loss"))
                    cbs("after_validate", state)
                state.logs["time"] = time.perf_counter() - start
                cbs("after_epoch", state)
                if state.stop_training:
                    break
        finally:
            cbs("after_fit", state)
        return state

    def evaluate(self, ds: tf.data.Dataset, prefix_loss: str = "loss") -> dict[str, float]:
        """Mean loss (weighted by batch size) and metric results over ``ds``."""
        for m in self.metrics:
            m.reset_state()
        loss_sum, seen = 0.0, 0
        for x, y in ds:
            bs = int(x.shape[0])
            loss_sum += float(self.eval_step(x, y)) * bs
            seen += bs
        if seen == 0:
            raise ValueError("the evaluation dataset yielded no batches.")
        out = {prefix_loss: loss_sum / seen}
        for m in self.metrics:
            out[m.name] = float(m.result())
        return out

    def predict(self, ds: tf.data.Dataset) -> np.ndarray:
        """Concatenated model outputs over ``ds`` (elements ``x`` or ``(x, y)``)."""
        outs = []
        for elem in ds:
            x = elem[0] if isinstance(elem, tuple) else elem
            outs.append(self.predict_step(x).numpy())
        if not outs:
            raise ValueError("the dataset passed to predict yielded no batches.")
        return np.concatenate(outs)
