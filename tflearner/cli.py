"""The ``tflearner`` command: the LR finder and one-cycle training from a terminal.

    tflearner demo                                   # offline: the shipped CIFAR-10 sample
    tflearner lr-find --data cifar10 --out runs/a    # sweep, plot, suggestions as JSON
    tflearner fit --data PATH --epochs 10 --max-lr suggest --opt adam --out runs/b

``--data``: ``cifar10`` (local copies, then Keras' download), ``cifar10-sample`` (shipped, offline)
or a path to a CIFAR-10 folder / ``cifar-10-python.tar.gz``. The model is LeNet-5.
``--out DIR`` receives ``lr_find.png``, ``loss.png``, ``sched.png``, ``history.json`` (the
recorder's per-batch and per-epoch history and the suggestions) and ``weights.npz``.
Every argument is checked before any data is loaded or a model is built (``--opt`` against
the optimizer names Keras has, ``--out`` for a folder that can be created, ``--data`` for a name
or an existing path), with messages in command-line terms.
Exit codes: 0 success, 2 bad arguments (as argparse), 3 data not found or unreadable, 4 the LR
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

from .core.checks import fail

__all__ = ["main", "build_parser", "check_args", "optimizer_names"]

EXIT_ARGS, EXIT_DATA, EXIT_NO_SUGGESTION = 2, 3, 4
DATA_NAMES = ("cifar10", "cifar10-sample")
_SEED_LIMIT = 2**32  # what set_seed / numpy accept: [0, 2**32)


class ArgError(Exception):
    """A bad command-line argument; ``code`` is the exit status (2, or 3 for missing data)."""

    def __init__(self, message: str, code: int = EXIT_ARGS) -> None:
        super().__init__(message)
        self.code = code


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
        sp.add_argument("--seed", type=int, default=0, help="in [0, 2**32) (default: 0)")
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


def optimizer_names() -> list[str]:
    """The ``--opt`` names: every optimizer class in ``keras.optimizers`` that
    :func:`tflearner.optim.factory.get_optimizer` builds from its lower-cased name alone
    (looked up now, so a Keras upgrade's new optimizers are included; the base class and
    wrappers that need another optimizer, such as ``LossScaleOptimizer``, are not)."""
    import keras

    from .optim.factory import get_optimizer

    names = []
    for cls_name, cls in sorted(vars(keras.optimizers).items(), key=lambda kv: kv[0].lower()):
        if (not isinstance(cls, type) or not issubclass(cls, keras.optimizers.Optimizer)
                or cls is keras.optimizers.Optimizer):
            continue
        try:
            get_optimizer(cls_name.lower())
        except (ValueError, TypeError, KeyError):
            continue
        names.append(cls_name.lower())
    return names


def _check_opt(value: str) -> None:
    names = optimizer_names()
    if value.lower() not in names:
        raise ArgError(str(fail("--opt", f"one of Keras' optimizer names ({', '.join(names)})",
                                value, "e.g. --opt adam (names are case-insensitive).")))


def _check_out(value: str) -> None:
    """``--out`` must be a folder or a path that ``mkdir -p`` can create."""
    out = Path(value).expanduser()
    if out.exists():
        if not out.is_dir():
            raise ArgError(str(fail("--out", "a folder for the run's files", value,
                                    "it is an existing file; pass a folder path.")))
        if not os.access(out, os.W_OK):
            raise ArgError(str(fail("--out", "a writable folder", value,
                                    "pass a folder you can write to.")))
        return
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ArgError(str(fail("--out", "a folder path that can be created", value,
                                f"{str(parent)!r} is a file, not a folder.")))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ArgError(str(fail("--out", "a folder path that can be created", value,
                                f"{str(parent)!r} is not writable.")))


def check_args(args: argparse.Namespace) -> None:
    """Check what argparse cannot, before anything is loaded; raises :class:`ArgError`."""
    if not 0 <= args.seed < _SEED_LIMIT:
        raise ArgError(str(fail("--seed", "an integer in [0, 2**32)", args.seed,
                                "e.g. --seed 0.")))
    if args.command == "lr-find" and args.num_it < 2:
        raise ArgError(str(fail("--num-it", "an integer >= 2", args.num_it,
                                "100 is typical.")))
    if args.data not in DATA_NAMES and not Path(args.data).expanduser().exists():
        raise ArgError(f"--data {args.data!r} does not exist; pass a CIFAR-10 folder or "
                       "cifar-10-python.tar.gz, cifar10, or cifar10-sample.", EXIT_DATA)
    _check_out(args.out)
    _check_opt(args.opt)


def _load(args: argparse.Namespace) -> Any:
    from . import cifar10_data
    from .data.cifar import CifarFormatError, CifarNotFoundError

    try:
        if args.data == "cifar10-sample":
            return cifar10_data(args.batch_size, seed=args.seed, sample=True)
        path = None if args.data == "cifar10" else args.data
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
    try:
        check_args(args)
    except ArgError as exc:
        print(f"tflearner {args.command}: error: {exc}", file=sys.stderr)
        return exc.code
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import Learner, LeNet

    keras.utils.set_random_seed(args.seed)
    data = _load(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    learn = Learner(LeNet(), data, opt=args.opt, quiet=args.quiet)
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
