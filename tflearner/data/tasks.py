"""The tasks a DataBundle and a Learner know, with their default loss and metrics.

* ``"sparse_categorical"``: one class id per example, a softmax (or logits) head;
* ``"categorical"``: one-hot rows, a softmax head;
* ``"binary"``: one 0/1 label per example (integer or float), one output (``Dense(1,
  activation="sigmoid")`` or a logit);
* ``"multi_label"``: a 0/1 vector of ``k`` labels per example, ``k`` sigmoid (or logit)
  outputs (fastai's ``MultiCategoryBlock``);
* ``"regression"``; ``"multi_output"`` (``y`` a list / dict, one entry per model output).

The defaults follow ``model.compile``: cross-entropies, ``accuracy`` as the metric Keras picks
for the task (``BinaryAccuracy`` for binary and multi-label: each label judged on its own and
averaged, fastai's ``accuracy_multi``), MSE and MAE for regression. For a model whose outputs
are logits the binary metrics threshold the logit at 0 (a probability of 0.5), where Keras would
compare the logit with 0.5.
"""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["TASKS", "SINGLE_LABEL", "SIGMOID_TASKS", "CLASSIFICATION", "default_loss",
           "default_metrics", "metric_from_name"]

#: Tasks a DataBundle can describe, each with its default loss and metrics.
TASKS = ("sparse_categorical", "categorical", "regression", "multi_output", "binary",
         "multi_label")
#: One class per example, decoded by argmax.
SINGLE_LABEL = ("sparse_categorical", "categorical")
#: Independent 0/1 labels, decoded by a threshold on a sigmoid.
SIGMOID_TASKS = ("binary", "multi_label")
CLASSIFICATION = SINGLE_LABEL + SIGMOID_TASKS

_ACCURACY = ("accuracy", "acc", "binary_accuracy")


def default_loss(task: str, from_logits: bool) -> keras.losses.Loss:
    """The loss ``model.compile`` users give this task (``from_logits`` for cross-entropies)."""
    if task == "sparse_categorical":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    if task == "categorical":
        return keras.losses.CategoricalCrossentropy(from_logits=from_logits)
    if task in SIGMOID_TASKS:
        return keras.losses.BinaryCrossentropy(from_logits=from_logits)
    if task == "multi_output":
        raise ValueError(
            "The labels y are a list/dict (one entry per model output), so tflearner cannot "
            "pick one loss: pass loss_fn as a list or dict with a loss per output, as to "
            "model.compile, e.g. loss_fn={'class': 'sparse_categorical_crossentropy', "
            "'box': 'mse'} (and loss_weights=... if they should not weigh alike).")
    return keras.losses.MeanSquaredError()


def default_metrics(task: str, from_logits: bool = False) -> list[keras.metrics.Metric]:
    """Fresh metric objects: accuracy for classification, MAE for regression, none for several
    outputs (pass them per output)."""
    if task == "multi_output":
        return []
    return [metric_from_name(task, "accuracy" if task != "regression" else "mae", from_logits)]


def metric_from_name(task: str, name: str, from_logits: bool = False) -> keras.metrics.Metric:
    """Resolve a metric name the way ``model.compile`` does for ``task``; binary and multi-label
    accuracy and AUC read logits when ``from_logits``."""
    if name in _ACCURACY[:2] and task == "sparse_categorical":
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    if name in _ACCURACY[:2] and task == "categorical":
        return keras.metrics.CategoricalAccuracy(name="accuracy")
    if name in _ACCURACY and task in SIGMOID_TASKS:
        return keras.metrics.BinaryAccuracy(name="accuracy" if name != "binary_accuracy"
                                            else name, threshold=0.0 if from_logits else 0.5)
    if name == "auc" and task in SIGMOID_TASKS:
        return keras.metrics.AUC(name=name, from_logits=from_logits,
                                 multi_label=task == "multi_label")
    try:
        metric = keras.metrics.get(name)
    except ValueError:
        raise ValueError(
            f"metrics entry {name!r} is not a Keras metric name; pass e.g. 'accuracy', "
            "'mae', or a keras.metrics.Metric instance."
        ) from None
    # logs use the name asked for, as with model.compile(metrics=[...])
    if isinstance(metric, type):
        return metric(name=name)
    if isinstance(metric, keras.metrics.Metric):
        return type(metric).from_config({**metric.get_config(), "name": name})
    return keras.metrics.MeanMetricWrapper(metric, name=name)


def check_task_labels(task: str, y: Any) -> Any:
    """``y`` (a numpy array) for ``task="binary"`` / ``"multi_label"``: 0/1 values (any number
    in [0, 1] for soft labels), binary as ``(n,)``, multi-label as ``(n, k)`` float32."""
    import numpy as np

    y = np.asarray(y)
    if task == "binary" and y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    want = "(n,) or (n, 1)" if task == "binary" else "(n, k) with one column per label"
    if (task == "binary" and y.ndim != 1) or (task == "multi_label" and y.ndim != 2):
        raise ValueError(f"task={task!r} needs labels of shape {want}, got shape {y.shape}.")
    if y.dtype.kind not in "biuf" or (y.size and (
            not np.all(np.isfinite(y)) or y.min() < 0 or y.max() > 1)):
        raise ValueError(f"task={task!r} needs 0/1 labels (or probabilities in [0, 1]), got "
                         f"dtype {y.dtype.name}" + (f" with values in [{y.min()}, {y.max()}]"
                                                    if y.dtype.kind in "iuf" and y.size else "")
                         + ".")
    if task == "multi_label" or y.dtype.kind in "bf":
        return y.astype(np.float32)
    return y.astype(np.int64)
