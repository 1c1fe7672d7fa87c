"""The Learner: a Keras model, a DataBundle, a loss, an optimizer and the one training loop."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .callbacks.checkpoint import CheckpointCallback, load_checkpoint
from .callbacks.keras_adapter import KerasCallbacks, check_no_lr_callbacks
from .callbacks.progress import ProgressCallback, SweepProgress
from .callbacks.recorder import Recorder
from .callbacks.scheduler import ParamScheduler
from .core.checks import check_bool, check_int, check_positive, check_real
from .core.contract import StopLimits
from .core.events import Callback, CallbackList
from .core.internals import compile_loss, compile_metrics, raw_iterations, variable_strategy
from .core.precision import apply_policy, check_policy, model_policy
from .core.snapshot import Snapshot, flatten_state, preserved, resolve_where
from .core.state_io import assign_state, read_state, schedule_hash, write_state
from .data.bundle import DataBundle
from .data.show import check_images
from .inference.export import export as export_folder
from .inference.interpret import fetch_inputs, show_results
from .inference.outputs import activation_for, assemble
from .inference.predictor import InferenceLearner
from .inference.tta import augmented, tta_mix
from .loop.chunks import STEPS_PER_EXECUTION, check_steps_per_execution
from .loop.train_loop import TrainLoop, is_default_strategy
from .lr_finder.finder import (
    DEFAULT_SUGGESTIONS,
    STOP_REASONS,
    LRFinder,
    above_divergence,
    check_sweep_args,
    collapse_accumulated,
    compute_suggestions,
    resolve_suggesters,
    sweep_limits,
)
from .lr_finder.repeats import REPEAT_EPOCH_OFFSET
from .models import BatchNormMomentumWarning, unconverged_batchnorm
from .optim.accumulate import accumulation_steps, batches_for_updates, updates_in
from .optim.factory import get_optimizer
from .optim.group_hypers import GroupHypers
from .optim.groups import check_groups, group_lrs, set_trainable, trainable_capable
from .optim.hypers import Hypers
from .schedules import (
    FASTAI_ONE_CYCLE,
    exp_sweep,
    flat_cos,
    lin_sweep,
    one_cycle,
    sgdr,
    sgdr_epochs,
)
from .schedules import ONE_CYCLE_DEFAULTS as _ONE_CYCLE

__all__ = ["Learner"]

log = logging.getLogger(__name__)

_FORMAT = "tflearner-state-v1"


def _strategy_of(model: keras.Model) -> tf.distribute.Strategy | None:
    """The strategy whose scope the model's variables were created in (None: no strategy)."""
    for v in model.variables:
        strategy = variable_strategy(v)
        if strategy is not None:
            return strategy
    return None


def resolve_strategy(model: keras.Model, strategy: Any) -> tf.distribute.Strategy | None:
    """``strategy``, or the one the model was built under; refuses a mismatch."""
    if strategy is not None and not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(f"strategy must be a tf.distribute.Strategy, got "
                        f"{type(strategy).__name__}: {strategy!r}.")
    if strategy is not None and is_default_strategy(strategy):
        strategy = None
    built_under = _strategy_of(model) if getattr(model, "variables", None) else None
    if strategy is None:
        return built_under
    if built_under is None:
        raise ValueError(
            f"strategy={type(strategy).__name__} was given, but the model's variables were not "
            "created under it. Build the model inside `with strategy.scope():` and pass it "
            "to the Learner (the Learner then finds the strategy itself).")
    if built_under is not strategy:
        raise ValueError(
            f"strategy={type(strategy).__name__} does not match the strategy the model's "
            f"variables were created under ({type(built_under).__name__}); pass that one, or "
            "build the model under this strategy's scope.")
    return strategy


def _check_callbacks(callbacks: Any) -> list:
    """``callbacks`` as a list of tflearner or Keras callbacks (None: empty); errors index into
    the caller's list."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of tflearner.Callback or "
                        f"keras.callbacks.Callback, got {type(callbacks).__name__}: "
                        f"{callbacks!r}.")
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, (Callback, keras.callbacks.Callback)):
            raise TypeError(
                f"callbacks[{i}] must be a tflearner.Callback or a keras.callbacks.Callback, "
                f"got {type(cb).__name__}: {cb!r}.")
    return list(callbacks)


def _check_epochs(epochs: Any) -> int:
    return check_int("epochs", epochs, 1, fix="to skip training, don't call fit.")


def _one_group(model: keras.Model) -> list[list]:
    """Every layer in one group (the default under float16, which needs one loss scale)."""
    return [[layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]]


def _input_fix(model: keras.Model) -> str:
    """What the probe's input error suggests: a task that preprocesses only inside its own
    ``fit`` (KerasHub: ``preprocessor`` + ``preprocess_samples``) needs its data mapped first."""
    if getattr(model, "preprocessor", None) is not None and callable(
            getattr(model, "preprocess_samples", None)):
        return ("The model preprocesses its inputs only inside its own fit / predict (a KerasHub "
                "task); map the datasets through its preprocessor first: "
                "ds.map(model.preprocess_samples).")
    return "Make the model's input_shape match the data."


def _outputs_probabilities(model: keras.Model, probe_out: np.ndarray) -> bool:
    """True if the model ends in a softmax (so the loss must use ``from_logits=False``).

    Looks at the last layer (a ``Softmax`` layer or ``activation=softmax``); for models where that
    is not visible (subclassed), checks that the probe output rows are non-negative and sum to 1.
    """
    last = model.layers[-1] if getattr(model, "layers", None) else None
    if isinstance(last, keras.layers.Softmax):
        return True
    act = getattr(last, "activation", None)
    if act is not None:
        return getattr(act, "__name__", "") == "softmax"
    rows = probe_out.reshape(len(probe_out), -1)
    return bool(np.all(rows >= 0) and np.allclose(rows.sum(-1), 1.0, atol=1e-4))


def _first_suggestion(names: list[str], result: tuple) -> float | None:
    """``learn.suggested_lr``: the first method's suggestion, else the next one that has one
    (with a warning naming both), else None."""
    for i, lr in enumerate(result):
        if lr is not None:
            if i:
                warnings.warn(
                    f"lr_find: {names[0]} has no suggestion, so learn.suggested_lr (what "
                    f"fit_one_cycle(max_lr=None) uses) is {names[i]}'s {lr:.2e}; look at the plot "
                    f"(learn.recorder.plot()) before you train with it.", UserWarning,
                    stacklevel=3)
            return lr
    return None


def _named_loss(name: str) -> keras.losses.Loss:
    """A Keras loss by name, as ``model.compile(loss=name)`` takes it (``"mse"``,
    ``"sparse_categorical_crossentropy"``, ...), as a ``Loss`` that reduces to the batch mean."""
    try:
        found = keras.losses.get(name)
    except ValueError:
        found = None
    if found is None:
        raise ValueError(f"loss_fn={name!r} is not a Keras loss name; pass one model.compile "
                         "accepts (e.g. 'mse', 'sparse_categorical_crossentropy'), a "
                         "keras.losses.Loss, or a function (y_true, y_pred) -> scalar.")
    if isinstance(found, keras.losses.Loss):
        return found
    return _FunctionLoss(found, name=name)


class _FunctionLoss(keras.losses.Loss):
    """A per-example loss function as a Keras ``Loss`` (the batch mean, Keras' default
    reduction), as ``model.compile`` wraps a loss given by name."""

    def __init__(self, fn: Any, name: str) -> None:
        super().__init__(name=name)
        self.fn = fn

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)


class Learner:
    """Bundle a ``keras.Model``, a :class:`DataBundle`, a loss and an optimizer for training.

    ``loss_fn`` and ``metrics`` default from the data (CIFAR-10: sparse categorical
    cross-entropy, ``from_logits`` matching the model's last activation; accuracy). ``opt`` is
    a Keras optimizer instance, class or name; the default is plain SGD (the seed's setting).
    ``lr`` and ``wd`` are the starting learning rate and decoupled weight decay; ``lr=None``
    keeps an optimizer instance's own learning rate (and means 1e-3 otherwise).
    ``callbacks`` (tflearner or Keras) are added to every fit (tflearner ones to lr_find too);
    ``quiet=True`` turns progress output off.
    ``strategy``: a ``tf.distribute.Strategy`` the model was built under (found from the
    model's variables when omitted). ``mixed_precision``: ``"mixed_float16"`` or
    ``"mixed_bfloat16"`` (applied to the built model, output layer kept float32; float16 adds
    Keras' ``LossScaleOptimizer``), ``"float32"``, or None to keep the model's own policy.
    ``jit_compile=True`` compiles the forward/backward math with XLA (off by default; see
    ``docs/distributed.md`` for when it pays).
    ``steps_per_execution`` batches run per compiled call (Keras' name). The default ``"auto"``
    sizes chunks to ~0.25 s (at most 32 batches). Callbacks still see every batch; a stop
    request from ``after_batch`` takes effect at the end of the chunk, unless a callback sets
    ``sync_every_batch = True``, which makes the loop run one batch per call.
    ``splitter``: ``model -> list of layer groups`` (lists of layers or variables), first group
    nearest the input; None splits a model whose first layer with weights is a ``keras.Model``
    into ``[backbone, rest]`` (:func:`~tflearner.optim.groups.default_splitter`), anything else
    into one group (always one under ``mixed_float16``, whose single loss scale needs a single
    optimizer). Each group has an optimizer of its own (``learn.opts``; ``learn.opt`` is the
    last). ``train_bn``: whether BatchNormalization layers of frozen groups keep training
    (fastai's default) or freeze with them (False, the default; see ``docs/transfer.md``).
    ``train_metrics=True`` (fastai's ``Recorder`` flag) also computes the metrics on the
    training batches, inside the compiled step, from each applied batch's training forward pass
    (as Keras' ``model.fit`` reports ``accuracy`` beside ``val_accuracy``), with metric objects
    of their own (``learn.train_metric_objects``): every epoch logs ``train_<name>`` after
    ``train_loss`` (Keras callbacks get ``<name>``); ``lr_find`` skips them.
    """

    def __init__(self, model: keras.Model, data: DataBundle, loss_fn: Any = None,
                 opt: Any = None, metrics: list | None = None, lr: float | None = None,
                 wd: float | None = None, callbacks: list[Callback] | None = None,
                 quiet: bool = False, jit_compile: bool = False,
                 steps_per_execution: int | str = STEPS_PER_EXECUTION,
                 strategy: tf.distribute.Strategy | None = None,
                 mixed_precision: str | None = None, splitter: Any = None,
                 train_bn: bool = False, train_metrics: bool = False,
                 class_weight: dict | None = None, loss_weights: Any = None) -> None:
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model, got {type(model).__name__}: "
                            f"{model!r}. Wrap layers in keras.Sequential([...]) or "
                            "keras.Model(inputs, outputs).")
        if not isinstance(data, DataBundle):
            raise TypeError(f"data must be a tflearner.DataBundle, got {type(data).__name__}. "
                            "Build one with DataBundle.from_arrays(x, y) or "
                            "DataBundle.from_datasets(train_ds, valid_ds).")
        steps_per_execution = check_steps_per_execution(steps_per_execution)
        mixed_precision = check_policy(mixed_precision)
        check_positive("lr", lr, allow_none=True,
                       fix="e.g. lr=1e-3, or None to keep the optimizer's own.")
        check_real("wd", wd, 0.0, allow_none=True, fix="e.g. wd=0.01, or None for none.")
        self.train_metrics = check_bool("train_metrics", train_metrics)
        self.strategy = resolve_strategy(model, strategy)
        self._check_replica_batch(data, self.strategy)
        self.model, self.data = model, data
        self.quiet = bool(quiet)
        given = _check_callbacks(callbacks)
        # tflearner callbacks join every fit and lr_find; Keras ones join every fit only.
        self.callbacks = list(CallbackList(
            [cb for cb in given if not isinstance(cb, keras.callbacks.Callback)]))
        self.keras_callbacks = [cb for cb in given if isinstance(cb, keras.callbacks.Callback)]
        x_spec, y_spec = data.train.element_spec[:2]

        # Probe the model and loss once on zeros: builds the model, checks shapes, no side effects.
        out = self._probe_model(x_spec)
        #: several model outputs (a list / dict of tensors), trained with Keras' CompileLoss
        self.multi_output = tf.nest.is_nested(out)
        if self.multi_output:
            loss_fn = self._multi_output_loss(y_spec, out, loss_fn, loss_weights, train_metrics)
            probabilities = False
        else:
            if loss_weights is not None or data.task == "multi_output":
                raise ValueError(
                    "The model has one output, but " + ("loss_weights was given" if
                    loss_weights is not None else "the labels y are a list/dict") + "; both "
                    "belong to models with several outputs. Drop it, or give y as one tensor.")
            n_out = int(out.shape[-1]) if out.ndim >= 2 else 1
            self._check_labels(y_spec, n_out)
            probabilities = _outputs_probabilities(model, out)
            from_logits = not probabilities
            if loss_fn is None:
                loss_fn = data.default_loss(from_logits=from_logits)
                log.info("loss: %s(from_logits=%s)", type(loss_fn).__name__, from_logits)
            elif isinstance(loss_fn, (list, tuple, dict)):
                loss_fn = compile_loss(loss_fn, None, list(model.output_names))
            elif isinstance(loss_fn, str):
                loss_fn = _named_loss(loss_fn)
            elif not callable(loss_fn):
                raise TypeError(f"loss_fn must be callable (y_true, y_pred) -> scalar, got "
                                f"{type(loss_fn).__name__}: {loss_fn!r}.")
        self.loss_fn = loss_fn
        self._check_loss(y_spec, out)
        #: "softmax" when get_preds / predict turn logits into probabilities, else None
        self.activation = (None if self.multi_output
                           else activation_for(data.task, loss_fn, probabilities))
        with self.scope():  # optimizer slots, hyper-parameters, metrics: beside the model
            self.metrics = self._make_metrics(metrics)
            #: the training metrics' own objects (empty unless train_metrics=True)
            self.train_metric_objects = (self._train_metric_objects(self.metrics)
                                         if self.train_metrics else [])
            self.opt = get_optimizer(opt, 1e-3 if lr is None else lr)
            # Keras optimizers bind the strategy current at construction (and create their
            # `iterations` under it); one made outside the scope is rebuilt from its config
            # inside it.
            if self.strategy is not None and not self.strategy.extended.variable_created_in_scope(
                    self.opt.iterations.value):
                self.opt = type(self.opt).from_config(self.opt.get_config())
            if mixed_precision is not None:
                apply_policy(model, mixed_precision)
            self.precision = model_policy(model)
            if splitter is None and self.precision == "mixed_float16":
                splitter = _one_group  # one loss scale: one optimizer (see below)
            self.groups = check_groups(model, splitter)
            group_vars = trainable_capable(model, self.groups)
            #: micro-batches per optimizer update (the optimizer's gradient_accumulation_steps)
            self.accumulation = accumulation_steps(self.opt)
            if self.accumulation > 1 and len(self.groups) > 1:
                raise ValueError(
                    f"opt has gradient_accumulation_steps={self.accumulation}, but the model has "
                    f"{len(self.groups)} layer groups (one optimizer each, whose accumulation "
                    "phases drift apart when a group is frozen); use one group "
                    "(splitter=lambda m: [m.layers]) or no accumulation.")
            if self.precision == "mixed_float16":
                if len(self.groups) > 1:
                    raise ValueError(
                        f"mixed_precision='mixed_float16' needs one loss scale, but the model has "
                        f"{len(self.groups)} layer groups (one optimizer each); use "
                        "'mixed_bfloat16' (no loss scaling), or splitter=lambda m: [m.layers] "
                        "for one group.")
                self.opt = keras.optimizers.LossScaleOptimizer(self.opt)
            # One optimizer per layer group, the same configuration: the last is self.opt.
            self.opts = [*(type(self.opt).from_config(self.opt.get_config())
                           for _ in self.groups[1:]), self.opt]
            for o, variables in zip(self.opts, group_vars, strict=True):
                o.build(variables)  # every variable the group trains once unfrozen
            # The per-batch hyper-parameters live on the optimizers that update the weights.
            self.hypers = GroupHypers([Hypers(getattr(o, "inner_optimizer", o))
                                       for o in self.opts])
        self.hypers.set(lr=lr, wd=wd)
        self.train_bn = check_bool("train_bn", train_bn)
        self.recorder = Recorder()
        self.suggested_lr: float | None = None  # set by lr_find (its first suggestion)
        self._last_sweep: dict | None = None  # the last lr_find_info, until the guard warns
        self._bn_hint_given = False  # the short-fit BatchNorm hint is given once per Learner
        self._snapshot: Snapshot | None = None
        self._class_weight: tf.Variable | None = None
        cw = self._class_weight_vector(class_weight)
        if cw is not None:
            with self.scope():
                self._class_weight = tf.Variable(cw, trainable=False, name="class_weight")
        self.loop = TrainLoop(model, self.opts, group_vars, self.loss_fn, self.metrics,
                              data.train.element_spec, self.hypers, jit_compile=jit_compile,
                              steps_per_execution=steps_per_execution, strategy=self.strategy,
                              train_metrics=self.train_metric_objects,
                              n_classes=data.c if data.task == "sparse_categorical" else None,
                              class_weight=self._class_weight,
                              placed=data.placed if self.strategy is None else None)
        # predict(item) runs through the same object load_learner returns: identical outputs
        self.inference = None if data.structured or self.multi_output else InferenceLearner(
            model, task=data.task, input_shape=tuple(x_spec.shape[1:]),
            x_dtype=x_spec.dtype.name, classes=data.classes, preprocess=data.preprocess,
            activation=self.activation, loss_fn=self.loss_fn, batch_size=data.batch_size or 64)

    def scope(self):
        """The strategy's scope (a no-op context without one): create variables that must
        live beside the model's in it."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    @staticmethod
    def _check_replica_batch(data: DataBundle, strategy: tf.distribute.Strategy | None) -> None:
        if strategy is None:
            return
        n, bs = strategy.num_replicas_in_sync, data.batch_size
        if bs is not None and bs % n:
            raise ValueError(
                f"data has batch_size={bs}, which {n} replicas cannot share evenly; the "
                f"global batch is split across replicas, so use a multiple of {n} (e.g. "
                f"{bs - bs % n or n} or {bs + n - bs % n}).")

    # ---- construction checks ------------------------------------------------------------------
    def _probe_model(self, x_spec: Any) -> Any:
        model_in = getattr(self.model, "inputs", None)
        if tf.nest.is_nested(x_spec):
            zeros = tf.nest.map_structure(
                lambda s: tf.zeros([2] + [d if d is not None else 1 for d in s.shape[1:]],
                                   s.dtype), x_spec)
            try:
                out = self.model(zeros, training=False)
            except Exception as exc:  # noqa: BLE001 - re-raised with the structure that matters
                shapes = tf.nest.map_structure(lambda s: tuple(s.shape[1:]), x_spec)
                raise ValueError(
                    f"The model cannot take the data's inputs: x is {shapes} (example shapes); "
                    f"the model's inputs are {[tuple(i.shape[1:]) for i in model_in or []]} "
                    f"named {list(getattr(self.model, 'input_names', []) or [])}. Give x as a "
                    "tuple in the model's input order or a dict keyed by input name; the model "
                    f"said: {str(exc).splitlines()[0]}") from None
            return tf.nest.map_structure(np.asarray, out)
        if model_in and len(model_in) == 1 and model_in[0].shape is not None:
            want = len(model_in[0].shape)
            if x_spec.shape.rank is not None and x_spec.shape.rank == want - 1:
                raise ValueError(
                    f"data.train looks unbatched: its x has shape {x_spec.shape} but the model "
                    f"expects batches of rank {want} ({tuple(model_in[0].shape)}). Call "
                    ".batch(batch_size) on the dataset.")
        shape = [2] + [d if d is not None else 1 for d in x_spec.shape[1:]]
        try:
            out = self.model(tf.zeros(shape, x_spec.dtype), training=False)
        except Exception as exc:  # noqa: BLE001 - re-raised with the shapes that matter
            raise ValueError(
                f"The model cannot take the data's inputs: x has example shape "
                f"{tuple(x_spec.shape[1:])} and dtype {x_spec.dtype.name}; the model said: "
                f"{str(exc).splitlines()[0]} {_input_fix(self.model)}") from None
        if isinstance(out, (list, tuple, dict)):
            return tf.nest.map_structure(np.asarray, out)
        return np.asarray(out)

    def _multi_output_loss(self, y_spec: Any, out: Any, loss_fn: Any, loss_weights: Any,
                           train_metrics: Any) -> Any:
        """Keras' CompileLoss for a model with several outputs (checked against ``y``)."""
        names = list(self.model.output_names)
        if not tf.nest.is_nested(y_spec):
            raise ValueError(
                f"The model returns {len(tf.nest.flatten(out))} outputs ({names}) but the labels "
                "y are one tensor; give y as a list (in output order) or a dict keyed by output "
                f"name, e.g. {{{', '.join(repr(n) + ': ...' for n in names)}}}.")
        if len(tf.nest.flatten(y_spec)) != len(tf.nest.flatten(out)):
            raise ValueError(f"The model returns {len(tf.nest.flatten(out))} outputs ({names}) "
                             f"but y has {len(tf.nest.flatten(y_spec))} entries; give one label "
                             "entry per output.")
        if loss_fn is None:
            self.data.default_loss(from_logits=True)  # raises: one loss per output is needed
        if train_metrics is True:
            raise ValueError("train_metrics=True is not supported for models with several "
                             "outputs yet; leave it False.")
        if not isinstance(loss_fn, (list, tuple, dict)) and not callable(loss_fn):
            raise TypeError(f"loss_fn must be a list/dict with one loss per output, or one "
                            f"loss for all, got {type(loss_fn).__name__}: {loss_fn!r}.")
        if isinstance(loss_fn, (list, tuple)):
            loss_fn = list(loss_fn)
        return compile_loss(loss_fn, loss_weights, names)

    def _check_labels(self, y_spec: tf.TensorSpec, n_out: int) -> None:
        data = self.data
        rank = y_spec.shape.rank
        if (data.task == "regression" and n_out >= 2 and y_spec.dtype.is_floating
                and (rank == 1 or (rank == 2 and y_spec.shape[-1] == 1))):
            raise ValueError(
                f"The labels are {y_spec.dtype.name} of shape {tuple(y_spec.shape)}, one value "
                f"per example, so the data was taken for regression, but the model outputs "
                f"{n_out} values per example. If they are class ids, cast them to integers: "
                "DataBundle.from_arrays(x, y.astype('int64')) (or pass "
                "task='sparse_categorical'; for datasets: ds.map(lambda x, y: (x, tf.cast(y, "
                "tf.int64)))). For regression, give the model one output per target.")
        if data.task in ("sparse_categorical", "categorical"):
            if data.c is not None and data.c != n_out:
                raise ValueError(
                    f"The data has {data.c} classes but the model outputs {n_out} values per "
                    f"example. Build the model with {data.c} outputs (e.g. "
                    f"LeNet(num_classes={data.c})).")
            data.c = n_out if data.c is None else data.c
        if data.task == "sparse_categorical":
            rank = y_spec.shape.rank
            if not y_spec.dtype.is_integer or not (rank == 1 or (rank == 2 and y_spec.shape[-1]
                                                                 == 1)):
                raise ValueError(
                    f"Sparse class labels must be integer tensors of shape (batch,) or "
                    f"(batch, 1); got {y_spec}. For one-hot labels use task='categorical'.")
        elif data.task == "categorical" and y_spec.shape[-1] != n_out:
            raise ValueError(f"One-hot labels have {y_spec.shape[-1]} columns but the model "
                             f"outputs {n_out}; they must match.")

    def _class_weight_vector(self, class_weight: Any) -> np.ndarray | None:
        """Keras' ``class_weight`` dict ``{class index: weight}`` as one weight per class
        (classes it leaves out weigh 1, as in Keras)."""
        if class_weight is None:
            return None
        if not isinstance(class_weight, dict):
            raise TypeError(f"class_weight must be a dict {{class index: weight}}, got "
                            f"{type(class_weight).__name__}: {class_weight!r}.")
        if self.data.task not in ("sparse_categorical", "categorical"):
            raise ValueError(f"class_weight needs a classification task, but the data has "
                             f"task={self.data.task!r}; use sample weights instead.")
        c = self.data.c
        vec = np.ones(c, np.float32)
        for k, v in class_weight.items():
            k = check_int("class_weight key", k, 0, c - 1,
                          fix=f"keys are class indices 0..{c - 1}.")
            vec[k] = check_real(f"class_weight[{k}]", v, 0.0, fix="a weight >= 0, e.g. 2.0.")
        return vec

    def _check_loss(self, y_spec: Any, out: Any) -> None:
        n = len(tf.nest.flatten(out)[0])
        y0 = tf.nest.map_structure(lambda s: tf.zeros(
            [n] + [d if d is not None else 1 for d in s.shape[1:]], s.dtype), y_spec)
        out = tf.nest.map_structure(tf.constant, out)
        self._probe_batch = (y0, out)  # builds per-output metrics (several outputs)
        try:
            value = self.loss_fn(y0, out)
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"loss_fn={self.loss_fn!r} failed on a (labels, predictions) "
                             f"batch: {str(exc).splitlines()[0]}") from None
        shape = tuple(getattr(value, "shape", ()))
        if shape != ():
            raise ValueError(
                f"loss_fn={self.loss_fn!r} must return a scalar (the batch mean), got shape "
                f"{shape}. Use a Keras loss with the default reduction, or reduce with "
                "tf.reduce_mean in your function.")

    def _make_metrics(self, metrics: list | None) -> list[keras.metrics.Metric]:
        if self.multi_output:  # Keras' per-output container, logs named <output>_<metric>
            if metrics is None:
                return []
            if not isinstance(metrics, (list, tuple, dict)):
                raise TypeError(f"metrics must be a list with one entry per output (a list of "
                                f"metrics or None each) or a dict {{output name: [metrics]}}, "
                                f"as for model.compile, got {type(metrics).__name__}.")
            cm = compile_metrics(list(metrics) if isinstance(metrics, tuple) else metrics,
                                 list(self.model.output_names))
            cm.build(*self._probe_batch)
            return [cm]
        if metrics is None:
            return self.data.default_metrics()
        if isinstance(metrics, (str, keras.metrics.Metric)):
            metrics = [metrics]
        if not isinstance(metrics, (list, tuple)):
            raise TypeError(f"metrics must be a list of names or keras.metrics.Metric, got "
                            f"{type(metrics).__name__}.")
        out = []
        for i, m in enumerate(metrics):
            if isinstance(m, str):
                out.append(self.data.metric_from_name(m))
            elif isinstance(m, keras.metrics.Metric):
                out.append(m)
            else:
                raise TypeError(f"metrics[{i}] must be a metric name or keras.metrics.Metric, "
                                f"got {type(m).__name__}: {m!r}.")
        return out

    @staticmethod
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

    # ---- training -----------------------------------------------------------------------------
    def _callbacks(self, extra: list[Callback] | None, quiet: bool | None) -> CallbackList:
        cbs: list[Callback] = [self.recorder, *self.callbacks, *(extra or [])]
        if not (self.quiet if quiet is None else quiet):
            cbs.append(ProgressCallback())
        return CallbackList(cbs)

    def fit(self, epochs: int, lr: float | None = None, wd: float | None = None,
            callbacks: list[Callback] | None = None, quiet: bool | None = None,
            terminate_on_nan: bool = True, checkpoint: str | os.PathLike | None = None,
            checkpoint_every: int | None = None, class_weight: dict | None = None):
        """Train for ``epochs`` epochs at a constant ``lr`` (None keeps the current one; a
        ``slice`` gives each layer group its own, see :meth:`fit_one_cycle`).

        A batch whose loss or gradients are NaN/Inf is never applied, so the weights are never
        poisoned; it ends the fit with a warning naming the batch and LR
        (``terminate_on_nan=False``: skip such batches and go on). ``checkpoint``: a directory
        where the full state is saved at every epoch end (and every ``checkpoint_every``
        batches); calling the same fit again resumes there (see :mod:`tflearner.checkpoint`).
        ``class_weight`` (Keras' ``{class index: weight}``) weighs each training example's loss
        by its class for this fit (the Learner's ``class_weight`` otherwise).
        Returns the :class:`FitState` of the run; per-batch and per-epoch results are in
        ``learn.recorder``.
        """
        epochs = _check_epochs(epochs)
        callbacks = _check_callbacks(callbacks)
        if class_weight is not None:
            return self._with_class_weight(class_weight, lambda: self.fit(
                epochs, lr, wd, callbacks, quiet, terminate_on_nan, checkpoint, checkpoint_every))
        if lr is not None:
            self.hypers.set_lrs(group_lrs(lr, len(self.groups)))
        self.hypers.set(wd=wd)
        signature = {"method": "fit", "lr": self.hypers.lrs, "wd": self.hypers.wd}
        return self._fit(epochs, callbacks, quiet, terminate_on_nan, checkpoint,
                         checkpoint_every, signature)

    def _with_class_weight(self, class_weight: dict, run: Any) -> Any:
        """Run ``run()`` with ``class_weight`` in force, then put the Learner's back."""
        vec = self._class_weight_vector(class_weight)
        if self._class_weight is None:  # first use: the steps are rebuilt once with weighting
            with self.scope():
                self._class_weight = tf.Variable(np.ones_like(vec), trainable=False,
                                                 name="class_weight")
            self.loop.set_class_weight(self._class_weight)
        saved = self._class_weight.numpy()
        self._class_weight.assign(vec)
        try:
            return run()
        finally:
            self._class_weight.assign(saved)

    def _fit(self, epochs: int, callbacks: list[Callback] | None, quiet: bool | None,
             terminate_on_nan: bool, checkpoint: str | os.PathLike | None,
             checkpoint_every: int | None, signature: dict[str, Any]):
        """The one path into the loop for fit, fit_one_cycle, fit_flat_cos and fit_sgdr."""
        check_bool("terminate_on_nan", terminate_on_nan)
        callbacks = list(callbacks or [])
        keras_cbs = [*self.keras_callbacks,
                     *(cb for cb in callbacks if isinstance(cb, keras.callbacks.Callback))]
        callbacks = [cb for cb in callbacks if not isinstance(cb, keras.callbacks.Callback)]
        if keras_cbs:
            if signature["method"] != "fit" or len(self.groups) > 1:
                check_no_lr_callbacks(keras_cbs, signature["method"] if len(self.groups) == 1
                                      else f"a Learner with {len(self.groups)} layer groups")
            callbacks.append(KerasCallbacks(keras_cbs))
        if checkpoint is not None:
            if not isinstance(checkpoint, (str, os.PathLike)):
                raise TypeError(f"checkpoint must be a directory path, got "
                                f"{type(checkpoint).__name__}: {checkpoint!r}.")
            check_int("checkpoint_every", checkpoint_every, 1, allow_none=True,
                      fix="it counts batches between saves; None saves at epoch ends only.")
            signature = {**signature, "epochs": epochs, "n_iter": self.data.n_train_batches,
                         "model": [list(v.shape) for v in self.model.variables],
                         "trainable": [sum(v.trainable for v in g.variables)
                                       for g in self.groups]}
            callbacks.append(CheckpointCallback(checkpoint, signature, checkpoint_every))
        elif checkpoint_every is not None:
            raise ValueError("checkpoint_every needs checkpoint=<directory>.")
        cbs = self._callbacks(callbacks, quiet)
        resume = load_checkpoint(self, checkpoint, signature) if checkpoint is not None else None
        self._bn_hint(epochs)
        state = self.loop.fit(self.data.train, epochs, self.data.valid, cbs, learner=self,
                              limits=StopLimits(terminate_on_nan=terminate_on_nan),
                              resume=resume, finalize=self._finalize_optimizers)
        if state.stop_reason == "non-finite":
            warnings.warn(
                f"fit stopped at epoch {state.epoch}, batch {state.iter - 1} (step "
                f"{state.step - 1}, lr {state.lr:.3g}): the loss was {state.loss}; that batch "
                "was not applied, so the weights are those from before it. Lower the learning "
                "rate (run learn.lr_find()), check the data for NaN/Inf, or pass "
                "terminate_on_nan=False to skip such batches.", RuntimeWarning, stacklevel=3)
        elif state.n_skipped:
            warnings.warn(f"fit skipped {state.n_skipped} batch(es) whose loss or gradients "
                          "were NaN/Inf (terminate_on_nan=False).", RuntimeWarning, stacklevel=3)
        return state

    def _bn_hint(self, epochs: int) -> None:
        """Once per Learner: the hint that a short fit of fresh BatchNormalization layers with
        a slow momentum evaluates with unconverged statistics (:func:`~tflearner.models.
        unconverged_batchnorm`). Only fits give it; lr_find restores the statistics anyway."""
        n_iter = self.data.n_train_batches
        if self._bn_hint_given or not n_iter:
            return
        message = unconverged_batchnorm(self.model, epochs * n_iter)
        if message is not None:
            self._bn_hint_given = True
            warnings.warn(message, BatchNormMomentumWarning, stacklevel=4)

    def _finalize_optimizers(self) -> None:
        """What ``model.fit`` does after its last epoch, before ``on_train_end``:
        ``optimizer.finalize_variable_values(variables)`` for every layer group's optimizer
        (``use_ema=True`` swaps in the moving averages of the weights; others do nothing).
        An optimizer that has never stepped has no averages yet and is left alone."""
        with self.scope():
            for opt, variables in zip(self.opts, self.loop.group_variables, strict=True):
                if int(opt.iterations.numpy()) > 0:
                    opt.finalize_variable_values(variables)

    def _total_steps(self, epochs: int) -> int:
        """The schedule's length: batches, or optimizer updates under gradient accumulation."""
        n_iter = self.data.n_train_batches
        if not n_iter:
            raise ValueError("data.train has an unknown number of batches, so a schedule cannot "
                             "be laid out; give it a length with "
                             "ds.apply(tf.data.experimental.assert_cardinality(n_batches)).")
        k = self.accumulation
        if k == 1:
            return epochs * n_iter
        r0 = raw_iterations(self.opt)
        updates = updates_in(r0, epochs * n_iter, k)
        left = (r0 + epochs * n_iter) % k
        if left:
            warnings.warn(
                f"with gradient_accumulation_steps={k}, the last {left} batch(es) of this fit "
                f"({epochs} epochs × {n_iter} batches) start an update that is applied only by "
                "the next fit; make epochs × batches per epoch a multiple of "
                f"{k} to avoid it.", UserWarning, stacklevel=3)
        if updates < 1:
            raise ValueError(f"this fit of {epochs * n_iter} batches applies no optimizer update "
                             f"(gradient_accumulation_steps={k}); train for more epochs.")
        return updates

    def _max_lrs(self, max_lr: float | slice | None, name: str = "max_lr") -> np.ndarray:
        """One peak LR per layer group (``None``: the last lr_find suggestion for the last
        group, with the groups' current ratios); sets the ratios the schedule keeps."""
        if max_lr is None:
            if self.suggested_lr is None:
                raise ValueError(f"{name}=None uses the last lr_find suggestion, but there is "
                                 f"none: run learn.lr_find() first or pass {name} (e.g. 3e-1).")
            lrs = self.suggested_lr * self.hypers.lr_mults
        else:
            lrs = group_lrs(max_lr, len(self.groups), name)
        self.hypers.lr_mults = lrs / lrs[-1]
        self._check_peak(float(lrs[-1]))
        return lrs

    def _check_peak(self, peak: float) -> None:
        """The guard rail: warn (once per lr_find) when a schedule's peak LR, the last group's,
        is far above the LR at which the last lr_find diverged (``lr_finder.above_divergence``,
        ``DIVERGED_LR_FACTOR``)."""
        message = above_divergence(peak, self._last_sweep or {}, self.suggested_lr)
        if message is not None:
            self._last_sweep = None  # said once; fine_tune's second phase does not repeat it
            warnings.warn(message, UserWarning, stacklevel=4)

    def fit_one_cycle(self, epochs: int, max_lr: float | None = None,
                      pct_start: float = _ONE_CYCLE["pct_start"],
                      div: float = _ONE_CYCLE["div"], div_final: float = _ONE_CYCLE["div_final"],
                      moms: tuple[float, float, float] | None = _ONE_CYCLE["moms"],
                      anneal: str = _ONE_CYCLE["anneal"],
                      three_phase: bool = _ONE_CYCLE["three_phase"], wd: float | None = None,
                      callbacks: list[Callback] | None = None, quiet: bool | None = None,
                      terminate_on_nan: bool = True, checkpoint: str | os.PathLike | None = None,
                      checkpoint_every: int | None = None):
        """Fit with the one-cycle policy: LR and momentum (SGD with momentum > 0, or the Adam
        family's ``beta_1``) set every batch from :func:`tflearner.schedules.one_cycle`.

        The defaults are :data:`tflearner.schedules.ONE_CYCLE_DEFAULTS`, shared by every
        one-cycle entry point: Leslie Smith's three-phase linear form (up over 45 %, back down
        over 45 %, then annihilation to ``max_lr / 1e4``); ``**FASTAI_ONE_CYCLE`` gives fastai's.
        ``max_lr=None`` uses the last ``lr_find`` suggestion. Optimizers without a momentum
        term (plain SGD) get the LR schedule only; so do those whose momentum cannot be cycled
        (e.g. a subclass of ``keras.optimizers.SGD`` rather than ``tflearner.SGD``, or RMSprop
        with momentum), with a warning that names the fix (``moms=None`` silences it).
        Momentum is found by type (:func:`tflearner.optim.momentum_of`): subclasses of
        ``tflearner.SGD`` and of the Adam family count.
        """
        epochs = _check_epochs(epochs)
        callbacks = _check_callbacks(callbacks)
        peaks = self._max_lrs(max_lr)
        lrs, mom_values = one_cycle(self._total_steps(epochs), float(peaks[-1]), pct_start,
                                    div, div_final, moms, anneal, three_phase)
        scheds = {"lr": lrs}  # the last group's; group g gets lrs * peaks[g] / peaks[-1]
        if mom_values is not None and self.hypers.mom_attr is not None:
            scheds["mom"] = mom_values
        elif mom_values is not None and self.hypers.mom_problem is not None:
            warnings.warn(self.hypers.mom_problem, UserWarning, stacklevel=2)
        elif mom_values is not None:
            log.info("fit_one_cycle: %s has no momentum term; cycling the LR only.",
                     type(self.opt).__name__)
        self.hypers.set(wd=wd)
        signature = {"method": "fit_one_cycle", "schedule": schedule_hash(scheds),
                     "peaks": peaks.tolist(), "wd": self.hypers.wd}
        return self._fit(epochs, [ParamScheduler(scheds), *(callbacks or [])], quiet,
                         terminate_on_nan, checkpoint, checkpoint_every, signature)

    def fit_flat_cos(self, epochs: int, lr: float | None = None, pct_start: float = 0.75,
                     div_final: float = 1e5, wd: float | None = None,
                     callbacks: list[Callback] | None = None, quiet: bool | None = None,
                     terminate_on_nan: bool = True, checkpoint: str | os.PathLike | None = None,
                     checkpoint_every: int | None = None):
        """fastai's flat-then-cosine: ``lr`` for ``pct_start`` of training, then cosine
        annealing to ``lr / div_final``. ``lr=None`` uses the last ``lr_find`` suggestion."""
        epochs = _check_epochs(epochs)
        callbacks = _check_callbacks(callbacks)
        peaks = self._max_lrs(lr, "lr")
        lrs = flat_cos(self._total_steps(epochs), float(peaks[-1]), pct_start, div_final)
        self.hypers.set(wd=wd)
        signature = {"method": "fit_flat_cos", "schedule": schedule_hash({"lr": lrs}),
                     "peaks": peaks.tolist(), "wd": self.hypers.wd}
        return self._fit(epochs, [ParamScheduler({"lr": lrs}), *(callbacks or [])], quiet,
                         terminate_on_nan, checkpoint, checkpoint_every, signature)

    def fit_sgdr(self, n_cycles: int, cycle_len: int, lr_max: float | slice | None = None,
                 cycle_mult: int = 2, wd: float | None = None,
                 callbacks: list[Callback] | None = None, quiet: bool | None = None,
                 terminate_on_nan: bool = True, checkpoint: str | os.PathLike | None = None,
                 checkpoint_every: int | None = None):
        """fastai's SGDR (cosine annealing with warm restarts): ``n_cycles`` cycles, cycle ``k``
        (from 0) lasting ``cycle_len * cycle_mult**k`` epochs, each a cosine from ``lr_max``
        down to 0 (:func:`tflearner.schedules.sgdr`), set every batch.

        Trains :func:`~tflearner.schedules.sgdr_epochs` epochs: ``cycle_len * (cycle_mult**
        n_cycles - 1) / (cycle_mult - 1)``, or ``n_cycles * cycle_len`` with ``cycle_mult=1``
        (e.g. 7 for ``fit_sgdr(3, 1)``). ``lr_max`` as ``fit_one_cycle``'s ``max_lr``: None
        uses the last ``lr_find`` suggestion, a ``slice`` or list gives each layer group its
        own. Momentum is not scheduled (as in fastai). Every argument is checked before any
        training; the other arguments are :meth:`fit`'s.
        """
        epochs = sgdr_epochs(n_cycles, cycle_len, cycle_mult)
        callbacks = _check_callbacks(callbacks)
        check_real("wd", wd, 0.0, allow_none=True, fix="e.g. wd=0.01, or None to keep it.")
        steps_per_epoch = self._total_steps(1)
        peaks = self._max_lrs(lr_max, "lr_max")
        lrs = sgdr(steps_per_epoch, n_cycles, cycle_len, float(peaks[-1]), cycle_mult)
        self.hypers.set(wd=wd)
        signature = {"method": "fit_sgdr", "schedule": schedule_hash({"lr": lrs}),
                     "peaks": peaks.tolist(), "wd": self.hypers.wd}
        return self._fit(epochs, [ParamScheduler({"lr": lrs}), *(callbacks or [])], quiet,
                         terminate_on_nan, checkpoint, checkpoint_every, signature)

    # ---- transfer learning ------------------------------------------------------------------
    def freeze_to(self, n: int) -> Learner:
        """Freeze layer groups ``0 .. n-1`` and unfreeze the rest (``n`` may be negative, as in
        fastai: ``freeze_to(-1)`` freezes all but the last group). BatchNormalization layers of
        frozen groups keep training when ``train_bn`` (see :func:`~tflearner.optim.groups.
        set_trainable`). Optimizer state is kept: a frozen group's optimizer is not called, so
        its slots and step count wait, and continue when the group is unfrozen."""
        n_groups = len(self.groups)
        n = check_int("n", n, -(n_groups - 1), n_groups - 1,
                      fix=f"this Learner has {n_groups} layer groups (learn.groups); the last "
                          "one always trains.")
        set_trainable(self.groups, n % n_groups if n < 0 else n, self.train_bn)
        return self

    def freeze(self) -> Learner:
        """Freeze every layer group but the last (``freeze_to(-1)``)."""
        if len(self.groups) < 2:
            raise ValueError("freeze() needs at least two layer groups, but this Learner has "
                             "one (learn.groups); pass splitter=... (e.g. lambda m: "
                             "[backbone_layers, head_layers]), or build the model with a "
                             "keras.Model backbone as its first layer.")
        return self.freeze_to(-1)

    def unfreeze(self) -> Learner:
        """Make every layer group trainable (``freeze_to(0)``)."""
        return self.freeze_to(0)

    def fine_tune(self, epochs: int, base_lr: float = 2e-3, freeze_epochs: int = 1,
                  lr_mult: float = 100, pct_start: float = 0.3, div: float = 5.0,
                  checkpoint: str | os.PathLike | None = None, **kwargs):
        """fastai's transfer-learning recipe on this Learner:

        1. ``freeze()``; ``fit_one_cycle(freeze_epochs, slice(base_lr), pct_start=0.99)``;
        2. ``base_lr /= 2``; ``unfreeze()``;
           ``fit_one_cycle(epochs, slice(base_lr / lr_mult, base_lr), pct_start, div)``.

        Both phases use fastai's one-cycle form (``FASTAI_ONE_CYCLE``: two phases, cosine);
        ``kwargs`` go to both ``fit_one_cycle`` calls (``wd``, ``moms``, ``callbacks``, ...).
        ``learn.recorder`` holds the second phase and ``learn.recorder.phases`` both
        phases' histories. With ``checkpoint=dir`` each phase checkpoints into ``dir/frozen``
        and ``dir/unfrozen``: calling the same ``fine_tune`` again resumes in the right phase at
        the right batch. Returns the two fits' :class:`FitState`.
        """
        epochs = _check_epochs(epochs)
        freeze_epochs = check_int("freeze_epochs", freeze_epochs, 0)
        base_lr = check_positive("base_lr", base_lr, fix="e.g. base_lr=2e-3, or lr_find's.")
        lr_mult = check_positive("lr_mult", lr_mult)
        form = {**FASTAI_ONE_CYCLE, **{k: v for k, v in kwargs.items()
                                       if k in FASTAI_ONE_CYCLE}}
        rest = {k: v for k, v in kwargs.items() if k not in FASTAI_ONE_CYCLE}
        for name in ("max_lr", "epochs"):
            if name in rest:
                raise TypeError(f"fine_tune() sets {name} itself; pass base_lr / epochs.")
        one_cycle(1, base_lr, **{**form, "pct_start": pct_start, "div": div})  # phase 2's
        # arguments fail here, before the frozen phase trains
        sub = (lambda name: None) if checkpoint is None else (
            lambda name: os.path.join(os.fspath(checkpoint), name))
        phases, states = [], []
        if freeze_epochs:
            self.freeze()
            states.append(self.fit_one_cycle(freeze_epochs, slice(base_lr),
                                             **{**form, "pct_start": 0.99},
                                             checkpoint=sub("frozen"), **rest))
            phases.append(self.recorder.history_state())
        base_lr /= 2
        self.unfreeze()
        states.append(self.fit_one_cycle(epochs, slice(base_lr / lr_mult, base_lr),
                                         **{**form, "pct_start": pct_start, "div": div},
                                         checkpoint=sub("unfrozen"), **rest))
        phases.append(self.recorder.history_state())
        self.recorder.phases = tuple(phases)
        return tuple(states)

    def validate(self, ds: tf.data.Dataset | None = None) -> dict[str, float]:
        """Loss and metrics over ``ds`` (default: the validation set), e.g.
        ``{"loss": 1.02, "accuracy": 0.64}``."""
        if ds is None:
            ds = self.data.valid
            if ds is None:
                raise ValueError("ds is None and the data has no validation set; pass a dataset "
                                 "such as learn.data.test.")
        elif not isinstance(ds, tf.data.Dataset):
            raise TypeError(f"ds must be a tf.data.Dataset of (x, y) batches, got "
                            f"{type(ds).__name__}.")
        self.loop.check_dataset("ds", ds)
        return self.loop.evaluate(ds)

    # ---- predictions ----------------------------------------------------------------------
    def preds_dataset(self, ds: Any = None) -> tf.data.Dataset:
        """The dataset :meth:`get_preds` reads: None or ``"valid"`` the validation set,
        ``"test"`` the test set, a ``tf.data.Dataset`` of model-input batches ``x`` or
        ``(x, y)`` as given, anything else raw items for ``data.test_dl``."""
        if ds is None or isinstance(ds, str) and ds in ("valid", "test"):
            name = ds or "valid"
            split = getattr(self.data, name)
            if split is None:
                raise ValueError(f"ds={ds!r}: the data has no {name} set; pass a dataset, or "
                                 "raw items (an array, image paths).")
            return split
        if isinstance(ds, tf.data.Dataset):
            self.loop.check_dataset("ds", ds, with_y=self.loop.labelled(ds.element_spec))
            return ds
        if self.inference is None:
            raise TypeError(f"ds must be a tf.data.Dataset of model-ready batches for a model "
                            f"with several inputs or outputs, got {type(ds).__name__}; build "
                            "one with tf.data.Dataset.from_tensor_slices((x, y)).batch(64).")
        return self.data.test_dl(ds)

    def get_preds(self, ds: Any = None, with_input: bool = False, with_loss: bool = False,
                  with_decoded: bool = False) -> tuple:
        """``([inputs,] probs, targets[, decoded][, losses])`` as numpy arrays, fastai's order.

        ``ds`` as :meth:`preds_dataset` (default: the validation set). ``probs`` are the
        outputs with the loss's activation (a softmax when the model outputs logits);
        ``targets`` None for inputs without labels; ``decoded`` the argmax class
        (classification); ``losses`` the per-item loss, without regularisation terms."""
        for name, v in (("with_input", with_input), ("with_loss", with_loss),
                        ("with_decoded", with_decoded)):
            check_bool(name, v)
        dataset = self.preds_dataset(ds)
        if with_loss and not self.loop.labelled(dataset.element_spec):
            raise ValueError("with_loss=True needs (x, y) batches, but ds yields inputs only; "
                             "pass labels, e.g. learn.data.test_dl(items, labels=...).")
        if self.multi_output and (with_loss or with_decoded):
            raise ValueError("with_loss / with_decoded need one output; this model has "
                             f"{len(self.model.outputs)}: get_preds returns each output as "
                             "the model gives it.")
        out, y, x = self.loop.gather(dataset, inputs=with_input)
        if self.multi_output:
            return (x, out, y) if with_input else (out, y)
        return assemble(out, y, x, task=self.data.task, activation=self.activation,
                        loss_fn=self.loss_fn, with_input=with_input, with_loss=with_loss,
                        with_decoded=with_decoded)

    def predict(self, item: Any) -> tuple[Any, int | None, np.ndarray]:
        """``(label, index, probs)`` for one raw item: an image file path, a PIL image or raw
        integer pixels for image data; one raw example as the data was built from for array
        data (e.g. a uint8 image for ``cifar10_data``). The data's preprocessing is applied;
        an already-scaled input is refused, never scaled twice. For several items:
        ``get_preds(ds=items)``. Regression: ``(outputs, None, outputs)``."""
        if self.inference is None:
            raise TypeError("predict(item) takes one raw example of a model with one input and "
                            "one output; for this model use learn.get_preds(ds) with a dataset "
                            "of model-ready batches.")
        return self.inference.predict(item)

    def show_results(self, n: int = 9, ds: Any = None, shuffle: bool = True, seed: int = 0,
                     ncols: int | None = None, figsize: tuple[float, float] | None = None):
        """``n`` items of ``ds`` (default: validation) titled with their target above the
        prediction, wrong ones in red; returns the Axes array. ``shuffle``: a seeded random
        choice across ``ds`` (one prediction pass over it), else its first ``n``. Needs image
        inputs and labels."""
        n = check_int("n", n, 1, fix="the number of images to show, e.g. n=9.")
        check_bool("shuffle", shuffle)
        seed = check_int("seed", seed, 0, fix="e.g. seed=0.")
        dataset = self.preds_dataset(ds)
        spec = dataset.element_spec
        if not self.loop.labelled(spec):
            raise ValueError("show_results needs (x, y) batches; ds yields inputs only.")
        check_images(spec[0], "show_results")
        if not shuffle:
            x, probs, y = self.get_preds(dataset.unbatch().take(n).batch(n), with_input=True)
        else:
            probs, y = self.get_preds(dataset)
            idxs = np.random.default_rng(seed).permutation(len(y))[:n]
            x, probs, y = fetch_inputs(dataset, idxs, y), probs[idxs], y[idxs]
        return show_results(x, y, probs, self.data.classes, ncols=ncols, figsize=figsize)

    def tta(self, ds: Any = None, n: int = 4, beta: float | None = 0.25, augment: Any = None,
            use_max: bool = False, seed: int | None = None) -> tuple:
        """Test-time augmentation, fastai's rule: ``(probs, targets)`` with ``probs = beta *
        plain + (1 - beta) * mean of n augmented passes`` (``use_max``: the element-wise
        maximum instead; ``beta=None``: ``((aug_mean, plain), targets)``).

        ``augment`` defaults to the data's training augmentation (``from_folder(augment=)``);
        array data has none, so pass one (e.g. ``aug_transforms()``). The passes are seeded by
        ``(seed, pass, item)`` (``seed`` default: the data's), so TTA repeats exactly."""
        n = check_int("n", n, 1, fix="the number of augmented passes, e.g. n=4.")
        check_bool("use_max", use_max)
        if beta is not None:
            check_real("beta", beta, 0.0, 1.0, fix="the plain pass's weight, e.g. beta=0.25.")
        augment = augment if augment is not None else self.data.meta.get("augment")
        if augment is None:
            raise ValueError("augment is None and the data has no training augmentation to "
                             "reuse; pass one, e.g. learn.tta(augment=aug_transforms()).")
        if not callable(augment):
            raise TypeError(f"augment must be a callable aug(image, seed), got "
                            f"{type(augment).__name__}.")
        seed = check_int("seed", seed if seed is not None else self.data.meta.get("seed") or 0,
                         0, fix="e.g. seed=0.")
        dataset = self.preds_dataset(ds)
        spec = dataset.element_spec
        check_images(spec[0] if self.loop.labelled(spec) else spec, "tta")
        plain, targets = self.get_preds(dataset)
        bs = self.data.batch_size or 64
        aug = np.stack([self.get_preds(augmented(dataset, augment, seed, k, bs))[0]
                        for k in range(n)])
        return tta_mix(aug, plain, beta, use_max), targets

    def export(self, path: str | os.PathLike = "export") -> Path:
        """Write ``path/model.keras`` (Keras' format: architecture and weights) and
        ``path/tflearner.json`` (classes, preprocessing, input spec, activation, versions);
        ``load_learner(path)`` reads them back. No optimizer state, no data; returns ``path``.
        """
        if self.inference is None:
            raise ValueError("export supports models with one input and one output for now; "
                             "save this one with learn.model.save('model.keras').")
        x_spec = self.loop.x_spec
        return export_folder(self.model, path, task=self.data.task, classes=self.data.classes,
                             c=self.data.c, activation=self.activation,
                             preprocess=self.data.preprocess,
                             input_shape=tuple(x_spec.shape[1:]), x_dtype=x_spec.dtype.name)

    # ---- state --------------------------------------------------------------------------------
    def state_variables(self) -> dict[str, list]:
        """Every variable that defines training state: model (weights and random-seed state),
        optimizer (slots, iterations, lr), the loop's hyper-parameters (momentum, weight
        decay) and the data order (the train pipeline's epoch counter, when it has one)."""
        return {"model": list(self.model.variables),
                "opt": [v for o in self.opts for v in o.variables],
                "hypers": self.hypers.variables, "data": list(self.data.rng_state)}

    def snapshot(self, where: str = "device") -> Snapshot:
        """A reusable in-memory :class:`Snapshot` of :meth:`state_variables` (shadows are
        allocated once; rebuilt only if the set of variables or the place changed).

        ``where``: ``"device"`` (shadow variables beside the originals), ``"host"`` (host
        memory: no second copy on an accelerator) or ``"auto"`` (host above
        :data:`~tflearner.core.snapshot.AUTO_HOST_BYTES` on an accelerator; device on a CPU),
        see :mod:`tflearner.core.snapshot`."""
        current = flatten_state(self.state_variables())
        where = resolve_where(current, where)
        if self._snapshot is None or self._snapshot.where != where or [
                id(v) for v in self._snapshot.variables] != [id(v) for v in current]:
            self._snapshot = Snapshot(current, scope=self.scope, where=where)
        return self._snapshot

    def lr_find(self, start_lr: float = 1e-7, end_lr: float = 10.0, num_it: int = 100,
                stop_div: bool = True, beta: float | None = None, div_threshold: float = 4.0,
                suggest_funcs=DEFAULT_SUGGESTIONS, show_plot: bool = False, mode: str = "exp",
                quiet: bool | None = None, repeats: int = 1, snapshot: str = "auto"):
        """Learning-rate range test with zero side effects; returns ``SuggestedLRs``.

        Sweeps ``lr_i = start_lr * (end_lr/start_lr) ** (i/(num_it-1))`` (``mode="linear"``:
        evenly spaced), one training step each, smoothing the loss with a debiased EMA of factor
        ``beta`` (None: ``1 - 2/num_it``, 0.98 at 100 steps). It stops early when the smoothed
        loss exceeds ``div_threshold`` times its best (``stop_div``) or on a NaN/Inf loss, then
        restores every variable bit for bit (also after an exception or Ctrl-C). The curve and
        the suggestions stay in ``learn.recorder`` (``recorder.plot()`` draws them);
        ``learn.suggested_lr`` holds the first suggestion, for ``fit_one_cycle(max_lr=None)``;
        when the first method has none (``robust``: the curve never descends beyond its noise),
        the next method's, with a warning that names it (``None`` if no method has one).

        ``repeats=k`` runs ``k`` sweeps, each from the same restored state but with its own
        data order (and augmentation); each suggestion is then the geometric median of the
        ``k``, ``result.spread[name]`` their ``max / min``, and a spread of the first method
        above :data:`~tflearner.lr_finder.repeats.SPREAD_WARN` warns. ``recorder.sweeps`` holds
        the ``k`` curves; the recorder's own lists hold the first (the one ``repeats=1`` gives).

        ``snapshot``: where the copy restored at the end lives, ``"device"``, ``"host"`` (no
        second copy of the training state on an accelerator; slower) or ``"auto"`` (host only
        for a state over 1 GiB on an accelerator), see :meth:`snapshot`.
        """
        start_lr, end_lr, num_it, beta, div_threshold = check_sweep_args(
            start_lr, end_lr, num_it, beta, div_threshold, mode, stop_div)
        repeats = check_int("repeats", repeats, 1,
                            fix="1 is one sweep; 3 to 5 measure how sure the suggestion is.")
        names, funcs = resolve_suggesters(suggest_funcs)
        lrs = (exp_sweep if mode == "exp" else lin_sweep)(start_lr, end_lr, num_it)
        # Under gradient accumulation one LR per optimizer update: k micro-batches each.
        k, r0 = self.accumulation, raw_iterations(self.opt) if self.accumulation > 1 else 0
        n_batches = num_it if k == 1 else batches_for_updates(r0, num_it, k)
        n_iter = self.data.n_train_batches
        epochs = n_batches if not n_iter else -(-n_batches // n_iter)  # cycle the data
        rec, sweeps, first = self.recorder, [], None
        # smoothing per update: beta ** (1/k) per batch
        with preserved(self.snapshot(snapshot)) as snap:
            for r in range(repeats):
                if r:  # the same start, a fresh data order: epoch counter + r * offset
                    snap.restore()
                    for counter in self.data.rng_state:
                        counter.assign_add(r * REPEAT_EPOCH_OFFSET)
                cbs: list[Callback] = [rec, *self.callbacks, LRFinder(lrs, r0, k)]
                if not (self.quiet if quiet is None else quiet):
                    cbs.append(SweepProgress(total=n_batches))
                state = self.loop.fit(self.data.train, epochs, None, CallbackList(cbs),
                                      learner=self, smooth_beta=beta ** (1.0 / k),
                                      with_train_metrics=False,
                                      limits=sweep_limits(n_batches, stop_div, div_threshold))
                stop_step = state.step - 1
                if k > 1:
                    collapse_accumulated(rec, r0, k)  # one point per applied update
                    stop_step = len(rec.lrs) - 1
                sweeps.append({"lrs": list(rec.lrs), "losses": list(rec.losses),
                               "smooth_losses": list(rec.smooth_losses),
                               "stop_reason": STOP_REASONS.get(state.stop_reason,
                                                               state.stop_reason),
                               "stop_step": stop_step,
                               "stop_lr": float(rec.lrs[-1]) if rec.lrs else None})
                if r == 0 and repeats > 1:  # put back after the last sweep
                    first = rec.history_state()
        if repeats > 1:
            rec.load_history_state(first)  # the recorder's lists: the first sweep
            rec.sweeps = sweeps
            if all(s["losses"] == sweeps[0]["losses"] for s in sweeps[1:]):
                warnings.warn(
                    f"lr_find(repeats={repeats}): the {repeats} sweeps recorded identical losses, "
                    "so the data order did not change between them (a dataset with a fixed "
                    "order and no DataBundle epoch counter) and the spread measures nothing; "
                    "shuffle the training data (DataBundle.from_arrays / from_folder do).",
                    stacklevel=2)
        rec.lr_find_info = {"num_it": num_it, "stop_reason": sweeps[0]["stop_reason"],
                            "stop_step": sweeps[0]["stop_step"],
                            "stop_lr": sweeps[0]["stop_lr"], "beta": beta,
                            "lr_mults": self.hypers.lr_mults.tolist(), "accumulation": k,
                            "repeats": repeats}
        result = compute_suggestions(rec, names, funcs, num_it,
                                     sweeps if repeats > 1 else None)
        self.suggested_lr = _first_suggestion(names, result)
        self._last_sweep = rec.lr_find_info  # for the guard rail; outlives the next fit's reset
        if show_plot:
            rec.plot()
        return result

    def save(self, path: str | os.PathLike) -> Path:
        """Save weights, optimizer state and hyper-parameters to one ``.npz`` file (atomic).

        ``path`` gets a ``.npz`` suffix unless it ends in one (any case: ``x.NPZ`` is written as
        it is); returns the path written.
        """
        path = Path(path)
        if path.suffix.lower() != ".npz":
            path = path.with_name(path.name + ".npz")
        return write_state(self.state_variables(), path, {
            "format": _FORMAT, "optimizer": type(self.hypers.optimizer).__name__})

    def load(self, path: str | os.PathLike) -> Learner:
        """Restore what :meth:`save` wrote; refuses a file from a different model/optimizer.

        ``path`` is tried as given, then (unless it ends in ``.npz``, any case) with ``.npz``.
        """
        path = Path(path)
        if not path.exists() and path.suffix.lower() != ".npz":
            path = path.with_name(path.name + ".npz")
        if not path.exists():
            raise FileNotFoundError(f"path={str(path)!r} does not exist; pass the file written "
                                    "by learn.save(...).")
        state = self.state_variables()
        meta, arrays = read_state(state, path, "state file", type(self.hypers.optimizer).__name__)
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{path} has format {meta.get('format')!r}, expected {_FORMAT!r}.")
        assign_state(state, arrays)
        return self

    def __repr__(self) -> str:
        return (f"Learner(model={self.model.name!r}, opt={type(self.opt).__name__}, "
                f"loss={getattr(self.loss_fn, 'name', self.loss_fn)!r}, {self.hypers!r})")
