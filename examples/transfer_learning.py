"""Transfer learning on one Learner, offline: pretrain a small CNN backbone on CIFAR-10 classes
0-4, then fine_tune it on classes 5-9 (lr_find with the backbone frozen, one frozen epoch, then
every layer at discriminative LRs), against the same network trained from scratch and chance.

    python examples/transfer_learning.py                     # the shipped sample, offline
    python examples/transfer_learning.py --data-dir ~/data/cifar-10-python.tar.gz

The backbone (a keras.Sequential) is the classifier's first layer, so the Learner's default
splitter makes it layer group 0 and the head group 1: the keras.applications pattern, where a
pretrained model such as keras.applications.MobileNetV2(include_top=False) takes its place.
Pretraining uses every training image of classes 0-4; the transfer task has few labels,
--per-class images of each of classes 5-9, and is scored on all their test images (5 classes:
chance is 20 %). fine_tune trains 1 frozen epoch + --epochs; scratch trains --epochs + 1.
benchmarks/transfer_example.py runs this over seeds (benchmarks/results/transfer_example-*).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import keras
import numpy as np
from _common import parser

from tflearner import DataBundle, Learner, load_cifar10


def backbone() -> keras.Sequential:
    """Three conv + BatchNorm stages and global average pooling (~24k weights)."""
    layers = [keras.Input((32, 32, 3))]
    for i, width in enumerate((16, 32, 64)):
        layers += [keras.layers.Conv2D(width, 3, padding="same", use_bias=False),
                   keras.layers.BatchNormalization(momentum=0.9), keras.layers.ReLU()]
        layers.append(keras.layers.MaxPooling2D() if i < 2 else
                      keras.layers.GlobalAveragePooling2D())
    return keras.Sequential(layers, name="backbone")


def classifier(body: keras.Model) -> keras.Model:
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Dense(5, activation="softmax", name="head")(body(inputs))
    return keras.Model(inputs, outputs, name="transfer")


def classes(x: np.ndarray, y: np.ndarray, first: int, per_class: int | None = None):
    """The images of classes ``first .. first + 4`` relabelled 0-4 (``per_class`` of each, the
    first ones, when given)."""
    y = y.ravel()
    keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(first, first + 5)])
    keep.sort()
    return x[keep], y[keep] - first


def suggested(learn: Learner, num_it: int) -> float:
    with warnings.catch_warnings():  # a short sweep on a small set: its noise is expected
        warnings.simplefilter("ignore")
        res = learn.lr_find(num_it=num_it)
    return res.robust or res.valley or 1e-3


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = parser(__doc__, epochs=5)
    p.set_defaults(batch_size=64)
    p.add_argument("--pretrain-epochs", type=int, default=12, help="epochs on classes 0-4")
    p.add_argument("--per-class", type=int, default=50,
                   help="labelled training images per class of the transfer task")
    p.add_argument("--num-it", type=int, default=50, help="lr_find iterations")
    args = p.parse_args(argv)
    (x, y), (xt, yt) = load_cifar10(args.data_dir, sample=args.data_dir is None)

    keras.utils.set_random_seed(args.seed)
    body = backbone()
    pre = Learner(classifier(body), DataBundle.from_arrays(
        *classes(x, y, 0), valid_pct=0.0, batch_size=args.batch_size, seed=args.seed),
        opt="adam", quiet=True)
    pre.fit_one_cycle(args.pretrain_epochs, suggested(pre, args.num_it))

    task = DataBundle.from_arrays(*classes(x, y, 5, args.per_class), test=classes(xt, yt, 5),
                                  valid_pct=0.0, batch_size=args.batch_size, seed=args.seed)
    learn = Learner(classifier(body), task, opt="adam", quiet=True)  # the pretrained backbone
    print(learn.groups)
    learn.freeze()
    base_lr = suggested(learn, args.num_it)  # the head's LR, with the backbone frozen
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        learn.recorder.plot().figure.savefig(Path(args.out) / "lr_find_frozen.png", dpi=100)
    learn.fine_tune(args.epochs, base_lr=base_lr)  # 1 frozen epoch, then every group

    keras.utils.set_random_seed(args.seed)
    scratch = Learner(classifier(backbone()), task, opt="adam", quiet=True)
    scratch.fit_one_cycle(args.epochs + 1, suggested(scratch, args.num_it))  # same budget

    acc = {"fine_tune": learn.validate(task.test)["accuracy"],
           "scratch": scratch.validate(task.test)["accuracy"], "chance": 0.2}
    print(f"test accuracy on classes 5-9 ({task.meta['n_test']} images): fine_tune "
          f"{acc['fine_tune']:.1%}, from scratch {acc['scratch']:.1%}, chance 20%; "
          f"fine_tune - scratch {100 * (acc['fine_tune'] - acc['scratch']):+.1f} points")
    return acc


if __name__ == "__main__":
    main()
