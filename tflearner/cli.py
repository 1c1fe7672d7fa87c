"""The ``tflearner`` command: the LR finder, one-cycle training and prediction from a terminal.

    tflearner demo                                   # offline: the shipped CIFAR-10 sample
    tflearner lr-find --data cifar10 --out runs/a    # sweep, plot, suggestions as JSON
    tflearner fit --data PATH --epochs 10 --opt adam --out runs/b   # verified max LR
    tflearner fit --data pets/ --img-size 64 --epochs 5 --max-lr 0.01 --out runs/c
    tflearner predict runs/c/export cat.jpg dog.png [--json]

``--data``: ``cifar10`` (local copies, then Keras' download), ``cifar10-sample`` (shipped,
offline), a CIFAR-10 folder (one holding ``data_batch_1``.., ``cifar-10-batches-py/`` or
``cifar-10-python.tar.gz``) or tar archive, or else an ImageNet-style image folder: one
sub-folder per class (``pets/cat/1.jpg``; ``--valid-pct`` of it held out, default 0.2), or
``train/`` + ``valid/`` sub-trees of class folders, read by ``DataBundle.from_folder``. Folder
options: ``--img-size N`` (images resized to N×N, default 32; CIFAR-10 is 32 only),
``--augment/--no-augment`` (``aug_transforms()`` on the training split; default on). The
model is LeNet-5 for ``(N, N, 3)`` inputs and one output per class.
``--max-lr`` (``fit`` / ``demo``): ``auto`` (the default) runs lr_find and then races short
trial fits of the planned fit (one-cycle or flat-cos) to pick the peak LR, saying how sure it
is and what it cost (``Learner.lr_find(verify=True)``); ``suggest`` takes lr_find's suggestion
without the race; a number is used as given.
``--start-lr``, ``--end-lr``, ``--num-it``, ``--repeats``: the LR finder's sweep (``lr-find``,
and ``fit`` / ``demo`` with ``--max-lr auto`` or ``suggest``; refused with a numeric
``--max-lr``), by default lr_find's ``1e-7``, ``10``, ``100``, ``1``; the demo sweeps to
``--end-lr 100`` in ``--num-it 200`` steps (see ``DEMO_END_LR``, ``DEMO_NUM_IT``). ``--repeats
K`` runs K sweeps and reports the suggestions' spread.
``--out DIR`` receives ``lr_find.png``, ``race.png`` (with ``--max-lr auto``), ``loss.png``,
``sched.png``, ``history.json`` (the recorder's per-batch and per-epoch history, the
suggestions and the race), ``weights.npz`` and, after
``fit`` / ``demo``, ``export/`` (``model.keras`` + ``tflearner.json``, for ``load_learner``
and ``tflearner predict``). CIFAR-10 runs report the test split; folder runs, which have none,
the validation split.
``predict EXPORT IMAGE...`` prints ``file<TAB>label<TAB>probability`` per image (the predicted
class's probability, 4 decimals); ``--json`` one JSON list of ``{"file", "label", "index",
"probability", "probs": {class: p}}``. A binary export decodes with its threshold (the one it
was exported with; ``--threshold P`` another); a multi-label export prints the labels above it,
space-separated, then their probabilities (``--json``: ``"labels"`` and ``"probs"``).
A missing or unreadable image does not stop the others:
it gets one stderr line naming it, is left out of the output, and the exit code is 3 at the
end.
Every argument is checked before any data is loaded or a model is built (``--opt`` against
the optimizer names Keras has, ``--out`` for a folder that can be created, ``--data`` for a name
or an existing path, an image folder for class sub-folders, ``EXPORT`` for an existing path),
with messages in command-line terms.
Exit codes: 0 success, 2 bad arguments (as argparse), 3 data, export or image not found or
unreadable, 4 the LR finder had no suggestion where one was needed. Errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

from .core.checks import fail
from .data.cifar import ARCHIVE_NAME, BATCHES_DIR, _is_batches_dir
from .inference.layout import META_FILE

__all__ = ["main", "build_parser", "check_args", "optimizer_names"]

EXIT_ARGS, EXIT_DATA, EXIT_NO_SUGGESTION = 2, 3, 4
DATA_NAMES = ("cifar10", "cifar10-sample")
CIFAR_SIZE = 32  # CIFAR-10's images are 32×32; --img-size resizes image folders only
MIN_IMG_SIZE = 16  # LeNet-5's two 5×5 valid convolutions and two 2×2 poolings
_SEED_LIMIT = 2**32  # what set_seed / numpy accept: [0, 2**32)
#: lr_find's own defaults, for --start-lr / --end-lr / --num-it.
SWEEP_DEFAULTS = {"start_lr": 1e-7, "end_lr": 10.0, "num_it": 100, "repeats": 1}
#: The demo's --end-lr: LeNet + plain SGD on the shipped sample is still stable at lr_find's
#: end_lr=10 after 100 steps, so that sweep ends on a falling loss and warns about it; by 100
#: the loss diverges (at lr ~43, seed 0), so the curve has its minimum and its turn.
DEMO_END_LR = 100.0
#: The demo's --num-it: the sample's 100-step curve is so noisy that robust's suggestion moves
#: over an unbounded range on bootstrap copies of it (x2.3 or x inf, by the CPU's thread count);
#: 200 steps give x1.4 (x3.9 with one TensorFlow thread), for ~4 s more.
DEMO_NUM_IT = 200


class ArgError(Exception):
    """A bad command-line argument; ``code`` is the exit status (2, or 3 for missing data)."""

    def __init__(self, message: str, code: int = EXIT_ARGS) -> None:
        super().__init__(message)
        self.code = code


class DataError(Exception):
    """Data, an export or an image that cannot be read (exit 3), found after loading began."""


def _max_lr(value: str) -> float | str:
    if value in ("auto", "suggest"):
        return value
    try:
        lr = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--max-lr must be a positive number, 'auto' or 'suggest', got {value!r}") from None
    if not (math.isfinite(lr) and lr > 0):
        raise argparse.ArgumentTypeError(f"--max-lr must be a positive number, got {value!r}")
    return lr


def _positive_float(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        x = math.nan
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
    return x


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return n


def _probability(value: str) -> float:
    try:
        p = float(value)
    except ValueError:
        p = math.nan
    if not (math.isfinite(p) and 0 < p < 1):
        raise argparse.ArgumentTypeError(
            f"--threshold must be a probability strictly between 0 and 1, got {value!r}; e.g. "
            "--threshold 0.3")
    return p


def _fraction(value: str) -> float:
    try:
        pct = float(value)
    except ValueError:
        pct = math.nan
    if not (math.isfinite(pct) and 0 <= pct < 1):
        raise argparse.ArgumentTypeError(
            f"--valid-pct must be a number in [0, 1), got {value!r}; e.g. --valid-pct 0.2 "
            "(0: no validation split)")
    return pct


def _common_options(sp: argparse.ArgumentParser, data: str, batch: int) -> None:
    """The options of every training command."""
    sp.add_argument("--data", default=data,
                    help="cifar10, cifar10-sample, a CIFAR-10 folder / tar.gz, or an image "
                         "folder (one sub-folder per class, or train/ + valid/) "
                         f"(default: {data})")
    sp.add_argument("--img-size", type=_positive_int, default=None, metavar="N",
                    help=f"image folders: resize to N×N (default: {CIFAR_SIZE}; "
                         f">= {MIN_IMG_SIZE} for LeNet-5)")
    sp.add_argument("--valid-pct", type=_fraction, default=None, metavar="FRACTION",
                    help="fraction held out for validation (default: 0.2 for a folder "
                         "without valid/, 0.1 for CIFAR-10)")
    sp.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                    help="image folders: aug_transforms() on the training split "
                         "(default: on)")
    sp.add_argument("--batch-size", type=_positive_int, default=batch)
    sp.add_argument("--opt", default="sgd", help="Keras optimizer name (default: sgd)")
    sp.add_argument("--seed", type=int, default=0, help="in [0, 2**32) (default: 0)")
    sp.add_argument("--out", default="out",
                    help="folder for plots, history, weights and (fit) export/")
    sp.add_argument("--quiet", action="store_true", help="no progress bars or table")


def _sweep_options(sp: argparse.ArgumentParser, end_lr: float,
                   num_it: int = SWEEP_DEFAULTS["num_it"]) -> None:
    """lr_find's sweep options (their defaults filled in by :func:`check_args`)."""
    sp.add_argument("--start-lr", type=_positive_float, default=None, metavar="LR",
                    help=f"lr_find's first LR (default: {SWEEP_DEFAULTS['start_lr']:g})")
    sp.add_argument("--end-lr", type=_positive_float, default=None, metavar="LR",
                    help=f"lr_find's last LR, > --start-lr (default: {end_lr:g})")
    sp.add_argument("--num-it", type=_positive_int, default=None, metavar="N",
                    help=f"lr_find's steps, >= 2 (default: {num_it})")
    sp.add_argument("--repeats", type=_positive_int, default=None, metavar="K",
                    help="lr_find sweeps from the same start with K data orders: the "
                         "suggestion is their geometric median, with its spread (default: 1)")
    sp.set_defaults(sweep_defaults={**SWEEP_DEFAULTS, "end_lr": end_lr, "num_it": num_it})


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tflearner", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True,
                           metavar="{demo,lr-find,fit,predict}")
    sp = sub.add_parser("lr-find", help="run the LR range test and save its plot")
    _common_options(sp, "cifar10", 128)
    _sweep_options(sp, SWEEP_DEFAULTS["end_lr"])
    for name in ("fit", "demo"):
        sp = sub.add_parser(name, help="lr_find (if needed) then fit_one_cycle" if name == "fit"
                            else "the offline demo: fit on the shipped sample")
        _common_options(sp, "cifar10" if name == "fit" else "cifar10-sample",
                        128 if name == "fit" else 64)
        if name == "fit":
            _sweep_options(sp, SWEEP_DEFAULTS["end_lr"])
        else:
            _sweep_options(sp, DEMO_END_LR, DEMO_NUM_IT)
        sp.add_argument("--epochs", type=_positive_int, default=10 if name == "fit" else 20)
        sp.add_argument("--max-lr", type=_max_lr, default="auto",
                        help="the peak LR: 'auto' (default: lr_find, then a race of short "
                             "trial fits of this fit picks it), 'suggest' (lr_find's "
                             "suggestion, no race) or a number")
        sp.add_argument("--schedule", choices=["one-cycle", "constant", "flat-cos"],
                        default="one-cycle")
    sp = sub.add_parser("predict", help="classify image files with an exported model")
    sp.add_argument("export", metavar="EXPORT",
                    help="the export folder written by fit (OUT/export) or learn.export(path)")
    sp.add_argument("images", metavar="IMAGE", nargs="+", help="image files (jpeg/png/bmp/gif)")
    sp.add_argument("--json", action="store_true",
                    help="print one JSON list instead of tab-separated lines")
    sp.add_argument("--threshold", type=_probability, default=None,
                    help="binary / multi-label exports: the probability above which a label "
                         "is predicted (default: the export's)")
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


def data_kind(value: str) -> str:
    """``"name"`` (cifar10, cifar10-sample), ``"cifar"`` (a CIFAR-10 folder or a file, which
    ``load_cifar10`` reads as an archive or rejects), ``"folder"`` (any other folder: an image
    folder) or ``"missing"``; from the file system alone, nothing is read."""
    if value in DATA_NAMES:
        return "name"
    path = Path(value).expanduser()
    if not path.exists():
        return "missing"
    if not path.is_dir():
        return "cifar"
    if (_is_batches_dir(path) or (path / BATCHES_DIR).is_dir()
            or (path / ARCHIVE_NAME).is_file()):
        return "cifar"
    return "folder"


def _check_folder(value: str) -> None:
    """An image folder needs class sub-folders (the deeper checks are ``from_folder``'s)."""
    root = Path(value).expanduser()
    if any(d.is_dir() and not d.name.startswith(".") for d in root.iterdir()):
        return
    loose = sum(1 for f in root.iterdir() if f.is_file())
    what = (f"it holds {loose} file{'s' if loose > 1 else ''} but no sub-folders" if loose
            else "it is empty")
    raise ArgError(f"--data {value!r} is neither a CIFAR-10 folder nor an image folder: {what}; "
                   f"put each class's images in its own sub-folder ({value}/cat/1.jpg, "
                   f"{value}/dog/2.jpg), or use train/ + valid/ trees of class folders.",
                   EXIT_DATA)


def _check_data_options(args: argparse.Namespace, kind: str) -> None:
    """``--img-size`` / ``--augment`` for folders only; fills in the defaults of all three."""
    if kind == "folder":
        args.img_size = CIFAR_SIZE if args.img_size is None else args.img_size
        if args.img_size < MIN_IMG_SIZE:
            raise ArgError(str(fail("--img-size", f"an integer >= {MIN_IMG_SIZE}", args.img_size,
                                    f"LeNet-5 needs at least {MIN_IMG_SIZE}×{MIN_IMG_SIZE} "
                                    "inputs; e.g. --img-size 32.")))
        args.valid_pct = 0.2 if args.valid_pct is None else args.valid_pct
        args.augment = True if args.augment is None else args.augment
        return
    if args.img_size not in (None, CIFAR_SIZE):
        raise ArgError(str(fail("--img-size", f"{CIFAR_SIZE} for CIFAR-10 (its images are "
                                f"{CIFAR_SIZE}×{CIFAR_SIZE})", args.img_size,
                                "leave it out, or pass an image folder as --data to resize.")))
    if args.augment:
        raise ArgError("--augment applies to image folders only, got it with --data "
                       f"{args.data!r} (CIFAR-10); leave it out, or pass an image folder.")
    args.img_size, args.augment = CIFAR_SIZE, False
    args.valid_pct = 0.1 if args.valid_pct is None else args.valid_pct


def _check_predict(args: argparse.Namespace) -> None:
    export = Path(args.export).expanduser()
    fix = "pass the export folder written by tflearner fit (OUT/export) or learn.export(path)."
    if not export.exists():
        raise ArgError(f"EXPORT {args.export!r} does not exist; {fix}", EXIT_DATA)
    if export.is_dir() and not (export / META_FILE).is_file():
        raise ArgError(f"EXPORT {args.export!r} is not an export folder (it holds no "
                       f"{META_FILE}); {fix}", EXIT_DATA)
    if export.is_file() and export.name != META_FILE:
        inside = (f" (its folder {str(export.parent)!r} is one)"
                  if (export.parent / META_FILE).is_file() else "")
        raise ArgError(f"EXPORT {args.export!r} is a file, not an export folder{inside}; {fix}",
                       EXIT_DATA)


def _check_sweep(args: argparse.Namespace) -> None:
    """``--start-lr`` / ``--end-lr`` / ``--num-it``: only where lr_find runs (``lr-find``, or
    ``--max-lr auto`` / ``suggest``), with ``end > start`` and ``num_it >= 2``; fills in the
    defaults as ``args.sweep`` (``learn.lr_find``'s keywords). ``--max-lr auto`` races trial
    fits of a one-cycle or flat-cos fit, so it refuses ``--schedule constant``."""
    given = [f"--{k.replace('_', '-')}" for k in SWEEP_DEFAULTS if getattr(args, k) is not None]
    max_lr = getattr(args, "max_lr", "suggest")
    if max_lr not in ("auto", "suggest"):
        if given:
            raise ArgError(f"{', '.join(given)} set{'s' if len(given) == 1 else ''} the LR "
                           f"finder's sweep, which runs only with --max-lr auto or suggest, got "
                           f"--max-lr {max_lr:g}; leave {'it' if len(given) == 1 else 'them'} "
                           "out, or pass --max-lr auto.")
        args.sweep = None
        return
    if max_lr == "auto" and getattr(args, "schedule", "one-cycle") == "constant":
        raise ArgError("--max-lr auto races short trial fits of the schedule you train with, "
                       "and --schedule constant has no peak to race; pass --max-lr suggest or a "
                       "number, or --schedule one-cycle / flat-cos.")
    sweep = {k: v if getattr(args, k) is None else getattr(args, k)
             for k, v in args.sweep_defaults.items()}
    if sweep["num_it"] < 2:
        raise ArgError(str(fail("--num-it", "an integer >= 2", sweep["num_it"],
                                "100 is typical.")))
    if sweep["end_lr"] <= sweep["start_lr"]:
        raise ArgError(str(fail("--end-lr", f"a number > --start-lr {sweep['start_lr']:g}",
                                sweep["end_lr"], "e.g. --start-lr 1e-7 --end-lr 10.")))
    args.sweep = sweep


def check_args(args: argparse.Namespace) -> None:
    """Check what argparse cannot, before anything is loaded; raises :class:`ArgError`. Fills
    in the data options' defaults, which depend on the kind of ``--data``."""
    if args.command == "predict":
        _check_predict(args)
        return
    if not 0 <= args.seed < _SEED_LIMIT:
        raise ArgError(str(fail("--seed", "an integer in [0, 2**32)", args.seed,
                                "e.g. --seed 0.")))
    _check_sweep(args)
    kind = data_kind(args.data)
    if kind == "missing":
        raise ArgError(f"--data {args.data!r} does not exist; pass an image folder, a CIFAR-10 "
                       "folder or cifar-10-python.tar.gz, cifar10, or cifar10-sample.", EXIT_DATA)
    _check_data_options(args, kind)
    if kind == "folder":
        _check_folder(args.data)
    _check_out(args.out)
    _check_opt(args.opt)


def _load_folder(args: argparse.Namespace) -> Any:
    from . import BadImageError, DataBundle, aug_transforms

    try:
        data = DataBundle.from_folder(args.data, valid_pct=args.valid_pct, img_size=args.img_size,
                                      batch_size=args.batch_size, seed=args.seed,
                                      augment=aug_transforms() if args.augment else None)
    except BadImageError as exc:
        shown = ", ".join(repr(f) for f in exc.files[:10])
        more = f" and {len(exc.files) - 10} more" if len(exc.files) > 10 else ""
        raise DataError(f"--data {args.data!r}: {len(exc.files)} image files cannot be "
                        f"read or decoded as jpeg/png/bmp/gif: {shown}{more}; remove or "
                        "replace them.") from None
    except (ValueError, OSError) as exc:
        raise DataError(f"--data {args.data!r} is not a usable image folder: "
                        f"{exc}") from None
    return data


def _load(args: argparse.Namespace) -> Any:
    if data_kind(args.data) == "folder":
        return _load_folder(args)
    from . import cifar10_data
    from .data.cifar import FIX_HEADER, CifarFormatError, CifarNotFoundError, not_found_fixes

    try:
        if args.data == "cifar10-sample":
            return cifar10_data(args.batch_size, args.valid_pct, seed=args.seed, sample=True)
        path = None if args.data == "cifar10" else args.data
        return cifar10_data(args.batch_size, args.valid_pct, seed=args.seed, path=path)
    except CifarNotFoundError as exc:
        places = str(exc).split(FIX_HEADER)[0].rstrip()
        raise DataError("\n".join([places, *not_found_fixes("--data", "--data cifar10-sample")])
                        ) from None
    except CifarFormatError as exc:
        raise DataError(str(exc)) from None


def _history(learn: Any) -> dict[str, Any]:
    rec = learn.recorder

    def clean(values: list) -> list:
        return [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]

    return {
        "lrs": clean(rec.lrs), "moms": clean(rec.moms), "losses": clean(rec.losses),
        "smooth_losses": clean(rec.smooth_losses), "epochs": rec.values,
        "suggestions": {k: {"lr": s.lr, "lr_range": s.lr_range, "spread": s.spread}
                        for k, s in rec.suggestions.items()},
        "lr_find": rec.lr_find_info,
    }


def _tf_message(message: str) -> str:
    """TensorFlow's op error without its ``{{function_node ...}}`` / ``[Op:...]`` wrapping."""
    message = re.sub(r"\{\{.*?\}\}\s*", "", message).split(" [Op:")[0].strip()
    return message or "TensorFlow cannot decode it"


def _result(inf: Any, file: str, label: Any, index: Any, probs: Any) -> tuple[dict, str]:
    """One image's JSON entry and its tab-separated line."""
    names = [str(c) for c in (inf.classes if inf.classes is not None
                              else range(max(len(probs), 2)))]
    if inf.task == "multi_label":
        labels = [str(x) for x in label]
        chosen = [float(p) for p, on in zip(probs, index, strict=True) if on]
        return ({"file": file, "labels": labels, "threshold": inf.threshold,
                 "probs": dict(zip(names, map(float, probs), strict=True))},
                f"{file}\t{' '.join(labels)}\t{' '.join(f'{p:.4f}' for p in chosen)}")
    if inf.task == "binary":
        p1 = float(probs[0])
        probs = [1.0 - p1, p1]
    label = label if isinstance(label, str) else int(label)
    entry = {"file": file, "label": label, "index": index, "probability": float(probs[index]),
             "probs": {c: float(p) for c, p in zip(names, probs, strict=True)}}
    if inf.task == "binary":
        entry["threshold"] = inf.threshold
    return entry, f"{file}\t{label}\t{float(probs[index]):.4f}"


def _predict(args: argparse.Namespace) -> int:
    """``predict``: one line (or JSON entry) per readable image; see the module docstring."""
    from . import BadImageError, ExportError, load_learner
    from .inference.outputs import CLASSIFICATION, SIGMOID_TASKS

    try:
        inf = load_learner(args.export)
    except (FileNotFoundError, ExportError) as exc:
        raise DataError(f"EXPORT {args.export!r} cannot be loaded: {exc}") from None
    if inf.task not in CLASSIFICATION:
        raise DataError(f"EXPORT {args.export!r} is a {inf.task} model; tflearner "
                        "predict prints classes, so it needs a classifier's export.")
    if args.threshold is not None:
        if inf.task not in SIGMOID_TASKS:
            raise ArgError(f"--threshold is for binary and multi-label exports; EXPORT "
                           f"{args.export!r} is {inf.task} (it predicts the likeliest class).")
        inf.threshold = args.threshold
    results, failed = [], 0
    for file in args.images:
        if not Path(file).is_file():
            problem = "does not exist or is not a file; check the path"
        else:
            try:
                label, index, probs = inf.predict(file)
            except BadImageError as exc:
                detail = _tf_message(str(exc).rsplit(" image: ", 1)[-1])
                problem = (f"is not a readable jpeg/png/bmp/gif image ({detail}); replace it or "
                           "leave it out")
            except (ValueError, TypeError) as exc:  # e.g. the wrong size for a CIFAR model
                problem = f"cannot be made into the model's input: {exc}"
            else:
                entry, line = _result(inf, file, label, index, probs)
                results.append(entry)
                if not args.json:
                    print(line, flush=True)
                continue
        failed += 1
        print(f"tflearner predict: error: IMAGE {file!r} {problem}.", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=1))
    if failed:
        print(f"tflearner predict: {failed} of {len(args.images)} images could not be "
              "predicted (see above).", file=sys.stderr)
        return EXIT_DATA
    return 0


def _train(args: argparse.Namespace) -> int:
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import Learner, LeNet

    keras.utils.set_random_seed(args.seed)
    data = _load(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = LeNet(num_classes=len(data.classes), input_shape=(args.img_size, args.img_size, 3))
    learn = Learner(model, data, opt=args.opt, quiet=args.quiet)
    print(f"data: {args.data} {data}")
    history: dict[str, Any] = {}
    max_lr = getattr(args, "max_lr", "suggest")
    if args.command == "lr-find" or max_lr in ("auto", "suggest"):
        found = learn.lr_find(**args.sweep, **_verify(args))
        print(f"lr_find: {found}")
        learn.recorder.plot().figure.savefig(out / "lr_find.png", dpi=110, bbox_inches="tight")
        history["lr_find"] = _history(learn)
        _race_report(learn, history, out)
        if args.command == "lr-find":
            (out / "history.json").write_text(json.dumps(history, indent=1))
            plt.close("all")
            print(f"saved: {out / 'lr_find.png'}, {out / 'history.json'}")
            return 0
        max_lr = learn.suggested_lr  # the first method's, else the next one's (it warns)
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
    _report(learn, data, history, out)
    return 0


def _verify(args: argparse.Namespace) -> dict[str, Any]:
    """``lr_find``'s race keywords for ``--max-lr auto`` (none otherwise)."""
    if args.command == "lr-find" or args.max_lr != "auto":
        return {}
    policy = "flat_cos" if args.schedule == "flat-cos" else "one_cycle"
    return {"verify": True, "epochs": args.epochs, "policy": policy}


def _race_report(learn: Any, history: dict[str, Any], out: Path) -> None:
    """After a verified sweep: one line on the race, its plot and its record in the history."""
    race = learn.recorder.race
    if race is None:
        return
    print(f"race: verified max_lr {race.lr:.3g} ({'sure' if race.sure else 'not sure'}); "
          f"sweep and race cost {race.cost:.2g} fits of this one")
    learn.recorder.plot_race().figure.savefig(out / "race.png", dpi=110, bbox_inches="tight")
    history["race"] = race.as_dict()


def _report(learn: Any, data: Any, history: dict[str, Any], out: Path) -> None:
    """After ``fit``: the held-out metrics, the plots, the history, weights and the export."""
    import matplotlib.pyplot as plt

    # CIFAR-10 has a test split; an image folder has none, so its validation split is reported
    split, ds = ("test", data.test) if data.test is not None else ("valid", data.valid)
    if ds is not None:
        history[split] = metrics = learn.validate(ds)
        print(f"{split}: loss {metrics['loss']:.4f}, accuracy {metrics['accuracy']:.2%} "
              f"({data.meta[f'n_{split}']} images)")
    else:
        print("valid: none (--valid-pct 0), no metrics to report")
    learn.recorder.plot_loss().figure.savefig(out / "loss.png", dpi=110, bbox_inches="tight")
    axes = learn.recorder.plot_sched()
    axes[0].figure.savefig(out / "sched.png", dpi=110, bbox_inches="tight")
    plt.close("all")
    (out / "history.json").write_text(json.dumps(history, indent=1))
    weights = learn.save(out / "weights")
    exported = learn.export(out / "export")
    saved = [out / "lr_find.png"] if "lr_find" in history else []
    saved += [out / "race.png"] if "race" in history else []
    saved += [out / "loss.png", out / "sched.png", out / "history.json", weights]
    print(f"saved: {', '.join(str(f) for f in saved)}")
    print(f"exported: {exported} (tflearner predict {exported} IMAGE...)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        check_args(args)
    except ArgError as exc:
        print(f"tflearner {args.command}: error: {exc}", file=sys.stderr)
        return exc.code
    try:
        return _predict(args) if args.command == "predict" else _train(args)
    except DataError as exc:
        print(f"tflearner {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_DATA
    except ArgError as exc:  # an argument only the loaded export can judge
        print(f"tflearner {args.command}: error: {exc}", file=sys.stderr)
        return exc.code


if __name__ == "__main__":
    sys.exit(main())
