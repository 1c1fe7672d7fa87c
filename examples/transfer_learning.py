"""Transfer learning on one Learner: a keras.applications backbone, lr_find with the backbone
frozen, then fastai's ``fine_tune`` (one frozen epoch, then everything at discriminative LRs).

    python examples/transfer_learning.py --data-dir ../shared/datasets/cifar-10-python.tar.gz \\
        --weights imagenet --out runs/transfer

``--weights imagenet`` downloads pretrained weights (needs internet); the default ``none``
builds the same architecture untrained, so the example (and its CI smoke test) runs offline.
The MobileNetV2 backbone is the model's first layer, so the Learner's default splitter makes it
layer group 0 and the pooling + classifier head group 1.
"""

from __future__ import annotations

from pathlib import Path

import keras
from _common import data, parser

from tflearner import Learner


def build(weights: str | None) -> keras.Model:
    backbone = keras.applications.MobileNetV2(input_shape=(32, 32, 3), include_top=False,
                                              weights=weights, alpha=0.35)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(2.0, offset=-1.0)(inputs)  # MobileNetV2 expects [-1, 1]
    x = backbone(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="mobilenet_transfer")


def main(argv: list[str] | None = None) -> float:
    p = parser(__doc__, epochs=3)
    p.add_argument("--weights", choices=["none", "imagenet"], default="none")
    p.add_argument("--num-it", type=int, default=100, help="lr_find iterations")
    args = p.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    d = data(args)
    learn = Learner(build(None if args.weights == "none" else args.weights), d, opt="adam")
    print(learn.groups)
    learn.freeze()
    res = learn.lr_find(num_it=args.num_it)  # the head's LR, with the backbone frozen
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        learn.recorder.plot().figure.savefig(Path(args.out) / "lr_find_frozen.png", dpi=100)
    base_lr = res.robust or res.valley or 2e-3
    learn.fine_tune(args.epochs, base_lr=base_lr)  # 1 frozen epoch, then unfrozen
    if args.out:
        learn.recorder.plot_sched()[0].figure.savefig(Path(args.out) / "sched.png", dpi=100)
    acc = learn.validate(d.test)["accuracy"]
    print(f"test accuracy after fine_tune: {acc:.2%}")
    return acc


if __name__ == "__main__":
    main()
