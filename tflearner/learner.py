"""The Learner: a Keras model, a DataBundle, a loss and an optimizer around the one training loop.

The class holds the training state and its verbs; each verb delegates in a few lines to the
module that owns the concept (``docs/architecture.md`` has the map): the setup
(:mod:`tflearner.training.setup`), the optimizers (:mod:`tflearner.training.optimizers`), the fit
path (:mod:`tflearner.training.fitting`), the fit policies (:mod:`tflearner.training.policies`),
transfer learning (:mod:`tflearner.training.transfer`), the LR finder
(:mod:`tflearner.lr_finder.driver`) and the predictions (:mod:`tflearner.inference.predictions`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .callbacks.recorder import Recorder
from .core.checks import check_bool, check_int, check_positive, check_real
from .core.events import Callback, CallbackList
from .core.fit_state import FitState
from .core.precision import check_policy
from .core.snapshot import Snapshot, flatten_state, resolve_where
from .core.state_io import assign_state, read_state, write_state
from .data.bundle import DataBundle
from .inference import predictions
from .inference.export import export as export_folder
from .inference.predictor import InferenceLearner
from .loop.chunks import STEPS_PER_EXECUTION, check_steps_per_execution
from .loop.compiled import Compiled
from .loop.runner import Runner
from .loop.steps import StepConfig
from .loop.train_loop import TrainLoop
from .lr_finder import driver
from .lr_finder.finder import DEFAULT_SUGGESTIONS
from .lr_finder.verify import DEFAULT_BUDGET
from .optim.groups import set_trainable
from .schedules import ONE_CYCLE_DEFAULTS as _ONE_CYCLE
from .schedules import group_lrs, spread_lr
from .training.averaging import Averaging
from .training.fitting import (
    ClassWeights,
    HyperSettings,
    check_callbacks,
    check_epochs,
    check_wd,
    fit_args,
    run_fit,
)
from .training.optimizers import (
    GroupOptimizers,
    build_optimizers,
    check_replica_batch,
    resolve_strategy,
    strategy_scope,
)
from .training.policies import fit_policy
from .training.setup import TrainingSetup, build_setup, class_weight_vector
from .training.transfer import fine_tune

__all__ = ["Learner"]

_FORMAT = "tflearner-state-v1"


def _check_model_and_data(model: Any, data: Any) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}: "
                        f"{model!r}. Wrap layers in keras.Sequential([...]) or "
                        "keras.Model(inputs, outputs).")
    if not isinstance(data, DataBundle):
        raise TypeError(f"data must be a tflearner.DataBundle, got {type(data).__name__}. "
                        "Build one with DataBundle.from_arrays(x, y) or "
                        "DataBundle.from_datasets(train_ds, valid_ds).")


def _split_callbacks(callbacks: Any) -> tuple[list, list]:
    """tflearner callbacks (every fit and lr_find) and Keras ones (every fit only)."""
    given = check_callbacks(callbacks)
    ours = [cb for cb in given if not isinstance(cb, keras.callbacks.Callback)]
    return (list(CallbackList(ours)),
            [cb for cb in given if isinstance(cb, keras.callbacks.Callback)])


def _loop(model: keras.Model, data: DataBundle, setup: TrainingSetup, parts: GroupOptimizers,
          strategy: Any, class_weight: Any, jit_compile: bool,
          steps_per_execution: int | str) -> tuple[TrainLoop, Runner]:
    """The Learner's compiled steps, their event loop and their runner."""
    compiled = Compiled(StepConfig(
        model=model, optimizers=parts.opts, group_variables=parts.group_variables,
        loss_fn=setup.loss_fn, metrics=tuple(setup.metrics), hypers=parts.hypers,
        element_spec=data.train.element_spec, jit_compile=bool(jit_compile), strategy=strategy,
        train_metrics=tuple(setup.train_metric_objects), class_weight=class_weight,
        n_classes=setup.n_classes if data.task == "sparse_categorical" else None,
        placed=data.placed if strategy is None else None))
    runner = Runner(compiled)
    return TrainLoop(compiled, runner, steps_per_execution), runner


def _inference_view(model: keras.Model, data: DataBundle, setup: TrainingSetup,
                    reading: Any) -> InferenceLearner | None:
    """An :class:`InferenceLearner` over the same model (``predict(item)`` runs through what
    ``load_learner`` returns: identical outputs); None for several inputs or outputs."""
    if data.structured or setup.multi_output:
        return None
    x_spec = data.train.element_spec[0]
    return InferenceLearner(model, task=setup.task, input_shape=tuple(x_spec.shape[1:]),
                            x_dtype=x_spec.dtype.name, classes=data.classes,
                            preprocess=data.preprocess, decoding=setup.decoding,
                            loss_fn=setup.loss_fn, batch_size=data.batch_size or 64,
                            reading=reading)


class Learner:
    """Bundle a ``keras.Model``, a :class:`DataBundle`, a loss and an optimizer for training.

    ``loss_fn`` and ``metrics`` default from the data (CIFAR-10: sparse categorical
    cross-entropy, ``from_logits`` matching the model's last activation; accuracy). ``opt`` is
    a Keras optimizer instance, class or name; the default is plain SGD; a ``MultiOptimizer``
    gives a layer group to each optimizer it holds (``training/optimizers.py``).
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
    sizes chunks to ~0.5 s (at most 32 batches). Callbacks still see every batch; a stop
    request from ``after_batch`` takes effect at the end of the chunk, unless a callback acts
    between batches (a ``before_batch`` of its own, or ``sync_every_batch = True``), which makes
    the loop run one batch per call.
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
    ``class_weight`` (Keras' ``{class index: weight}``) weighs each training example's loss by
    its class; ``loss_weights`` weighs the losses of a model with several outputs.
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
        _check_model_and_data(model, data)
        steps_per_execution = check_steps_per_execution(steps_per_execution)
        mixed_precision = check_policy(mixed_precision)
        check_positive("lr", lr, allow_none=True,
                       fix="e.g. lr=1e-3, or None to keep the optimizer's own.")
        check_real("wd", wd, 0.0, allow_none=True, fix="e.g. wd=0.01, or None for none.")
        self.train_metrics = check_bool("train_metrics", train_metrics)
        self.train_bn = check_bool("train_bn", train_bn)
        self.strategy = resolve_strategy(model, strategy)
        check_replica_batch(data, self.strategy)
        self.model, self.data, self.quiet = model, data, bool(quiet)
        self.callbacks, self.keras_callbacks = _split_callbacks(callbacks)
        self.setup = build_setup(model, data, loss_fn, metrics, loss_weights, train_metrics,
                                 class_weight, self.scope)
        parts = build_optimizers(model, opt, lr, self.strategy, mixed_precision, splitter)
        self.opt, self.opts, self.groups, self.hypers = (parts.opt, list(parts.opts),
                                                         parts.groups, parts.hypers)
        self.precision, self.accumulation = parts.precision, parts.accumulation
        self.lr_ratios = parts.lr_ratios  # a MultiOptimizer's: a number keeps them
        self.hypers.set(lr=lr, wd=wd)
        self.recorder, self.suggested_lr = Recorder(), None  # suggested_lr: lr_find's first
        self.last_sweep: dict | None = None  # the last lr_find_info, until the guard rail warns
        self.warned: set[str] = set()  # the once-per-Learner hints already given
        self._snapshot: Snapshot | None = None
        self.class_weights = ClassWeights(self.setup.class_weight, self.scope)
        self.averaging = Averaging(model, parts.opts, parts.group_variables, data, self.scope)
        self.loop, self.runner = _loop(model, data, self.setup, parts, self.strategy,
                                       self.class_weights.variable, jit_compile,
                                       steps_per_execution)
        self.inference = _inference_view(model, data, self.setup, self.averaging.reading)

    # ---- what the setup decided -----------------------------------------------------------------
    loss_fn = property(lambda self: self.setup.loss_fn, doc="The loss the step calls.")
    metrics = property(lambda self: self.setup.metrics, doc="The validation metrics.")
    train_metric_objects = property(lambda self: self.setup.train_metric_objects,
                                    doc="The training metrics' own objects (train_metrics=True).")
    multi_output = property(lambda self: self.setup.multi_output,
                            doc="The model returns several outputs (Keras' CompileLoss).")
    activation = property(lambda self: self.setup.activation,
                          doc='"softmax" / "sigmoid" when predictions turn logits into '
                              'probabilities.')
    task = property(lambda self: self.setup.task, doc="The task read (training/task.py).")
    threshold = property(lambda self: self.setup.decoding.threshold,
                         lambda self, v: setattr(self.setup.decoding, "threshold", v),
                         doc="Binary / multi-label: a label decodes to 1 above it (0.5).")

    def scope(self):
        """The strategy's scope (a no-op context without one): create variables that must
        live beside the model's in it."""
        return strategy_scope(self.strategy)

    # ---- training -----------------------------------------------------------------------------
    def fit(self, epochs: int, lr: float | None = None, wd: float | None = None,
            callbacks: list[Callback] | None = None, quiet: bool | None = None,
            terminate_on_nan: bool = True, checkpoint: str | os.PathLike | None = None,
            checkpoint_every: int | None = None, class_weight: dict | None = None) -> FitState:
        """Train for ``epochs`` epochs at a constant ``lr`` (None keeps the current one; a
        ``slice`` gives each layer group its own, see :meth:`fit_one_cycle`).

        A batch whose loss or gradients are NaN/Inf is never applied, so the weights are never
        poisoned; it ends the fit with a warning naming the batch and LR
        (``terminate_on_nan=False``: skip such batches and go on). ``checkpoint``: a directory
        where the full state is saved at every epoch end (and every ``checkpoint_every``
        batches); calling the same fit again resumes there (see
        :mod:`tflearner.callbacks.checkpoint`). ``class_weight`` (Keras' ``{class index:
        weight}``) weighs each training example's loss by its class for this fit (the
        Learner's ``class_weight`` otherwise). Returns the :class:`FitState` of the run;
        per-batch and per-epoch results are in ``learn.recorder``.
        """
        epochs = check_epochs(epochs)
        args = fit_args(callbacks, quiet, terminate_on_nan, checkpoint, checkpoint_every)
        vector = class_weight_vector(class_weight, self.task, self.setup.n_classes)
        settings = HyperSettings(
            None if lr is None else tuple(group_lrs(spread_lr(lr, self.lr_ratios),
                                                    len(self.groups))), check_wd(wd))
        signature = {"method": "fit", **settings.signed(self.hypers)}
        return run_fit(self, epochs, args, signature, settings=settings, class_weight=vector)

    def fit_one_cycle(self, epochs: int, max_lr: float | slice | None = None,
                      pct_start: float = _ONE_CYCLE["pct_start"],
                      div: float = _ONE_CYCLE["div"], div_final: float = _ONE_CYCLE["div_final"],
                      moms: tuple[float, float, float] | None = _ONE_CYCLE["moms"],
                      anneal: str = _ONE_CYCLE["anneal"],
                      three_phase: bool = _ONE_CYCLE["three_phase"], wd: float | None = None,
                      callbacks: list[Callback] | None = None, quiet: bool | None = None,
                      terminate_on_nan: bool = True, checkpoint: str | os.PathLike | None = None,
                      checkpoint_every: int | None = None) -> FitState:
        """Fit with the one-cycle policy: LR and momentum (SGD with momentum > 0, or the Adam
        family's ``beta_1``) set every batch from :func:`tflearner.schedules.one_cycle`.

        The defaults are :data:`tflearner.schedules.ONE_CYCLE_DEFAULTS`, shared by every
        one-cycle entry point: Leslie Smith's three-phase linear form (up over 45 %, back down
        over 45 %, then annihilation to ``max_lr / 1e4``); ``**FASTAI_ONE_CYCLE`` gives fastai's.
        ``max_lr=None`` uses the last ``lr_find`` suggestion; a ``slice`` or a list gives each
        layer group its own peak (:func:`tflearner.schedules.group_lrs`). Optimizers without a
        momentum term (plain SGD) get the LR schedule only; so do those whose momentum cannot be
        cycled (e.g. a subclass of ``keras.optimizers.SGD`` rather than ``tflearner.SGD``, or
        RMSprop with momentum), with a warning that names the fix (``moms=None`` silences it).
        Momentum is found by type (:func:`tflearner.optim.momentum_of`).
        """
        return fit_policy(self, "one_cycle", epochs, max_lr, fit_args(
            callbacks, quiet, terminate_on_nan, checkpoint, checkpoint_every), wd,
            pct_start=pct_start, div=div, div_final=div_final, moms=moms, anneal=anneal,
            three_phase=three_phase)

    def fit_flat_cos(self, epochs: int, lr: float | slice | None = None, pct_start: float = 0.75,
                     div_final: float = 1e5, wd: float | None = None,
                     callbacks: list[Callback] | None = None, quiet: bool | None = None,
                     terminate_on_nan: bool = True, checkpoint: str | os.PathLike | None = None,
                     checkpoint_every: int | None = None) -> FitState:
        """fastai's flat-then-cosine: ``lr`` for ``pct_start`` of training, then cosine
        annealing to ``lr / div_final``. ``lr=None`` uses the last ``lr_find`` suggestion."""
        return fit_policy(self, "flat_cos", epochs, lr, fit_args(
            callbacks, quiet, terminate_on_nan, checkpoint, checkpoint_every), wd, "lr",
            pct_start=pct_start, div_final=div_final)

    def fit_sgdr(self, n_cycles: int, cycle_len: int, lr_max: float | slice | None = None,
                 cycle_mult: int = 2, wd: float | None = None,
                 callbacks: list[Callback] | None = None, quiet: bool | None = None,
                 terminate_on_nan: bool = True, checkpoint: str | os.PathLike | None = None,
                 checkpoint_every: int | None = None) -> FitState:
        """fastai's SGDR (cosine annealing with warm restarts): ``n_cycles`` cycles, cycle ``k``
        (from 0) lasting ``cycle_len * cycle_mult**k`` epochs, each a cosine from ``lr_max``
        down to 0 (:func:`tflearner.schedules.sgdr`), set every batch.

        Trains :func:`~tflearner.schedules.sgdr_epochs` epochs (e.g. 7 for ``fit_sgdr(3, 1)``).
        ``lr_max`` as ``fit_one_cycle``'s ``max_lr``. Momentum is not scheduled (as in fastai).
        Every argument is checked before any training; the other arguments are :meth:`fit`'s.
        """
        return fit_policy(self, "sgdr", None, lr_max, fit_args(
            callbacks, quiet, terminate_on_nan, checkpoint, checkpoint_every), wd, "lr_max",
            n_cycles=n_cycles, cycle_len=cycle_len, cycle_mult=cycle_mult)

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
                  checkpoint: str | os.PathLike | None = None, **kwargs) -> tuple[FitState, ...]:
        """fastai's transfer-learning recipe on this Learner:

        1. ``freeze()``; ``fit_one_cycle(freeze_epochs, slice(base_lr), pct_start=0.99)``;
        2. ``base_lr /= 2``; ``unfreeze()``;
           ``fit_one_cycle(epochs, slice(base_lr / lr_mult, base_lr), pct_start, div)``.

        Both phases use fastai's one-cycle form (``FASTAI_ONE_CYCLE``: two phases, cosine;
        :func:`tflearner.schedules.fine_tune_phases`); ``kwargs`` go to both ``fit_one_cycle``
        calls (``wd``, ``moms``, ``callbacks``, ...). ``learn.recorder`` holds the second phase
        and ``learn.recorder.phases`` both phases' histories. With ``checkpoint=dir`` each phase
        checkpoints into ``dir/frozen`` and ``dir/unfrozen``: calling the same ``fine_tune``
        again resumes in the right phase at the right batch. Returns the two fits'
        :class:`FitState`.
        """
        return fine_tune(self, epochs, base_lr, freeze_epochs, lr_mult, pct_start, div,
                         checkpoint, **kwargs)

    # ---- reading ------------------------------------------------------------------------------
    def validate(self, ds: tf.data.Dataset | None = None) -> dict[str, float]:
        """Loss and metrics over ``ds`` (default: the validation set), e.g.
        ``{"loss": 1.02, "accuracy": 0.64}``."""
        with self.averaging.reading():
            return self.runner.evaluate(predictions.validation_dataset(self, ds))

    def preds_dataset(self, ds: Any = None) -> tf.data.Dataset:
        """The dataset :meth:`get_preds` reads: None or ``"valid"`` the validation set,
        ``"test"`` the test set, a ``tf.data.Dataset`` of model-input batches ``x`` or
        ``(x, y)`` as given, anything else raw items for ``data.test_dl``."""
        return predictions.preds_dataset(self, ds)

    def get_preds(self, ds: Any = None, with_input: bool = False, with_loss: bool = False,
                  with_decoded: bool = False) -> tuple:
        """``([inputs,] probs, targets[, decoded][, losses])`` as numpy arrays, fastai's order.

        ``ds`` as :meth:`preds_dataset` (default: the validation set). ``probs`` are the
        outputs with the loss's activation (a softmax when the model outputs logits);
        ``targets`` None for inputs without labels; ``decoded`` the argmax class
        (classification); ``losses`` the per-item loss, without regularisation terms."""
        return predictions.get_preds(self, ds, with_input, with_loss, with_decoded)

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
        return predictions.show_results(self, n, ds, shuffle, seed, ncols, figsize)

    def tta(self, ds: Any = None, n: int = 4, beta: float | None = 0.25, augment: Any = None,
            use_max: bool = False, seed: int | None = None) -> tuple:
        """Test-time augmentation, fastai's rule: ``(probs, targets)`` with ``probs = beta *
        plain + (1 - beta) * mean of n augmented passes`` (``use_max``: the element-wise
        maximum instead; ``beta=None``: ``((aug_mean, plain), targets)``).

        ``augment`` defaults to the data's training augmentation (``from_folder(augment=)``);
        array data has none, so pass one (e.g. ``aug_transforms()``). The passes are seeded by
        ``(seed, pass, item)`` (``seed`` default: the data's), so TTA repeats exactly."""
        return predictions.tta(self, ds, n, beta, augment, use_max, seed)

    def export(self, path: str | os.PathLike = "export") -> Path:
        """Write ``path/model.keras`` (Keras' format: architecture and weights) and
        ``path/tflearner.json`` (classes, preprocessing, input spec, activation, versions);
        ``load_learner(path)`` reads them back. No optimizer state, no data; returns ``path``.
        """
        if self.inference is None:
            raise ValueError("export supports models with one input and one output for now; "
                             "save this one with learn.model.save('model.keras').")
        x_spec = self.loop.compiled.x_spec
        with self.averaging.reading():
            return export_folder(
                self.model, path, task=self.task, classes=self.data.classes,
                c=self.setup.n_classes or self.data.c, activation=self.activation,
                preprocess=self.data.preprocess, input_shape=tuple(x_spec.shape[1:]),
                x_dtype=x_spec.dtype.name, threshold=self.setup.decoding.threshold)

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
                quiet: bool | None = None, repeats: int = 1, snapshot: str = "auto",
                extend: bool = True, verify: bool = False, epochs: int | None = None,
                budget: float = DEFAULT_BUDGET, policy: str = "one_cycle"):
        """Learning-rate range test with zero side effects; returns ``SuggestedLRs``.

        Sweeps ``lr_i = start_lr * (end_lr/start_lr) ** (i/(num_it-1))`` (``mode="linear"``:
        evenly spaced), one training step each, smoothing the loss with a debiased EMA of factor
        ``beta`` (None: ``1 - 2/num_it``). It stops when the smoothed loss exceeds
        ``div_threshold`` times its best (``stop_div``) or on a NaN/Inf loss; a sweep that ran
        to ``end_lr`` with the loss still falling runs again to 100 x ``end_lr`` (``extend``, at
        most twice). Every variable is restored bit for bit (also after an exception or
        Ctrl-C). The curve and the suggestions stay in ``learn.recorder``; ``learn.suggested_lr``
        (what ``fit_one_cycle(max_lr=None)`` uses) is the first method's suggestion, else the
        next one's, with a warning.

        ``verify=True`` (with the ``epochs`` of the fit you will run, ``policy="one_cycle"`` or
        ``"flat_cos"``) then races candidate LRs with short trial fits of that fit, scored on
        the validation set
        (:mod:`tflearner.lr_finder.verify`): the result's first field is ``verified``, and
        ``learn.suggested_lr`` is it; ``result.sure`` says whether to trust it (a warning says
        why not), ``result.cost`` what the sweep and race cost in fits of that size (at most
        ``budget``). ``fit_one_cycle(epochs, max_lr="auto")`` does both in one call.

        ``repeats=k``: ``k`` sweeps from the same state with their own data orders; each
        suggestion is their geometric median and ``result.spread[name]`` their ``max / min``.
        ``snapshot``: where the copy restored at the end lives (``"device"``, ``"host"`` or
        ``"auto"``, see :meth:`snapshot`).
        """
        return driver.lr_find(self, start_lr, end_lr, num_it, stop_div, beta, div_threshold,
                              suggest_funcs, show_plot, mode, quiet, repeats, snapshot, extend,
                              verify, epochs, budget, policy)

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
