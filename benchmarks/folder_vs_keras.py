"""One LeNet epoch with validation from a PNG folder: tflearner against Keras' own folder path.

A tree of ``--n`` (default 5,400) CIFAR-10 training images is written as PNG files, one
sub-folder per class (deleted at exit). 20 % is held out for validation on every side; batch 64,
32×32 RGB, LeNet-5 (``tflearner.LeNet``), SGD(lr 0.01, momentum 0.9). Sides:

* ``keras`` (the baseline, what a Keras user writes):
  ``keras.utils.image_dataset_from_directory(validation_split=0.2, subset="both")``, then
  ``ds.map(lambda x, y: (augment(x / 255, training=True), y), AUTOTUNE).prefetch(AUTOTUNE)`` with
  the preprocessing layers closest to ``aug_transforms()`` (RandomFlip("horizontal"),
  RandomRotation(10°), RandomZoom(0 to 10 % in), RandomTranslation(0.1), RandomBrightness(0.2),
  RandomContrast(0.2)), applied per batch, and ``model.fit(train, validation_data=valid)``;
* ``tflearner``: ``DataBundle.from_folder(valid_pct=0.2, augment=aug_transforms())`` (per
  image, stateless seeds) and ``Learner(...).fit(1)``;
* ``tfl+layers``: the same, with the Keras layers above as ``augment=`` (per batch).

Every side's model and data are built once; a first epoch each (tracing) is discarded; then
``--rounds`` rounds run one epoch per side in a rotating order. Printed: per-round seconds, the
median epoch time per side and the median of the per-round ratios ``keras time / side time``
(above 1: faster than Keras). Building the data is timed once per side beside it
(``from_folder`` decodes every image up front to find bad files; Keras lists the files only).

``--profile`` then times the training pipelines alone (one pass over ``data.train``, no model;
same rounds and rotation) to show where an epoch's input time goes: no augmentation,
``aug_transforms`` with only the flip, flip + lighting, all of it (+ the affine resampling),
the Keras layers per batch in tflearner's pipeline, and Keras' own pipeline with its layers.

    python benchmarks/folder_vs_keras.py [--n 5400] [--rounds 7] [--cifar PATH] [--profile]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tflearner import SGD, DataBundle, Learner, LeNet, aug_transforms, load_cifar10  # noqa: E402
from tflearner.data.cifar import CIFAR10_CLASSES  # noqa: E402

BATCH, SIZE, VALID, LR = 64, 32, 0.2, 0.01
SIDES = ("keras", "tflearner", "tfl+layers")


def keras_augment() -> keras.Sequential:
    """The preprocessing layers closest to ``aug_transforms()`` (images in [0, 1])."""
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal"),
        keras.layers.RandomRotation(10 / 360),
        keras.layers.RandomZoom((-0.1, 0.0)),
        keras.layers.RandomTranslation(0.1, 0.1),
        keras.layers.RandomBrightness(0.2, value_range=(0.0, 1.0)),
        keras.layers.RandomContrast(0.2),
    ])


def write_pngs(root: Path, x: np.ndarray, y: np.ndarray) -> None:
    for i, (img, label) in enumerate(zip(x, y.ravel(), strict=True)):
        folder = root / CIFAR10_CLASSES[int(label)]
        folder.mkdir(parents=True, exist_ok=True)
        tf.io.write_file(str(folder / f"{i:05d}.png"), tf.io.encode_png(img))


def keras_side(root: Path) -> tuple[float, object]:
    t = time.perf_counter()
    train, valid = keras.utils.image_dataset_from_directory(
        root, validation_split=VALID, subset="both", seed=0, image_size=(SIZE, SIZE),
        batch_size=BATCH, verbose=False)
    aug = keras_augment()
    train = train.map(lambda x, y: (aug(x / 255.0, training=True), y),
                      num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    valid = valid.map(lambda x, y: (x / 255.0, y),
                      num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    built = time.perf_counter() - t
    model = LeNet()
    model.compile(optimizer=keras.optimizers.SGD(LR, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return built, lambda: model.fit(train, validation_data=valid, epochs=1, verbose=0,
                                    shuffle=False)  # the dataset shuffles itself


def tflearner_side(root: Path, augment: object) -> tuple[float, object]:
    t = time.perf_counter()
    data = DataBundle.from_folder(root, valid_pct=VALID, img_size=SIZE, batch_size=BATCH,
                                  seed=0, augment=augment)
    built = time.perf_counter() - t
    learn = Learner(LeNet(), data, opt=SGD(LR, momentum=0.9), quiet=True)
    return built, lambda: learn.fit(1)


def profile(root: Path, rounds: int) -> None:
    """The training pipelines alone: median seconds per pass over ``data.train``."""
    flip = dict(rotate=0, zoom=0, translate=0, brightness=0, contrast=0)
    kinds = {"no augment": None, "flip": aug_transforms(**flip),
             "flip + lighting": aug_transforms(rotate=0, zoom=0, translate=0),
             "aug_transforms": aug_transforms(), "keras layers": keras_augment()}
    passes = {name: DataBundle.from_folder(root, valid_pct=VALID, img_size=SIZE,
                                           batch_size=BATCH, seed=0, augment=aug,
                                           verify=False).train for name, aug in kinds.items()}
    train, _ = keras.utils.image_dataset_from_directory(
        root, validation_split=VALID, subset="both", seed=0, image_size=(SIZE, SIZE),
        batch_size=BATCH, verbose=False)
    aug = keras_augment()
    passes["keras' own"] = train.map(lambda x, y: (aug(x / 255.0, training=True), y),
                                      num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)
    names = list(passes)
    secs: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds + 1):  # round 0: tracing, discarded
        for name in names[r % len(names):] + names[:r % len(names)]:
            t = time.perf_counter()
            for _ in passes[name]:
                pass
            if r:
                secs[name].append(time.perf_counter() - t)
    print("\npipeline alone (one pass over the training split, no model), median s:")
    for name in names:
        print(f"  {name:16s} {statistics.median(secs[name]):6.3f}  "
              f"(range {min(secs[name]):.3f}-{max(secs[name]):.3f})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=5400, help="PNG images in the tree")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--cifar", default="../shared/datasets/cifar-10-python.tar.gz",
                   help="the CIFAR-10 archive (or folder) the images come from")
    p.add_argument("--profile", action="store_true", help="also time the pipelines alone")
    args = p.parse_args()
    start = time.perf_counter()
    print(f"machine: os.cpu_count()={os.cpu_count()}, TensorFlow {tf.__version__}, Keras "
          f"{keras.__version__}; {args.n} PNGs, valid {VALID:g}, batch {BATCH}, "
          f"{args.rounds} rounds + a discarded first epoch per side", flush=True)
    (x, y), _ = load_cifar10(path=args.cifar)
    keras.utils.set_random_seed(0)
    with tempfile.TemporaryDirectory(prefix="tflearner-folder-vs-keras-") as tmp:
        root = Path(tmp) / "pngs"
        write_pngs(root, x[:args.n], y[:args.n])
        builds, runs = {}, {}
        builds["keras"], runs["keras"] = keras_side(root)
        builds["tflearner"], runs["tflearner"] = tflearner_side(root, aug_transforms())
        builds["tfl+layers"], runs["tfl+layers"] = tflearner_side(root, keras_augment())
        for side in SIDES:  # tracing
            runs[side]()
        secs: dict[str, list[float]] = {side: [] for side in SIDES}
        for r in range(args.rounds):
            order = SIDES[r % len(SIDES):] + SIDES[:r % len(SIDES)]
            for side in order:
                t = time.perf_counter()
                runs[side]()
                secs[side].append(time.perf_counter() - t)
            print(f"  round {r}: " + "  ".join(f"{s} {secs[s][-1]:5.2f} s" for s in SIDES),
                  flush=True)
        if args.profile:
            profile(root, args.rounds)
    print()
    print(f"{'side':11s} {'build s':>8s} {'epoch s':>8s} {'keras/side':>10s} {'range':>13s}")
    for side in SIDES:
        ratios = [k / s for k, s in zip(secs["keras"], secs[side], strict=True)]
        print(f"{side:11s} {builds[side]:8.2f} {statistics.median(secs[side]):8.2f} "
              f"{statistics.median(ratios):10.2f} {min(ratios):6.2f}-{max(ratios):<6.2f}")
    print("keras/side: median over rounds of (keras epoch time / side epoch time); above 1 the "
          "side is faster than Keras' own path. build: making the datasets, once.")
    print(f"total run time {math.ceil(time.perf_counter() - start)} s")


if __name__ == "__main__":
    main()
