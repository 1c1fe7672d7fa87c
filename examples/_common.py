"""Shared command-line handling for the examples: ``--data-dir`` or the shipped sample."""

from __future__ import annotations

import argparse

from tflearner import cifar10_data


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """``--help`` shows the script's whole docstring as written and every option's default."""


def described(doc: str) -> argparse.ArgumentParser:
    """A parser whose ``--help`` starts with the script's docstring ``doc``, whole."""
    return argparse.ArgumentParser(description=doc, formatter_class=_HelpFormatter)


def parser(doc: str, epochs: int) -> argparse.ArgumentParser:
    p = described(doc)
    p.add_argument("--data-dir", default=None,
                   help="CIFAR-10 folder or cifar-10-python.tar.gz; without it, the shipped sample")
    p.add_argument("--epochs", type=int, default=epochs, help="training epochs")
    p.add_argument("--batch-size", type=int, default=128, help="examples per batch")
    p.add_argument("--seed", type=int, default=0, help="weights and data order")
    p.add_argument("--out", default=None,
                   help="folder for the plots (PNG); without it, no plots")
    return p


def data(args: argparse.Namespace):
    return cifar10_data(args.batch_size, seed=args.seed, path=args.data_dir,
                        sample=args.data_dir is None)
