"""Which task a model, its data and its loss describe, and whether the model outputs logits.

The data alone cannot tell a binary classifier from a two-class softmax one (0/1 labels fit
both), nor multi-label rows from one-hot rows: the model's output width and last activation and
the loss decide (:func:`resolve_task`):

* the data's own ``task="binary"`` / ``"multi_label"`` wins;
* a binary cross-entropy loss (a name, ``keras.losses.BinaryCrossentropy`` /
  ``BinaryFocalCrossentropy`` or their functions) makes it binary with one output, multi-label
  with ``k``;
* with no loss given: class ids with at most 2 classes and one output are binary; 0/1 rows
  (``"categorical"``) under a sigmoid are multi-label (under logits they stay one class per
  row, with a warning when only the label spec said so: it cannot tell one-hot rows from
  multi-label ones);
* anything else keeps the data's task.

:func:`output_kind` reads the model's last layer (``"softmax"``, ``"sigmoid"``, ``"linear"``);
where it does not say (a subclassed model), the probe's outputs on zeros are read: rows that
are non-negative and sum to 1 are a softmax's, values strictly inside (0, 1) a sigmoid's.
:func:`named_loss_for` builds the cross-entropies given by name with ``from_logits`` from that,
as the default loss is built; :func:`check_from_logits` warns when a loss object says otherwise.
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np

from ..data.tasks import SIGMOID_TASKS, SINGLE_LABEL
from .losses import FunctionLoss, named_loss

__all__ = ["BINARY_LOSS_NAMES", "resolve_task", "output_kind", "outputs_probabilities",
           "named_loss_for", "check_from_logits", "is_binary_loss"]

#: Loss names that mean independent sigmoid outputs.
BINARY_LOSS_NAMES = ("binary_crossentropy", "bce", "binary_focal_crossentropy")
_CROSS_ENTROPIES = {
    "binary_crossentropy": keras.losses.BinaryCrossentropy,
    "bce": keras.losses.BinaryCrossentropy,
    "binary_focal_crossentropy": keras.losses.BinaryFocalCrossentropy,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
}
_BINARY_TYPES = (keras.losses.BinaryCrossentropy, keras.losses.BinaryFocalCrossentropy)
_BINARY_FUNCTIONS = (keras.losses.binary_crossentropy, keras.losses.binary_focal_crossentropy)


def is_binary_loss(loss_fn: Any) -> bool:
    """A binary cross-entropy given by name, class instance or Keras function."""
    if isinstance(loss_fn, str):
        return loss_fn in BINARY_LOSS_NAMES
    if isinstance(loss_fn, FunctionLoss):
        loss_fn = loss_fn.fn
    return isinstance(loss_fn, _BINARY_TYPES) or any(loss_fn is f for f in _BINARY_FUNCTIONS)


def output_kind(model: keras.Model, probe_out: np.ndarray) -> str | None:
    """``"softmax"``, ``"sigmoid"`` or ``"linear"`` from the model's last layer; from the probe
    output when the layer does not say (``"softmax"`` / ``"sigmoid"`` by their value ranges),
    else None."""
    last = model.layers[-1] if getattr(model, "layers", None) else None
    if isinstance(last, keras.layers.Softmax):
        return "softmax"
    act = getattr(last, "activation", None)
    if act is not None:
        name = getattr(act, "__name__", "")
        return name if name in ("softmax", "sigmoid") else "linear"
    rows = probe_out.reshape(len(probe_out), -1)
    if rows.shape[1] > 1 and np.all(rows >= 0) and np.allclose(rows.sum(-1), 1.0, atol=1e-4):
        return "softmax"
    if np.all((rows > 0) & (rows < 1)):
        return "sigmoid"
    return None


def outputs_probabilities(task: str, kind: str | None) -> bool:
    """Whether the outputs are already probabilities for ``task`` (so cross-entropies take
    ``from_logits=False``): a softmax for one class per example, a sigmoid for 0/1 labels."""
    return kind == ("sigmoid" if task in SIGMOID_TASKS else "softmax")


def resolve_task(data: Any, y_spec: Any, width: int, kind: str | None, loss_fn: Any) -> str:
    """The task of a one-output model (see the module doc)."""
    task = data.task
    if task in SIGMOID_TASKS or task == "multi_output":
        return task
    if is_binary_loss(loss_fn):
        return "binary" if width == 1 else "multi_label"
    if loss_fn is not None:
        return task
    if task == "sparse_categorical" and width == 1 and (data.c is None or data.c <= 2):
        return "binary"
    if task == "categorical" and kind == "sigmoid":
        return "multi_label"
    if task == "categorical" and kind not in ("softmax", "sigmoid") and data.meta.get(
            "task_inferred"):
        warnings.warn(
            "the labels are rows of numbers and the model's last layer has no softmax or "
            "sigmoid, so each row is taken for one class (softmax cross-entropy on logits). "
            "If an example can have several labels, pass task='multi_label' to the DataBundle "
            "(or loss_fn='binary_crossentropy'); pass task='categorical' to keep this without "
            "the warning.", stacklevel=4)
    if task == "regression" and kind == "sigmoid" and y_spec.dtype.is_floating:
        warnings.warn(
            "the model ends in a sigmoid and the labels are floats, so the data is taken for "
            "regression (MSE loss, MAE metric). For 0/1 labels (binary or multi-label "
            "classification) pass loss_fn='binary_crossentropy' or build the data with "
            "task='binary' / 'multi_label'; pass task='regression' to keep this without the "
            "warning.", stacklevel=4)
    return task


def named_loss_for(name: str, task: str, kind: str | None) -> keras.losses.Loss:
    """A loss given by name, as ``model.compile`` takes it; a cross-entropy gets
    ``from_logits`` from the model's outputs, as the default loss does."""
    cls = _CROSS_ENTROPIES.get(name)
    if cls is None:
        return named_loss(name)
    probabilities = outputs_probabilities(task, kind) if kind is not None else True
    return cls(from_logits=not probabilities)


def check_from_logits(loss_fn: Any, task: str, model: keras.Model) -> None:
    """Warn when a cross-entropy object's ``from_logits`` contradicts the model's last layer
    (a sigmoid or softmax read as logits, or a linear layer's logits read as probabilities);
    silent where the last layer does not say."""
    from_logits = getattr(loss_fn, "from_logits", None)
    last = model.layers[-1] if getattr(model, "layers", None) else None
    if (from_logits is None or task not in SIGMOID_TASKS + SINGLE_LABEL or last is None or (
            getattr(last, "activation", None) is None
            and not isinstance(last, keras.layers.Softmax))):
        return
    kind = output_kind(model, np.zeros((1, 1)))
    if from_logits and kind in ("sigmoid", "softmax"):
        said = f"has a {kind} activation, so its outputs are probabilities"
    elif not from_logits and kind == "linear":
        said = "has no activation, so its outputs are logits"
    else:
        return
    warnings.warn(
        f"loss_fn={type(loss_fn).__name__}(from_logits={bool(from_logits)}) but the model's "
        f"last layer ({last.name!r}) {said}: build the loss with from_logits="
        f"{not from_logits}, or give it by name (e.g. '{_name_of(loss_fn)}') and tflearner "
        "reads the layer.", stacklevel=4)


def _name_of(loss_fn: Any) -> str:
    for name, cls in _CROSS_ENTROPIES.items():
        if type(loss_fn) is cls:
            return name
    return "binary_crossentropy"
