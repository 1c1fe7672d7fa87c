"""Transfer learning: a keras.applications backbone, frozen, with a new head; lr_find and
one-cycle for the head, then unfreeze and fine-tune at a lower LR.

    python examples/transfer_learning.py --data-dir ../shared/datasets/cifar-10-python.tar.gz \\
        --weights imagenet

``--weights imagenet`` downloads pretrained weights (needs internet); the default ``none``
builds the same architecture untrained, so the example (and its CI smoke test) runs offline.
"""

from __future__ import annotations

import keras
from _common import data, parser

from tflearner import Learner


def build(weights: str | None) -> tuple[keras.Model, keras.Model]:
    backbone = keras.applications.MobileNetV2(input_shape=(32, 32, 3), include_top=False,
                                              weights=weights, alpha=0.35)
    backbone.trainable = False
    inputs = keras.Input((32, 32, 3))
    x = keras.applications.mobilenet_v2.preprocess_input(inputs * 255.0)
    x = backbone(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="mobilenet_transfer"), backbone


def main(argv: list[str] | None = None) -> float:
    p = parser(__doc__, epochs=3)
    p.add_argument("--weights", choices=["none", "imagenet"], default="none")
    args = p.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    d = data(args)
    model, backbone = build(None if args.weights == "none" else args.weights)
    learn = Learner(model, d, opt="adam")
    head_lr = learn.lr_find().robust or 1e-3
    learn.fit_one_cycle(args.epochs, head_lr)  # the head only: the backbone is frozen
    backbone.trainable = True  # unfreeze, with a fresh optimizer for the newly trainable weights
    learn = Learner(model, d, opt="adam")
    learn.fit_one_cycle(args.epochs, head_lr / 10)
    acc = learn.validate(d.test)["accuracy"]
    print(f"test accuracy after fine-tuning: {acc:.2%}")
    return acc


if __name__ == "__main__":
    main()
