"""The battery's problems: what each trains, how, for how long, over which LR grid, and on which
side of the tuning / held-out split it sits (the split is the package docstring's table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from . import datasets as D
from . import models as M

__all__ = ["Problem", "PROBLEMS", "TUNING", "HELD_OUT", "VARIANTS", "learner_opt", "keras_opt",
           "SmoothedCE", "by_name"]

TUNING, HELD_OUT = "tuning", "held-out"

_KERAS_OPTS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad",
               "adamax": "Adamax", "muon": "Muon", "lion": "Lion"}


def keras_opt(spec: tuple[str, dict], lr: float | None = None) -> keras.optimizers.Optimizer:
    """The Keras optimizer a Keras user would write (its own default LR unless ``lr``)."""
    name, kwargs = spec
    kwargs = dict(kwargs)
    if name == "muon":
        kwargs.setdefault("exclude_layers", ["output"])
    if lr is not None:
        kwargs["learning_rate"] = lr
    return getattr(keras.optimizers, _KERAS_OPTS[name])(**kwargs)


def learner_opt(spec: tuple[str, dict]) -> Any:
    """The Learner's optimizer: ``tflearner.SGD`` for SGD with momentum (so one-cycle cycles
    it), the plain name ``"sgd"`` for plain SGD (as ``tflearner demo`` passes it), otherwise
    the Keras optimizer."""
    name, kwargs = spec
    if name == "sgd":
        from tflearner import SGD

        return SGD(**kwargs) if kwargs.get("momentum") else "sgd"
    return keras_opt(spec)


class SmoothedCE(keras.losses.Loss):
    """Categorical cross-entropy with label smoothing on integer labels and probabilities."""

    def __init__(self, n_classes: int, smoothing: float = 0.1, name: str = "smoothed_ce"):
        super().__init__(name=name)
        self.n_classes, self.smoothing = n_classes, smoothing

    def call(self, y_true, y_pred):
        ops = keras.ops
        y = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), self.n_classes)
        return keras.losses.categorical_crossentropy(y, y_pred, label_smoothing=self.smoothing)


@dataclass(frozen=True)
class Problem:
    """One problem of the battery (see the package docstring for the fields' roles).

    ``grid``: log10 of the first and last LR of the half-decade grid (both cliffs).
    ``final`` fit: ``fit_one_cycle(epochs, lr)``, or with ``fine_tune``
    ``fine_tune(epochs - 1, base_lr=lr, freeze_epochs=1)`` on a frozen Learner.
    ``env``: a numerics variant, set before TensorFlow is imported (a subprocess).
    ``sweep``: the ``lr_find`` arguments of the user's own recipe (the demo's).
    ``extras``: also fit one-cycle at the peers' LRs (off where a fit is expensive)."""

    name: str
    split: str
    kind: str
    data: Callable[[Any], D.Splits]
    model: Callable[[Any], keras.Model]
    opt: tuple[str, dict]
    batch_size: int
    epochs: int
    grid: tuple[float, float]
    loss: str | float = "default"  # "default", "mse", or a label-smoothing factor
    fine_tune: bool = False
    needs_cifar: bool = False
    env: dict = field(default_factory=dict)
    sweep: dict = field(default_factory=dict)
    extras: bool = True
    prepare: Callable[[Any], Any] | None = None

    @property
    def regression(self) -> bool:
        return self.loss == "mse"

    @property
    def variant(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self.env.items()))

    def lrs(self) -> list[float]:
        lo, hi = self.grid
        return [float(f"{10 ** e:.6g}") for e in np.arange(lo, hi + 1e-9, 0.5)]

    def loss_fn(self, n_classes: int) -> Any:
        """The loss for both the Learner and ``model.compile`` (None: the Learner's default;
        the Keras side then uses sparse categorical cross-entropy)."""
        if self.loss == "mse":
            return "mse"
        if isinstance(self.loss, float):
            return SmoothedCE(n_classes, self.loss)
        return None


def _cifar(n_train, n_valid, n_test):
    return lambda a: D.cifar(a.cifar, n_train, n_valid, n_test)


def _sgd(momentum: float = 0.0) -> tuple[str, dict]:
    return ("sgd", {"momentum": momentum} if momentum else {})


ADAMW = ("adamw", {"weight_decay": 0.05})
#: The demo's numerics variants: oneDNN on / off, 2 / 1 TensorFlow intra-op threads.
VARIANTS = {f"onednn{o}-t{t}": {"TF_ENABLE_ONEDNN_OPTS": str(o), "TF_NUM_INTRAOP_THREADS": str(t)}
            for o in (1, 0) for t in (2, 1)}


def _tuning() -> list[Problem]:
    P, T = Problem, TUNING
    return [
        P("digits-mlp-sgd", T, "old", lambda a: D.digits(), lambda a: M.mlp(64, (128,), 10),
          _sgd(), 32, 8, (-3.0, 1.0)),
        P("digits-mlp-adam-b128-30ep", T, "old", lambda a: D.digits(),
          lambda a: M.mlp(64, (256, 128), 10), ("adam", {}), 128, 30, (-4.5, 0.0)),
        P("wine-mlp-sgdmom", T, "old", lambda a: D.standardized("wine"),
          lambda a: M.mlp(13, (32,), 3), _sgd(0.9), 8, 15, (-4.0, 0.5)),
        P("diabetes-mlp-adam-regression", T, "old",
          lambda a: D.standardized("diabetes", True), lambda a: M.mlp(10, (64,), 1, None),
          ("adam", {}), 32, 30, (-4.5, 0.0), loss="mse"),
        P("cifar3k-lenet-sgdmom", T, "old", _cifar(3000, 1000, 1000), lambda a: M.lenet(),
          _sgd(0.9), 64, 3, (-3.5, 0.0), needs_cifar=True),
        P("cifar3k-resnet-adamw", T, "old", _cifar(3000, 1000, 1000),
          lambda a: M.small_resnet(), ("adamw", {"weight_decay": 5e-4}), 128, 3, (-3.5, -0.5),
          needs_cifar=True),
        P("digits-finetune-sgdmom", T, "new: transfer of a small MLP body",
          lambda a: D.digits_transfer()[1], lambda a: M.digits_transfer_net(), _sgd(0.9), 8, 8,
          (-3.5, 1.0), fine_tune=True, prepare=lambda a: M.pretrained_digits_body()),
        P("motif-conv1d-adam", T, "new: 1-D conv sequence model", lambda a: D.motif_sequences(),
          lambda a: M.conv1d_net(96, 1, 4), ("adam", {}), 64, 10, (-4.5, 0.0)),
        P("tabsynth-embed-adamax", T, "new: embeddings for categorical columns; Adamax",
          lambda a: D.tabular_synth(), lambda a: M.tabsynth_net(), ("adamax", {}), 64, 15,
          (-4.0, 0.5)),
        P("digits-mlp-muon", T, "new: Muon", lambda a: D.digits(),
          lambda a: M.mlp(64, (128, 64), 10), ("muon", {}), 32, 15, (-4.5, 0.5)),
        P("digits-cnn-sgdmom-ls", T, "new: label smoothing 0.1", lambda a: D.digits((8, 8, 1)),
          lambda a: M.digits_cnn(), _sgd(0.9), 64, 10, (-3.5, 1.0), loss=0.1),
        P("digits-mlp-adam-b512", T, "new: batch 512", lambda a: D.digits(),
          lambda a: M.mlp(64, (128,), 10), ("adam", {}), 512, 40, (-4.0, 0.5)),
        P("digits-cnn-sgd", T, "new: plain SGD on a conv net", lambda a: D.digits((8, 8, 1)),
          lambda a: M.digits_cnn(), _sgd(), 32, 10, (-3.0, 1.5)),
        P("cancer-mlp-adagrad", T, "new: Adagrad", lambda a: D.standardized("breast_cancer"),
          lambda a: M.mlp(30, (64,), 2), ("adagrad", {}), 16, 15, (-3.5, 1.0)),
        P("cancer-mlp-lion", T, "new: Lion (sign-based)",
          lambda a: D.standardized("breast_cancer"), lambda a: M.mlp(30, (64,), 2),
          ("lion", {}), 16, 15, (-5.5, -1.0)),
    ]


def _held_out() -> list[Problem]:
    P, H = Problem, HELD_OUT
    return [
        P("digits-mlp-sgdmom", H, "old", lambda a: D.digits(), lambda a: M.mlp(64, (128,), 10),
          _sgd(0.9), 32, 8, (-4.0, 0.5)),
        P("digits-cnn-adamw", H, "old", lambda a: D.digits((8, 8, 1)), lambda a: M.digits_cnn(),
          ADAMW, 64, 6, (-4.5, 0.0)),
        P("cancer-mlp-adamw", H, "old", lambda a: D.standardized("breast_cancer"),
          lambda a: M.mlp(30, (64,), 2), ("adamw", {"weight_decay": 0.01}), 16, 15,
          (-4.5, 0.0)),
        P("cifar3k-bncnn-sgdmom", H, "old", _cifar(3000, 1000, 1000), lambda a: M.bn_cnn(),
          _sgd(0.9), 128, 4, (-2.5, 1.0), needs_cifar=True),
        P("cifar-finetune-adam", H, "old", lambda a: D.cifar_few_labels(a.cifar),
          lambda a: M.cifar_transfer(a.cifar), ("adam", {}), 32, 4, (-4.0, -0.5),
          fine_tune=True, needs_cifar=True,
          prepare=lambda a: M.pretrained_cifar_backbone(a.cifar)),
        P("friedman-mlp-adagrad-regression", H, "new: Adagrad; a synthetic regression",
          lambda a: D.friedman(), lambda a: M.mlp(10, (64, 64), 1, None), ("adagrad", {}), 32,
          20, (-3.5, 1.0), loss="mse"),
        P("digitrows-conv1d-sgdmom", H, "new: 1-D conv over the digits' rows",
          lambda a: D.digit_rows(), lambda a: M.conv1d_net(8, 8, 10), _sgd(0.9), 32, 10,
          (-3.5, 1.0)),
        P("cancer-embed-adamax", H, "new: embeddings for binned columns; Adamax",
          lambda a: D.cancer_binned(), lambda a: M.embed_tabular((8,) * 6, 24, 2),
          ("adamax", {}), 16, 15, (-4.0, 0.5)),
        P("digits-cnn-muon", H, "new: Muon (conv kernels take its AdamW step)",
          lambda a: D.digits((8, 8, 1)), lambda a: M.digits_cnn(), ("muon", {}), 64, 8,
          (-4.5, 0.5)),
        P("cifar3k-lenet-adam-ls", H, "new: label smoothing 0.1", _cifar(3000, 1000, 1000),
          lambda a: M.lenet(), ("adam", {}), 64, 5, (-4.5, -0.5), loss=0.1, needs_cifar=True),
        P("motif-conv1d-sgdmom-b512", H, "new: batch 512", lambda a: D.motif_sequences(),
          lambda a: M.conv1d_net(96, 1, 4), _sgd(0.9), 512, 30, (-3.0, 1.5)),
        P("cifar10-lenet-sgd", H, "new: LeNet-5 + plain SGD on full CIFAR-10 (used-by line)",
          _cifar(None, 5000, None), lambda a: M.lenet(), _sgd(), 128, 10, (-2.0, 0.5),
          needs_cifar=True, extras=False),
        *(P(f"demo@{v}", H, f"new: the demo, {env}", lambda a: D.cifar_sample(),
            lambda a: M.lenet(), _sgd(), 64, 20, (-3.0, 0.5), env=env,
            sweep={"end_lr": 100.0, "num_it": 200}) for v, env in VARIANTS.items()),
    ]


PROBLEMS: list[Problem] = [*_tuning(), *_held_out()]


def by_name(names: str | None) -> list[Problem]:
    """The problems named in a comma-separated list (all for None); unknown names raise."""
    if names is None:
        return list(PROBLEMS)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {p.name: p for p in PROBLEMS}
    missing = [n for n in wanted if n not in known]
    if missing:
        raise ValueError(f"--only: unknown problem(s) {missing}; known: {sorted(known)}")
    return [known[n] for n in wanted]
