"""From raw model outputs to what users read: probabilities, decoded classes, per-item losses.

Pure numpy, except :func:`per_item_losses`, which calls the Learner's loss. The activation is the
loss's, as in fastai: a classifier trained on logits (``from_logits=True``) gets a softmax (one
class per example) or a sigmoid (binary, multi-label); one that outputs probabilities (or a
regression) gets its outputs as they are. Decoding (:class:`Decoding`, :func:`decode`): the
argmax for one class per example; ``probability > threshold`` (Keras' ``BinaryAccuracy``
rule, default 0.5) for binary (one 0/1 per item) and multi-label (a 0/1 per label).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..core.checks import check_real
from ..data.tasks import CLASSIFICATION, SIGMOID_TASKS, SINGLE_LABEL

__all__ = ["ACTIVATIONS", "CLASSIFICATION", "SIGMOID_TASKS", "SINGLE_LABEL", "DEFAULT_THRESHOLD",
           "Decoding", "check_threshold", "activation_for", "activate", "decode", "per_item_losses",
           "class_targets", "two_class", "assemble", "check_same_order"]

#: Output activations an export records: ``"softmax"`` / ``"sigmoid"`` (logits in) or None
#: (the outputs as they are).
ACTIVATIONS = ("softmax", "sigmoid", None)
#: The probability above which a binary or multi-label output decodes to 1.
DEFAULT_THRESHOLD = 0.5


def check_threshold(value: Any) -> float:
    return check_real("threshold", value, 0.0, 1.0, low_open=True, high_open=True,
                      fix="a probability strictly between 0 and 1, e.g. threshold=0.5.")


class Decoding:
    """How one output becomes an answer: the ``task``, the output ``activation`` and, for
    binary and multi-label tasks, the ``threshold`` (settable; checked in (0, 1))."""

    def __init__(self, task: str, activation: str | None,
                 threshold: float = DEFAULT_THRESHOLD) -> None:
        self.task, self.activation = task, activation
        self.threshold = threshold

    @property
    def threshold(self) -> float:
        return self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self._threshold = check_threshold(value)

    def __repr__(self) -> str:
        return (f"Decoding(task={self.task!r}, activation={self.activation!r}, "
                f"threshold={self._threshold:g})")


def check_same_order(first: np.ndarray, again: np.ndarray, what: str) -> None:
    """Refuse a dataset whose second pass yielded other labels at the same positions than its
    first (``first``, ``again``: the labels of the two passes, or equal-length prefixes): it
    reshuffles, so results matched by position between passes would be wrong."""
    first, again = np.asarray(first), np.asarray(again)
    if first.shape != again.shape or not np.array_equal(first, again):
        raise ValueError("the dataset yielded other labels at the same positions on a second "
                         f"pass (is it shuffled?); {what} needs a dataset with a fixed order, "
                         "such as learn.data.valid.")


def activation_for(task: str, loss_fn: Any, outputs_probabilities: bool) -> str | None:
    """``"softmax"`` (one class per example) or ``"sigmoid"`` (binary, multi-label) for a
    classifier whose outputs are logits, else None.

    A loss with a ``from_logits`` attribute (Keras' cross-entropies) decides; otherwise the
    model's outputs do (``outputs_probabilities``)."""
    if task not in CLASSIFICATION:
        return None
    from_logits = getattr(loss_fn, "from_logits", None)
    if from_logits is None:
        from_logits = not outputs_probabilities
    if not from_logits:
        return None
    return "sigmoid" if task in SIGMOID_TASKS else "softmax"


def activate(out: np.ndarray, activation: str | None) -> np.ndarray:
    """``out`` with ``activation`` applied (a softmax over the last axis; a sigmoid element by
    element), float32."""
    out = np.asarray(out, np.float32)
    if activation is None:
        return out
    if activation == "sigmoid":
        e = np.exp(-np.abs(out))  # stable on both sides
        return np.where(out >= 0, 1 / (1 + e), e / (1 + e)).astype(np.float32)
    z = out - out.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def decode(probs: np.ndarray, task: str, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Class indices (argmax) for one class per example; for binary ``(n,)`` and multi-label
    ``(n, k)`` int64 0/1 (``probs > threshold``); the outputs themselves otherwise."""
    if task in SINGLE_LABEL:
        return np.argmax(probs, axis=-1)
    if task == "binary":
        return (np.asarray(probs).reshape(len(probs), -1)[:, 0] > threshold).astype(np.int64)
    if task == "multi_label":
        return (np.asarray(probs) > threshold).astype(np.int64)
    return probs


def two_class(probs: np.ndarray) -> np.ndarray:
    """A binary classifier's ``(n, 1)`` probabilities as ``(n, 2)``: ``[1 - p, p]``."""
    p = np.asarray(probs, np.float32).reshape(len(probs), -1)[:, :1]
    return np.concatenate([1 - p, p], axis=1)


def class_targets(targets: np.ndarray) -> np.ndarray:
    """Class indices from sparse ``(n,)`` / ``(n, 1)`` or one-hot ``(n, c)`` targets."""
    t = np.asarray(targets)
    if t.ndim == 2 and t.shape[1] > 1:
        return np.argmax(t, axis=1)
    return t.reshape(len(t)).astype(np.int64)


def _unreduced(loss_fn: Any) -> Any | None:
    """A copy of a Keras loss that returns one value per item, or None if it has no config."""
    if not isinstance(loss_fn, keras.losses.Loss):
        return None
    try:
        return type(loss_fn).from_config({**loss_fn.get_config(), "reduction": None})
    except (TypeError, ValueError, KeyError):
        return None


def per_item_losses(loss_fn: Any, targets: np.ndarray, out: np.ndarray,
                    batch_size: int = 1024) -> np.ndarray:
    """The loss of each item, ``(n,)`` float32: ``loss_fn`` with its reduction turned off when
    it is a Keras loss, otherwise ``loss_fn`` called on each item alone (vectorised). The
    model's regularisation losses are not included (as in fastai), nor sample weights: with
    weights ``w``, ``validate()``'s loss is Keras' weighted mean ``mean(w * losses)`` (divided
    by the item count, not by ``sum(w)``); without, it is ``mean(losses)``."""
    fn = _unreduced(loss_fn)
    pieces = []
    for i in range(0, len(out), batch_size):
        y = tf.constant(targets[i:i + batch_size])
        p = tf.constant(np.asarray(out[i:i + batch_size], np.float32))
        if fn is not None:
            v = fn(y, p)
        else:
            v = tf.vectorized_map(lambda a: loss_fn(a[0][None], a[1][None]), (y, p))
        v = np.asarray(v, np.float32)
        pieces.append(v.reshape(len(p), -1).mean(axis=1) if v.ndim > 1 else v.reshape(len(p)))
    return np.concatenate(pieces)


def assemble(out: np.ndarray, targets: np.ndarray | None, inputs: np.ndarray | None, *,
             task: str, activation: str | None, loss_fn: Any, with_input: bool,
             with_loss: bool, with_decoded: bool, threshold: float = DEFAULT_THRESHOLD) -> tuple:
    """``([inputs,] probs, targets[, decoded][, losses])`` as ``Learner.get_preds`` returns."""
    probs = activate(out, activation)
    res: list[Any] = [probs, targets]
    if with_decoded:
        res.append(decode(probs, task, threshold))
    if with_loss:
        if targets is None:
            raise ValueError("with_loss=True needs targets, but the dataset yields inputs only; "
                             "pass (x, y) batches (e.g. data.test_dl(items, labels=...)).")
        res.append(per_item_losses(loss_fn, targets, out))
    if with_input:
        res.insert(0, inputs)
    return tuple(res)
