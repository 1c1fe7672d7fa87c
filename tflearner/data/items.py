"""Raw items in: the model inputs a DataBundle's pipelines would make from raw arrays, image
files or PIL images, for prediction (``DataBundle.test_dl``, ``Learner.predict``).

The rule is the bundle's own preprocessing, never a guess:

* image data (``from_folder`` / ``from_csv``: an :class:`~tflearner.data.folder.
  ImagePreprocessing`): an image file path, a PIL image or raw integer pixels of any size are
  decoded, resized and scaled exactly as the pipeline does;
* array data (``from_arrays``: a :class:`~tflearner.data.bundle.Preprocessing`): a raw array of
  the dtype and example shape the data was built from is cast and scaled as the pipeline does;
  an image file or PIL image is accepted when the examples are images of that exact size;
* datasets passed in (``from_datasets``: no preprocessing known): arrays are taken as the
  model's inputs, as they are; integer arrays for a float model are refused, since tflearner
  cannot know how they were scaled.

This module imports no other part of the bundle, so ``bundle.py`` can import it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from .folder import ImagePreprocessing, _decode, image_pipeline

__all__ = ["is_pil_image", "is_path", "item_input", "items_dataset"]

_PIL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def is_pil_image(item: Any) -> bool:
    """Whether ``item`` is a PIL image (checked without importing PIL)."""
    return type(item).__module__.startswith("PIL.") and hasattr(item, "convert")


def is_path(item: Any) -> bool:
    return isinstance(item, (str, os.PathLike))


def _pil_pixels(img: Any, channels: int) -> np.ndarray:
    px = np.asarray(img.convert(_PIL_MODES[channels]))
    return px[..., None] if px.ndim == 2 else px


def _file_pixels(path: str | os.PathLike, channels: int) -> np.ndarray:
    """Decoded integer pixels of one image file (TensorFlow's decoder, as the pipelines)."""
    from .folder import BadImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"item must be an existing image file, got {str(path)!r}, which "
                                "does not exist or is not a file.")
    try:
        return _decode(tf.constant(str(path)), channels).numpy()
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as exc:
        raise BadImageError(f"{str(path)!r} is not a readable jpeg/png/bmp/gif image: "
                            f"{exc.message.splitlines()[0]}", [str(path)]) from None


def _image_like(input_shape: tuple) -> bool:
    return len(input_shape) == 3 and input_shape[-1] in _PIL_MODES


def item_input(item: Any, prep: Any, input_shape: tuple, x_dtype: str) -> np.ndarray:
    """One raw item as one model input (no batch axis), with ``prep`` applied.

    ``prep`` is the bundle's ``preprocess`` (None: datasets passed in). Raises ``TypeError`` /
    ``ValueError`` naming the item when it cannot be made into the model's input exactly.
    """
    if isinstance(prep, ImagePreprocessing):
        if is_path(item):
            return prep.load(item)
        if is_pil_image(item):
            return prep(_pil_pixels(item, prep.channels))[0]
        arr = np.asarray(item)
        if arr.ndim != 3:
            raise ValueError(f"item must be one image (h, w, {prep.channels}), an image file "
                             f"path or a PIL image, got an array of shape {arr.shape}; for "
                             "several items use learn.get_preds(ds=learn.data.test_dl(items)).")
        return prep(arr)[0]
    if is_path(item) or is_pil_image(item):
        if not _image_like(input_shape):
            raise TypeError(f"item={item!r} is "
                            f"{'a file path' if is_path(item) else 'a PIL image'}, but "
                            f"the model's examples have shape {input_shape}, not images; pass "
                            "one example as an array.")
        channels = input_shape[-1]
        item = (_file_pixels(item, channels) if is_path(item)
                else _pil_pixels(item, channels))
        if tuple(item.shape) != tuple(input_shape):
            raise ValueError(
                f"the image has shape {item.shape} but the data's examples are {input_shape}, "
                "and array data is not resized; resize it first, or build the data with "
                "DataBundle.from_folder(img_size=...), which resizes.")
    arr = np.asarray(item)
    if tuple(arr.shape) != tuple(input_shape):
        hint = (" for several items use learn.get_preds(ds=learn.data.test_dl(items))."
                if arr.ndim == len(input_shape) + 1 else "")
        raise ValueError(f"item must be one example of shape {input_shape}, got shape "
                         f"{arr.shape};{hint or ' pass one raw example as the data gives it.'}")
    return batch_inputs(arr[None], prep, input_shape, x_dtype)[0]


def batch_inputs(x: np.ndarray, prep: Any, input_shape: tuple, x_dtype: str) -> np.ndarray:
    """A stack of raw examples as model inputs (``prep`` applied; see the module docstring)."""
    x = np.asarray(x)
    if not isinstance(prep, ImagePreprocessing) and tuple(x.shape[1:]) != tuple(input_shape):
        raise ValueError(f"items must be examples of shape {input_shape} (stacked: (n, "
                         f"{', '.join(map(str, input_shape))})), got shape {x.shape}.")
    if prep is not None:
        x = prep(x)
    elif x.dtype.kind in "iub" and np.dtype(x_dtype).kind == "f":
        raise TypeError(
            f"the data came from tf.data datasets, so tflearner does not know how their inputs "
            f"were scaled; pass inputs as the model takes them ({x_dtype}), not raw "
            f"{x.dtype.name} values.")
    return x.astype(x_dtype, copy=False)


def items_dataset(items: Any, prep: Any, input_shape: tuple, x_dtype: str, batch_size: int,
                  labels: Any = None) -> tf.data.Dataset:
    """Batches of model inputs (``(x, y)`` when ``labels`` are given) from raw ``items``: a
    stack (array) of raw examples, or a sequence of image paths / PIL images / single examples.
    Image files of image data go through the pipeline's own parallel decoding."""
    if isinstance(items, (str, os.PathLike)) or is_pil_image(items):
        items = [items]
    if isinstance(items, np.ndarray):
        n = len(items)
    elif isinstance(items, Sequence) and not isinstance(items, (bytes, bytearray)):
        n = len(items)
    else:
        raise TypeError(f"items must be an array of examples or a list of items (file paths, "
                        f"PIL images, arrays), got {type(items).__name__}; pass e.g. "
                        "np.stack(examples) or ['a.png', 'b.png'].")
    if n == 0:
        raise ValueError("items is empty; pass at least one item.")
    y = None
    if labels is not None:
        y = np.asarray(labels)
        if len(y) != n:
            raise ValueError(f"labels has {len(y)} entries but items has {n}; pass one label "
                             "per item (labels[i] for items[i]).")
    if (isinstance(prep, ImagePreprocessing) and not isinstance(items, np.ndarray)
            and all(is_path(i) for i in items)):
        for i in items:
            if not Path(i).is_file():
                raise FileNotFoundError(f"items contains {str(i)!r}, which does not exist or is "
                                        "not a file.")
        ds = image_pipeline([str(i) for i in items], np.zeros(n, np.int64) if y is None else y,
                            batch_size, prep)
        return ds.map(lambda xb, yb: xb) if y is None else ds
    if isinstance(items, np.ndarray):
        x = batch_inputs(items, prep, input_shape, x_dtype)
    else:
        x = np.stack([item_input(i, prep, input_shape, x_dtype) for i in items])
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
