"""A real transfer task, offline: fine_tune against the Keras transfer-learning recipe and scratch.

1. **Pretrain** a small CNN backbone (3 conv stages with BatchNorm, global average pooling) on
   CIFAR-10 classes 0-4, all their training images, with ``fit_one_cycle`` (Adam). The weights
   are cached in ``--work-dir`` (delete it to pretrain again).
2. **Transfer** to classes 5-9 with few labels: ``--per-class`` training images per class (a
   fixed, seeded subset), tested on all 5,000 test images of those classes. Every recipe gets the
   same budget of ``--epochs`` epochs, batch ``--batch-size``, and the same pretrained weights:

   * ``fine_tune_frozen_bn`` (``train_bn=False``, the Learner's default) and
     ``fine_tune_train_bn`` (``train_bn=True``, fastai's default): ``learn.lr_find()`` on the
     frozen Learner, then ``learn.fine_tune(epochs - 1, base_lr=<robust suggestion>)`` (1 frozen
     epoch, then discriminative LRs);
   * ``keras``: the Keras guide's recipe with plain ``model.fit``: backbone frozen and called with
     ``training=False``, head with ``Adam(1e-3)`` for 2/3 of the epochs, then everything
     unfrozen, recompiled with ``Adam(1e-5)``, for the rest;
   * ``scratch``: the same architecture from random weights, ``lr_find`` then
     ``fit_one_cycle(epochs, <suggestion>)``.

   Seeds vary the head's (and scratch's) initial weights (and ``model.fit``'s shuffle); the
   subset and the Learner's data order are fixed.

    python benchmarks/transfer.py --data-dir ../shared/datasets/cifar-10-python.tar.gz
    python benchmarks/transfer.py --data-dir sample --pretrain-epochs 1 --epochs 2 --seeds 0

Prints one row per recipe: test accuracy per seed, mean and spread (max - min), then the
margins of ``fine_tune`` over the others.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tflearner import DataBundle, Learner, load_cifar10  # noqa: E402

BN_MOMENTUM = 0.9  # short runs: Keras' 0.99 leaves the moving statistics near their init


def backbone(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((32, 32, 3))]
    for i, width in enumerate((32, 64, 128)):
        for j in range(2 if i < 2 else 1):
            layers += [keras.layers.Conv2D(width, 3, padding="same", use_bias=False,
                                           name=f"conv{i}{j}"),
                       keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{i}{j}"),
                       keras.layers.ReLU(name=f"relu{i}{j}")]
        if i < 2:
            layers.append(keras.layers.MaxPooling2D(name=f"pool{i}"))
    layers.append(keras.layers.GlobalAveragePooling2D(name="gap"))
    return keras.Sequential(layers, name="backbone")


def classifier(body: keras.Model, seed: int, inference_backbone: bool = False) -> keras.Model:
    """``body`` then a 5-way softmax head; ``inference_backbone``: call the backbone with
    ``training=False`` (the Keras guide's way: its BatchNorm always in inference mode)."""
    keras.utils.set_random_seed(1000 + seed)
    inputs = keras.Input((32, 32, 3))
    x = body(inputs, training=False) if inference_backbone else body(inputs)
    outputs = keras.layers.Dense(5, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="transfer")


def classes(x: np.ndarray, y: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray]:
    keep = (y >= first) & (y < first + 5)
    return x[keep], y[keep] - first


def few_labels(x, y, per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                          for c in range(5)])
    return x[np.sort(idx)], y[np.sort(idx)]


def suggestion(learn: Learner) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = learn.lr_find()
    lr = res.robust if res.robust is not None else res.valley
    if lr is None:
        raise SystemExit("lr_find gave no suggestion")
    return float(lr)


def pretrain(x, y, epochs: int, batch_size: int, work: Path) -> Path:
    path = work / f"backbone-{epochs}ep-{len(x)}.weights.h5"
    if path.exists():
        print(f"pretrained backbone: cached {path}")
        return path
    data = DataBundle.from_arrays(x, y, valid_pct=0.1, batch_size=batch_size, seed=0)
    body = backbone(0)
    learn = Learner(classifier(body, 0), data, opt="adam", quiet=True)
    lr = suggestion(learn)
    t0 = time.perf_counter()
    learn.fit_one_cycle(epochs, lr)
    acc = learn.validate()["accuracy"]
    print(f"pretrained backbone on classes 0-4 ({len(x)} images, {epochs} epochs, lr {lr:.2g}):"
          f" valid accuracy {acc:.1%} in {time.perf_counter() - t0:.0f} s")
    work.mkdir(parents=True, exist_ok=True)
    body.save_weights(path)
    return path


def run(recipe: str, seed: int, weights: Path, data: DataBundle, epochs: int,
        batch_size: int) -> tuple[float, str]:
    body = backbone(seed)
    if recipe != "scratch":
        body.load_weights(weights)
    if recipe == "keras":
        model = classifier(body, seed, inference_backbone=True)
        body.trainable = False
        head_epochs = max(1, round(epochs * 2 / 3))
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        x, y = data.meta["arrays"]
        model.fit(x, y, batch_size=batch_size, epochs=head_epochs, verbose=0, shuffle=True)
        body.trainable = True
        model.compile(keras.optimizers.Adam(1e-5), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        if epochs - head_epochs:
            model.fit(x, y, batch_size=batch_size, epochs=epochs - head_epochs, verbose=0,
                      shuffle=True)
        xt, yt = data.meta["test_arrays"]
        return model.evaluate(xt, yt, verbose=0, batch_size=500)[1], ""
    learn = Learner(classifier(body, seed), data, opt="adam", quiet=True,
                    train_bn=recipe == "fine_tune_train_bn")
    if recipe == "scratch":
        lr = suggestion(learn)
        learn.fit_one_cycle(epochs, lr)
    else:
        learn.freeze()
        lr = suggestion(learn)
        learn.fine_tune(epochs - 1, base_lr=lr, freeze_epochs=1)
    return learn.validate(data.test)["accuracy"], f"{lr:.2g}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="sample", help="CIFAR-10 folder / tar.gz, or 'sample'")
    p.add_argument("--work-dir", default="/tmp/tflearner-transfer")
    p.add_argument("--pretrain-epochs", type=int, default=6)
    p.add_argument("--per-class", type=int, default=100)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--recipes", default="fine_tune_frozen_bn,fine_tune_train_bn,keras,scratch",
                   help="comma-separated, or 'none' (with --plots: only the plots)")
    p.add_argument("--plots", default=None, help="folder: also save lr_find (frozen, unfrozen)"
                                                 " and the fine_tune schedule for seed 0")
    args = p.parse_args()

    sample = args.data_dir == "sample"
    (x, y), (xt, yt) = load_cifar10(None if sample else args.data_dir, sample=sample)
    weights = pretrain(*classes(x, y, 0), args.pretrain_epochs, 128, Path(args.work_dir))
    xs, ys = few_labels(*classes(x, y, 5), args.per_class)
    xts, yts = classes(xt, yt, 5)
    data = DataBundle.from_arrays(xs, ys, test=(xts, yts), valid_pct=0.0,
                                  batch_size=args.batch_size, seed=0, eval_batch_size=500)
    data.meta["arrays"] = (xs.astype("float32") / 255.0, ys)
    data.meta["test_arrays"] = (xts.astype("float32") / 255.0, yts)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"transfer to classes 5-9: {len(xs)} training images ({args.per_class} per class), "
          f"{len(xts)} test images, {args.epochs} epochs, batch {args.batch_size}; test % per "
          f"seed {seeds}")
    means = {}
    for recipe in [r for r in args.recipes.split(",") if r and r != "none"]:
        accs, lrs, t0 = [], [], time.perf_counter()
        for seed in seeds:
            for v in data.rng_state:
                v.assign(0)
            keras.utils.set_random_seed(seed)
            acc, lr = run(recipe, seed, weights, data, args.epochs, args.batch_size)
            accs.append(100 * acc)
            lrs.append(lr)
        means[recipe] = statistics.mean(accs)
        used = f"  base/max lr {'/'.join(lrs)}" if any(lrs) else ""
        print(f"{recipe:20s} " + "  ".join(f"{a:5.1f}" for a in accs)
              + f"   mean {means[recipe]:5.1f}  spread {max(accs) - min(accs):4.1f}{used}"
              f"  ({time.perf_counter() - t0:.0f} s)")
    best = "fine_tune_frozen_bn"
    if best in means:
        for other in (r for r in means if r != best):
            print(f"{best} - {other}: {means[best] - means[other]:+.1f} points")
    if args.plots:
        save_plots(Path(args.plots), weights, data, args.epochs)


def save_plots(out: Path, weights: Path, data: DataBundle, epochs: int) -> None:
    """lr_find with the backbone frozen and unfrozen (each restores everything), then the
    two-phase fine_tune schedule, for seed 0."""
    out.mkdir(parents=True, exist_ok=True)
    body = backbone(0)
    body.load_weights(weights)
    learn = Learner(classifier(body, 0), data, opt="adam", quiet=True)
    for v in data.rng_state:
        v.assign(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learn.freeze()
        lr = learn.lr_find().robust
        ax = learn.recorder.plot()
        ax.set_title("lr_find, backbone frozen (the head trains)")
        ax.figure.savefig(out / "lr_find_frozen.png", dpi=100, bbox_inches="tight")
        learn.unfreeze()
        head = learn.hypers.lr  # the spread fine_tune's second phase uses
        learn.hypers.set_lrs([head / 100, head])
        learn.lr_find()
        ax = learn.recorder.plot()
        ax.figure.savefig(out / "lr_find_unfrozen.png", dpi=100, bbox_inches="tight")
        learn.fine_tune(epochs - 1, base_lr=lr)
    p1, p2 = learn.recorder.phases
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for g, name in enumerate(("backbone (group 0)", "head (group 1)")):
        lrs = [row[g] for row in p1["group_lrs"] + p2["group_lrs"]]
        ax.plot(lrs, color=f"C{g}", label=name)
    ax.set_yscale("log")
    ax.axvline(len(p1["group_lrs"]) - 0.5, color="gray", ls="--", lw=1)
    ax.text(len(p1["group_lrs"]), 0.03, " unfreeze", color="gray", va="bottom",
            transform=ax.get_xaxis_transform())
    ax.set(xlabel="batch", ylabel="learning rate",
           title=f"fine_tune({epochs - 1}, base_lr={lr:.2g}): frozen epoch, then unfrozen")
    ax.legend()
    ax.grid(True, alpha=0.3)
    fig.savefig(out / "fine_tune_sched.png", dpi=100, bbox_inches="tight")
    print(f"plots in {out}")


if __name__ == "__main__":
    main()
