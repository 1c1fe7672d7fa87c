"""Prediction from raw items: :class:`InferenceLearner`, what ``load_learner`` returns and what
``Learner.predict`` runs through.

An ``InferenceLearner`` holds a model and only what inference needs (task, classes, the data's
preprocessing, the input spec, the output activation); no optimizer, no training data. The
Learner builds one over its own model, so ``learn.predict(item)`` and
``load_learner(path).predict(item)`` run the same code on the same weights and agree exactly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..core.checks import check_bool, check_choice, check_int
from ..data.items import item_input, items_dataset
from .outputs import (
    ACTIVATIONS,
    CLASSIFICATION,
    DEFAULT_THRESHOLD,
    Decoding,
    activate,
    assemble,
    decode,
)

__all__ = ["InferenceLearner"]


class InferenceLearner:
    """A trained ``model`` ready to predict raw items (see the module docstring).

    ``task`` one of the DataBundle tasks; ``classes`` the class names (None: indices);
    ``preprocess`` the data's preprocessing (None: inputs are given as the model takes them);
    ``input_shape`` / ``x_dtype`` one example's shape and dtype; ``activation`` ``"softmax"`` /
    ``"sigmoid"`` for a model with logit outputs, else None; ``threshold``: binary and
    multi-label outputs decode to 1 above it (settable: ``inf.threshold = 0.3``); ``decoding``:
    a :class:`~tflearner.inference.outputs.Decoding` to share (the Learner's: its task,
    activation and threshold; then ``task`` must match and the other two are its);
    ``loss_fn`` only for ``get_preds(with_loss=True)``; ``reading``: a context-manager factory
    every forward pass runs in (a Learner's view reads a schedule-free model at its averaged
    point; see :mod:`tflearner.training.averaging`).
    """

    def __init__(self, model: keras.Model, *, task: str, input_shape: tuple,
                 x_dtype: str = "float32", classes: tuple[str, ...] | None = None,
                 preprocess: Any = None, activation: str | None = None, loss_fn: Any = None,
                 batch_size: int = 64, reading: Callable[[], Any] | None = None,
                 threshold: float = DEFAULT_THRESHOLD, decoding: Decoding | None = None) -> None:
        self.model, self.task = model, task
        self.reading = reading or contextlib.nullcontext
        self.classes = None if classes is None else tuple(classes)
        self.preprocess, self.loss_fn = preprocess, loss_fn
        if decoding is None:
            decoding = Decoding(task, check_choice("activation", activation, ACTIVATIONS[:-1],
                                                   allow_none=True), threshold)
        elif decoding.task != task:
            raise ValueError(f"decoding is for task {decoding.task!r}, not {task!r}.")
        self.decoding = decoding
        self.input_shape = tuple(None if d is None else int(d) for d in input_shape)
        self.x_dtype = tf.as_dtype(x_dtype).name
        self.batch_size = check_int("batch_size", batch_size, 1)
        spec = tf.TensorSpec((None, *self.input_shape), self.x_dtype)
        # one trace for every batch size: the same function for one item and for a dataset
        self._forward = tf.function(lambda x: self.model(x, training=False),
                                    input_signature=[spec], reduce_retracing=True)

    activation = property(lambda self: self.decoding.activation,
                          doc='"softmax" / "sigmoid" for logit outputs, else None.')
    threshold = property(lambda self: self.decoding.threshold,
                         lambda self, v: setattr(self.decoding, "threshold", v),
                         doc="Binary / multi-label: the probability above which a label is 1.")

    # ---- items in ----------------------------------------------------------------------------
    def test_dl(self, items: Any, labels: Any = None, batch_size: int | None = None
                ) -> tf.data.Dataset:
        """Batches of model inputs from raw ``items`` (as ``DataBundle.test_dl``; labels are
        class indices here)."""
        bs = self.batch_size if batch_size is None else check_int("batch_size", batch_size, 1)
        return items_dataset(items, self.preprocess, self.input_shape, self.x_dtype, bs, labels)

    def forward(self, x: Any) -> np.ndarray:
        """Raw model outputs for one batch of model inputs (float32)."""
        with self.reading():
            out = self._forward(tf.convert_to_tensor(x, self.x_dtype))
        if isinstance(out, (list, tuple, dict)):
            raise ValueError("the model returns several outputs; predict supports one.")
        return np.asarray(tf.cast(out, tf.float32))

    def predict(self, item: Any) -> tuple[Any, int | None, np.ndarray]:
        """``(label, index, probs)`` for one raw item: an image file path, a PIL image or raw
        pixels for image data; one raw example (as the data was built from) for array data.

        The data's preprocessing is applied, so never pass an already-scaled input where raw
        pixels belong (it is refused by dtype). ``label`` is the class name (the index when
        the data has no names). Binary: ``index`` is 1 when the probability ``probs[0]`` is
        above :attr:`threshold`. Multi-label: ``(labels, mask, probs)``, the list of labels whose
        probability is above it and the boolean mask of them (fastai's order). For regression:
        ``(outputs, None, outputs)``.
        """
        x = item_input(item, self.preprocess, self.input_shape, self.x_dtype)
        probs = activate(self.forward(x[None]), self.activation)[0]
        if self.task not in CLASSIFICATION:
            return probs, None, probs
        names = self.classes if self.classes is not None else range(max(len(probs), 2))
        if self.task == "multi_label":
            mask = decode(probs[None], self.task, self.threshold)[0].astype(bool)
            return [names[i] for i in np.flatnonzero(mask)], mask, probs
        index = int(decode(probs[None], self.task, self.threshold)[0])
        return names[index], index, probs

    def get_preds(self, ds: Any, with_input: bool = False, with_loss: bool = False,
                  with_decoded: bool = False) -> tuple:
        """``([inputs,] probs, targets[, decoded][, losses])`` over ``ds``: a
        ``tf.data.Dataset`` of model-input batches ``x`` or ``(x, y)``, or raw items (as
        :meth:`test_dl`). ``targets`` is None for a dataset without labels."""
        for name, v in (("with_input", with_input), ("with_loss", with_loss),
                        ("with_decoded", with_decoded)):
            check_bool(name, v)
        if not isinstance(ds, tf.data.Dataset):
            ds = self.test_dl(ds)
        if with_loss and self.loss_fn is None:
            raise ValueError("with_loss=True needs a loss; pass loss_fn= to load_learner (or "
                             "use the Learner).")
        outs, ys, xs = [], [], []
        for elem in ds:
            x = elem[0] if isinstance(elem, tuple) else elem
            outs.append(self.forward(x))
            if isinstance(elem, tuple):
                ys.append(np.asarray(elem[1]))
            if with_input:
                xs.append(np.asarray(x))
        if not outs:
            raise ValueError("ds yielded no batches.")
        return assemble(np.concatenate(outs), np.concatenate(ys) if ys else None,
                        np.concatenate(xs) if with_input else None, task=self.task,
                        activation=self.activation, loss_fn=self.loss_fn,
                        with_input=with_input, with_loss=with_loss, with_decoded=with_decoded,
                        threshold=self.threshold)

    def __repr__(self) -> str:
        return (f"InferenceLearner(model={self.model.name!r}, task={self.task!r}, "
                f"classes={self.classes}, input_shape={self.input_shape})")
