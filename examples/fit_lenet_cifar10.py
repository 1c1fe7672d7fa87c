"""The seed's experiment with tflearner: LeNet-5 on CIFAR-10, batch 128, plain SGD.

    python examples/fit_lenet_cifar10.py --data-dir ../shared/datasets/cifar-10-python.tar.gz
    python examples/fit_lenet_cifar10.py --sample --epochs 3        # offline, shipped sample

Prints the epoch table and the test accuracy. The seed measured 31.1% at lr 1e-3 and 49.2% at
lr 0.3 after 10 epochs; later issues add lr_find and fit_one_cycle on top of this.
"""

from __future__ import annotations

import argparse

import keras

from tflearner import Learner, LeNet, cifar10_data


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="CIFAR-10 folder or cifar-10-python.tar.gz")
    p.add_argument("--sample", action="store_true", help="use the shipped sample (offline)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    keras.utils.set_random_seed(args.seed)
    data = cifar10_data(args.batch_size, seed=args.seed, path=args.data_dir, sample=args.sample)
    learn = Learner(LeNet(), data)  # plain SGD, sparse categorical cross-entropy, accuracy
    learn.fit(args.epochs, lr=args.lr)
    print("test:", learn.validate(data.test))


if __name__ == "__main__":
    main()
