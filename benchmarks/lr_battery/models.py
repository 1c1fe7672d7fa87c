"""The battery's models. Every builder returns a fresh, uncompiled ``keras.Model``; the runner
seeds Keras before calling it, so a seed fixes the initial weights. The output layer is named
``"output"`` (Muon excludes it by that name, as Keras' docstring advises)."""

from __future__ import annotations

import os
from pathlib import Path

import keras

from .datasets import TAB_CARDINALITIES

__all__ = ["CACHE_DIR", "BN_MOMENTUM", "mlp", "digits_cnn", "bn_cnn", "small_resnet", "lenet",
           "conv1d_net", "embed_tabular", "tabsynth_net", "backbone", "pretrained_cifar_backbone",
           "cifar_transfer", "pretrained_digits_body", "digits_transfer_net"]

L = keras.layers
BN_MOMENTUM = 0.9  # short runs: Keras' 0.99 leaves the moving statistics near their init
CACHE_DIR = Path(os.environ.get("TFLEARNER_BATTERY_DIR", "/tmp/tflearner-battery"))


def _head(x, n_out: int, activation: str | None = "softmax"):
    return L.Dense(n_out, activation=activation, name="output")(x)


def mlp(n_in: int, hidden: tuple[int, ...], n_out: int, activation: str | None = "softmax"):
    inputs = keras.Input((n_in,))
    x = inputs
    for h in hidden:
        x = L.Dense(h, activation="relu")(x)
    return keras.Model(inputs, _head(x, n_out, activation), name="mlp")


def digits_cnn():
    inputs = keras.Input((8, 8, 1))
    x = L.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = L.Conv2D(64, 3, activation="relu")(x)
    x = L.Flatten()(L.MaxPooling2D()(x))
    return keras.Model(inputs, _head(L.Dense(64, activation="relu")(x), 10), name="digits_cnn")


def bn_cnn():
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for filters in (16, 32, 64):
        x = L.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization(momentum=BN_MOMENTUM)(x))
        x = L.MaxPooling2D(2)(x)
    return keras.Model(inputs, _head(L.GlobalAveragePooling2D()(x), 10), name="bn_cnn")


def _conv_bn(x, filters: int, stride: int = 1):
    x = L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    return L.ReLU()(L.BatchNormalization(momentum=BN_MOMENTUM)(x))


def small_resnet():
    """ResNet-style: a stem, then 3 stages (16/32/64) of one residual block each."""
    inputs = keras.Input((32, 32, 3))
    x = _conv_bn(inputs, 16)
    for i, filters in enumerate((16, 32, 64)):
        stride = 1 if i == 0 else 2
        y = _conv_bn(x, filters, stride)
        y = L.BatchNormalization(momentum=BN_MOMENTUM)(
            L.Conv2D(filters, 3, padding="same", use_bias=False)(y))
        if stride != 1 or x.shape[-1] != filters:
            x = L.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        x = L.ReLU()(L.Add()([x, y]))
    return keras.Model(inputs, _head(L.GlobalAveragePooling2D()(x), 10), name="small_resnet")


def lenet():
    """tflearner's LeNet-5 (the seed's, the demo's)."""
    from tflearner import LeNet

    return LeNet()


def conv1d_net(length: int, channels: int, n_out: int, widths: tuple[int, int] = (32, 64)):
    """Two 1-D convolutions (kernel 5, same padding, ReLU), max-pooling between, global
    max-pooling, a softmax head."""
    inputs = keras.Input((length, channels))
    x = L.Conv1D(widths[0], 5, padding="same", activation="relu")(inputs)
    x = L.MaxPooling1D(2)(x)
    x = L.Conv1D(widths[1], 5, padding="same", activation="relu")(x)
    return keras.Model(inputs, _head(L.GlobalMaxPooling1D()(x), n_out), name="conv1d")


def embed_tabular(cardinalities: tuple[int, ...], n_numeric: int, n_out: int,
                  hidden: tuple[int, ...] = (64, 32)):
    """fastai-style tabular model: the first ``len(cardinalities)`` input columns are category
    indices (floats), each embedded in ``min(16, (k + 1) // 2)`` dimensions; the embeddings and
    the numeric columns feed an MLP."""
    n_cat = len(cardinalities)
    inputs = keras.Input((n_cat + n_numeric,))
    cats = keras.ops.cast(inputs[:, :n_cat], "int32")
    parts = [L.Flatten()(L.Embedding(k, min(16, (k + 1) // 2), name=f"embedding_{i}")(
        cats[:, i:i + 1])) for i, k in enumerate(cardinalities)]
    x = L.Concatenate()([*parts, inputs[:, n_cat:]])
    for h in hidden:
        x = L.Dense(h, activation="relu")(x)
    return keras.Model(inputs, _head(x, n_out), name="embed_tabular")


def tabsynth_net():
    from .datasets import TAB_NUMERIC

    return embed_tabular(TAB_CARDINALITIES, TAB_NUMERIC, 3)


def backbone():
    """The transfer benchmark's backbone (benchmarks/transfer.py), BatchNorm momentum 0.9."""
    layers = [keras.Input((32, 32, 3))]
    for i, width in enumerate((32, 64, 128)):
        for _ in range(2 if i < 2 else 1):
            layers += [L.Conv2D(width, 3, padding="same", use_bias=False),
                       L.BatchNormalization(momentum=BN_MOMENTUM), L.ReLU()]
        if i < 2:
            layers.append(L.MaxPooling2D())
    layers.append(L.GlobalAveragePooling2D())
    return keras.Sequential(layers, name="backbone")


def _pretrain(body, head_classes: int, data: tuple, valid: tuple, epochs: int, lr: float,
              batch_size: int, path: Path) -> None:
    """Train ``body`` + a fresh softmax head with Adam one-cycle (seed 0) and save the body."""
    from tflearner import DataBundle, Learner

    keras.utils.set_random_seed(0)
    model = keras.Sequential([body, L.Dense(head_classes, activation="softmax")])
    bundle = DataBundle.from_arrays(*data, valid=valid, batch_size=batch_size, seed=0)
    learn = Learner(model, bundle, opt="adam", quiet=True)
    learn.fit_one_cycle(epochs, lr)
    print(f"# pretrained {path.name}: valid accuracy {learn.validate()['accuracy']:.1%}",
          flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    body.save_weights(str(path))


def pretrained_cifar_backbone(cifar_path: str) -> Path:
    """The old battery's backbone pretrained on CIFAR-10 classes 0-4 (10,000 images, 3 epochs,
    Adam, seed 0), made once and cached in :data:`CACHE_DIR`."""
    from .datasets import cifar

    path = CACHE_DIR / "backbone-0to4-10k-3ep.weights.h5"
    if not path.exists():
        s = cifar(cifar_path, 10000, 1000, 0, classes=(0, 1, 2, 3, 4))
        _pretrain(backbone(), 5, s.train, s.valid, 3, 3e-3, 128, path)
    return path


def cifar_transfer(cifar_path: str):
    """The pretrained CIFAR backbone and a new 5-class head (classes 5-9)."""
    body = backbone()
    body.load_weights(str(pretrained_cifar_backbone(cifar_path)))
    return keras.Sequential([keras.Input((32, 32, 3)), body, _dense_head(5)], name="transfer")


def _dense_head(n_out: int):
    return L.Dense(n_out, activation="softmax", name="output")


def _digits_body():
    return keras.Sequential([keras.Input((64,)), L.Dense(128, activation="relu"),
                             L.Dense(64, activation="relu")], name="digits_body")


def pretrained_digits_body() -> Path:
    """An MLP body (64 → 128 → 64) pretrained on digits 0-4 (Adam, 10 epochs, seed 0), made
    once and cached in :data:`CACHE_DIR`."""
    from .datasets import digits_transfer

    path = CACHE_DIR / "digits-body-0to4-10ep.weights.h5"
    if not path.exists():
        (x, y), _ = digits_transfer()
        n = len(x) * 4 // 5
        _pretrain(_digits_body(), 5, (x[:n], y[:n]), (x[n:], y[n:]), 10, 3e-3, 64, path)
    return path


def digits_transfer_net():
    """The pretrained digits body and a new 5-class head (digits 5-9)."""
    body = _digits_body()
    body.load_weights(str(pretrained_digits_body()))
    return keras.Sequential([keras.Input((64,)), body, _dense_head(5)], name="digits_transfer")
