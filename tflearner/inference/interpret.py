"""What the model gets wrong: :class:`ClassificationInterpretation` (fastai's names) and
:func:`show_results`.

The numbers are numpy over ``Learner.get_preds`` (probabilities, targets, per-item losses);
the plots are matplotlib (imported when drawing) and return their Axes. Images for the plots are
read back from the dataset by index, so nothing holds every input in memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from ..core.checks import check_bool, check_int
from ..data.show import check_images, image_grid
from .outputs import CLASSIFICATION, check_same_order, class_targets, decode, two_class

__all__ = ["ClassificationInterpretation", "show_results", "fetch_inputs"]


def fetch_inputs(ds: tf.data.Dataset, idxs: np.ndarray, targets: np.ndarray | None = None
                 ) -> np.ndarray:
    """The inputs ``x`` at positions ``idxs`` of a batched dataset (in the order of ``idxs``).

    With ``targets`` (as a first pass read them), the labels read back are compared with them, so
    a dataset that changed its order between passes is an error, never wrong pictures."""
    idxs = np.asarray(idxs, np.int64)
    want = {int(i): k for k, i in enumerate(idxs)}
    out: list[Any] = [None] * len(idxs)
    pos, last = 0, int(idxs.max()) if len(idxs) else -1
    for elem in ds:
        x = np.asarray(elem[0] if isinstance(elem, tuple) else elem)
        if targets is not None and isinstance(elem, tuple):
            check_same_order(targets[pos:pos + len(x)], np.asarray(elem[1]),
                             "the interpretation")
        for j in range(len(x)):
            k = want.get(pos + j)
            if k is not None:
                out[k] = x[j]
        pos += len(x)
        if pos > last:
            break
    if any(o is None for o in out):
        raise ValueError(f"the dataset has {pos} items, fewer than index {last} asks for.")
    return np.stack(out) if out else np.zeros((0,))


def _names(classes: tuple[str, ...] | None, c: int) -> list[str]:
    return list(classes) if classes is not None else [str(i) for i in range(c)]


class ClassificationInterpretation:
    """Confusion matrix, most-confused pairs and top losses of a classifier on a dataset.

    ``probs`` ``(n, c)``, ``targets`` sparse ``(n,)`` or one-hot ``(n, c)``, ``losses``
    ``(n,)``; ``ds`` the batched dataset they came from (for the images of
    :meth:`plot_top_losses`), ``classes`` the names; ``preds`` the decoded classes (default:
    the argmax). A binary classifier's ``(n, 1)`` probabilities ``p`` are read as the two
    classes ``[1 - p, p]``, decoded by ``p > threshold``. Build it with :meth:`from_learner`.
    """

    def __init__(self, probs: np.ndarray, targets: np.ndarray, losses: np.ndarray,
                 classes: tuple[str, ...] | None = None, ds: tf.data.Dataset | None = None,
                 preds: np.ndarray | None = None, threshold: float = 0.5) -> None:
        self.probs = np.asarray(probs)
        if self.probs.ndim != 2:
            raise ValueError(f"probs must be (n, n_classes), got shape {self.probs.shape}.")
        if self.probs.shape[1] == 1:  # binary: one sigmoid output
            preds = decode(self.probs, "binary", threshold) if preds is None else preds
            self.probs = two_class(self.probs)
        self.targets = np.asarray(targets)
        self.actual = class_targets(self.targets)
        self.preds = np.argmax(self.probs, axis=1) if preds is None else np.asarray(preds)
        self.losses = np.asarray(losses, np.float32)
        self.c = self.probs.shape[1]
        self.classes = _names(classes, self.c)
        self.ds = ds
        if not (len(self.actual) == len(self.preds) == len(self.losses)):
            raise ValueError("probs, targets and losses must have one row per item.")
        bad = self.actual[(self.actual < 0) | (self.actual >= self.c)]
        if len(bad):
            raise ValueError(f"targets has the class index {int(bad[0])}, outside [0, {self.c})"
                             f" for the model's {self.c} outputs.")

    @classmethod
    def from_learner(cls, learn: Any, ds: Any = None) -> ClassificationInterpretation:
        """From a Learner's predictions on ``ds`` (default: its validation set; as
        ``Learner.get_preds``). A regression Learner is refused."""
        task = getattr(learn, "task", None)
        if task not in CLASSIFICATION:
            raise ValueError(f"ClassificationInterpretation needs a classification Learner, "
                             f"but its data has task={task!r}.")
        if task == "multi_label":
            raise ValueError("ClassificationInterpretation reads one class per item, but this "
                             "Learner is multi-label; read each label's errors from "
                             "learn.get_preds(with_decoded=True) (probs, targets, decoded).")
        dataset = learn.preds_dataset(ds)
        probs, targets, losses = learn.get_preds(dataset, with_loss=True)
        if targets is None:
            raise ValueError("ds yields inputs only; interpretation needs (x, y) batches.")
        return cls(probs, targets, losses, learn.data.classes, dataset,
                   threshold=learn.threshold)

    # ---- numbers ------------------------------------------------------------------------------
    def confusion_matrix(self) -> np.ndarray:
        """``(c, c)`` int counts: row = actual class, column = predicted class."""
        c = self.c
        return np.bincount(self.actual * c + self.preds, minlength=c * c).reshape(c, c)

    def most_confused(self, min_val: int = 1) -> list[tuple[str, str, int]]:
        """``(actual, predicted, count)`` for every off-diagonal cell with ``count >=
        min_val``, most frequent first (ties by actual, then predicted class)."""
        min_val = check_int("min_val", min_val, 1, fix="the smallest count listed, e.g. 1.")
        cm = self.confusion_matrix()
        pairs = [(self.classes[i], self.classes[j], int(cm[i, j]), i, j)
                 for i in range(self.c) for j in range(self.c) if i != j and cm[i, j] >= min_val]
        pairs.sort(key=lambda p: (-p[2], p[3], p[4]))
        return [p[:3] for p in pairs]

    def top_losses(self, k: int | None = None, largest: bool = True
                   ) -> tuple[np.ndarray, np.ndarray]:
        """``(losses, indices)`` of the ``k`` largest losses (all when None; ``largest=False``:
        the smallest), sorted; ties keep dataset order."""
        n = len(self.losses)
        k = n if k is None else check_int("k", k, 1, fix="the number of items, e.g. k=9.")
        check_bool("largest", largest)
        order = np.argsort(-self.losses if largest else self.losses, kind="stable")[:k]
        return self.losses[order], order

    # ---- plots --------------------------------------------------------------------------------
    def plot_confusion_matrix(self, normalize: bool = False, title: str = "Confusion matrix",
                              cmap: str = "Blues", ax: Any = None,
                              figsize: tuple[float, float] | None = None, values: bool = True):
        """The confusion matrix as an image with the counts written in (``normalize``: each
        row divided by its total, so the diagonal is the per-class recall); returns the Axes."""
        import matplotlib.pyplot as plt

        check_bool("normalize", normalize)
        cm = self.confusion_matrix().astype(np.float64)
        if normalize:
            cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        if ax is None:
            side = max(4.0, 0.6 * self.c + 2.0)
            _, ax = plt.subplots(figsize=figsize or (side, side))
        ax.imshow(cm, interpolation="nearest", cmap=cmap, vmin=0)
        ax.set_title(title + (" (row-normalised)" if normalize else ""))
        ticks = np.arange(self.c)
        ax.set_xticks(ticks, self.classes, rotation=90)
        ax.set_yticks(ticks, self.classes)
        ax.set_xlabel("Predicted")
        ax.set_ylabel("Actual")
        if values:
            hi = cm.max() if cm.size else 0.0
            for i in range(self.c):
                for j in range(self.c):
                    txt = f"{cm[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
                    ax.text(j, i, txt, ha="center", va="center", fontsize=8,
                            color="white" if cm[i, j] > hi / 2 else "black")
        ax.figure.tight_layout()
        return ax

    def plot_top_losses(self, k: int = 9, largest: bool = True, ncols: int | None = None,
                        figsize: tuple[float, float] | None = None):
        """The ``k`` items with the largest losses, each titled ``predicted/actual`` and
        ``loss / probability of the prediction``; returns the Axes array. Needs image inputs."""
        if self.ds is None:
            raise ValueError("plot_top_losses needs the dataset; build the interpretation with "
                             "ClassificationInterpretation.from_learner(learn).")
        spec = self.ds.element_spec
        check_images(spec[0] if isinstance(spec, tuple) else spec, "plot_top_losses")
        losses, idxs = self.top_losses(k, largest)
        images = fetch_inputs(self.ds, idxs, self.targets)
        titles = [f"{self.classes[self.preds[i]]}/{self.classes[self.actual[i]]}\n"
                  f"{loss:.2f} / {self.probs[i, self.preds[i]]:.2f}"
                  for loss, i in zip(losses, idxs, strict=True)]
        colors = ["green" if self.preds[i] == self.actual[i] else "red" for i in idxs]
        return image_grid(images, titles, colors, ncols=ncols, figsize=figsize,
                          suptitle="prediction/actual, loss / probability", fontsize=9)

    def __repr__(self) -> str:
        acc = float(np.mean(self.preds == self.actual)) if len(self.preds) else float("nan")
        return (f"ClassificationInterpretation(n={len(self.preds)}, classes={self.c}, "
                f"accuracy={acc:.4f})")


def show_results(images: np.ndarray, targets: np.ndarray, probs: np.ndarray,
                 classes: tuple[str, ...] | None, ncols: int | None = None,
                 figsize: tuple[float, float] | None = None, threshold: float = 0.5):
    """Images titled with the target above the prediction, green when right and red when
    wrong (a binary classifier's one probability decoded by ``p > threshold``)."""
    binary = probs.shape[1] == 1
    names = _names(classes, 2 if binary else probs.shape[1])
    actual = class_targets(targets)
    preds = decode(probs, "binary", threshold) if binary else np.argmax(probs, axis=1)
    titles = [f"{names[a]}\n{names[p]}" for a, p in zip(actual, preds, strict=True)]
    colors = ["green" if a == p else "red" for a, p in zip(actual, preds, strict=True)]
    return image_grid(images, titles, colors, ncols=ncols, figsize=figsize,
                      suptitle="target / prediction (red: wrong)", fontsize=9)
