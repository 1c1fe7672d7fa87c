"""The training setup a Learner is built with: probe the model, pick the loss, check the labels,
make the metrics and the class weights; all returned in one frozen :class:`TrainingSetup`.

Nothing here changes the model's weights or the caller's ``DataBundle``: the model is called once
(``training=False``) and the loss once, on zeros shaped like the data (no batch is read, so no
shuffle state moves). That builds the model and checks shapes, the class count and that the loss
is a scalar before anything trains.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..core.checks import cause_of, check_int, check_real
from ..core.internals import compile_loss, compile_metrics
from ..data.tasks import CLASSIFICATION, default_loss, default_metrics, metric_from_name
from ..inference.outputs import Decoding, activation_for
from .task import (
    check_from_logits,
    named_loss_for,
    output_kind,
    outputs_probabilities,
    resolve_task,
)

__all__ = ["TrainingSetup", "build_setup", "class_weight_vector", "probe_model"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingSetup:
    """What :func:`build_setup` decided.

    ``loss_fn``: the loss the step calls (Keras' ``CompileLoss`` with several outputs);
    ``multi_output``: the model returns several outputs; ``activation``: ``"softmax"`` /
    ``"sigmoid"`` when predictions turn logits into probabilities, else None; ``metrics`` and
    ``train_metric_objects`` (empty unless ``train_metrics=True``); ``n_classes``: the classes of
    a classification task (the data's, or the model's outputs when the data does not say; 2 for
    binary; the labels for multi-label), else None; ``class_weight``: one loss weight per class,
    or None; ``task``: what the model does with the data (:func:`~tflearner.training.task.
    resolve_task`: e.g. ``"binary"`` for 0/1 class ids and one sigmoid output);
    ``decoding``: the task, activation and decoding threshold predictions use (the threshold
    is settable: ``learn.threshold``).
    """

    loss_fn: Any
    multi_output: bool
    activation: str | None
    metrics: list
    train_metric_objects: list
    n_classes: int | None
    class_weight: np.ndarray | None
    task: str = "regression"
    decoding: Decoding | None = None



def _input_fix(model: keras.Model) -> str:
    """What the probe's input error suggests: a task that preprocesses only inside its own
    ``fit`` (KerasHub: ``preprocessor`` + ``preprocess_samples``) needs its data mapped first."""
    if getattr(model, "preprocessor", None) is not None and callable(
            getattr(model, "preprocess_samples", None)):
        return ("The model preprocesses its inputs only inside its own fit / predict (a KerasHub "
                "task); map the datasets through its preprocessor first: "
                "ds.map(model.preprocess_samples).")
    return "Make the model's input_shape match the data."

def build_setup(model: keras.Model, data: Any, loss_fn: Any = None, metrics: Any = None,
                loss_weights: Any = None, train_metrics: bool = False,
                class_weight: dict | None = None,
                scope: Callable[[], Any] | None = None) -> TrainingSetup:
    """Probe ``model`` on ``data``'s spec and build the setup (see the module doc); metric
    objects are made inside ``scope()`` (the strategy's), when given."""
    x_spec, y_spec = data.train.element_spec[:2]
    out = probe_model(model, x_spec)
    multi = tf.nest.is_nested(out)
    if multi:
        loss_fn = _multi_output_loss(model, data, y_spec, out, loss_fn, loss_weights,
                                     train_metrics)
        task, probabilities, n_classes = data.task, False, data.c
    else:
        if loss_weights is not None or data.task == "multi_output":
            raise ValueError(
                "The model has one output, but " + ("loss_weights was given" if
                loss_weights is not None else "the labels y are a list/dict") + "; both "
                "belong to models with several outputs. Drop it, or give y as one tensor.")
        width, kind = int(out.shape[-1]) if out.ndim >= 2 else 1, output_kind(model, out)
        task = resolve_task(data, y_spec, width, kind, loss_fn)
        n_classes = _check_labels(data, task, y_spec, width)
        probabilities = outputs_probabilities(task, kind)
        loss_fn = _single_output_loss(model, task, kind, loss_fn, from_logits=not probabilities)
    probe = _check_loss(loss_fn, y_spec, out)
    from_logits = bool(getattr(loss_fn, "from_logits", not probabilities))
    with scope() if scope is not None else contextlib.nullcontext():
        made = _metrics(model, task, from_logits, metrics, multi, probe)
        train_objects = _train_metric_objects(made) if train_metrics else []
    activation = None if multi else activation_for(task, loss_fn, probabilities)
    return TrainingSetup(
        loss_fn=loss_fn, multi_output=multi, activation=activation, metrics=made,
        train_metric_objects=train_objects, n_classes=n_classes,
        class_weight=class_weight_vector(class_weight, task, n_classes), task=task,
        decoding=Decoding(task, activation))


def _zeros(spec: Any, n: int) -> Any:
    """A batch of ``n`` zeros for a (nested) spec; unknown example dimensions are 1."""
    return tf.nest.map_structure(
        lambda s: tf.zeros([n] + [d if d is not None else 1 for d in s.shape[1:]], s.dtype), spec)


def probe_model(model: keras.Model, x_spec: Any) -> Any:
    """The model's output (numpy) on a zeros batch of two built from ``x_spec``; a ValueError
    with the shapes that matter when the model cannot take the data's inputs."""
    model_in = getattr(model, "inputs", None)
    if not tf.nest.is_nested(x_spec) and model_in and len(model_in) == 1 and (
            model_in[0].shape is not None):
        want = len(model_in[0].shape)
        if x_spec.shape.rank is not None and x_spec.shape.rank == want - 1:
            raise ValueError(
                f"data.train looks unbatched: its x has shape {x_spec.shape} but the model "
                f"expects batches of rank {want} ({tuple(model_in[0].shape)}). Call "
                ".batch(batch_size) on the dataset.")
    try:
        out = model(_zeros(x_spec, 2), training=False)
    except Exception as exc:  # noqa: BLE001 - re-raised with the shapes that matter
        said = cause_of(exc)
        if tf.nest.is_nested(x_spec):
            shapes = tf.nest.map_structure(lambda s: tuple(s.shape[1:]), x_spec)
            raise ValueError(
                f"The model cannot take the data's inputs: x is {shapes} (example shapes); "
                f"the model's inputs are {[tuple(i.shape[1:]) for i in model_in or []]} "
                f"named {list(getattr(model, 'input_names', []) or [])}. Give x as a "
                "tuple in the model's input order or a dict keyed by input name; the model "
                f"said: {said}") from None
        raise ValueError(
            f"The model cannot take the data's inputs: x has example shape "
            f"{tuple(x_spec.shape[1:])} and dtype {x_spec.dtype.name}; the model said: "
            f"{said}. {_input_fix(model)}") from None
    if tf.nest.is_nested(x_spec) or isinstance(out, (list, tuple, dict)):
        return tf.nest.map_structure(np.asarray, out)
    return np.asarray(out)


def _single_output_loss(model: keras.Model, task: str, kind: str | None, loss_fn: Any,
                        from_logits: bool) -> Any:
    """``loss_fn`` as a callable: the task's default, or a cross-entropy by name (``from_logits``
    as the model's last activation says, for both), another name, per-output lists (Keras'
    ``CompileLoss``) or the callable itself (a cross-entropy object whose ``from_logits``
    contradicts the last layer is warned about)."""
    if loss_fn is None:
        loss_fn = default_loss(task, from_logits=from_logits)
        log.info("loss: %s(from_logits=%s)", type(loss_fn).__name__, from_logits)
    elif isinstance(loss_fn, (list, tuple, dict)):
        loss_fn = compile_loss(loss_fn, None, list(model.output_names))
    elif isinstance(loss_fn, str):
        loss_fn = named_loss_for(loss_fn, task, kind)
    elif not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (y_true, y_pred) -> scalar, got "
                        f"{type(loss_fn).__name__}: {loss_fn!r}; pass a Keras loss name (e.g. "
                        "'sparse_categorical_crossentropy'), a keras.losses.Loss, a function, "
                        "or None for the task's default.")
    else:
        check_from_logits(loss_fn, task, model)
    return loss_fn


def _multi_output_loss(model: keras.Model, data: Any, y_spec: Any, out: Any, loss_fn: Any,
                       loss_weights: Any, train_metrics: Any) -> Any:
    """Keras' CompileLoss for a model with several outputs (checked against ``y``)."""
    names, n_out = list(model.output_names), len(tf.nest.flatten(out))
    if not tf.nest.is_nested(y_spec):
        raise ValueError(
            f"The model returns {n_out} outputs ({names}) but the labels y are one tensor; give "
            "y as a list (in output order) or a dict keyed by output name, e.g. "
            f"{{{', '.join(repr(n) + ': ...' for n in names)}}}.")
    if len(tf.nest.flatten(y_spec)) != n_out:
        raise ValueError(f"The model returns {n_out} outputs ({names}) but y has "
                         f"{len(tf.nest.flatten(y_spec))} entries; give one label entry per "
                         "output.")
    if loss_fn is None:
        data.default_loss(from_logits=True)  # raises: one loss per output is needed
    if train_metrics is True:
        raise ValueError("train_metrics=True is not supported for models with several "
                         "outputs yet; leave it False.")
    if not isinstance(loss_fn, (list, tuple, dict)) and not callable(loss_fn):
        raise TypeError(f"loss_fn must be a list/dict with one loss per output, or one "
                        f"loss for all, got {type(loss_fn).__name__}: {loss_fn!r}.")
    if isinstance(loss_fn, (list, tuple)):
        loss_fn = list(loss_fn)
    return compile_loss(loss_fn, loss_weights, names)


def _check_labels(data: Any, task: str, y_spec: tf.TensorSpec, n_out: int) -> int | None:
    """Check the labels against the model's ``n_out`` outputs for ``task``; returns the class
    count of a classification task (the data's, else ``n_out``; 2 for binary), else None."""
    rank = y_spec.shape.rank
    one_per_example = rank == 1 or (rank == 2 and y_spec.shape[-1] == 1)
    if task == "regression" and n_out >= 2 and y_spec.dtype.is_floating and one_per_example:
        raise ValueError(
            f"The labels are {y_spec.dtype.name} of shape {tuple(y_spec.shape)}, one value "
            f"per example, so the data was taken for regression, but the model outputs "
            f"{n_out} values per example. If they are class ids, cast them to integers: "
            "DataBundle.from_arrays(x, y.astype('int64')) (or pass "
            "task='sparse_categorical'; for datasets: ds.map(lambda x, y: (x, tf.cast(y, "
            "tf.int64)))). For regression, give the model one output per target.")
    if task in ("binary", "multi_label"):
        return _check_sigmoid_labels(task, y_spec, n_out, one_per_example)
    if task not in ("sparse_categorical", "categorical"):
        return None
    if data.c is not None and data.c != n_out:
        binary = (" For binary classification with one output, leave loss_fn out or pass "
                  "loss_fn='binary_crossentropy'." if n_out == 1 and data.c == 2 else "")
        raise ValueError(
            f"The data has {data.c} classes but the model outputs {n_out} values per "
            f"example. Build the model with {data.c} outputs (e.g. "
            f"LeNet(num_classes={data.c})).{binary}")
    if task == "sparse_categorical" and not (y_spec.dtype.is_integer and one_per_example):
        raise ValueError(
            f"Sparse class labels must be integer tensors of shape (batch,) or "
            f"(batch, 1); got {y_spec}. For one-hot labels use task='categorical'.")
    if task == "categorical" and y_spec.shape[-1] != n_out:
        raise ValueError(f"One-hot labels have {y_spec.shape[-1]} columns but the model "
                         f"outputs {n_out}; they must match.")
    return n_out


def _check_sigmoid_labels(task: str, y_spec: tf.TensorSpec, n_out: int,
                          one_per_example: bool) -> int:
    """Binary: one output, one 0/1 label per example; multi-label: a 0/1 column per output."""
    if not (y_spec.dtype.is_integer or y_spec.dtype.is_floating or y_spec.dtype == tf.bool):
        raise ValueError(f"{task} labels must be 0/1 numbers, got {y_spec}.")
    if task == "binary":
        if n_out != 1:
            raise ValueError(
                f"A binary classifier (0/1 labels, a binary cross-entropy) has one output "
                f"per example, but the model outputs {n_out}; build it with Dense(1, "
                "activation='sigmoid') (or Dense(1) for logits), or give it 2 softmax "
                "outputs and sparse labels with loss_fn=None.")
        if not one_per_example:
            raise ValueError(f"Binary labels are one 0/1 value per example, shape (batch,) or "
                             f"(batch, 1); got {y_spec}. For several labels per example, "
                             "give the model one sigmoid output per label (multi-label).")
        return 2
    if y_spec.shape.rank == 2 and y_spec.shape[-1] == n_out:
        return n_out
    hint = (" These labels are one per example: for binary classification give the model one "
            "output (Dense(1, activation='sigmoid')); for one class of several, softmax "
            "outputs and loss_fn='sparse_categorical_crossentropy'." if one_per_example else "")
    raise ValueError(f"Multi-label targets are a 0/1 vector per example with one column per "
                     f"model output ({n_out}); got {y_spec}.{hint}")


def _check_loss(loss_fn: Any, y_spec: Any, out: Any) -> tuple[Any, Any]:
    """Call ``loss_fn`` on zero labels and the probe output: it must work and return a scalar.
    Returns that ``(labels, predictions)`` batch (it builds per-output metrics)."""
    y0 = _zeros(y_spec, len(tf.nest.flatten(out)[0]))
    out = tf.nest.map_structure(tf.constant, out)
    try:
        value = loss_fn(y0, out)
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"loss_fn={loss_fn!r} failed on a (labels, predictions) "
                         f"batch: {cause_of(exc)}") from None
    shape = tuple(getattr(value, "shape", ()))
    if shape != ():
        raise ValueError(
            f"loss_fn={loss_fn!r} must return a scalar (the batch mean), got shape "
            f"{shape}. Use a Keras loss with the default reduction, or reduce with "
            "tf.reduce_mean in your function.")
    return y0, out


def _metrics(model: keras.Model, task: str, from_logits: bool, metrics: Any, multi: bool,
             probe: tuple[Any, Any]) -> list[keras.metrics.Metric]:
    """The validation metrics: the task's defaults, names or Metric objects; with several
    outputs Keras' per-output container (logs named ``<output>_<metric>``)."""
    if multi:
        if metrics is None:
            return []
        if not isinstance(metrics, (list, tuple, dict)):
            raise TypeError(f"metrics must be a list with one entry per output (a list of "
                            f"metrics or None each) or a dict {{output name: [metrics]}}, "
                            f"as for model.compile, got {type(metrics).__name__}.")
        cm = compile_metrics(list(metrics) if isinstance(metrics, tuple) else metrics,
                             list(model.output_names))
        cm.build(*probe)
        return [cm]
    if metrics is None:
        return default_metrics(task, from_logits)
    if isinstance(metrics, (str, keras.metrics.Metric)):
        metrics = [metrics]
    if not isinstance(metrics, (list, tuple)):
        raise TypeError(f"metrics must be a list of names or keras.metrics.Metric, got "
                        f"{type(metrics).__name__}.")
    out = []
    for i, m in enumerate(metrics):
        if isinstance(m, str):
            out.append(metric_from_name(task, m, from_logits))
        elif isinstance(m, keras.metrics.Metric):
            out.append(m)
        else:
            raise TypeError(f"metrics[{i}] must be a metric name or keras.metrics.Metric, "
                            f"got {type(m).__name__}: {m!r}; e.g. metrics=['accuracy'] or "
                            "[keras.metrics.SparseCategoricalAccuracy()].")
    return out


def _train_metric_objects(metrics: list[keras.metrics.Metric]) -> list[keras.metrics.Metric]:
    """A fresh copy of each metric (``from_config(get_config())``) for the training batches;
    refuses names whose ``train_<name>`` column would collide."""
    names = [m.name for m in metrics]
    for i, name in enumerate(names):
        if name == "loss" or names.count(name) > 1 or f"train_{name}" in names:
            raise ValueError(
                f"metrics[{i}] is named {name!r}, so with train_metrics=True its column "
                f"train_{name} would collide with train_loss or another metric's; give "
                "each metric a distinct name (name=...) other than 'loss'.")
    out = []
    for i, m in enumerate(metrics):
        try:
            out.append(type(m).from_config(m.get_config()))
        except Exception as exc:  # noqa: BLE001 - re-raised with the fix
            raise TypeError(
                f"metrics[{i}] ({type(m).__name__} {m.name!r}) cannot be copied for "
                f"train_metrics=True: type(m).from_config(m.get_config()) failed "
                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); give "
                "it a get_config() that rebuilds it, or pass train_metrics=False.") from None
    return out


def class_weight_vector(class_weight: Any, task: str, n_classes: int | None
                        ) -> np.ndarray | None:
    """Keras' ``class_weight`` dict ``{class index: weight}`` as one weight per class
    (classes it leaves out weigh 1, as in Keras); None for None."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class index: weight}}, got "
                        f"{type(class_weight).__name__}: {class_weight!r}.")
    if task == "multi_label":
        raise ValueError("class_weight weighs each example by its one class, but multi-label "
                         "examples have several; weigh them with sample_weight (from_arrays) "
                         "or a third (x, y, w) dataset element instead.")
    if task not in CLASSIFICATION:
        raise ValueError(f"class_weight needs a classification task, but the data has "
                         f"task={task!r}; use sample weights instead.")
    vec = np.ones(n_classes, np.float32)
    for k, v in class_weight.items():
        k = check_int("class_weight key", k, 0, n_classes - 1,
                      fix=f"keys are class indices 0..{n_classes - 1}.")
        vec[k] = check_real(f"class_weight[{k}]", v, 0.0, fix="a weight >= 0, e.g. 2.0.")
    return vec
