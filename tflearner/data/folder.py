"""Image files in: ImageNet-style folders and CSV label files, decoded by TensorFlow's own ops.

:func:`folder_parts` and :func:`csv_parts` return the keyword arguments of a ``DataBundle``
(``DataBundle.from_folder`` / ``from_csv`` call them); this module never imports the bundle.

The pipelines keep the array pipeline's guarantees. The train/valid split is
:func:`~tflearner.data.split.split_indices` over the sorted file list, fixed before any
shuffling. The training stream is ``stateless_shuffle(range(n), (seed, epoch)) -> read + decode
+ resize + scale + augment (parallel, in order) -> batch -> prefetch``, where ``epoch`` is a
variable counter incremented when an epoch's iteration starts (``DataBundle.rng_state``), and
the augmentation is keyed by ``(seed, epoch, file index)``: the batches of every epoch,
augmented pixels included, are a pure function of that one variable.

Decoding is ``tf.io.decode_image(channels=..., expand_animations=False)`` then
``tf.image.resize`` to ``img_size`` (float32), as ``keras.utils.image_dataset_from_directory``
does, then ``* 1/255``: the model sees float32 pixels in ``[0, 1]``. Formats: jpeg, png, bmp,
gif (first frame), chosen by the file's content; other files are ignored, like Keras.

Bad files: with ``verify=True`` (the default) every image is decoded once, up front and in
parallel, before any training. ``on_bad_image="raise"`` (default) then raises
:class:`BadImageError` naming each unreadable or corrupt file; ``"skip"`` leaves them out with
one warning that gives their count and names. No label is ever shifted: a file is dropped with
its own label or not at all. ``verify=False`` skips the check (a bad file then stops the epoch
with TensorFlow's decode error).
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from ..core.checks import check_bool, check_choice, check_int, check_type, fail
from .augment import as_augment, example_seed
from .split import epoch_order, finish, integers_as, map_parallelism, split_indices

__all__ = ["IMAGE_EXTENSIONS", "BadImageError", "ImagePreprocessing", "folder_parts",
           "csv_parts", "find_bad_images", "scan_class_folders", "write_image_folder"]

#: File name endings read as images (those of ``keras.utils.image_dataset_from_directory``).
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                  "mitchellcubic")


class BadImageError(ValueError):
    """Image files that cannot be read or decoded; ``.files`` lists them."""

    def __init__(self, message: str, files: Sequence[str]) -> None:
        super().__init__(message)
        self.files = list(files)


# ---- decoding: one definition shared by the pipelines and ImagePreprocessing ----------------
#: The leading bytes of the formats whose TensorFlow decoder cannot give ``channels`` directly:
#: BMP and GIF have no grey output, JPEG and GIF no alpha channel.
_NO_NATIVE = {1: (b"BM", b"GIF8"), 4: (b"\xff\xd8\xff", b"GIF8")}


def _decode(path: tf.Tensor, channels: int) -> tf.Tensor:
    img = _decode_bytes(tf.io.read_file(path), channels)
    img.set_shape((None, None, channels))
    return img


def _decode_bytes(data: tf.Tensor, channels: int) -> tf.Tensor:
    """``tf.io.decode_image(data, channels)``; where the format's decoder has no such output
    (grey BMP / GIF, RGBA JPEG / GIF) the RGB decoding converted: ``rgb_to_grayscale``, or an
    opaque alpha channel added."""
    def native():
        return tf.io.decode_image(data, channels=channels, expand_animations=False)

    if channels not in _NO_NATIVE:
        return native()

    def converted():
        rgb = tf.io.decode_image(data, channels=3, expand_animations=False)
        if channels == 1:
            return tf.image.rgb_to_grayscale(rgb)
        return tf.concat([rgb, tf.fill(tf.concat([tf.shape(rgb)[:2], [1]], 0),
                                       tf.constant(255, rgb.dtype))], axis=-1)

    magic = _NO_NATIVE[channels]
    other = tf.reduce_any([tf.strings.substr(data, 0, len(m)) == m for m in magic])
    return tf.cond(other, converted, native)


def _resize_scale(img: tf.Tensor, img_size: tuple[int, int], scale: float,
                  interpolation: str) -> tf.Tensor:
    x = tf.image.resize(img, img_size, method=interpolation)  # float32, like Keras
    x.set_shape((img_size[0], img_size[1], img.shape[-1]))
    return tf.cast(x, tf.float32) * tf.constant(scale, tf.float32)


@dataclass(frozen=True)
class ImagePreprocessing:
    """What the image pipelines do to a decoded image before the model sees it:
    ``resize(img, img_size, interpolation) -> float32 * scale`` (``scale`` 1/255: pixels in
    ``[0, 1]``), ``channels`` colour channels (1 grey, 3 RGB, 4 RGBA) after decoding. Recorded
    as ``DataBundle.preprocess`` by ``from_folder`` / ``from_csv`` so raw images can be
    predicted later: ``prep(uint8_pixels)`` for arrays, ``prep.load(path)`` for files (the
    pipeline's own ops, so the results match it bit for bit)."""

    img_size: tuple[int, int]
    channels: int = 3
    scale: float = 1.0 / 255.0
    interpolation: str = "bilinear"

    def __call__(self, x: Any) -> np.ndarray:
        """Raw integer pixels, one image ``(h, w, channels)`` or a stack ``(n, h, w, channels)``
        of any size, as ``(n, *img_size, channels)`` float32 model inputs."""
        x = np.asarray(x)
        if x.dtype.kind not in "iu":
            raise TypeError(
                f"x must be raw integer pixels (e.g. uint8, as decoded from the image file; "
                f"they are resized and scaled by {self.scale:g} first), got dtype "
                f"{x.dtype.name}; pass the raw pixels, a file path to load(), or a "
                "tf.data.Dataset of already-preprocessed batches.")
        x = integers_as(x, np.dtype(np.uint8), f"x (pixels as decoded from an image file, "
                        f"scaled by {self.scale:g})")
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4 or x.shape[-1] != self.channels:
            raise ValueError(f"x must have shape (h, w, {self.channels}) or (n, h, w, "
                             f"{self.channels}), got shape {x.shape}; the data was built with "
                             f"channels={self.channels}.")
        return np.stack([self._prep(tf.constant(img)).numpy() for img in x])

    def load(self, path: str | os.PathLike) -> np.ndarray:
        """One image file decoded and preprocessed, ``(*img_size, channels)`` float32."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"path must be an image file, got {str(path)!r}, which does "
                                    "not exist or is not a file.")
        try:
            img = _decode(tf.constant(str(path)), self.channels)
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as exc:
            raise BadImageError(f"{str(path)!r} is not a readable jpeg/png/bmp/gif image: "
                                f"{exc.message.splitlines()[0]}", [str(path)]) from None
        return self._prep(img).numpy()

    def _prep(self, img: tf.Tensor) -> tf.Tensor:
        return _resize_scale(img, self.img_size, self.scale, self.interpolation)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "image", "img_size": list(self.img_size), "channels": self.channels,
                "scale": self.scale, "interpolation": self.interpolation}


# ---- finding files --------------------------------------------------------------------------
def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _images_under(folder: Path, seen_dirs: set[str], revisited: list[str]) -> list[str]:
    """The images under ``folder``, sorted, following symlinks; a folder whose real path is in
    ``seen_dirs`` already (a symlink loop, or a second link to one folder) is not entered again
    (its path goes to ``revisited``)."""
    out = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen_dirs:
            revisited.append(root)
            dirs[:] = []
            continue
        seen_dirs.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(os.path.join(root, f) for f in sorted(files) if _is_image(f))
    return out


def _unique_files(files: list[str], labels: list[int], classes: Sequence[str],
                  where: str) -> tuple[list[str], list[int]]:
    """Each real file once: a file reached through two paths with one label keeps its first
    path; with two different labels it is an error (it would train as both classes)."""
    first: dict[str, int] = {}
    keep = []
    for k, (f, label) in enumerate(zip(files, labels, strict=True)):
        real = os.path.realpath(f)
        if real not in first:
            first[real] = k
            keep.append(k)
        elif labels[first[real]] != label:
            raise ValueError(f"{where}: the file {real!r} is in two classes, "
                             f"{classes[labels[first[real]]]!r} ({files[first[real]]!r}) and "
                             f"{classes[label]!r} ({f!r}); each image needs one label: remove "
                             "one of the links or copies.")
    return [files[k] for k in keep], [labels[k] for k in keep]


def _check_dir(name: str, path: Any) -> Path:
    check_type(name, path, (str, os.PathLike), "a folder path (str or pathlib.Path)")
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{name} must be an existing folder, got {str(p)!r}, which does "
                                "not exist; check the path.")
    if not p.is_dir():
        raise NotADirectoryError(f"{name} must be a folder, got {str(p)!r}, which is a file.")
    return p


def scan_class_folders(root: Path, classes: Sequence[str] | None = None
                       ) -> tuple[list[str], list[str], np.ndarray]:
    """``(classes, files, labels)`` for one sub-folder per class under ``root`` (sorted names;
    images found recursively inside each). ``classes`` given: those names, in that order, and a
    sub-folder not among them is an error (it would otherwise get a wrong label)."""
    subdirs = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not subdirs:
        loose = [f.name for f in root.iterdir() if f.is_file() and _is_image(f.name)]
        hint = (f"; it holds {len(loose)} images directly, but each class needs its own "
                "sub-folder (root/cat/1.jpg, root/dog/2.jpg)" if loose else "")
        raise ValueError(f"path must hold one sub-folder per class, got {str(root)!r}, which "
                         f"has no sub-folders{hint}.")
    if classes is None:
        classes = subdirs
    else:
        extra = sorted(set(subdirs) - set(classes))
        if extra:
            raise ValueError(f"{str(root)!r} has class folders {extra} that the training folder "
                             f"does not have (classes: {list(classes)}); add them to the "
                             "training folder or remove them.")
    files, labels, seen, revisited = [], [], set(), []
    for i, name in enumerate(classes):
        found = _images_under(root / name, seen, revisited) if (root / name).is_dir() else []
        files.extend(found)
        labels.extend([i] * len(found))
    if revisited:
        warnings.warn(f"{str(root)!r} reaches {len(revisited)} folder(s) a second time through "
                      f"symlinks (e.g. {revisited[0]!r}: a loop, or two links to one folder); "
                      "each image there is listed once.", stacklevel=4)
    files, labels = _unique_files(files, labels, classes, repr(str(root)))
    if not files:
        raise ValueError(f"path must hold images ({', '.join(IMAGE_EXTENSIONS)}) in its class "
                         f"folders, got {str(root)!r}, whose sub-folders {subdirs[:10]} hold "
                         "none.")
    return list(classes), files, np.asarray(labels, np.int64)


def find_bad_images(files: Sequence[str], channels: int = 3) -> list[str]:
    """The files among ``files`` that TensorFlow cannot read or decode (each decoded once, in
    parallel, by the pipelines' own decoder)."""
    if not len(files):
        return []
    paths = tf.constant(list(files))

    def probe(i):
        img = _decode(paths[i], channels)
        tf.debugging.assert_positive(tf.size(img), "empty image")
        return i

    ds = tf.data.Dataset.range(len(files)).map(probe, num_parallel_calls=tf.data.AUTOTUNE)
    # the readable indices in a few large batches: Python sees 4,096 files per step, not one
    ok = {int(i) for b in ds.ignore_errors().batch(4096).as_numpy_iterator() for i in b}
    return [f for i, f in enumerate(files) if i not in ok]


def _drop_bad(files: list[str], labels: np.ndarray, on_bad_image: str, channels: int,
              what: str) -> tuple[list[str], np.ndarray, list[str]]:
    bad = find_bad_images(files, channels)
    if not bad:
        return files, labels, []
    shown = ", ".join(repr(b) for b in bad[:10]) + (f" and {len(bad) - 10} more"
                                                      if len(bad) > 10 else "")
    if on_bad_image == "raise":
        raise BadImageError(f"{len(bad)} of {len(files)} {what} image files cannot be read or "
                            f"decoded as jpeg/png/bmp/gif: {shown}; remove or replace them, or "
                            "pass on_bad_image='skip' to leave them out.", bad)
    warnings.warn(f"skipped {len(bad)} of {len(files)} {what} image files that cannot be read "
                  f"or decoded: {shown}.", stacklevel=4)
    bad_set = set(bad)
    keep = np.asarray([f not in bad_set for f in files])
    return [f for f, k in zip(files, keep, strict=True) if k], labels[keep], bad


# ---- pipelines --------------------------------------------------------------------------------
def image_pipeline(files: Sequence[str], labels: np.ndarray, batch_size: int,
                   prep: ImagePreprocessing, augment: Any = None,
                   shuffle_seed: int | None = None,
                   epoch_counter: tf.Variable | None = None) -> tf.data.Dataset:
    """``indices -> read + decode + resize + scale [+ augment] -> batch [+ augment] ->
    prefetch``; shuffled (and augmented: per image, or per batch for a Keras layer) by
    ``stateless_shuffle(range(n), (shuffle_seed, epoch))`` when ``epoch_counter`` is given,
    exactly like the array pipeline."""
    n = len(files)
    paths, ys = tf.constant(list(files)), tf.constant(labels)
    augment = as_augment(augment)
    if augment is not None and epoch_counter is None:
        raise ValueError("augment needs an epoch_counter (augmentation is for training only).")
    if epoch_counter is None:
        idx = tf.data.Dataset.range(n).map(lambda i: (i, tf.constant(0, tf.int64)))
    else:
        seed = tf.constant(shuffle_seed, tf.int64)  # also keys the augmentation
        idx = epoch_order(n, shuffle_seed, epoch_counter, with_epoch=True)
    by_batch = augment is not None and augment.per_batch

    def load(i, epoch):
        x = prep._prep(_decode(paths[i], prep.channels))
        if by_batch:
            return x, ys[i], i, epoch
        if augment is not None:
            x = tf.ensure_shape(augment(x, example_seed(seed, epoch, i)), x.shape)
        return x, ys[i]

    def per_batch(x, y, i, epoch):  # one seed per batch: its epoch and first file index
        return tf.ensure_shape(augment(x, example_seed(seed, epoch[0], i[0])), x.shape), y

    ds = idx.map(load, num_parallel_calls=map_parallelism(epoch_counter is not None))
    ds = ds.batch(batch_size)
    if by_batch:  # serial: the layer's generators are set before each batch
        ds = ds.map(per_batch)
    if epoch_counter is not None:
        ds = ds.apply(tf.data.experimental.assert_cardinality(-(-n // batch_size)))
    return finish(ds)


# ---- DataBundle keyword arguments ---------------------------------------------------------------
def _img_size(img_size: Any) -> tuple[int, int]:
    fix = "the (height, width) images are resized to, e.g. img_size=(224, 224) or 224."
    if isinstance(img_size, (int, np.integer)) and not isinstance(img_size, bool):
        img_size = (img_size, img_size)
    if not (isinstance(img_size, (tuple, list)) and len(img_size) == 2):
        raise fail("img_size", "an int or a pair (height, width) of ints", img_size, fix,
                   error=TypeError, with_type=True)
    return (check_int("img_size[0]", img_size[0], 1, fix=fix),
            check_int("img_size[1]", img_size[1], 1, fix=fix))


def _common_args(img_size, batch_size, seed, augment, channels, eval_batch_size, interpolation,
                 verify, on_bad_image) -> dict[str, Any]:
    bs = check_int("batch_size", batch_size, 1, fix="the examples per batch, e.g. batch_size=64.")
    ebs = bs if eval_batch_size is None else check_int(
        "eval_batch_size", eval_batch_size, 1, fix="the examples per evaluation batch.")
    check_int("seed", seed, 0, allow_none=True, fix="e.g. seed=42, or None for a fresh one.")
    return {"img_size": _img_size(img_size), "batch_size": bs, "eval_batch_size": ebs,
            "seed": seed, "augment": augment, "augmentation": as_augment(augment),
            "channels": check_choice("channels", channels, (1, 3, 4),
                                     fix="1 (grey), 3 (RGB) or 4 (RGBA)."),
            "interpolation": check_choice("interpolation", interpolation, INTERPOLATIONS),
            "verify": check_bool("verify", verify, "verify=False skips the up-front check."),
            "on_bad_image": check_choice("on_bad_image", on_bad_image, ("raise", "skip"))}


def _check_disjoint(train: list[str], valid: list[str], source: str) -> None:
    """No file (by real path) in both splits."""
    both = sorted({os.path.realpath(f) for f in train} & {os.path.realpath(f) for f in valid})
    if both:
        raise ValueError(f"{len(both)} files of {source!r} are in both the training and the "
                         f"validation split (one file reached through two paths, e.g. "
                         f"{both[0]!r}); validation would score images the model trained on. "
                         "Remove the duplicates or links.")


def _parts(train: tuple[list[str], np.ndarray], valid: tuple[list[str], np.ndarray],
           classes: list[str], args: dict[str, Any], source: str, layout: str,
           task: str = "sparse_categorical") -> dict[str, Any]:
    """Verify the files, build the pipelines and return ``DataBundle(**parts)`` arguments
    (``task="multi_label"``: the labels are 0/1 rows, one column per class)."""
    if len(classes) < 2 and task != "multi_label":
        kind = "label" if layout == "csv" else "class folder"
        fix = ("two or more labels in the CSV" if layout == "csv" else
               "one sub-folder per class (root/cat/1.jpg, root/dog/2.jpg)")
        raise ValueError(f"{source!r} has {len(classes)} {kind}{'' if len(classes) == 1 else 's'}"
                         f" ({', '.join(classes)}); a classifier needs at least 2 classes: "
                         f"{fix}.")
    _check_disjoint(train[0], valid[0], source)
    skipped: list[str] = []
    if args["verify"]:
        (tf_, tl), (vf, vl) = train, valid
        tf_, tl, bad_t = _drop_bad(tf_, tl, args["on_bad_image"], args["channels"], "training")
        vf, vl, bad_v = (_drop_bad(vf, vl, args["on_bad_image"], args["channels"], "validation")
                         if len(vf) else (vf, vl, []))
        train, valid, skipped = (tf_, tl), (vf, vl), bad_t + bad_v
    if not len(train[0]):
        raise ValueError(f"the training split of {source!r} is empty; add images or lower "
                         "valid_pct.")
    seed = args["seed"]
    prep = ImagePreprocessing(args["img_size"], args["channels"],
                              interpolation=args["interpolation"])
    shuffle_seed = seed if seed is not None else int(np.random.default_rng().integers(2**62))
    counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="tflearner_epoch")
    train_ds = image_pipeline(*train, args["batch_size"], prep, args["augmentation"],
                              shuffle_seed, counter)
    valid_ds = (image_pipeline(*valid, args["eval_batch_size"], prep) if len(valid[0])
                else None)
    for i, name in enumerate(classes):
        if not np.any(train[1][:, i] if task == "multi_label" else train[1] == i):
            warnings.warn(f"class {name!r} has no training images.", stacklevel=4)
    return {"train": train_ds, "valid": valid_ds, "task": task,
            "classes": tuple(classes), "input_shape": (*args["img_size"], args["channels"]),
            "batch_size": args["batch_size"], "rng_state": [counter], "preprocess": prep,
            "meta": {"n_train": len(train[0]), "n_valid": len(valid[0]), "seed": seed,
                     "source": source, "layout": layout, "skipped": skipped,
                     "files": {"train": list(train[0]), "valid": list(valid[0])},
                     "augment": args["augment"]}}


def _split(files: list[str], labels: np.ndarray, valid_pct: float, seed: int | None):
    tr, va = split_indices(len(files), valid_pct, seed)
    return ([files[i] for i in tr], labels[tr]), ([files[i] for i in va], labels[va])


def folder_parts(path: Any, valid_pct: float = 0.2, img_size: Any = (224, 224),
                 batch_size: int = 64, seed: int | None = 42, augment: Callable | None = None,
                 *, train: str = "train", valid: str = "valid", channels: int = 3,
                 eval_batch_size: int | None = None, interpolation: str = "bilinear",
                 verify: bool = True, on_bad_image: str = "raise") -> dict[str, Any]:
    """Arguments of ``DataBundle.from_folder`` (documented there) as ``DataBundle(**parts)``."""
    args = _common_args(img_size, batch_size, seed, augment, channels, eval_batch_size,
                        interpolation, verify, on_bad_image)
    root = _check_dir("path", path)
    if (root / train).is_dir() and (root / valid).is_dir():
        classes, tf_, tl = scan_class_folders(root / train)
        _, vf, vl = scan_class_folders(root / valid, classes)
        return _parts((tf_, tl), (vf, vl), classes, args, str(root), f"{train}/ + {valid}/")
    base = root / train if (root / train).is_dir() else root
    classes, files, labels = scan_class_folders(base)
    tr, va = _split(files, labels, valid_pct, seed)
    return _parts(tr, va, classes, args, str(root), f"split {valid_pct:g}")


def _column(name: str, col: Any, header: list[str] | None) -> int:
    if isinstance(col, str):
        if header is None:
            raise fail(name, "a column index when header=False", col, "e.g. 0.", error=TypeError)
        if col not in header:
            raise fail(name, f"a column of the CSV header {header}", col, "check the name.")
        return header.index(col)
    return check_int(name, col, 0, None if header is None else len(header) - 1,
                     fix="a column index or name.")


def _sort_labels(labels: set[str]) -> list[str]:
    try:
        return sorted(labels, key=lambda s: (float(s), s))
    except ValueError:
        return sorted(labels)


_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


def _read_rows(csv_path: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    """The CSV's non-blank rows with their line numbers (1-based)."""
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        return [(n, r) for n, r in enumerate(csv.reader(fh, delimiter=delimiter), start=1)
                if any(c.strip() for c in r)]


def _csv_files(rows: list[tuple[int, list[str]]], cols: tuple[int, int, int | None],
               root: Path, suffix: str, where: str) -> list[str]:
    """The files the rows name (each checked to exist); every row needs its columns."""
    need = max(c for c in cols if c is not None)
    for n, r in rows:
        if len(r) <= need:
            raise ValueError(f"line {n} of {where} has {len(r)} columns, but column {need} is "
                             "needed; fix the row.")
    files = [str(root / (r[cols[0]].strip() + suffix)) for _, r in rows]
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:10])
        raise FileNotFoundError(f"{len(missing)} of {len(files)} files named in {where} do not "
                                f"exist under {str(root)!r}: {shown}; check folder, fn_col and "
                                "suffix.")
    return files


def _check_header(head: list[str] | None, fi: int, root: Path, suffix: str, where: str) -> None:
    """A header whose file-name cell names an existing file is a data row: header=False."""
    if head is not None and fi < len(head) and head[fi] and (
            os.path.isfile(root / (head[fi] + suffix))):
        raise ValueError(f"header must be False for {where}, whose first row ({', '.join(head)})"
                         f" names the image {head[fi] + suffix!r}: it is data, not a header, and "
                         "header=True would drop it; pass header=False.")


def _dedupe_rows(rows: list, files: list[str], names: list, where: str) -> list[int]:
    """The row positions to keep: each real file once. A file listed twice with one label (or
    label set) keeps its first row (with a warning); with two different ones it is an error."""
    first: dict[str, int] = {}
    keep, repeated = [], []
    for k, f in enumerate(files):
        real = os.path.realpath(f)
        if real not in first:
            first[real] = k
            keep.append(k)
            continue
        j = first[real]
        if names[j] != names[k]:
            raise ValueError(f"{where} gives the file {files[k]!r} two labels, {names[j]!r} "
                             f"(line {rows[j][0]}) and {names[k]!r} (line {rows[k][0]}); each "
                             "image is listed once (for several labels per image, put them "
                             "in one cell and pass label_delim=' ').")
        repeated.append(rows[k][0])
    if repeated:
        warnings.warn(f"{where} lists {len(repeated)} file(s) again with the same label (lines "
                      f"{repeated[:10]}); each file is used once, from its first row.",
                      stacklevel=4)
    return keep


def _valid_flags(rows: list, vi: int, where: str) -> np.ndarray:
    flags = []
    for n, r in rows:
        v = r[vi].strip().lower()
        if v not in _TRUE | _FALSE:
            raise ValueError(f"valid_col must hold true/false or 1/0, got {r[vi]!r} on line {n} "
                             f"of {where}.")
        flags.append(v in _TRUE)
    return np.asarray(flags, bool)


def csv_parts(csv_file: Any, folder: Any, fn_col: int | str = 0, label_col: int | str = 1, *,
              valid_col: int | str | None = None, valid_pct: float = 0.2,
              img_size: Any = (224, 224), batch_size: int = 64, seed: int | None = 42,
              augment: Callable | None = None, header: bool = True, delimiter: str = ",",
              suffix: str = "", channels: int = 3, eval_batch_size: int | None = None,
              interpolation: str = "bilinear", verify: bool = True,
              on_bad_image: str = "raise", label_delim: str | None = None) -> dict[str, Any]:
    """Arguments of ``DataBundle.from_csv`` (documented there) as ``DataBundle(**parts)``."""
    args = _common_args(img_size, batch_size, seed, augment, channels, eval_batch_size,
                        interpolation, verify, on_bad_image)
    check_type("csv", csv_file, (str, os.PathLike), "a CSV file path (str or pathlib.Path)")
    csv_path = Path(csv_file)
    if not csv_path.is_file():
        raise FileNotFoundError(f"csv must be an existing CSV file, got {str(csv_path)!r}; "
                                "check the path.")
    root, where = _check_dir("folder", folder), repr(str(csv_path))
    check_bool("header", header)
    rows = _read_rows(csv_path, delimiter)
    head = [c.strip() for c in rows.pop(0)[1]] if header and rows else None
    if not rows:
        raise ValueError(f"csv must have at least one data row, got {where}, which has none.")
    fi, li = _column("fn_col", fn_col, head), _column("label_col", label_col, head)
    vi = None if valid_col is None else _column("valid_col", valid_col, head)
    _check_header(head, fi, root, suffix, where)
    files = _csv_files(rows, (fi, li, vi), root, suffix, where)
    names = _label_cells(rows, li, label_delim, where)
    keep = _dedupe_rows(rows, files, names, where)
    rows, files, names = [rows[k] for k in keep], [files[k] for k in keep], [names[k] for k in keep]
    classes, labels = _encode_labels(names, label_delim is not None, where)
    if vi is None:
        tr, va = _split(files, labels, valid_pct, seed)
    else:
        is_valid = _valid_flags(rows, vi, where)
        tr = ([f for f, v in zip(files, is_valid, strict=True) if not v], labels[~is_valid])
        va = ([f for f, v in zip(files, is_valid, strict=True) if v], labels[is_valid])
    return _parts(tr, va, classes, args, str(csv_path), "csv",
                  "multi_label" if label_delim is not None else "sparse_categorical")


def _label_cells(rows: list, li: int, label_delim: str | None, where: str) -> list:
    """Each row's label (a string), or with ``label_delim`` its labels (a sorted tuple; an
    empty cell is an image with none)."""
    if label_delim is None:
        names = [r[li].strip() for _, r in rows]
        empty = [n for (n, _), name in zip(rows, names, strict=True) if not name]
        if empty:
            raise ValueError(f"label_col must hold a label on every row, got an empty one on "
                             f"line(s) {empty[:10]} of {where}; fill them in or remove those "
                             "rows.")
        return names
    check_type("label_delim", label_delim, str, "a string such as ' '")
    if not label_delim:
        raise ValueError("label_delim must be a non-empty string, e.g. label_delim=' '.")
    return [tuple(sorted({t.strip() for t in r[li].split(label_delim) if t.strip()}))
            for _, r in rows]


def _encode_labels(names: list, multi: bool, where: str) -> tuple[list[str], np.ndarray]:
    """``(classes, labels)``: the sorted class names and int64 class ids, or (``multi``)
    float32 0/1 rows with a column per class."""
    if not multi:
        classes = _sort_labels(set(names))
        index = {c: i for i, c in enumerate(classes)}
        return classes, np.asarray([index[c] for c in names], np.int64)
    classes = _sort_labels({c for row in names for c in row})
    if not classes:
        raise ValueError(f"label_col of {where} holds no label at all with label_delim; check "
                         "label_col and label_delim.")
    index = {c: i for i, c in enumerate(classes)}
    labels = np.zeros((len(names), len(classes)), np.float32)
    for k, row in enumerate(names):
        labels[k, [index[c] for c in row]] = 1.0
    return classes, labels


def write_image_folder(root: str | os.PathLike, x: np.ndarray, y: np.ndarray,
                       classes: Sequence[str]) -> Path:
    """Write uint8 images ``x`` (``(n, h, w, c)``) with class indices ``y`` as the layout
    ``from_folder`` reads: ``root/<classes[y[i]]>/<i:05d>.png`` for odd ``i``, ``.jpg`` for even
    ``i`` (TensorFlow's encoders; PNG is lossless). Returns ``root``."""
    root = Path(root)
    for i, (img, label) in enumerate(zip(x, np.ravel(y), strict=True)):
        folder = root / classes[int(label)]
        folder.mkdir(parents=True, exist_ok=True)
        fmt = "png" if i % 2 else "jpg"
        encode = tf.io.encode_png if fmt == "png" else tf.io.encode_jpeg
        tf.io.write_file(str(folder / f"{i:05d}.{fmt}"), encode(img))
    return root
