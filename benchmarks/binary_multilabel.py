"""A binary and a multi-label classifier with tflearner, against model.fit. Measured.

* binary: scikit-learn's breast cancer data (569 examples, 30 features standardised with the
  training split's mean and deviation, 20 % held out by a seeded split), ``Dense(16, relu) ->
  Dense(1, sigmoid)``, integer 0/1 labels, the Learner's defaults (binary cross-entropy,
  ``BinaryAccuracy``);
* multi-label: scikit-learn's digits (64 pixels), three labels per image derived from its digit
  (even, >= 5, prime: rows with 0 to 3 labels), ``Dense(64, relu) -> Dense(3)`` logits, a
  float 0/1 row per image (``from_logits`` read off the layer; accuracy per label, averaged).

For each: (1) one epoch of ``learn.fit`` and of ``model.fit`` with the same optimizer (Adam
1e-3), weights and unshuffled batches: the largest weight difference after it; (2) per seed,
``lr_find`` then ``fit_one_cycle(E)`` against ``model.fit`` for E epochs at Adam's default
1e-3 (shuffled, same split): validation accuracy (multi-label: per label, and exact match).

    python benchmarks/binary_multilabel.py [--seeds 0 1 2] [--epochs 10] [--json OUT.json]

Needs scikit-learn (the ``dev`` extras); about a minute on 2 CPU cores. Accuracies move by about
a point between machines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tflearner import DataBundle, Learner  # noqa: E402
from tflearner.data.split import split_indices  # noqa: E402

BATCH = 32


def breast_cancer(seed: int) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    tr, va = split_indices(len(d.target), 0.2, seed)
    mu, sd = d.data[tr].mean(0), d.data[tr].std(0) + 1e-8
    x = ((d.data - mu) / sd).astype("float32")
    return x[tr], d.target[tr].astype("int64"), x[va], d.target[va].astype("int64")


def digit_tags(seed: int) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits

    d = load_digits()
    t = d.target
    y = np.stack([t % 2 == 0, t >= 5, np.isin(t, (2, 3, 5, 7))], 1).astype("float32")
    x = (d.data / 16.0).astype("float32")
    tr, va = split_indices(len(t), 0.2, seed)
    return x[tr], y[tr], x[va], y[va]


PROBLEMS = {"binary_breast_cancer": (breast_cancer, 30, 1, "sigmoid"),
            "multi_label_digits": (digit_tags, 64, 3, None)}


def _net(problem: str, seed: int) -> keras.Model:
    _, d, k, act = PROBLEMS[problem]
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((d,)),
                             keras.layers.Dense(16 if k == 1 else 64, activation="relu"),
                             keras.layers.Dense(k, activation=act)])


def _keras_loss(problem: str) -> Any:
    return keras.losses.BinaryCrossentropy(from_logits=PROBLEMS[problem][3] is None)


def _scores(probs: np.ndarray, yv: np.ndarray) -> dict[str, float]:
    pred = (probs > 0.5).astype(int).reshape(len(yv), -1)
    truth = yv.reshape(len(yv), -1).astype(int)
    return {"acc_per_label": float((pred == truth).mean()),
            "exact_match": float((pred == truth).all(1).mean())}


def same_weights(problem: str) -> float:
    """The largest weight difference after one epoch of learn.fit and of model.fit."""
    xt, yt, _, _ = PROBLEMS[problem][0](0)
    model = _net(problem, 0)
    start = model.get_weights()
    ds = tf.data.Dataset.from_tensor_slices((xt, yt)).batch(BATCH)
    data = DataBundle.from_datasets(ds, task="binary" if PROBLEMS[problem][2] == 1
                                    else "multi_label")  # a dataset's spec cannot tell
    Learner(model, data, opt=keras.optimizers.Adam(1e-3), quiet=True).fit(1)
    twin = _net(problem, 0)
    twin.set_weights(start)
    twin.compile(optimizer=keras.optimizers.Adam(1e-3), loss=_keras_loss(problem))
    twin.fit(xt, yt, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    return max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(),
                                                           twin.get_weights(), strict=True))


def run(problem: str, seed: int, epochs: int) -> dict[str, Any]:
    xt, yt, xv, yv = PROBLEMS[problem][0](seed)
    data = DataBundle.from_arrays(xt, yt, valid=(xv, yv), batch_size=BATCH, seed=seed)
    learn = Learner(_net(problem, seed), data, opt="adam", quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr = float(learn.lr_find().valley)
    learn.fit_one_cycle(epochs, lr)
    ours = _scores(learn.get_preds()[0], yv)
    model = _net(problem, seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=_keras_loss(problem))
    model.fit(xt, yt, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0)
    out = model.predict(xv, verbose=0)
    probs = out if PROBLEMS[problem][3] else 1 / (1 + np.exp(-out))
    return {"problem": problem, "seed": seed, "lr": lr, "task": learn.task,
            "metric": learn.validate()["accuracy"], "tflearner": ours,
            "keras": _scores(probs, yv)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    out: dict[str, Any] = {"epochs": args.epochs, "seeds": args.seeds, "keras": keras.__version__,
                           "same_weights_after_one_epoch": {}, "runs": [], "summary": []}
    for problem in PROBLEMS:
        diff = same_weights(problem)
        out["same_weights_after_one_epoch"][problem] = diff
        print(f"{problem}: one epoch, learn.fit vs model.fit, largest weight difference {diff:.2g}")
        runs = [run(problem, s, args.epochs) for s in args.seeds]
        out["runs"] += runs
        for side in ("tflearner", "keras"):
            for key in ("acc_per_label", "exact_match"):
                vals = [100 * r[side][key] for r in runs]
                line = (f"{problem} {side:<9} {key:<13} {statistics.mean(vals):6.2f} ± "
                        f"{statistics.stdev(vals) if len(vals) > 1 else 0:4.2f}  "
                        + ", ".join(f"{v:.2f}" for v in vals))
                out["summary"].append(line)
                print(line, flush=True)
        print(f"{problem}: task {runs[0]['task']!r}, lr_find valleys "
              + ", ".join(f"{r['lr']:.3g}" for r in runs))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
