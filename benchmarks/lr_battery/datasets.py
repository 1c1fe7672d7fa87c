"""The battery's data: every problem's train / valid / test arrays, fixed for every seed.

Methods see train and valid (through the Learner's ``DataBundle``); the score is computed on
test only, which no method ever sees. Every split is a fixed permutation (seed 0), so a seed
changes the initial weights and the data order, never the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["Splits", "three_way", "digits", "standardized", "friedman", "cancer_binned",
           "tabular_synth", "motif_sequences", "digit_rows", "digits_transfer", "cifar",
           "cifar_sample", "cifar_few_labels"]


@dataclass(frozen=True)
class Splits:
    """``train`` / ``valid`` / ``test`` as ``(x, y)`` pairs; ``x`` may be uint8 images (the
    ``DataBundle`` scales them by 1/255; ``test_x`` gives the scaled test inputs)."""

    train: tuple[np.ndarray, np.ndarray]
    valid: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]

    @property
    def test_x(self) -> np.ndarray:
        x = self.test[0]
        return (x.astype("float32") / 255.0) if x.dtype == np.uint8 else x


def three_way(x: np.ndarray, y: np.ndarray, valid: float = 0.2, test: float = 0.2) -> Splits:
    """A fixed (seed 0) permutation cut into train / valid / test fractions."""
    idx = np.random.default_rng(0).permutation(len(x))
    n_va, n_te = int(round(valid * len(x))), int(round(test * len(x)))
    va, te, tr = (np.sort(idx[:n_va]), np.sort(idx[n_va:n_va + n_te]),
                  np.sort(idx[n_va + n_te:]))
    return Splits((x[tr], y[tr]), (x[va], y[va]), (x[te], y[te]))


def _sk(name: str):
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")()


def digits(shape: tuple[int, ...] = (64,)) -> Splits:
    """scikit-learn's 8×8 digits in [0, 1] (1,797: 1,079 / 359 / 359)."""
    d = _sk("digits")
    return three_way((d.data / 16.0).astype("float32").reshape((-1, *shape)),
                     d.target.astype("int64"))


def digit_rows() -> Splits:
    """The digits as sequences: 8 time steps (rows) of 8 features (pixels)."""
    return digits((8, 8))


def _standardize(x: np.ndarray) -> np.ndarray:
    x = x.astype("float64")
    return ((x - x.mean(0)) / x.std(0)).astype("float32")


def standardized(name: str, regression: bool = False) -> Splits:
    """A scikit-learn table, standardized (statistics of the whole table, as before); a
    regression target standardized too, as a column."""
    d = _sk(name)
    y = d.target
    if regression:
        y = ((y - y.mean()) / y.std()).astype("float32")[:, None]
    return three_way(_standardize(d.data), y if regression else y.astype("int64"))


def friedman() -> Splits:
    """Friedman #1 regression (scikit-learn's generator, 1,500 rows, noise 1, 10 features of
    which 5 matter), standardized."""
    from sklearn.datasets import make_friedman1

    x, y = make_friedman1(n_samples=1500, noise=1.0, random_state=0)
    return three_way(_standardize(x), ((y - y.mean()) / y.std()).astype("float32")[:, None])


#: Breast-cancer columns turned into categories (8 quantile bins each): the embedding problem.
CANCER_CATEGORICAL = (0, 3, 6, 20, 23, 27)


def cancer_binned(n_bins: int = 8) -> Splits:
    """Breast cancer with :data:`CANCER_CATEGORICAL` as integer categories in the first six
    columns (as floats; the model embeds them) and the other 24 columns standardized."""
    d = _sk("breast_cancer")
    cats = [np.searchsorted(np.quantile(d.data[:, c], np.linspace(0, 1, n_bins + 1)[1:-1]),
                            d.data[:, c], side="right") for c in CANCER_CATEGORICAL]
    rest = np.delete(d.data, CANCER_CATEGORICAL, axis=1)
    x = np.concatenate([np.stack(cats, 1).astype("float32"), _standardize(rest)], 1)
    return three_way(x, d.target.astype("int64"))


#: The synthetic table's categorical cardinalities (first columns) and numeric column count.
TAB_CARDINALITIES, TAB_NUMERIC = (30, 12, 6), 5


def tabular_synth(n: int = 4000) -> Splits:
    """A 3-class table: 3 categorical columns (30 / 12 / 6 levels, as float indices) and 5
    numeric; the class is the argmax of per-level effects plus a non-linear numeric term plus
    noise, so embeddings must learn the levels."""
    rng = np.random.default_rng(1)
    cats = np.stack([rng.integers(0, k, n) for k in TAB_CARDINALITIES], 1)
    num = rng.normal(size=(n, TAB_NUMERIC))
    logits = sum(rng.normal(0, 1.0, (k, 3))[cats[:, i]]
                 for i, k in enumerate(TAB_CARDINALITIES))
    logits = logits + np.stack([np.sin(2 * num[:, 0]), num[:, 1] * num[:, 2],
                                np.abs(num[:, 3]) - num[:, 4]], 1)
    y = np.argmax(logits + rng.gumbel(size=(n, 3)) * 0.5, 1).astype("int64")
    return three_way(np.concatenate([cats, num], 1).astype("float32"), y)


def _motif(kind: int, width: int) -> np.ndarray:
    t = np.linspace(0, 1, width)
    return [np.sin(2 * math.pi * 3 * t), np.sign(np.sin(2 * math.pi * 2 * t)),
            2 * (t * 3 % 1) - 1, np.sin(2 * math.pi * (1 + 6 * t) * t)][kind]


def motif_sequences(n: int = 5000, length: int = 96, width: int = 24) -> Splits:
    """1-D sequences of Gaussian noise with one of four motifs (sine burst, square wave, saw
    tooth, chirp) at a random position and amplitude; the class is the motif."""
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, n)
    x = rng.normal(0, 1, (n, length))
    for i in range(n):
        start = rng.integers(0, length - width)
        x[i, start:start + width] += rng.uniform(0.8, 1.6) * _motif(int(y[i]), width)
    return three_way(x[..., None].astype("float32"), y.astype("int64"))


def digits_transfer() -> tuple[tuple[np.ndarray, np.ndarray], Splits]:
    """Source: digits 0-4 (all of them, for pretraining); target: digits 5-9 relabelled 0-4,
    30 training examples per class, 150 valid, the rest (about 600) test."""
    d = _sk("digits")
    x, y = (d.data / 16.0).astype("float32"), d.target.astype("int64")
    src = y < 5
    xt, yt = x[~src], y[~src] - 5
    idx = np.random.default_rng(0).permutation(len(xt))
    tr = np.sort(np.concatenate([idx[yt[idx] == c][:30] for c in range(5)]))
    rest = np.setdiff1d(idx, tr)
    rest = rest[np.random.default_rng(1).permutation(len(rest))]
    va, te = np.sort(rest[:150]), np.sort(rest[150:])
    return (x[src], y[src]), Splits((xt[tr], yt[tr]), (xt[va], yt[va]), (xt[te], yt[te]))


@cache
def _cifar_arrays(path: str):
    from tflearner import load_cifar10

    return load_cifar10(path, download=False)


def cifar(path: str, n_train: int | None, n_valid: int, n_test: int | None,
          classes: tuple[int, ...] | None = None) -> Splits:
    """CIFAR-10 (uint8): train and valid drawn without overlap from the 50,000 training
    images (``n_train=None``: all that valid leaves), test from the 10,000 test images
    (``None``: all). ``classes`` keeps those classes, relabelled from 0."""
    (x, y), (xt, yt) = _cifar_arrays(path)
    if classes is not None:
        keep, keep_t = np.isin(y, classes), np.isin(yt, classes)
        x, y, xt, yt = x[keep], y[keep] - min(classes), xt[keep_t], yt[keep_t] - min(classes)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))
    va = np.sort(idx[:n_valid])
    tr = np.sort(idx[n_valid:] if n_train is None else idx[n_valid:n_valid + n_train])
    te = (np.arange(len(xt)) if n_test is None
          else np.sort(rng.choice(len(xt), n_test, replace=False)))
    return Splits((x[tr], y[tr]), (x[va], y[va]), (xt[te], yt[te]))


def cifar_few_labels(path: str) -> Splits:
    """Classes 5-9 relabelled 0-4, 100 training images per class, 1,000 valid, 1,000 test."""
    s = cifar(path, 25000, 1000, 1000, classes=(5, 6, 7, 8, 9))
    x, y = s.train
    rng = np.random.default_rng(0)
    keep = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), 100, replace=False)
                                   for c in range(5)]))
    return Splits((x[keep], y[keep]), s.valid, s.test)


def cifar_sample(valid_pct: float = 0.1) -> Splits:
    """The demo's data exactly: the shipped sample, ``valid_pct`` of its training images held
    out by tflearner's own seeded split (seed 0, the demo's), its 400 test images."""
    from tflearner import load_cifar10
    from tflearner.data.split import split_indices

    (x, y), test = load_cifar10(sample=True)
    tr, va = split_indices(len(x), valid_pct, 0)
    return Splits((x[tr], y[tr]), (x[va], y[va]), test)
