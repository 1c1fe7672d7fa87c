"""The seed's full flow with tflearner: LeNet-5 on CIFAR-10, lr_find, then one-cycle (plain SGD).

    python examples/fit_lenet_cifar10.py --data-dir ~/data/cifar-10-python.tar.gz
    python examples/fit_lenet_cifar10.py --epochs 2                  # offline, shipped sample

lr_find (no side effects) → plot → fit_one_cycle at the robust suggestion → test accuracy.
On the full data, 10 epochs give ~56 % (docs/results.md, row (d)).
"""

from __future__ import annotations

from pathlib import Path

import keras
import matplotlib

matplotlib.use("Agg")
from _common import data, parser  # noqa: E402

from tflearner import Learner, LeNet  # noqa: E402


def main(argv: list[str] | None = None) -> float:
    args = parser(__doc__, epochs=10).parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    d = data(args)
    learn = Learner(LeNet(), d)  # plain SGD, sparse categorical cross-entropy, accuracy
    suggested = learn.lr_find()
    print("lr_find:", suggested)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        learn.recorder.plot().figure.savefig(Path(args.out) / "lr_find.png", dpi=110)
    learn.fit_one_cycle(args.epochs, suggested.robust or 0.3)
    acc = learn.validate(d.test)["accuracy"]
    print(f"test accuracy: {acc:.2%}")
    return acc


if __name__ == "__main__":
    main()
