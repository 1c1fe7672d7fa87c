"""Plain Keras: find the LR with LRFinderCallback inside model.fit, then train with model.fit
and tflearner's OneCycleSchedule plus OneCycleCallback (momentum cycling).

    python examples/keras_model_fit.py --data-dir ~/data/cifar-10-python.tar.gz
"""

from __future__ import annotations

import keras
from _common import data, parser

from tflearner import SGD, LeNet, LRFinderCallback, OneCycleCallback


def main(argv: list[str] | None = None) -> float:
    args = parser(__doc__, epochs=10).parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    d = data(args)
    loss = keras.losses.SparseCategoricalCrossentropy()

    # 1. The LR range test inside model.fit; the callback restores the model afterwards.
    model = LeNet()
    model.compile(optimizer=keras.optimizers.SGD(1e-3, momentum=0.9), loss=loss)
    finder = LRFinderCallback(num_it=100)
    model.fit(d.train, epochs=100, verbose=0, callbacks=[finder])  # stops itself after the sweep
    max_lr = finder.suggestions.robust or 0.05
    print(f"LRFinderCallback suggestions: {finder.suggestions}")

    # 2. One-cycle in model.fit: LR and momentum per batch from tflearner's schedules.
    # tflearner.SGD: Keras' SGD with a momentum that can change per batch (Keras bakes it in).
    model.compile(optimizer=SGD(max_lr, momentum=0.9), loss=loss, metrics=["accuracy"])
    model.fit(d.train, validation_data=d.valid, epochs=args.epochs, verbose=0,
              callbacks=[OneCycleCallback(max_lr)])
    acc = model.evaluate(d.test, verbose=0, return_dict=True)["accuracy"]
    print(f"model.fit one-cycle at {max_lr:.3g}: test accuracy {acc:.2%}")
    return acc


if __name__ == "__main__":
    main()
