"""The README's main job: LeNet on the shipped CIFAR-10 sample, offline, with progress.

    tflearner demo [--epochs 20] [--max-lr LR] [--batch-size 64] [--data PATH] [--out DIR]
    python -m tflearner            # the same, with the defaults

Runs ``lr_find`` (restoring everything afterwards) and saves its plot, then trains with
``Learner.fit_one_cycle`` at the suggested LR (or ``--max-lr``; plain SGD, the Learner's default
optimizer), prints the fastai-style epoch table and the test accuracy, and saves the loss and
schedule plots, the history as JSON and the weights to ``--out``. See :mod:`tflearner.cli`.
"""

from __future__ import annotations

import sys

from .cli import main as cli_main

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """``tflearner demo`` with ``argv`` as its options."""
    return cli_main(["demo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
