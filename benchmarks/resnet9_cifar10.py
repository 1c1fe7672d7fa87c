"""Myrtle's ResNet-9 on CIFAR-10, trained two ways: ``Learner.fit_one_cycle`` and ``model.fit``.

The recipe is David Page's "How to train your ResNet" (myrtle.ai, 2018), post 4, the DAWNBench
entry that reaches 94 % test accuracy in 24 epochs (79 s on one V100; ``dawn.py`` in
github.com/davidcpage/cifar10-fast), with label smoothing 0.2 from post 8 ("bag of tricks"):

* **network**: ``prep`` conv-bn-relu 64; ``layer1`` conv-bn-relu 128, max-pool 2, plus a residual
  ``x + f(f(x))`` of two conv-bn-relu 128; ``layer2`` conv-bn-relu 256, max-pool 2; ``layer3``
  conv-bn-relu 512, max-pool 2, plus a residual of two conv-bn-relu 512; global max-pool (their
  ``MaxPool2d(4)`` on 4x4); linear 10 without bias; logits times 0.125. Convolutions 3x3, "same",
  no bias. BatchNorm as PyTorch's default (``momentum=0.1`` there is Keras' ``momentum=0.9``,
  ``eps=1e-5``, scale 1, offset 0); weights drawn as PyTorch's default (``U(+-1/sqrt(fan_in))``,
  Keras' ``VarianceScaling(1/3, "fan_in", "uniform")``). Inputs normalised by CIFAR-10's
  per-channel mean and std (inside the model, so both sides get the same [0, 1] pipeline).
  ``--width-mult`` scales every width (0.25: 16/32/64/128 channels) for CPU runs.
* **data**: every training epoch reshuffled; flip left-right, reflect-pad 4 then random 32x32
  crop, cutout 8x8 (``aug_transforms(rotate=0, zoom=0, translate=0, brightness=0, contrast=0,
  pad=4, cutout=8)``, per image, keyed by (seed, epoch, index)); the last partial batch dropped,
  as theirs. One ``tf.data`` pipeline is built once and fed to both sides; its epoch counter is
  reset before each, so both see the same augmented images in the same order.
* **optimiser**: SGD, Nesterov momentum 0.9, batch 512; learning rate piecewise linear 0 -> 0.4
  (at 5/24 of training) -> 0; weight decay 5e-4. Their loss is *summed* over the batch, with
  ``lr / batch_size`` and ``wd * batch_size`` in PyTorch's coupled L2 form, so one step is
  ``-0.4 (mean gradient + 5e-4 w)``: with Keras' mean-reduced loss that is lr 0.4 and an L2 term
  ``2.5e-4 * sum(w**2)`` on every weight (kernels, BN scales and offsets), added to the loss,
  through the momentum (``--wd-mode l2``, the default: exact). ``--wd-mode decoupled`` instead
  uses the optimisers' decoupled ``w -= lr * wd * w`` with ``wd = 5e-4 / (1 - 0.9)``, the same
  shrinkage once the momentum is in steady state.
* **loss**: cross-entropy with label smoothing 0.2 (their ``(1 - a) xent + a mean(-log p)``,
  which is Keras' ``label_smoothing``).

The two sides, from the same initial weights (built once, copied):

* **tflearner**: ``Learner(model, data, loss_fn, opt=tflearner.SGD(momentum=0.9, nesterov=True),
  mixed_precision=..., jit_compile=...)``, ``fit_one_cycle(epochs, 0.4, pct_start=5/24,
  div=1e6, div_final=1e6, moms=None, anneal="linear", three_phase=False)``: the same two linear
  pieces, from and to 4e-7 instead of 0 (the Learner's LR must stay > 0), momentum constant.
  The Keras side uses the same 4e-7 ends, so the two run one schedule: on the CPU, in float32,
  their weights then agree to rounding after the first epoch (a 4e-7 first step against 0 is
  enough to move them apart by 1e-3 within a few steps, through max-pool and ReLU ties).
* **keras**: ``model.compile(keras.optimizers.SGD(PiecewiseLinear(...), momentum=0.9,
  nesterov=True), steps_per_execution=32, jit_compile=...)`` and ``model.fit``; the model is
  built under the same dtype policy, so Keras wraps the optimiser in its ``LossScaleOptimizer``
  for ``mixed_float16`` as the Learner does.

Both evaluate the test set after every epoch. Printed: test accuracy per epoch, training time per
epoch (evaluation excluded, as DAWNBench), images/s (all epochs, and epochs 2+ without the first
epoch's tracing), the process CPU time per image (all threads; on a shared machine it moves
less with other jobs' load than the wall clock does), the time to 94 % (or to the best accuracy
reached) and the tflearner / Keras speed ratios. The largest difference between the two sides'
per-batch learning rates checks that the schedules agree, and the largest difference between
their final weights that they train alike. ``--sides keras,tflearner`` reverses the order.

CPU, reduced (the committed ``benchmarks/results/resnet9_cifar10-cpu-*.txt``)::

    python benchmarks/resnet9_cifar10.py --subset 5000 --test-subset 1000 --epochs 4 \\
        --width-mult 0.25

GPU, the full recipe (mixed float16 is the default on a GPU; XLA on)::

    python benchmarks/resnet9_cifar10.py --epochs 24 --batch-size 512 \\
        --precision mixed_float16 --jit-compile --json resnet9-gpu.json

Our CIFAR-10 copy was partly rebuilt from JPEGs (accuracies run 1-3 points below the original),
so compare the two sides with each other, not only with 94 %.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tflearner import SGD, DataBundle, Learner, aug_transforms  # noqa: E402
from tflearner.core.events import Callback  # noqa: E402
from tflearner.data.augment import example_seed  # noqa: E402
from tflearner.data.cifar import CIFAR10_CLASSES, load_cifar10  # noqa: E402
from tflearner.data.split import epoch_order  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "cifar-10-python.tar.gz"
TARGET = 0.94
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
# Page's constants (torch_backend.py): CIFAR-10's per-channel mean and std, in 0..255.
MEAN = np.array([125.31, 122.95, 113.87]) / 255.0
STD = np.array([62.99, 62.09, 66.70]) / 255.0
WIDTHS = (64, 128, 256, 512)
PEAK_LR, MOMENTUM, WD, SMOOTHING, WARM_EPOCHS, RECIPE_EPOCHS = 0.4, 0.9, 5e-4, 0.2, 5, 24
LOW_DIV = 1e6  # the Learner's schedule starts and ends at PEAK_LR / LOW_DIV instead of 0


# ------------------------------------------------------------------------------------- model

def resnet9(width_mult: float = 1.0, l2: float = 0.0, classes: int = 10) -> keras.Model:
    """Page's ResNet-9 (see the module docstring); ``l2`` puts ``l2 * sum(w**2)`` on every
    weight. Built under the current global dtype policy; the logits layer computes in float32."""
    init = keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")  # PyTorch's
    reg = keras.regularizers.L2(l2) if l2 else None
    c = [max(1, round(w * width_mult)) for w in WIDTHS]

    def conv_bn(x, ch, name):
        x = keras.layers.Conv2D(ch, 3, padding="same", use_bias=False, kernel_initializer=init,
                                kernel_regularizer=reg, name=f"{name}_conv")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, beta_regularizer=reg,
                                            gamma_regularizer=reg, name=f"{name}_bn")(x)
        return keras.layers.ReLU(name=f"{name}_relu")(x)

    def residual(x, ch, name):
        y = conv_bn(conv_bn(x, ch, f"{name}_res1"), ch, f"{name}_res2")
        return keras.layers.Add(name=f"{name}_add")([x, y])

    inputs = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Normalization(mean=MEAN, variance=STD**2, name="normalise")(inputs)
    x = conv_bn(x, c[0], "prep")
    x = keras.layers.MaxPooling2D(2, name="layer1_pool")(conv_bn(x, c[1], "layer1"))
    x = residual(x, c[1], "layer1")
    x = keras.layers.MaxPooling2D(2, name="layer2_pool")(conv_bn(x, c[2], "layer2"))
    x = keras.layers.MaxPooling2D(2, name="layer3_pool")(conv_bn(x, c[3], "layer3"))
    x = residual(x, c[3], "layer3")
    x = keras.layers.GlobalMaxPooling2D(name="pool")(x)
    x = keras.layers.Dense(classes, use_bias=False, kernel_initializer=init,
                           kernel_regularizer=reg, name="linear")(x)
    logits = keras.layers.Rescaling(0.125, dtype="float32", name="classifier")(x)
    return keras.Model(inputs, logits, name="resnet9")


def build(width_mult: float, l2: float, precision: str) -> keras.Model:
    """``resnet9`` built under ``precision`` as the global policy (restored afterwards)."""
    saved = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        return resnet9(width_mult, l2)
    finally:
        keras.config.set_dtype_policy(saved)


class SmoothedSparseCE(keras.losses.Loss):
    """Cross-entropy on integer labels with label smoothing ``a``: Keras' categorical
    ``label_smoothing`` (``(1 - a) xent + a mean_k(-log p_k)``, Page's form) on one-hot labels."""

    from_logits = True  # the model outputs logits (read by the Learner's get_preds / predict)

    def __init__(self, label_smoothing: float = 0.0, name: str = "smoothed_sparse_ce") -> None:
        super().__init__(name=name)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        n = tf.shape(y_pred)[-1]
        onehot = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), n, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            onehot, y_pred, from_logits=True, label_smoothing=self.label_smoothing)

    def get_config(self) -> dict:
        return {"label_smoothing": self.label_smoothing, "name": self.name}


@keras.saving.register_keras_serializable(package="resnet9_cifar10")
class PiecewiseLinear(keras.optimizers.schedules.LearningRateSchedule):
    """``lr(step)`` linear between the knots ``(steps[k], values[k])``; ``values[-1]`` after."""

    def __init__(self, steps: list[float], values: list[float]) -> None:
        if len(steps) != len(values) or len(steps) < 2 or any(
                b <= a for a, b in itertools.pairwise(steps)):
            raise ValueError(f"steps must increase and match values, got {steps}, {values}.")
        self.steps, self.values = [float(s) for s in steps], [float(v) for v in values]

    def __call__(self, step):
        s = tf.cast(step, tf.float32)
        out = tf.constant(self.values[-1], tf.float32)
        knots = list(zip(self.steps, self.values, strict=True))
        for (a, va), (b, vb) in reversed(list(itertools.pairwise(knots))):
            out = tf.where(s < b, va + (vb - va) * (s - a) / (b - a), out)
        return out

    def get_config(self) -> dict:
        return {"steps": self.steps, "values": self.values}


# -------------------------------------------------------------------------------------- data

def train_pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int
                   ) -> tuple[tf.data.Dataset, tf.Variable, int]:
    """Shuffled, augmented (flip, pad-4 crop, cutout 8) batches of ``[0, 1]`` float32 images;
    ``(dataset, epoch counter, batches per epoch)``. The last partial batch is dropped."""
    n = len(x)
    steps = n // batch_size
    if steps < 1:
        raise SystemExit(f"--batch-size {batch_size} is larger than the {n} training images.")
    aug = aug_transforms(rotate=0, zoom=0, translate=0, brightness=0, contrast=0, pad=4,
                         cutout=8)
    xt, yt = tf.constant(x), tf.constant(y)
    counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="resnet9_epoch")
    key = tf.constant(seed, tf.int64)

    def load(i, epoch):
        img = tf.cast(tf.gather(xt, i), tf.float32) * (1.0 / 255.0)
        return aug(img, example_seed(key, epoch, i)), tf.gather(yt, i)

    ds = (epoch_order(n, seed, counter, with_epoch=True)
          .map(load, num_parallel_calls=tf.data.AUTOTUNE)
          .batch(batch_size, drop_remainder=True)
          .apply(tf.data.experimental.assert_cardinality(steps))
          .prefetch(tf.data.AUTOTUNE))
    return ds, counter, steps


def test_pipeline(x: np.ndarray, y: np.ndarray, batch_size: int) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    return ds.map(lambda a, b: (tf.cast(a, tf.float32) * (1.0 / 255.0), b),
                  num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def load_data(args: argparse.Namespace):
    (x, y), (xt, yt) = load_cifar10(None if args.sample else args.data_dir, sample=args.sample)
    rng = np.random.default_rng(args.seed)
    if args.subset is not None and args.subset < len(x):
        keep = np.sort(rng.permutation(len(x))[:args.subset])
        x, y = x[keep], y[keep]
    if args.test_subset is not None and args.test_subset < len(xt):
        keep = np.sort(rng.permutation(len(xt))[:args.test_subset])
        xt, yt = xt[keep], yt[keep]
    return (x, y.astype(np.int64)), (xt, yt.astype(np.int64))


# ------------------------------------------------------------------------------------ timing

class LearnerTimer(Callback):
    """Training seconds per epoch (``before_train`` .. ``after_train``), evaluation excluded."""

    order = 10

    def before_fit(self, state) -> None:
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []

    def before_train(self, state) -> None:
        self._t, self._c = time.perf_counter(), time.process_time()

    def after_train(self, state) -> None:
        self.seconds.append(time.perf_counter() - self._t)
        self.cpu_seconds.append(time.process_time() - self._c)


class KerasTimer(keras.callbacks.Callback):
    """Training seconds per epoch (``on_epoch_begin`` .. ``on_test_begin``)."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._t, self._c = time.perf_counter(), time.process_time()
        self._open = True

    def on_test_begin(self, logs=None) -> None:
        if getattr(self, "_open", False):
            self.seconds.append(time.perf_counter() - self._t)
            self.cpu_seconds.append(time.process_time() - self._c)
            self._open = False


def summary(accs: list[float], seconds: list[float], cpu_seconds: list[float],
            images_per_epoch: int) -> dict:
    cum = np.cumsum(seconds).tolist()
    hit = next((i for i, a in enumerate(accs) if a >= TARGET), None)
    best = int(np.argmax(accs))
    at = hit if hit is not None else best
    steady = seconds[1:] or seconds
    return {"test_accuracy": accs, "train_seconds": seconds,
            "images_per_s": images_per_epoch * len(seconds) / sum(seconds),
            "images_per_s_after_epoch_1": images_per_epoch * len(steady) / sum(steady),
            "train_cpu_seconds": cpu_seconds,
            "cpu_seconds_per_image_after_epoch_1": (sum(cpu_seconds[1:] or cpu_seconds)
                                                    / (images_per_epoch * len(steady))),
            "best_accuracy": accs[best], "best_epoch": best + 1,
            "reached_target": hit is not None, "time_to": cum[at], "time_to_epoch": at + 1}


# --------------------------------------------------------------------------------------- run

def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA),
                   help="CIFAR-10 archive or folder (default: %(default)s)")
    p.add_argument("--sample", action="store_true",
                   help="use the small CIFAR-10 sample shipped in tflearner instead")
    p.add_argument("--subset", type=int, default=None, help="training images (default: all)")
    p.add_argument("--test-subset", type=int, default=None, help="test images (default: all)")
    p.add_argument("--epochs", type=int, default=RECIPE_EPOCHS)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--width-mult", type=float, default=1.0,
                   help="scale every channel width (0.25 for CPU runs)")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="dtype policy (default: mixed_float16 on a GPU, float32 otherwise)")
    p.add_argument("--jit-compile", action="store_true", help="XLA for both sides")
    p.add_argument("--keras-spe", type=int, default=32, help="model.fit's steps_per_execution")
    p.add_argument("--learner-spe", default="auto", help="the Learner's steps_per_execution")
    p.add_argument("--wd-mode", choices=("l2", "decoupled"), default="l2")
    p.add_argument("--label-smoothing", type=float, default=SMOOTHING)
    p.add_argument("--sides", default="tflearner,keras",
                   help="which sides to run, in this order (comma-separated)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, metavar="OUT", help="write the results here")
    args = p.parse_args(argv)
    if args.precision is None:
        args.precision = "mixed_float16" if tf.config.list_physical_devices("GPU") else "float32"
    args.sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    bad = [s for s in args.sides if s not in ("tflearner", "keras")]
    if bad or not args.sides:
        p.error(f"--sides takes tflearner and/or keras, got {args.sides}")
    if args.learner_spe != "auto":
        args.learner_spe = int(args.learner_spe)
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    keras.utils.set_random_seed(args.seed)
    (x, y), (xt, yt) = load_data(args)
    train, counter, steps = train_pipeline(x, y, args.batch_size, args.seed)
    test = test_pipeline(xt, yt, args.batch_size)
    total = steps * args.epochs
    pct_start = WARM_EPOCHS / RECIPE_EPOCHS
    l2 = WD / 2 if args.wd_mode == "l2" else 0.0
    wd = WD / (1 - MOMENTUM) if args.wd_mode == "decoupled" else None
    loss = SmoothedSparseCE(args.label_smoothing)
    first = build(args.width_mult, l2, args.precision)
    weights = first.get_weights()
    images = steps * args.batch_size
    results: dict = {"config": {k: v for k, v in vars(args).items()},
                     "n_train": len(x), "n_test": len(xt), "steps_per_epoch": steps,
                     "images_per_epoch": images, "params": first.count_params(),
                     "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
                                f"GPUs: {len(tf.config.list_physical_devices('GPU'))}",
                     "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
                     "sides": {}}
    print(f"ResNet-9 x{args.width_mult:g} ({first.count_params():,} params), {len(x)} train "
          f"({steps} batches of {args.batch_size}) / {len(xt)} test images, {args.epochs} "
          f"epochs, {args.precision}, jit_compile={args.jit_compile}, wd {args.wd_mode}",
          flush=True)
    lr_rows, trained = {}, {}
    for side in args.sides:
        model = first if side == "tflearner" else build(args.width_mult, l2, args.precision)
        model.set_weights(weights)
        counter.assign(0)  # the same augmented epochs, in the same order, for each side
        load0 = os.getloadavg()
        t0 = time.perf_counter()
        if side == "tflearner":
            data = DataBundle.from_datasets(train, test, task="sparse_categorical", c=10,
                                            classes=CIFAR10_CLASSES, batch_size=args.batch_size)
            learn = Learner(model, data, loss_fn=loss, quiet=True,
                            opt=SGD(PEAK_LR, momentum=MOMENTUM, nesterov=True),
                            mixed_precision=args.precision, jit_compile=args.jit_compile,
                            steps_per_execution=args.learner_spe)
            timer = LearnerTimer()
            learn.fit_one_cycle(args.epochs, PEAK_LR, pct_start=pct_start, div=LOW_DIV,
                                div_final=LOW_DIV, moms=None, anneal="linear",
                                three_phase=False, wd=wd, callbacks=[timer])
            accs = [float(row["accuracy"]) for row in learn.recorder.values]
            lr_rows[side] = np.asarray(learn.recorder.lrs, np.float64)
            trained_by = learn.opt
        else:
            low = PEAK_LR / LOW_DIV  # the Learner's ends, so both sides run one schedule
            sched = PiecewiseLinear([0, pct_start * total, total], [low, PEAK_LR, low])
            opt = keras.optimizers.SGD(sched, momentum=MOMENTUM, nesterov=True,
                                       weight_decay=wd)
            model.compile(optimizer=opt, loss=loss, steps_per_execution=args.keras_spe,
                          metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                          jit_compile=args.jit_compile)
            timer = KerasTimer()
            hist = model.fit(train, epochs=args.epochs, validation_data=test, verbose=0,
                             callbacks=[timer])
            accs = [float(a) for a in hist.history["val_accuracy"]]
            lr_rows[side] = sched(np.arange(total)).numpy().astype(np.float64)
            trained_by = model.optimizer  # Keras' LossScaleOptimizer under mixed_float16
        wall = time.perf_counter() - t0
        dtype = {"compute": model.layers[2].compute_dtype,
                 "loss_scaling": type(trained_by).__name__ == "LossScaleOptimizer"}
        applied = int(trained_by.iterations.numpy())
        trained[side] = model.get_weights()
        res = summary(accs, timer.seconds, timer.cpu_seconds, images)
        # Updates a LossScaleOptimizer skipped (non-finite gradients): `iterations` is the
        # inner optimizer's and counts applied updates only. Keras indexes its schedule by it,
        # so it ends `skipped` batches behind; the Learner sets LR per batch (as fastai does).
        res.update(wall_seconds=wall, load_before=load0, load_after=os.getloadavg(),
                   optimizer_updates=applied, skipped_updates=total - applied, **dtype)
        results["sides"][side] = res
        print(f"{side:>9}: " + " ".join(f"{a:.4f}" for a in accs)
              + f"  ({res['images_per_s']:.0f} img/s, {wall:.0f} s wall)", flush=True)
    if len(lr_rows) == 2:
        # exact when Keras skipped no update; else its row lags by up to `skipped` batches
        results["lr_rows_exact"] = results["sides"]["keras"]["skipped_updates"] == 0
        results["max_lr_difference"] = float(np.max(np.abs(lr_rows["tflearner"]
                                                          - lr_rows["keras"])))
        # per variable: |a - b|_2 / |a|_2 (BN variances and kernels have different scales)
        results["max_weight_difference"] = max(
            float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-12)) for a, b in zip(
                trained["tflearner"], trained["keras"], strict=True))
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


def report(results: dict) -> None:
    sides = results["sides"]
    names = list(sides)
    epochs = len(next(iter(sides.values()))["test_accuracy"])
    out = ["", "epoch | " + " | ".join(f"{n} acc | {n} train s" for n in names)]
    for e in range(epochs):
        out.append(f"{e + 1:5d} | " + " | ".join(
            f"{sides[n]['test_accuracy'][e]:.4f} | {sides[n]['train_seconds'][e]:.1f}"
            for n in names))
    for label, key, fmt in (("img/s (all epochs)", "images_per_s", "{:.0f}"),
                            ("img/s (epochs 2+)", "images_per_s_after_epoch_1", "{:.0f}"),
                            ("CPU s per image (epochs 2+, all threads)",
                             "cpu_seconds_per_image_after_epoch_1", "{:.2e}")):
        out.append(f"{label}: " + ", ".join(f"{n} " + fmt.format(sides[n][key]) for n in names))
    for n in names:
        s = sides[n]
        what = (f"{TARGET:.0%} at epoch {s['time_to_epoch']}" if s["reached_target"] else
                f"best {s['best_accuracy']:.4f} (epoch {s['best_epoch']}; {TARGET:.0%} not "
                "reached)")
        out.append(f"{n}: time to {what}: {s['time_to']:.1f} s of training; compute dtype "
                   f"{s['compute']}, loss scaling {s['loss_scaling']} ({s['skipped_updates']} "
                   "updates skipped for non-finite gradients); load average "
                   f"{' '.join(f'{v:.2f}' for v in s['load_before'])} before, "
                   f"{' '.join(f'{v:.2f}' for v in s['load_after'])} after")
    if len(names) == 2:
        a, b = (sides[n] for n in ("tflearner", "keras"))
        results["ratio"] = a["images_per_s"] / b["images_per_s"]
        results["ratio_after_epoch_1"] = (a["images_per_s_after_epoch_1"]
                                          / b["images_per_s_after_epoch_1"])
        results["cpu_ratio_after_epoch_1"] = (b["cpu_seconds_per_image_after_epoch_1"]
                                              / a["cpu_seconds_per_image_after_epoch_1"])
        diff = max(abs(p - q) for p, q in zip(a["test_accuracy"], b["test_accuracy"],
                                                       strict=True))
        results["max_accuracy_difference"] = diff
        out.append(f"tflearner / keras speed: {results['ratio']:.3f} (all epochs), "
                   f"{results['ratio_after_epoch_1']:.3f} (epochs 2+), "
                   f"{results['cpu_ratio_after_epoch_1']:.3f} (Keras' CPU time per image / "
                   "tflearner's, epochs 2+); largest per-epoch test "
                   f"accuracy difference {diff:.4f}; largest per-batch LR difference "
                   f"{results['max_lr_difference']:.2e}, final weights (relative, worst variable) "
                   f"{results['max_weight_difference']:.2e}")
        if not results["lr_rows_exact"]:
            out.append(f"keras skipped {b['skipped_updates']} updates: its schedule follows "
                       "optimizer.iterations, so it lags the Learner's per-batch one by up to "
                       "that many batches; the LR difference above assumes no lag")
    print("\n".join(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
