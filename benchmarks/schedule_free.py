"""Schedule-free AdamW: the averaged point x against the training point y, and whether the LR
finder beats the optimizer's default learning rate. Measured.

Two problems on scikit-learn's 8x8 digits (1,797 images, 20 % held out by a seeded split,
batch 32, 45 batches per epoch): an MLP (64-128-10) and a small CNN with BatchNormalization
(two 3x3 conv + BN + ReLU blocks, global average pooling). For each seed (initial weights, split
and data order) and ``--epochs`` epochs, ``ScheduleFreeAdamW`` (``beta_1=0.9``, no weight
decay, no warm-up) is trained by:

* ``default``: ``learn.fit(E, lr=0.0025)`` (Keras' default LR), validated at x and at y after
  every epoch;
* ``lr_find``: ``learn.fit(E, lr=learn.lr_find().valley)``;
* ``verified``: ``learn.fit(E, lr=learn.lr_find(verify=True, epochs=E).verified)`` (the race
  is sized to a one-cycle fit of E epochs, as ``verify`` does today);
* ``auto_one_cycle``: ``learn.fit_one_cycle(E, max_lr="auto")`` (one-cycle on SF; it warns);
* ``one_cycle_default``: ``learn.fit_one_cycle(E, max_lr=0.0025)``;
* ``keras``: ``model.fit`` with the same optimizer, built before the fit (Keras 3.15 builds it
  inside its traced step otherwise, where z starts at 0: see ``keras_as_shipped``), one epoch
  per call; x by hand from the optimizer's z slots, BatchNorm statistics recomputed at x with
  ``tflearner.batchnorm.BatchNormRefresh`` (50 training batches), as the Learner does;
* ``keras_as_shipped``: ``model.compile(optimizer=ScheduleFreeAdamW()); model.fit(...)``;
* ``adamw_one_cycle``: the usual tflearner recipe for reference, AdamW (wd 0.01) with
  ``fit_one_cycle(E)`` at ``lr_find``'s suggestion.

Each run reports validation accuracy and loss at x and at y at the end (the per-epoch curve for
``default`` and ``keras``). Means and spreads over seeds are printed and, with ``--json``,
written with every run.

    python benchmarks/schedule_free.py [--seeds 0 1 2] [--epochs 10] [--json OUT.json]

Needs scikit-learn (the ``dev`` extras). Runs on demand (~15 minutes on 2 busy CPU cores), not
in CI. The figures move by about a point of accuracy between machines (thread scheduling changes
float sums); the ranking of the runs is what to read.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tflearner import DataBundle, Learner  # noqa: E402
from tflearner.batchnorm import BatchNormRefresh  # noqa: E402
from tflearner.data.split import split_indices  # noqa: E402
from tflearner.optim.schedule_free import averaged_point, base_sequence  # noqa: E402

SF_DEFAULT_LR = 0.0025
BATCH = 32
RUNS = ("default", "lr_find", "verified", "auto_one_cycle", "one_cycle_default", "keras",
        "keras_as_shipped", "adamw_one_cycle")


def digits(images: bool) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images[..., None] if images else d.data) / 16.0
    return x.astype("float32"), d.target.astype("int64")


def mlp(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(128, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])


def cnn(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    layers: list[Any] = [keras.Input((8, 8, 1))]
    for filters in (16, 32):
        layers += [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
                   keras.layers.BatchNormalization(momentum=0.9), keras.layers.ReLU()]
    layers += [keras.layers.GlobalAveragePooling2D(),
               keras.layers.Dense(10, activation="softmax")]
    return keras.Sequential(layers)


PROBLEMS = {"digits_mlp": (False, mlp), "digits_cnn": (True, cnn)}


def _learner(problem: str, seed: int, opt: Any) -> Learner:
    images, make = PROBLEMS[problem]
    x, y = digits(images)
    data = DataBundle.from_arrays(x, y, batch_size=BATCH, valid_pct=0.2, seed=seed)
    return Learner(make(seed), data, opt=opt, quiet=True)


def _both(learn: Learner) -> dict[str, float]:
    """Validation accuracy and loss at x and at y (y == x for other optimizers)."""
    at_x = learn.validate()
    if learn.averaging.enabled:
        with learn.averaging.at("y"):
            at_y = learn.validate()
    else:
        at_y = at_x
    return {"acc_x": at_x["accuracy"], "loss_x": at_x["loss"], "acc_y": at_y["accuracy"],
            "loss_y": at_y["loss"]}


def _sf() -> keras.optimizers.Optimizer:
    return keras.optimizers.ScheduleFreeAdamW(SF_DEFAULT_LR)


def run_learner(problem: str, seed: int, kind: str, epochs: int) -> dict[str, Any]:
    """One tflearner run (see the module doc)."""
    opt = keras.optimizers.AdamW(weight_decay=0.01) if kind == "adamw_one_cycle" else _sf()
    learn = _learner(problem, seed, opt)
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the one-cycle-on-SF warning is what is measured
        if kind == "default":
            out["curve"] = []
            for _ in range(epochs):
                learn.fit(1, lr=SF_DEFAULT_LR)
                out["curve"].append(_both(learn))
            out["lr"] = SF_DEFAULT_LR
        elif kind in ("lr_find", "adamw_one_cycle"):
            out["lr"] = float(learn.lr_find().valley)
            if kind == "lr_find":
                learn.fit(epochs, lr=out["lr"])
            else:
                learn.fit_one_cycle(epochs, out["lr"])
        elif kind == "verified":
            found = learn.lr_find(verify=True, epochs=epochs)
            out.update(lr=float(found.verified), sure=bool(found.sure), cost=float(found.cost))
            learn.fit(epochs, lr=out["lr"])
        elif kind == "auto_one_cycle":
            learn.fit_one_cycle(epochs, max_lr="auto")
            out["lr"] = float(learn.suggested_lr)
        else:  # one_cycle_default
            learn.fit_one_cycle(epochs, SF_DEFAULT_LR)
            out["lr"] = SF_DEFAULT_LR
    return {**out, **_both(learn)}


def _keras_eval_at_x(model: keras.Model, xt: np.ndarray, xv: np.ndarray, yv: np.ndarray,
                     seed: int) -> dict[str, float]:
    """model.evaluate at y, then at x = (y - 0.1 z) / 0.9 with BatchNorm recomputed there; y
    back afterwards."""
    opt = model.optimizer
    at_y = model.evaluate(xv, yv, batch_size=256, verbose=0, return_dict=True)
    saved = [v.numpy() for v in model.trainable_variables]
    for v in model.trainable_variables:
        v.assign(averaged_point(v, base_sequence(opt, v), 0.9))
    order = np.random.default_rng(seed).permutation(len(xt))
    batches = tf.data.Dataset.from_tensor_slices(xt[order]).batch(BATCH)
    with BatchNormRefresh(model).applied(batches):
        at_x = model.evaluate(xv, yv, batch_size=256, verbose=0, return_dict=True)
    for v, s in zip(model.trainable_variables, saved, strict=True):
        v.assign(s)
    return {"acc_x": at_x["accuracy"], "loss_x": at_x["loss"], "acc_y": at_y["accuracy"],
            "loss_y": at_y["loss"]}


def run_keras(problem: str, seed: int, kind: str, epochs: int) -> dict[str, Any]:
    """``model.fit`` with ScheduleFreeAdamW, built first (``keras``) or as shipped."""
    images, make = PROBLEMS[problem]
    x, y = digits(images)
    tr, va = split_indices(len(x), 0.2, seed)
    model = make(seed)
    model.compile(optimizer=_sf(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    if kind == "keras":
        model.optimizer.build(model.trainable_variables)
    curve = []
    for e in range(epochs):
        keras.utils.set_random_seed(seed * 1000 + e)
        model.fit(x[tr], y[tr], batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
        if kind == "keras" or e == epochs - 1:
            curve.append(_keras_eval_at_x(model, x[tr], x[va], y[va], seed + e))
    return {"lr": SF_DEFAULT_LR, **curve[-1], **({"curve": curve} if kind == "keras" else {})}


def _summary(results: list[dict]) -> list[str]:
    lines = [f"{'problem':<11} {'run':<18} {'lr (median)':>11} {'acc at x':>16} "
             f"{'acc at y':>16} {'loss at x':>10} {'loss at y':>10}"]
    for problem in PROBLEMS:
        for kind in RUNS:
            rs = [r for r in results if r["problem"] == problem and r["run"] == kind]
            if not rs:
                continue

            def ms(key: str, rs=rs) -> str:
                vals = [r[key] for r in rs]
                sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
                return f"{100 * statistics.mean(vals):6.2f} ± {100 * sd:4.2f}"

            lr = statistics.median(r["lr"] for r in rs)
            lines.append(f"{problem:<11} {kind:<18} {lr:11.3g} {ms('acc_x'):>16} "
                         f"{ms('acc_y'):>16} {statistics.mean(r['loss_x'] for r in rs):10.4f} "
                         f"{statistics.mean(r['loss_y'] for r in rs):10.4f}")
    return lines


def _curves(results: list[dict]) -> list[str]:
    lines = []
    for problem in PROBLEMS:
        for kind in ("default", "keras"):
            rs = [r for r in results if r["problem"] == problem and r["run"] == kind]
            if not rs:
                continue
            n = len(rs[0]["curve"])
            ax = [statistics.mean(r["curve"][e]["acc_x"] for r in rs) for e in range(n)]
            ay = [statistics.mean(r["curve"][e]["acc_y"] for r in rs) for e in range(n)]
            lines.append(f"{problem} {kind} per epoch, acc x: "
                         + " ".join(f"{100 * a:.1f}" for a in ax))
            lines.append(f"{problem} {kind} per epoch, acc y: "
                         + " ".join(f"{100 * a:.1f}" for a in ay))
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    p.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    results, t0 = [], time.perf_counter()
    print(f"ScheduleFreeAdamW on digits, {args.epochs} epochs, batch {BATCH}, seeds "
          f"{args.seeds}; tensorflow {tf.__version__}, keras {keras.__version__}")
    for problem in args.problems:
        for seed in args.seeds:
            for kind in args.runs:
                t = time.perf_counter()
                runner = run_keras if kind.startswith("keras") else run_learner
                r = {"problem": problem, "seed": seed, "run": kind,
                     **runner(problem, seed, kind, args.epochs)}
                r["seconds"] = time.perf_counter() - t
                results.append(r)
                print(f"{problem} seed {seed} {kind:<18} lr {r['lr']:.3g}  acc x "
                      f"{r['acc_x']:.4f} y {r['acc_y']:.4f}  ({r['seconds']:.0f} s)", flush=True)
    out = {"epochs": args.epochs, "seeds": args.seeds, "batch_size": BATCH,
           "keras": keras.__version__, "tensorflow": tf.__version__, "results": results,
           "summary": _summary(results), "curves": _curves(results),
           "seconds": time.perf_counter() - t0}
    print("\n".join(["", *out["summary"], "", *out["curves"]]))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
