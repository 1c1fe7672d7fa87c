"""Shared command-line handling for the examples: ``--data-dir`` or the shipped sample."""

from __future__ import annotations

import argparse

from tflearner import cifar10_data


def parser(doc: str, epochs: int) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--data-dir", default=None,
                   help="CIFAR-10 folder or cifar-10-python.tar.gz (default: shipped sample)")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="folder for the plots (PNG)")
    return p


def data(args: argparse.Namespace):
    return cifar10_data(args.batch_size, seed=args.seed, path=args.data_dir,
                        sample=args.data_dir is None)
