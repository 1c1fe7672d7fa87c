"""The ``tflearner`` command: the LR finder and one-cycle training from a terminal.

    tflearner demo                                   # offline: the shipped CIFAR-10 sample
    tflearner lr-find --data cifar10 --out runs/a    # sweep, plot, suggestions as JSON
    tflearner fit --data PATH --epochs 10 --max-lr suggest --opt adam --out runs/b

``--data``: ``cifar10`` (local copies, then Keras' download), ``cifar10-sample`` (shipped, offline)
or a path to a CIFAR-10 folder / ``cifar-10-python.tar.gz``. The model is LeNet-5.
``--out DIR`` receives ``lr_find.png``, ``loss.png``, ``sched.png``, ``history.json`` (the
recorder's per-batch and per-epoch history and the suggestions) and ``weights.npz``.
Exit codes: 0 success, 2 bad arguments (argparse), 3 data not found or unreadable, 4 the LR
finder had no suggestion where one was needed. Errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser"]

EXIT_DATA, EXIT_NO_SUGGESTION = 3, 4


def _max_lr(value: str) -> float | str:
    if value == "suggest":
        return value
    try:
        lr = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--max-lr must be a positive number or 'suggest', got {value!r}") from None
    if not (math.isfinite(lr) and lr > 0):
        raise argparse.ArgumentTypeError(f"--max-lr must be a positive number, got {value!r}")
    return lr


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tflearner", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="{demo,lr-find,fit}")

    def common(sp: argparse.ArgumentParser, data: str, batch: int) -> None:
        sp.add_argument("--data", default=data,
                        help="cifar10, cifar10-sample, or a CIFAR-10 folder / tar.gz "
                             f"(default: {data})")
        sp.add_argument("--batch-size", type=_positive_int, default=batch)
        sp.add_argument("--opt", default="sgd", help="Keras optimizer name (default: sgd)")
        sp.add_argument("--seed", type=int, default=0)
        sp.add_argument("--out", default="out", help="folder for plots, history and weights")
        sp.add_argument("--quiet", action="store_true", help="no progress bars or table")

    sp = sub.add_parser("lr-find", help="run the LR range test and save its plot")
    common(sp, "cifar10", 128)
    sp.add_argument("--num-it", type=_positive_int, default=100)
    for name in ("fit", "demo"):
        sp = sub.add_parser(name, help="lr_find (if needed) then fit_one_cycle" if name == "fit"
                            else "the offline demo: fit on the shipped sample")
        common(sp, "cifar10" if name == "fit" else "cifar10-sample", 128 if name == "fit" else 64)
        sp.add_argument("--epochs", type=_positive_int, default=10 if name == "fit" else 20)
        sp.add_argument("--max-lr", type=_max_lr, default="suggest",
                        help="one-cycle max LR, or 'suggest' for lr_find's (default)")
        sp.add_argument("--schedule", choices=["one-cycle", "constant", "flat-cos"],
                        default="one-cycle")
    return p


def _load(args: argparse.Namespace) -> Any:
    from . import cifar10_data
    from .data.cifar import CifarFormatError, CifarNotFoundError

    data = args.data
    try:
        if data == "cifar10-sample":
            return cifar10_data(args.batch_size, seed=args.seed, sample=True)
        path = None if data == "cifar10" else data
        if path is not None and not Path(path).exists():
            raise CifarNotFoundError(f"--data {path!r} does not exist; pass a CIFAR-10 folder "
                                     "or cifar-10-python.tar.gz, cifar10, or cifar10-sample.")
        return cifar10_data(args.batch_size, seed=args.seed, path=path)
    except (CifarNotFoundError, CifarFormatError) as exc:
        print(f"tflearner: error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_DATA) from None


def _history(learn: Any) -> dict[str, Any]:
    rec = learn.recorder

    def clean(values: list) -> list:
        return [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]

    return {
        "lrs": clean(rec.lrs), "moms": clean(rec.moms), "losses": clean(rec.losses),
        "smooth_losses": clean(rec.smooth_losses), "epochs": rec.values,
        "suggestions": {k: {"lr": s.lr, "lr_range": s.lr_range}
                        for k, s in rec.suggestions.items()},
        "lr_find": rec.lr_find_info,
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import Learner, LeNet

    keras.utils.set_random_seed(args.seed)
    data = _load(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        learn = Learner(LeNet(), data, opt=args.opt, quiet=args.quiet)
    except (ValueError, TypeError) as exc:
        print(f"tflearner: error: {exc}", file=sys.stderr)
        return 2
    print(f"data: {args.data} {data}")
    history: dict[str, Any] = {}
    max_lr = getattr(args, "max_lr", "suggest")
    if args.command == "lr-find" or max_lr == "suggest":
        found = learn.lr_find(num_it=getattr(args, "num_it", 100))
        print(f"lr_find: {found}")
        learn.recorder.plot().figure.savefig(out / "lr_find.png", dpi=110, bbox_inches="tight")
        history["lr_find"] = _history(learn)
        if args.command == "lr-find":
            (out / "history.json").write_text(json.dumps(history, indent=1))
            plt.close("all")
            print(f"saved: {out / 'lr_find.png'}, {out / 'history.json'}")
            return 0
        max_lr = found[0]
        if max_lr is None:
            print("tflearner: error: lr_find gave no suggestion (see lr_find.png); pass "
                  "--max-lr NUMBER", file=sys.stderr)
            return EXIT_NO_SUGGESTION
    print(f"{args.schedule}: {args.epochs} epochs, max_lr {max_lr:.3g}")
    if args.schedule == "one-cycle":
        learn.fit_one_cycle(args.epochs, max_lr)
    elif args.schedule == "flat-cos":
        learn.fit_flat_cos(args.epochs, max_lr)
    else:
        learn.fit(args.epochs, lr=max_lr)
    history["fit"] = _history(learn)
    test = learn.validate(data.test) if data.test is not None else None
    if test is not None:
        history["test"] = test
        print(f"test: loss {test['loss']:.4f}, accuracy {test['accuracy']:.2%} "
              f"({data.meta['n_test']} images)")
    learn.recorder.plot_loss().figure.savefig(out / "loss.png", dpi=110, bbox_inches="tight")
    axes = learn.recorder.plot_sched()
    axes[0].figure.savefig(out / "sched.png", dpi=110, bbox_inches="tight")
    plt.close("all")
    (out / "history.json").write_text(json.dumps(history, indent=1))
    weights = learn.save(out / "weights")
    print(f"saved: {out / 'lr_find.png'}, {out / 'loss.png'}, {out / 'sched.png'}, "
          f"{out / 'history.json'}, {weights}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
