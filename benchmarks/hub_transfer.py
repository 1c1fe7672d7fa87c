"""KerasHub on a Learner, offline: a task saved as a local preset, then fine_tune, LoRA and
KerasHub's own fit on it.

1. **Pretrain** a small KerasHub ``ImageClassifier`` (a ``ResNetBackbone`` built from its config,
   basic blocks of 64 and 128 filters, with a ``ResNetImageClassifierPreprocessor`` that scales
   pixels to [0, 1]) on classes 0-4 of the CIFAR-10 sample shipped with tflearner
   (``lr_find``, then ``fit_one_cycle``), and save it with ``task.save_to_preset(dir)``.
2. **Transfer** to classes 5-9 of the sample: every recipe loads the task with
   ``keras_hub.models.ImageClassifier.from_preset(dir, num_classes=5)`` (the call that loads
   ``"resnet_18_imagenet"`` online; here from the local folder, so nothing is downloaded), feeds
   the images through ``task.preprocess_samples`` (what ``task.fit`` does) into
   ``DataBundle.from_datasets``, trains ``--epochs`` epochs at batch ``--batch-size`` and is
   scored on the sample's test images of classes 5-9:

   * ``fine_tune``: ``learn.freeze(); learn.lr_find()``, then
     ``learn.fine_tune(epochs - 1, base_lr=<robust suggestion>)``;
   * ``lora``: ``task.backbone.enable_lora(--rank)`` on the convolutions of the last stage
     (``--lora-layers``), ``lr_find``, then ``fit_one_cycle(epochs, <suggestion>)``: the LoRA
     factors, the biases LoRA leaves trainable and the head train, nothing else;
   * ``keras_hub_fit``: KerasHub's own recipe, ``task.compile()`` (its defaults: Adam(5e-5),
     cross-entropy) and ``task.fit(raw images)``, everything trainable, the same epochs;
   * ``scratch``: the same task from random weights, ``lr_find``, ``fit_one_cycle``.

   Seeds set the head's (and scratch's) initial weights and the shuffle.

    python benchmarks/hub_transfer.py                       # about 10 min on 2 cores
    python benchmarks/hub_transfer.py --seeds 0 --epochs 2 --pretrain-epochs 1   # smoke

Prints one row per recipe: test accuracy per seed, mean, spread (max - min), the learning rate
of each seed (``*``: lr_find warned that the loss was still falling at the end of its sweep) and
the parameters trained at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from transfer import classes, suggestion  # noqa: E402  (benchmarks/transfer.py)

from tflearner import DataBundle, Learner, load_cifar10  # noqa: E402

RECIPES = ("fine_tune", "lora", "keras_hub_fit", "scratch")


def new_task(num_classes: int, seed: int) -> keras.Model:
    """The small ResNet task from its config, random weights, with its preprocessor."""
    keras.utils.set_random_seed(seed)
    backbone = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[3], stackwise_num_filters=[64, 128],
        stackwise_num_blocks=[1, 1], stackwise_num_strides=[1, 2], block_type="basic_block",
        use_pre_activation=False, image_shape=(32, 32, 3))
    converter = keras_hub.layers.ResNetImageConverter(image_size=(32, 32), scale=1 / 255)
    preprocessor = keras_hub.models.ResNetImageClassifierPreprocessor(converter)
    return keras_hub.models.ImageClassifier(backbone=backbone, num_classes=num_classes,
                                            preprocessor=preprocessor)


def batches(task: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int,
            seed: int | None = None) -> tf.data.Dataset:
    """Raw uint8 images through the task's preprocessor, as ``task.fit`` would feed them."""
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if seed is not None:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).map(task.preprocess_samples).prefetch(2)


def pretrain(x, y, epochs: int, batch_size: int, preset: Path) -> None:
    task = new_task(5, 0)
    data = DataBundle.from_datasets(batches(task, x, y, batch_size, seed=0))
    learn = Learner(task, data, opt="adam", quiet=True)
    lr = suggestion(learn)
    t0 = time.perf_counter()
    learn.fit_one_cycle(epochs, lr)
    acc = learn.validate(data.train)["accuracy"]
    task.save_to_preset(str(preset))
    print(f"pretrained on classes 0-4 ({len(x)} images, {epochs} epochs, lr {lr:.2g}): train "
          f"accuracy {acc:.1%} in {time.perf_counter() - t0:.0f} s; saved as a preset")


def suggest(learn: Learner) -> tuple[float, str]:
    """lr_find's suggestion and how it prints: ``*`` when lr_find warned that the loss was still
    falling at the end of the sweep (the suggestions are then lower bounds)."""
    lr = suggestion(learn)
    return lr, f"{lr:.2g}" + ("*" if learn.recorder.lr_find_info.get("still_falling") else "")


def trained_params(model: keras.Model) -> int:
    return sum(int(np.prod(v.shape)) for v in model.trainable_variables)


def run(recipe: str, seed: int, preset: Path, train, test, args) -> tuple[float, str, int]:
    if recipe == "scratch":
        task = new_task(5, seed)
    else:
        keras.utils.set_random_seed(seed)
        task = keras_hub.models.ImageClassifier.from_preset(str(preset), num_classes=5)
    if recipe == "keras_hub_fit":
        task.compile()  # KerasHub's defaults: Adam(5e-5), sparse cross-entropy, accuracy
        task.fit(tf.data.Dataset.from_tensor_slices(train).shuffle(len(train[0]), seed=seed)
                 .batch(args.batch_size), epochs=args.epochs, verbose=0)
        return task.evaluate(*test, batch_size=200, verbose=0)[1], "5e-05", trained_params(task)
    if recipe == "lora":
        task.backbone.enable_lora(args.rank, target_layer_names=args.lora_layers.split(","))
    data = DataBundle.from_datasets(batches(task, *train, args.batch_size, seed=seed),
                                    test=batches(task, *test, 200))
    learn = Learner(task, data, opt="adam", quiet=True)
    if recipe == "fine_tune":
        learn.freeze()
        lr, shown = suggest(learn)
        learn.fine_tune(args.epochs - 1, base_lr=lr, freeze_epochs=1)
    else:
        lr, shown = suggest(learn)
        learn.fit_one_cycle(args.epochs, lr)
    return learn.validate(data.test)["accuracy"], shown, trained_params(task)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pretrain-epochs", type=int, default=10)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rank", type=int, default=4)
    p.add_argument("--lora-layers", default="stack1_block0_1_conv,stack1_block0_2_conv")
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--recipes", default=",".join(RECIPES))
    args = p.parse_args()

    (x, y), (xt, yt) = load_cifar10(sample=True)
    with tempfile.TemporaryDirectory() as tmp:
        preset = Path(tmp) / "resnet_tiny_cifar0-4"
        pretrain(*classes(x, y, 0), args.pretrain_epochs, args.batch_size, preset)
        train, test = classes(x, y, 5), classes(xt, yt, 5)
        seeds = [int(s) for s in args.seeds.split(",")]
        print(f"transfer to classes 5-9: {len(train[0])} training images, {len(test[0])} test "
              f"images, {args.epochs} epochs, batch {args.batch_size}; test % per seed {seeds}")
        means = {}
        for recipe in args.recipes.split(","):
            accs, lrs, t0 = [], [], time.perf_counter()
            for seed in seeds:
                acc, lr, n = run(recipe, seed, preset, train, test, args)
                accs.append(100 * acc)
                lrs.append(lr)
            means[recipe] = statistics.mean(accs)
            print(f"{recipe:14s} " + "  ".join(f"{a:5.1f}" for a in accs)
                  + f"   mean {means[recipe]:5.1f}  spread {max(accs) - min(accs):4.1f}"
                  f"  lr {'/'.join(lrs)}  trained params {n:,}"
                  f"  ({time.perf_counter() - t0:.0f} s)")
        for other in (r for r in means if r != "fine_tune"):
            if "fine_tune" in means:
                print(f"fine_tune - {other}: {means['fine_tune'] - means[other]:+.1f} points")


if __name__ == "__main__":
    main()
