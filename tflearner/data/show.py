"""Look at the data: :func:`show_batch` draws a grid of images titled with their class names.

``matplotlib.pyplot`` is imported inside the function, so ``import tflearner`` never loads it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.checks import check_choice, check_int

__all__ = ["show_batch"]


def _as_display(img: np.ndarray) -> np.ndarray:
    """An image as matplotlib shows it: ``[0, 1]`` floats, ``(h, w)`` for one channel."""
    img = np.asarray(img, np.float32)
    if img.shape[-1] == 1:
        img = img[..., 0]
    lo, hi = float(img.min()), float(img.max())
    if lo < 0.0 or hi > 1.0:  # not [0, 1] pixels (e.g. unscaled or standardised): stretch
        img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return img


def _label(y: np.ndarray, classes: tuple[str, ...] | None) -> str:
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
    x_spec = dataset.element_spec[0]
    if x_spec.shape.rank != 4 or x_spec.shape[-1] not in (1, 3, 4):
        raise ValueError(f"show_batch needs image batches (n, h, w, 1|3|4), got x of shape "
                         f"{tuple(x_spec.shape)}; it draws images only.")
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
    n = len(x)
    cols = ncols if ncols is not None else math.ceil(math.sqrt(n))
    cols = check_int("ncols", cols, 1, fix="the number of grid columns.")
    rows = math.ceil(n / cols)
    if axes is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(rows, cols, figsize=figsize or (2.0 * cols, 2.2 * rows),
                                 squeeze=False)
    else:
        axes = np.asarray(axes, dtype=object)
        if axes.size < n:
            raise ValueError(f"axes must hold at least n={n} Axes, got {axes.size}.")
        axes = axes.reshape(-1, axes.shape[-1]) if axes.ndim >= 2 else axes.reshape(1, -1)
    classes = getattr(data, "classes", None)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < n:
            img = _as_display(x[k])
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0.0, vmax=1.0)
            ax.set_title(_label(y[k], classes), fontsize=10)
    return axes

