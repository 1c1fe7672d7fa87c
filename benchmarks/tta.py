"""Does test-time augmentation help? ``learn.tta()`` against the plain validation pass.

An image tree is written to a temporary folder (deleted at exit) from the real CIFAR-10 archive
(``--cifar``, default ``../shared/datasets/cifar-10-python.tar.gz``): ``train/<class>/`` with
the first ``--n-train`` (default 10,000) training images and ``valid/<class>/`` with the first
``--n-valid`` (default 2,000) test images, odd images PNG, even images JPEG.

Per seed (``--seeds``, default 0 1 2): ``DataBundle.from_folder(root, img_size=32,
batch_size=64, seed=seed, augment=aug_transforms())``, ``keras.utils.set_random_seed(seed)``,
``Learner(LeNet(), data, opt="adam", quiet=True).fit_one_cycle(--epochs (8), 3e-3)``. Then, on
the validation set:

* ``plain``: ``learn.get_preds()``;
* ``tta n=4 b=.25``: ``learn.tta()`` (fastai's rule, ``0.25 * plain + 0.75 * mean of 4
  augmented passes``, the training augmentation reused);
* ``tta n=8``: ``learn.tta(n=8)``;
* ``tta beta=0``: ``learn.tta(beta=0.0)`` (the augmented mean alone);
* ``tta use_max``: ``learn.tta(use_max=True)`` (element-wise maximum of the plain pass and the
  passes; renormalised per row for the loss only, the argmax is unchanged).

With ``--no-aug`` (on by default; ``--skip-no-aug`` drops it) the same is done for a model
trained on ``augment=None`` data, TTA with ``learn.tta(augment=aug_transforms())``: whether TTA
helps a model that never saw an augmented image.

Printed per row: accuracy (%) per seed, mean and range (max - min), the mean change against
``plain`` of the same model with the per-seed changes (paired: same weights, same images), the
mean validation loss (cross-entropy of the mixed probabilities, ``-mean(log p[i, t_i])`` in
numpy) with its change against ``plain``, and the mean seconds of the call. One validation
image is 100 / n_valid points.

    python benchmarks/tta.py [--n-train 10000] [--n-valid 2000] [--epochs 8] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tflearner import (  # noqa: E402
    CIFAR10_CLASSES,
    DataBundle,
    Learner,
    LeNet,
    aug_transforms,
    load_cifar10,
)
from tflearner.data.folder import write_image_folder  # noqa: E402

LR = 3e-3
BATCH = 64
ROWS = ("plain", "tta n=4 b=.25", "tta n=8", "tta beta=0", "tta use_max")


def score(probs: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """(accuracy %, cross-entropy) of ``probs``; rows renormalised (``use_max`` sums > 1)."""
    t = np.asarray(targets).ravel().astype(int)
    p = np.asarray(probs, dtype=np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    acc = 100.0 * float(np.mean(p.argmax(axis=1) == t))
    loss = float(-np.mean(np.log(np.clip(p[np.arange(len(t)), t], 1e-12, None))))
    return acc, loss


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def run_seed(root: Path, seed: int, epochs: int, train_aug: bool) -> dict[str, tuple]:
    """``{row: (acc, loss, seconds)}`` for one seed."""
    data = DataBundle.from_folder(root, img_size=32, batch_size=BATCH, seed=seed,
                                  augment=aug_transforms() if train_aug else None)
    keras.utils.set_random_seed(seed)
    learn = Learner(LeNet(), data, opt="adam", quiet=True)
    t = time.perf_counter()
    learn.fit_one_cycle(epochs, LR)
    fit_s = time.perf_counter() - t
    learn.get_preds()  # warm-up (tracing), not timed
    aug = {} if train_aug else {"augment": aug_transforms()}
    calls = {
        "plain": lambda: learn.get_preds(),
        "tta n=4 b=.25": lambda: learn.tta(**aug),
        "tta n=8": lambda: learn.tta(n=8, **aug),
        "tta beta=0": lambda: learn.tta(beta=0.0, **aug),
        "tta use_max": lambda: learn.tta(use_max=True, **aug),
    }
    out = {}
    for row, fn in calls.items():
        (probs, targets), secs = timed(fn)
        out[row] = (*score(probs, targets), secs)
    tag = "aug" if train_aug else "no-aug"
    print(f"  seed {seed} ({tag}): fit {fit_s:.0f} s; "
          + "  ".join(f"{r} {a:.2f}%/{lo:.3f}" for r, (a, lo, _) in out.items()), flush=True)
    return out


def table(title: str, res: dict[int, dict[str, tuple]], seeds: list[int]) -> list[str]:
    lines = [title,
             f"{'row':14s} " + " ".join(f"{'s' + str(s):>6s}" for s in seeds)
             + f" {'mean':>6s} {'range':>5s} {'d mean':>6s}  {'d per seed':20s} {'loss':>6s}"
             f" {'d loss':>6s} {'sec':>5s}"]
    for row in ROWS:
        accs = [res[s][row][0] for s in seeds]
        deltas = [res[s][row][0] - res[s]["plain"][0] for s in seeds]
        loss = statistics.mean(res[s][row][1] for s in seeds)
        base = statistics.mean(res[s]["plain"][1] for s in seeds)
        dloss = "" if row == "plain" else f"{loss - base:+6.3f}"
        secs = statistics.mean(res[s][row][2] for s in seeds)
        d = "" if row == "plain" else f"{statistics.mean(deltas):+6.2f}"
        per = "" if row == "plain" else " ".join(f"{x:+.2f}" for x in deltas)
        lines.append(f"{row:14s} " + " ".join(f"{a:6.2f}" for a in accs)
                     + f" {statistics.mean(accs):6.2f} {max(accs) - min(accs):5.2f} {d:>6s}"
                     f"  {per:20s} {loss:6.3f} {dloss:>6s} {secs:5.1f}")
    return lines


def verdict(name: str, res: dict[int, dict[str, tuple]], seeds: list[int],
            row: str = "tta n=4 b=.25") -> str:
    deltas = [res[s][row][0] - res[s]["plain"][0] for s in seeds]
    dloss = [res[s][row][1] - res[s]["plain"][1] for s in seeds]
    lo, hi = min(deltas), max(deltas)
    if lo > 0:
        acc = f"{row} helps accuracy on every seed: {statistics.mean(deltas):+.2f} points " \
              f"(per seed {lo:+.2f}..{hi:+.2f})"
    elif hi < 0:
        acc = f"{row} hurts accuracy on every seed: {statistics.mean(deltas):+.2f} points " \
              f"(per seed {lo:+.2f}..{hi:+.2f})"
    else:
        acc = f"{row} within noise on accuracy: deltas {lo:+.2f}..{hi:+.2f} points"
    if max(dloss) < 0:
        loss = f"loss lower on every seed ({statistics.mean(dloss):+.3f})"
    elif min(dloss) > 0:
        loss = f"loss higher on every seed ({statistics.mean(dloss):+.3f})"
    else:
        loss = f"loss change mixed ({min(dloss):+.3f}..{max(dloss):+.3f})"
    return f"verdict ({name}): {acc}; {loss}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-train", type=int, default=10000)
    p.add_argument("--n-valid", type=int, default=2000)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--cifar", default="../shared/datasets/cifar-10-python.tar.gz",
                   help="the real CIFAR-10 archive (or folder)")
    p.add_argument("--skip-no-aug", action="store_true",
                   help="skip the model trained without augmentation")
    args = p.parse_args()

    start = time.perf_counter()
    print(f"machine: os.cpu_count()={os.cpu_count()}, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}")
    (x, y), (xt, yt) = load_cifar10(path=args.cifar)
    x, y, xt, yt = x[:args.n_train], y[:args.n_train], xt[:args.n_valid], yt[:args.n_valid]
    print(f"data: CIFAR-10 folder tree, train = first {len(x)} training images, valid = first "
          f"{len(xt)} test images (half PNG, half JPEG, 32x32); 1 image = "
          f"{100 / len(xt):.2f} points")
    print(f"recipe: from_folder(img_size=32, batch_size={BATCH}, seed=seed, "
          f"augment=aug_transforms()), set_random_seed(seed), Learner(LeNet(), opt='adam'), "
          f"fit_one_cycle({args.epochs}, {LR}); seeds {args.seeds}; accuracy %, loss = "
          "cross-entropy of the mixed probabilities")
    results = {}
    with tempfile.TemporaryDirectory(prefix="tflearner-tta-bench-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        write_image_folder(root / "train", x, y, CIFAR10_CLASSES)
        write_image_folder(root / "valid", xt, yt, CIFAR10_CLASSES)
        print(f"tree written in {time.perf_counter() - t:.1f} s", flush=True)
        variants = [("trained with aug_transforms()", True)]
        if not args.skip_no_aug:
            variants.append(("trained without augmentation, tta(augment=aug_transforms())",
                             False))
        for name, train_aug in variants:
            results[name] = {s: run_seed(root, s, args.epochs, train_aug) for s in args.seeds}

    print()
    for name, res in results.items():
        print("\n".join(table(name, res, args.seeds)))
        print()
    print("d mean / d per seed: accuracy change vs plain of the same model, points; "
          "loss: mean over seeds; sec: mean seconds of the call (plain: get_preds)")
    for name, res in results.items():
        print(verdict(name, res, args.seeds))
    print(f"total run time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
