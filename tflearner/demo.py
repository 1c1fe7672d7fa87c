"""The README's main job: LeNet on the shipped CIFAR-10 sample, offline, with progress.

    python -m tflearner [--epochs 20] [--lr LR] [--batch-size 64] [--data-dir DIR] [--out DIR]

Runs ``lr_find`` (restoring everything afterwards) and saves its plot, then trains with
``Learner.fit_one_cycle`` at the suggested LR (or ``--lr``; plain SGD, the seed's optimizer),
prints the fastai-style epoch table and the test accuracy, and saves the loss and schedule
plots plus the weights to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tflearner", description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr", type=float, default=None,
                   help="one-cycle max LR (default: lr_find's suggestion)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--data-dir", default=None,
                   help="full CIFAR-10 (folder or cifar-10-python.tar.gz); default: the shipped "
                        "sample")
    p.add_argument("--out", default="out", help="folder for plots and weights (default: out)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bars or table")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import Learner, LeNet, cifar10_data

    keras.utils.set_random_seed(args.seed)
    sample = args.data_dir is None
    data = cifar10_data(args.batch_size, seed=args.seed, path=args.data_dir, sample=sample)
    print(f"data: {'shipped sample' if sample else args.data_dir} {data}")
    learn = Learner(LeNet(), data, quiet=args.quiet)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    found = learn.lr_find()
    print(f"lr_find: {found}")
    learn.recorder.plot().figure.savefig(out / "lr_find.png", dpi=110, bbox_inches="tight")
    max_lr = args.lr if args.lr is not None else found[0]
    if max_lr is None:
        print("lr_find gave no suggestion (see lr_find.png); pass --lr", file=sys.stderr)
        return 2
    print(f"fit_one_cycle({args.epochs}, max_lr={max_lr:.3g})")
    learn.fit_one_cycle(args.epochs, max_lr)
    test = learn.validate(data.test)
    print(f"test: loss {test['loss']:.4f}, accuracy {test['accuracy']:.2%} "
          f"({data.meta['n_test']} images)")

    learn.recorder.plot_loss().figure.savefig(out / "loss.png", dpi=110, bbox_inches="tight")
    axes = learn.recorder.plot_sched()
    axes[0].figure.savefig(out / "sched.png", dpi=110, bbox_inches="tight")
    plt.close("all")
    weights = learn.save(out / "lenet")
    print(f"saved: {out / 'lr_find.png'}, {out / 'loss.png'}, {out / 'sched.png'}, {weights}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
