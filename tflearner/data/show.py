"""Look at the data: :func:`show_batch` draws a grid of images titled with their class names;
:func:`image_grid` is the grid it (and the Learner's result plots) draw with.

``matplotlib.pyplot`` is imported inside the function, so ``import tflearner`` never loads it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.checks import check_choice, check_int

__all__ = ["show_batch", "image_grid", "label_name", "check_images"]


def _as_display(img: np.ndarray) -> np.ndarray:
    """An image as matplotlib shows it: ``[0, 1]`` floats, ``(h, w)`` for one channel."""
    img = np.asarray(img, np.float32)
    if img.shape[-1] == 1:
        img = img[..., 0]
    lo, hi = float(img.min()), float(img.max())
    if lo < 0.0 or hi > 1.0:  # not [0, 1] pixels (e.g. unscaled or standardised): stretch
        img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return img


def label_name(y: np.ndarray, classes: tuple[str, ...] | None) -> str:
    y = np.asarray(y)
    i = int(np.argmax(y)) if y.ndim >= 1 and y.size > 1 else int(y.reshape(-1)[0])
    return classes[i] if classes is not None and 0 <= i < len(classes) else str(i)


def show_batch(data: Any, n: int = 9, ds: str = "train", ncols: int | None = None,
               figsize: tuple[float, float] | None = None, axes: Any = None) -> np.ndarray:
    """The first ``n`` images of ``data``'s ``ds`` split (``"train"``: augmented, as the model
    sees them; ``"valid"``, ``"test"``), each titled with its class name, in a grid of ``ncols``
    columns (default ``ceil(sqrt(n))``). Returns the 2-D array of Axes (``axes.flat[0].figure``
    is the Figure); ``axes=`` draws into ``n`` or more existing Axes instead.

    Reading the training split starts an epoch; the data's ``rng_state`` (epoch counter) is put
    back afterwards, so looking at the data changes nothing a later fit sees.
    """
    n = check_int("n", n, 1, fix="the number of images to show, e.g. n=9.")
    check_choice("ds", ds, ("train", "valid", "test"))
    dataset = getattr(data, ds)
    if dataset is None:
        raise ValueError(f"ds={ds!r} names a split this data does not have; use 'train'.")
    check_images(dataset.element_spec[0], "show_batch")
    saved = [v.numpy() for v in data.rng_state]
    xs, ys = [], []
    try:
        for xb, yb in dataset:
            xs.append(np.asarray(xb))
            ys.append(np.asarray(yb))
            if sum(len(b) for b in xs) >= n:
                break
    finally:
        for v, value in zip(data.rng_state, saved, strict=True):
            v.assign(value)
    x, y = np.concatenate(xs)[:n], np.concatenate(ys)[:n]
    classes = getattr(data, "classes", None)
    return image_grid(x, [label_name(v, classes) for v in y], ncols=ncols, figsize=figsize,
                      axes=axes)


def check_images(x_spec: Any, what: str) -> None:
    """Refuse inputs that are not image batches ``(n, h, w, 1|3|4)``, naming ``what`` needs
    them."""
    shape = getattr(x_spec, "shape", None)
    if shape is None or len(shape) != 4 or shape[-1] not in (1, 3, 4):
        raise ValueError(f"{what} needs image inputs (n, h, w, 1|3|4), got x of shape "
                         f"{None if shape is None else tuple(shape)}; it draws images only.")


def image_grid(images: np.ndarray, titles: list[str], colors: list[str] | None = None,
               ncols: int | None = None, figsize: tuple[float, float] | None = None,
               axes: Any = None, suptitle: str | None = None, fontsize: float = 10
               ) -> np.ndarray:
    """``images`` in a grid of ``ncols`` columns (default ``ceil(sqrt(n))``), each titled (in
    ``colors[k]`` if given); returns the 2-D array of Axes. ``axes=`` draws into existing Axes
    (at least ``len(images)``)."""
    n = len(images)
    cols = ncols if ncols is not None else math.ceil(math.sqrt(n))
    cols = check_int("ncols", cols, 1, fix="the number of grid columns.")
    rows = math.ceil(n / cols)
    created = axes is None
    if created:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(rows, cols, figsize=figsize or (2.0 * cols, 2.2 * rows),
                                 squeeze=False)
    else:
        axes = np.asarray(axes, dtype=object)
        if axes.size < n:
            raise ValueError(f"axes must hold at least n={n} Axes, got {axes.size}.")
        axes = axes.reshape(-1, axes.shape[-1]) if axes.ndim >= 2 else axes.reshape(1, -1)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < n:
            img = _as_display(images[k])
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0.0, vmax=1.0)
            style = {} if colors is None else {"color": colors[k]}
            ax.set_title(titles[k], fontsize=fontsize, **style)
    fig = axes.flat[0].figure
    if suptitle:
        fig.suptitle(suptitle)
    if created:
        fig.tight_layout()
    return axes
