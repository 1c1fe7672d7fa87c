"""Data for a Learner: train / valid / test ``tf.data`` pipelines plus what the Learner must know.

A :class:`DataBundle` holds batched datasets of ``(x, y)`` and the facts a Learner needs to pick
a default loss and metrics (task, number of classes, input shape, batch size). Build one from
numpy arrays (:meth:`DataBundle.from_arrays`), from existing batched datasets
(:meth:`DataBundle.from_datasets`) or for CIFAR-10 with :func:`cifar10_data`.

The array pipeline shuffles *indices*, not images: ``stateless_shuffle(range(n), (seed, epoch))
→ batch → gather + scale → prefetch``, with ``epoch`` a variable counter (``rng_state``), so the
order is reproducible and can be snapshotted. The train/valid split is a seeded permutation fixed
once, before any shuffling, so no validation image can ever reach the training stream.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..core.checks import check_choice, check_int, fail
from . import folder as _folder
from .cifar import CIFAR10_CLASSES, load_cifar10
from .items import items_dataset
from .placement import PlacedArrays, resolve_device
from .split import epoch_order, finish, integers_as, map_parallelism, split_indices
from .tasks import TASKS, check_task_labels, default_loss, default_metrics, metric_from_name

__all__ = ["DataBundle", "Preprocessing", "cifar10_data", "split_indices", "TASKS",
           "preprocessing_from_dict"]


def first_leaf(structure: Any) -> Any:
    """The first tensor / spec / array of a (possibly nested) structure."""
    return tf.nest.flatten(structure)[0]


def _check_batch_size(name: str, batch_size: Any) -> int:
    return check_int(name, batch_size, 1, fix=f"the examples per batch, e.g. {name}=64.")


def _batch_maker(xt: Any, yt: Any, wt: tf.Tensor | None, scale: float | None
                 ) -> Callable[[tf.Tensor], tuple]:
    """``make(i)``: the batch of indices ``i`` gathered from the tensors and scaled: one array
    by ``scale`` if given; uint8 entries by ``scale`` or 1/255 (the only ones scaled when ``x``
    has several)."""
    nested = tf.nest.is_nested(xt)

    def prep(a):
        if nested and a.dtype != tf.uint8:
            return a
        s = scale if scale is not None else (1.0 / 255.0 if a.dtype == tf.uint8 else None)
        return a if s is None else tf.cast(a, tf.float32) * tf.constant(s, tf.float32)

    def make(i):
        xb = tf.nest.map_structure(lambda a: prep(tf.gather(a, i)), xt)
        yb = tf.nest.map_structure(lambda a: tf.gather(a, i), yt)
        if wt is not None:
            return xb, yb, tf.gather(wt, i)
        return xb, yb

    return make


def _index_batches(n: int, batch_size: int, shuffle_seed: int | None,
                   epoch_counter: tf.Variable | None) -> tf.data.Dataset:
    """Batches of example indices: ``range(n)``, or the epoch's shuffled order."""
    if epoch_counter is None:
        idx = tf.data.Dataset.range(n)
    else:
        idx = epoch_order(n, shuffle_seed, epoch_counter)
    ds = idx.batch(batch_size)
    if epoch_counter is not None:
        ds = ds.apply(tf.data.experimental.assert_cardinality(-(-n // batch_size)))
    return ds


def _array_pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, scale: float | None,
                    shuffle_seed: int | None = None,
                    epoch_counter: tf.Variable | None = None,
                    w: np.ndarray | None = None) -> tf.data.Dataset:
    """``indices → batch → gather+scale → prefetch``; shuffled when ``epoch_counter`` is given.

    The shuffle is stateless: epoch ``e`` (the counter's value after it is incremented as an
    iteration starts) uses ``stateless_shuffle(range(n), seed=(shuffle_seed, e))``. The data
    order is therefore a pure function of one variable, which snapshots (lr_find) and
    checkpoints can save and restore. Shuffling indices rather than images keeps it cheap.
    """
    n = len(first_leaf(x))
    xt, yt = tf.nest.map_structure(tf.constant, x), tf.nest.map_structure(tf.constant, y)
    wt = None if w is None else tf.constant(w, tf.float32)
    ds = _index_batches(n, batch_size, shuffle_seed, epoch_counter)
    return finish(ds.map(_batch_maker(xt, yt, wt, scale),
                         num_parallel_calls=map_parallelism(epoch_counter is not None)))


def _placed(device: Any, train: tf.data.Dataset, x: Any, y: Any, w: np.ndarray | None,
            batch_size: int, scale: float | None, shuffle_seed: int,
            counter: tf.Variable) -> PlacedArrays | None:
    """The training arrays on ``device`` (None: the host pipeline only); see
    :mod:`tflearner.data.placement`."""
    nbytes = sum(a.nbytes for a in tf.nest.flatten((x, y)) + ([] if w is None else [w]))
    name = resolve_device(device, nbytes)
    if name is None:
        return None
    with tf.device(name):
        xt, yt = tf.nest.map_structure(tf.constant, x), tf.nest.map_structure(tf.constant, y)
        wt = None if w is None else tf.constant(w, tf.float32)
    indices = _index_batches(len(first_leaf(x)), batch_size, shuffle_seed, counter)
    return PlacedArrays(name, finish(indices), train,
                        _batch_maker(xt, yt, wt, scale), nbytes)


def _infer_task(y_spec: Any) -> str:
    if tf.nest.is_nested(y_spec):
        return "multi_output"
    if y_spec.dtype.is_integer:
        return "sparse_categorical"
    if y_spec.shape.rank is not None and y_spec.shape.rank >= 2 and (y_spec.shape[-1] or 0) > 1:
        return "categorical"
    return "regression"


def _cardinality(ds: tf.data.Dataset) -> int | None:
    n = int(ds.cardinality())
    return None if n == int(tf.data.UNKNOWN_CARDINALITY) else n


@dataclass(frozen=True)
class Preprocessing:
    """What the array pipelines do to raw inputs before the model sees them:
    ``x -> float32(x) * scale`` for raw arrays of dtype ``raw_dtype`` (``scale`` None: ``x`` as
    it is). :meth:`DataBundle.from_arrays` records it, so ``Learner.predict`` can apply exactly
    the same to raw arrays later."""

    raw_dtype: str
    scale: float | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``x`` (raw, as passed to ``from_arrays``) preprocessed; refuses another dtype kind."""
        x = np.asarray(x)
        raw = np.dtype(self.raw_dtype)
        what = f"scaled by {self.scale:g}" if self.scale is not None else "cast to float32"
        if x.dtype.kind != raw.kind and not (x.dtype.kind in "iu" and raw.kind in "iu"):
            raise TypeError(
                f"x must be a raw {raw.name} array like the one the data was built from (it is "
                f"{what} first), got dtype {x.dtype.name}; pass the raw array, or a "
                "tf.data.Dataset of already-preprocessed batches.")
        if raw.kind in "iu":
            x = integers_as(x, raw, f"x ({what} like the {raw.name} data it was built from)")
        if self.scale is None:
            return x.astype(raw)
        return x.astype(np.float32) * np.float32(self.scale)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "array", "raw_dtype": self.raw_dtype, "scale": self.scale}


def preprocessing_from_dict(d: dict[str, Any] | None
                            ) -> Preprocessing | _folder.ImagePreprocessing | None:
    """The inverse of ``Preprocessing.as_dict`` / ``ImagePreprocessing.as_dict`` (None: None)."""
    if d is None:
        return None
    kind = d.get("kind")
    if kind == "array":
        return Preprocessing(str(d["raw_dtype"]), None if d["scale"] is None else float(d["scale"]))
    if kind == "image":
        return _folder.ImagePreprocessing((int(d["img_size"][0]), int(d["img_size"][1])),
                                          int(d["channels"]), float(d["scale"]),
                                          str(d["interpolation"]))
    raise ValueError(f"preprocessing kind must be 'array' or 'image', got {kind!r}.")


@dataclass
class DataBundle:
    """Batched ``(x, y)`` datasets and what a Learner needs to know about them.

    Attributes: ``train``, ``valid`` (may be None), ``test`` (may be None) batched
    ``tf.data.Dataset`` s; ``task`` (one of :data:`TASKS`); ``c`` number of classes / outputs
    (None if unknown: the Learner then takes the model's output width); ``classes`` names;
    ``input_shape`` one example's shape; ``batch_size`` (None if unknown); ``rng_state`` the
    variables that determine the data order (the epoch counter of array pipelines; empty for
    datasets passed in, whose shuffle state tflearner cannot see); ``preprocess`` what the
    pipelines do to raw input arrays (None: datasets passed in, taken as the model's inputs);
    ``placed`` the training arrays on a device, gathered inside the Learner's compiled step
    (``from_arrays(device=...)``; None: the step reads ``train``'s batches).
    """

    train: tf.data.Dataset
    valid: tf.data.Dataset | None = None
    test: tf.data.Dataset | None = None
    task: str | None = None
    c: int | None = None
    classes: tuple[str, ...] | None = None
    input_shape: tuple[int | None, ...] | None = None
    batch_size: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    rng_state: list[tf.Variable] = field(default_factory=list)
    preprocess: Preprocessing | _folder.ImagePreprocessing | None = None
    placed: PlacedArrays | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("train", "valid", "test"):
            ds = getattr(self, name)
            if ds is None and name != "train":
                continue
            _check_dataset(name, ds)
        x_spec, y_spec = self.train.element_spec[:2]
        if self.task is None:
            self.task = _infer_task(y_spec)
            self.meta.setdefault("task_inferred", True)  # from the label spec alone
        check_choice("task", self.task, TASKS, fix="or None to infer it from the labels.")
        if self.input_shape is None:
            self.input_shape = tf.nest.map_structure(lambda s: tuple(s.shape[1:]), x_spec)
        if self.classes is not None:
            self.classes = tuple(str(c) for c in self.classes)
            if self.c is None:
                self.c = len(self.classes)
            elif self.c != len(self.classes):
                raise fail("c", f"the number of class names ({len(self.classes)})", self.c,
                           "drop c or make them agree.")
        if self.c is None and self.task in ("categorical", "multi_label"):
            self.c = int(y_spec.shape[-1])
        if self.c is None and self.task == "binary":
            self.c = 2
        if self.batch_size is None and first_leaf(x_spec).shape[0] is not None:
            self.batch_size = int(first_leaf(x_spec).shape[0])

    @property
    def structured(self) -> bool:
        """Whether ``x`` or ``y`` is a tuple / list / dict of tensors (several model inputs or
        outputs)."""
        return any(tf.nest.is_nested(s) for s in self.train.element_spec[:2])

    # ---- defaults the Learner uses -------------------------------------------------------
    def default_loss(self, from_logits: bool) -> keras.losses.Loss:
        """The task's cross-entropy (:func:`~tflearner.data.tasks.default_loss`), MSE for
        regression."""
        return default_loss(self.task, from_logits)

    def default_metrics(self, from_logits: bool = False) -> list[keras.metrics.Metric]:
        """Fresh metric objects: accuracy for classification, MAE for regression (none for
        several outputs: pass them per output)."""
        return default_metrics(self.task, from_logits)

    def metric_from_name(self, name: str, from_logits: bool = False) -> keras.metrics.Metric:
        """Resolve a metric name the way ``model.compile`` does for this task."""
        return metric_from_name(self.task, name, from_logits)

    @property
    def n_train_batches(self) -> int | None:
        return _cardinality(self.train)

    # ---- constructors ---------------------------------------------------------------------
    @classmethod
    def from_arrays(cls, x: np.ndarray, y: np.ndarray, *, valid: tuple | None = None,
                    test: tuple | None = None, valid_pct: float = 0.1, batch_size: int = 64,
                    seed: int | None = 42, scale: float | None = None,
                    classes: tuple[str, ...] | None = None, task: str | None = None,
                    eval_batch_size: int | None = None,
                    sample_weight: np.ndarray | None = None,
                    device: str = "auto") -> DataBundle:
        """Pipelines from in-memory arrays.

        ``device``: where the Learner's training step takes its batches from. ``"host"``: the
        tf.data pipeline gathers each batch from the host arrays. A device name (``"/GPU:0"``):
        the training arrays are placed there once and the compiled step gathers each batch
        itself from tf.data's index batches, in the same order (``data.placed``; see
        :mod:`tflearner.data.placement`). ``"auto"`` (default): the first GPU for up to 4 GiB of
        arrays, else the host; on a CPU-only machine always the host.

        ``sample_weight`` (one float per example of ``x``) makes every split yield
        ``(x, y, w)``: the loss is Keras' weighted mean, ``sum(w * loss) / batch``, in training
        and validation; metrics stay unweighted, as Keras' ``compile(metrics=...)``. A held-out
        split keeps its examples' weights; ``valid=(x, y, w)`` / ``test=(x, y, w)`` pass their
        own.

        ``x`` may be a tuple / list / dict of arrays (a model with several inputs, matched to
        them as ``model.fit`` matches them) and ``y`` a list / dict (several outputs, task
        ``"multi_output"``); every entry has one row per example. Then uint8 entries of ``x`` are
        scaled (``scale``, default ``1/255``), the others left alone, and raw-item
        ``predict`` is not available (pass model-ready inputs to ``get_preds``).

        Labels: integer class ids (``"sparse_categorical"``; 0/1 ids under a one-output model
        are binary), one-hot or 0/1 rows (``"categorical"``; ``"multi_label"`` when some row
        has other than one 1; integer rows become float32), floats (``"regression"``).
        ``task="binary"`` / ``"multi_label"`` say it outright; their labels must be 0/1 (or
        probabilities in [0, 1]).

        ``valid=(x_valid, y_valid)`` uses that split; otherwise ``valid_pct`` of ``x`` is held
        out by :func:`split_indices` (``valid_pct=0`` gives no validation set). ``scale``
        multiplies ``x`` after casting to float32; by default uint8 inputs get ``1/255`` and
        float inputs are left alone. Train is reshuffled every epoch (seeded); valid and test
        keep their order.
        """
        batch_size = _check_batch_size("batch_size", batch_size)
        eval_bs = (batch_size if eval_batch_size is None
                   else _check_batch_size("eval_batch_size", eval_batch_size))
        check_int("seed", seed, 0, allow_none=True, fix="e.g. seed=42, or None for a fresh one.")
        build = _structured_parts if _nested(x) or _nested(y) else _plain_parts
        return cls(**build(x, y, valid, test, valid_pct, seed, scale, classes, task,
                           sample_weight, _Batching(batch_size, eval_bs, device)))

    @classmethod
    def from_datasets(cls, train: tf.data.Dataset, valid: tf.data.Dataset | None = None,
                      test: tf.data.Dataset | None = None, *, task: str | None = None,
                      c: int | None = None, classes: tuple[str, ...] | None = None,
                      batch_size: int | None = None) -> DataBundle:
        """Wrap existing *batched* datasets of ``(x, y)``; nothing is re-batched or shuffled."""
        if batch_size is not None:
            batch_size = _check_batch_size("batch_size", batch_size)
        return cls(train, valid, test, task=task, c=c, classes=classes, batch_size=batch_size)

    @classmethod
    def from_folder(cls, path: str | Path, valid_pct: float = 0.2, img_size: Any = (224, 224),
                    batch_size: int = 64, seed: int | None = 42, augment: Any = None,
                    **kwargs: Any) -> DataBundle:
        """Image classification data from an ImageNet-style folder: ``path/<class>/*.jpg``.

        Class names are the sub-folder names, sorted; images are found recursively inside each
        (jpeg/png/bmp/gif). If ``path`` has both ``train/`` and ``valid/`` sub-trees (names:
        ``train=``, ``valid=``) they are used as given; otherwise ``valid_pct`` of the files
        (of ``path/train/`` if only that exists) is held out by the seeded
        :func:`split_indices`. Images are decoded, resized to ``img_size`` and scaled to
        ``[0, 1]`` float32 by TensorFlow's ops, in parallel and prefetched; ``augment`` applies
        to the training split only: :func:`~tflearner.data.augment.aug_transforms` or any
        seeded ``aug(image, seed)`` per image, a Keras preprocessing layer such as
        ``keras.layers.RandomFlip("horizontal")`` per batch (reseeded per batch: it repeats
        exactly), or a one-argument ``f(image)`` per image (see
        :func:`~tflearner.data.augment.as_augment` for what repeats). A real file reached
        through two paths (symlinks) is listed once; one in two classes, or in both the
        training and the validation split, is refused, and so is a single class.
        Keywords: ``channels=3``, ``eval_batch_size``, ``interpolation="bilinear"``,
        ``verify=True`` and ``on_bad_image="raise"`` (or ``"skip"``): every file is decoded
        once up front and a corrupt one raises ``BadImageError`` naming it. ``preprocess``
        records an :class:`~tflearner.data.folder.ImagePreprocessing` for raw images later.
        """
        return cls(**_folder.folder_parts(path, valid_pct, img_size, batch_size, seed, augment,
                                          **kwargs))

    @classmethod
    def from_csv(cls, csv: str | Path, folder: str | Path, fn_col: int | str = 0,
                 label_col: int | str = 1, **kwargs: Any) -> DataBundle:
        """Image classification data from a CSV of ``file name, label`` rows (paths relative to
        ``folder``; ``suffix=`` is appended to each name). Columns by index or, with the
        default ``header=True``, by name; ``valid_col`` (true/false, 1/0) marks validation rows,
        otherwise ``valid_pct`` is held out. Classes are the sorted labels (numeric labels in
        numeric order). Refused up front: a named file that does not exist, an empty label, a
        file given two labels, and ``header=True`` when the first row names an image (pass
        ``header=False``); a file listed again with the same label is used once, with a
        warning. ``label_delim=" "`` reads the label column as several labels per image
        (``"cat dog"``; an empty cell: none): the data is multi-label (``task="multi_label"``,
        0/1 rows with a column per label, for a model with one sigmoid output per label).
        Other keywords as :meth:`from_folder` (folders are single-label).
        """
        return cls(**_folder.csv_parts(csv, folder, fn_col, label_col, **kwargs))

    def test_dl(self, items: Any, labels: Any = None, batch_size: int | None = None
                ) -> tf.data.Dataset:
        """Batches of model inputs made from raw ``items`` exactly as this data's pipelines make
        them (fastai's name): an array of raw examples, or a list of image file paths, PIL
        images or single raw examples (see :mod:`tflearner.data.items` for the rules). With
        ``labels`` (class indices, or class names when the data has ``classes``) it yields
        ``(x, y)``, ready for ``Learner.validate`` / ``get_preds``; otherwise ``x`` only.
        ``batch_size`` defaults to the data's.
        """
        bs = _check_batch_size("batch_size", batch_size if batch_size is not None
                               else self.batch_size or 64)
        if labels is not None:
            labels = self._label_indices(labels)
        return items_dataset(items, self.preprocess, tuple(self.input_shape),
                             self.train.element_spec[0].dtype.name, bs, labels)

    def _label_indices(self, labels: Any) -> np.ndarray:
        y = np.asarray(labels)
        if y.dtype.kind in "US" and self.classes is not None:
            index = {c: i for i, c in enumerate(self.classes)}
            unknown = sorted({str(v) for v in y.ravel()} - set(index))
            if unknown:
                raise ValueError(f"labels has class names {unknown} that the data does not "
                                 f"have; its classes are {list(self.classes)}.")
            return np.asarray([index[str(v)] for v in y.ravel()], np.int64)
        y_dtype = self.train.element_spec[1].dtype
        if y.dtype.kind not in "iufb":
            raise TypeError(f"labels must be class indices or class names, got dtype "
                            f"{y.dtype.name}.")
        if self.task == "sparse_categorical" and self.c is not None and y.size and (
                y.min() < 0 or y.max() >= self.c):
            bad = y[(y < 0) | (y >= self.c)].ravel()[0]
            raise ValueError(f"labels has the class index {bad}, outside [0, {self.c}) for "
                             f"the data's {self.c} classes.")
        return y.astype(y_dtype.as_numpy_dtype)

    def show_batch(self, n: int = 9, ds: str = "train", **kwargs: Any):
        """The first ``n`` images of a split with their class names in a grid; returns the
        Axes array (see :func:`tflearner.data.show.show_batch`). Leaves the data order as
        it was."""
        from .show import show_batch

        return show_batch(self, n, ds, **kwargs)

    def __repr__(self) -> str:
        parts = [f"task={self.task!r}", f"c={self.c}", f"input_shape={self.input_shape}",
                 f"batch_size={self.batch_size}"]
        for name in ("n_train", "n_valid", "n_test"):
            if name in self.meta:
                parts.append(f"{name}={self.meta[name]}")
        return f"DataBundle({', '.join(parts)})"


@dataclass(frozen=True)
class _Batching:
    """``from_arrays``' batch sizes and the training arrays' device."""

    batch_size: int
    eval_batch_size: int
    device: Any = "auto"


def _array_datasets(train: tuple, valid: tuple, test: tuple | None, scale: float | None,
                    seed: int | None, batching: _Batching) -> dict[str, Any]:
    """The train / valid / test pipelines of ``(x, y, w)`` splits (``w`` may be None; an empty
    valid split gives None) and the training order's counter, as ``DataBundle`` arguments."""
    shuffle_seed = seed if seed is not None else int(np.random.default_rng().integers(2**62))
    counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="tflearner_epoch")
    bs, ebs = batching.batch_size, batching.eval_batch_size
    (x, y, w), (xv, yv, wv) = train, valid
    ds = _array_pipeline(x, y, bs, scale, shuffle_seed, counter, w)
    placed = _placed(batching.device, ds, x, y, w, bs, scale, shuffle_seed, counter)
    n_valid = len(first_leaf(xv))
    return {"train": ds, "rng_state": [counter], "placed": placed, "batch_size": bs,
            "valid": _array_pipeline(xv, yv, ebs, scale, w=wv) if n_valid else None,
            "test": None if test is None else _array_pipeline(test[0], test[1], ebs, scale,
                                                              w=test[2])}


def _multi_hot(y: np.ndarray) -> bool:
    """Labels of shape ``(n, k > 1)`` holding only 0 and 1 (one-hot rows are multi-hot rows
    with one label each)."""
    return (y.ndim == 2 and y.shape[1] > 1 and y.dtype.kind in "biuf"
            and bool(np.isin(y, (0, 1)).all()))


def _as_float(y: Any) -> np.ndarray:
    """0/1 integer or boolean label columns as float32 (a cross-entropy's dtype); floats as
    they are."""
    y = np.asarray(y)
    return y.astype(np.float32) if y.dtype.kind in "biu" else y


def _n_classes(task: str | None, classes: Any, labels: list[np.ndarray]) -> int | None:
    """The class count of sparse labels (the largest id + 1) when no names give it."""
    if task != "sparse_categorical" or classes is not None:
        return None
    return int(max(int(a.max()) for a in labels if len(a))) + 1


def _plain_parts(x: Any, y: Any, valid: Any, test: Any, valid_pct: float, seed: int | None,
                 scale: float | None, classes: Any, task: str | None, sample_weight: Any,
                 batching: _Batching) -> dict[str, Any]:
    """``from_arrays`` for one input array and one label array, as ``DataBundle`` arguments."""
    x, y = _check_arrays("x", "y", x, y)
    w = _check_weights("sample_weight", sample_weight, len(x))
    if scale is None and x.dtype == np.uint8:
        scale = 1.0 / 255.0
    if valid is None:
        tr, va = split_indices(len(x), valid_pct, seed)
        xv, yv, wv = x[va], y[va], None if w is None else w[va]
        x, y, w = x[tr], y[tr], None if w is None else w[tr]
    else:
        xv, yv, wv = _split_triple("valid", valid)
    split_t = None if test is None else _split_triple("test", test)
    if task is None and _multi_hot(y):
        # 0/1 columns: multi-label when some row has other than one label; else one-hot rows
        # (categorical), which the Learner reads as multi-label under a sigmoid head
        task = "multi_label" if np.any(y.sum(axis=1) != 1) else "categorical"
        y, yv = _as_float(y), _as_float(yv)
        if split_t is not None:
            split_t = (split_t[0], _as_float(split_t[1]), split_t[2])
    if task is None and np.issubdtype(y.dtype, np.integer):
        task = "sparse_categorical"
    if task in ("binary", "multi_label"):
        y, yv = check_task_labels(task, y), check_task_labels(task, yv)
        if split_t is not None:
            split_t = (split_t[0], check_task_labels(task, split_t[1]), split_t[2])
    if task == "sparse_categorical" and not np.issubdtype(y.dtype, np.integer):
        y, yv = _class_ids("y", y), _class_ids("valid[1]", yv)
        if split_t is not None:
            split_t = (split_t[0], _class_ids("test[1]", split_t[1]), split_t[2])
    return {**_array_datasets((x, y, w), (xv, yv, wv), split_t, scale, seed, batching),
            "task": task, "c": _n_classes(task, classes, [y, yv]), "classes": classes,
            "input_shape": tuple(x.shape[1:]),
            "meta": {"n_train": len(x), "n_valid": len(xv),
                     "n_test": 0 if split_t is None else len(split_t[0]), "seed": seed},
            "preprocess": Preprocessing(x.dtype.name, scale)}


def _structured_parts(x: Any, y: Any, valid: Any, test: Any, valid_pct: float,
                      seed: int | None, scale: float | None, classes: Any, task: str | None,
                      sample_weight: Any, batching: _Batching) -> dict[str, Any]:
    """``from_arrays`` for several inputs and / or outputs (see its docstring)."""
    x, y = _check_struct("x", x), _check_struct("y", y, labels=True)
    n = _struct_len("x/y", [x, y])
    w = _check_weights("sample_weight", sample_weight, n)
    pick = lambda s, idx: tf.nest.map_structure(lambda a: a[idx], s)  # noqa: E731
    if valid is None:
        tr, va = split_indices(n, valid_pct, seed)
        xv, yv, wv = pick(x, va), pick(y, va), None if w is None else w[va]
        x, y, w = pick(x, tr), pick(y, tr), None if w is None else w[tr]
    else:
        xv, yv, wv = _struct_split("valid", valid)
    split_t = None if test is None else _struct_split("test", test)
    if task is None and not _nested(y) and np.issubdtype(y.dtype, np.integer):
        task = "sparse_categorical"
    n_valid = _struct_len("valid", [xv, yv])
    labels = [y, yv] if task == "sparse_categorical" else []
    return {**_array_datasets((x, y, w), (xv, yv, wv), split_t, scale, seed, batching),
            "task": task, "c": _n_classes(task, classes, labels), "classes": classes,
            "meta": {"n_train": _struct_len("x", [x]), "n_valid": n_valid,
                     "n_test": 0 if split_t is None else _struct_len("test", split_t[:2]),
                     "seed": seed}, "preprocess": None}


def _nested(value: Any) -> bool:
    """Several inputs / outputs: a dict, or a tuple / list of arrays (as ``model.fit`` reads
    them); a list of plain numbers or lists is one array."""
    if isinstance(value, dict):
        return True
    return isinstance(value, (tuple, list)) and len(value) > 0 and all(
        isinstance(v, (np.ndarray, tf.Tensor, dict, tuple)) for v in value)


def _check_struct(name: str, s: Any, labels: bool = False) -> Any:
    """A (nested) structure of numeric arrays with one row per example, checked per entry
    (``labels``: ``s`` holds the targets ``y``)."""
    if not _nested(s):
        return _check_struct(name, (s,), labels)[0]
    if isinstance(s, list):
        s = tuple(s)  # tf.nest: lists and tuples alike; tuples keep tf.data happy
    paths = [("/".join(map(str, p)), a) for p, a in _flat_with_paths(s)]
    out = []
    for path, a in paths:
        a = np.asarray(a)
        _check_numeric(f"{name}[{path}]", a, labels)
        if a.ndim == 0:
            raise ValueError(f"{name}[{path}] must have one row per example, got a scalar.")
        if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            raise ValueError(f"{name}[{path}] contains NaN/Inf values; clean them first.")
        out.append(a)
    return tf.nest.pack_sequence_as(s, out)


def _flat_with_paths(s: Any) -> list:
    from tensorflow.python.util import nest as _nest  # public alias: tf.nest has no paths

    return list(_nest.flatten_with_tuple_paths(s))


def _struct_len(name: str, structures: list) -> int:
    lengths = {len(a) for s in structures for a in tf.nest.flatten(s)}
    if len(lengths) != 1:
        raise ValueError(f"{name}: every array must have one row per example, got row counts "
                         f"{sorted(lengths)}.")
    return lengths.pop()


def _struct_split(name: str, value: Any) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise TypeError(f"{name} must be (x, y) or (x, y, sample_weight), got "
                        f"{type(value).__name__}.")
    x, y = _check_struct(f"{name}[0]", value[0]), _check_struct(f"{name}[1]", value[1], True)
    n = _struct_len(name, [x, y])
    w = _check_weights(f"{name}[2]", value[2], n) if len(value) == 3 else None
    return x, y, w


def _check_weights(name: str, w: Any, n: int) -> np.ndarray | None:
    if w is None:
        return None
    w = np.asarray(w)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim != 1 or len(w) != n or w.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be one number per example (shape ({n},)), got shape "
                         f"{w.shape} and dtype {w.dtype.name}.")
    bad = int(np.sum(~np.isfinite(w) | (w < 0)))
    if bad:
        raise ValueError(f"{name} must be finite and >= 0; it has {bad} other values.")
    return w.astype(np.float32)


def _split_triple(name: str, value: Any) -> tuple:
    """``(x, y)`` or ``(x, y, sample_weight)`` checked; the weight None when absent."""
    if isinstance(value, (tuple, list)) and len(value) == 3:
        x, y = _check_arrays(f"{name}[0]", f"{name}[1]", value[0], value[1])
        return x, y, _check_weights(f"{name}[2]", value[2], len(x))
    return (*_check_arrays(f"{name}[0]", f"{name}[1]", *_pair(name, value)), None)


def _pair(name: str, value: Any) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (x, y) of arrays, got {type(value).__name__}.")
    return tuple(value)


def _check_numeric(name: str, a: np.ndarray, labels: bool) -> None:
    if labels and a.dtype.kind in "USO" and a.size and all(
            isinstance(v, str) for v in a.ravel()[:100]):
        raise TypeError(f"{name} must be a numeric array of class indices, got strings (e.g. "
                        f"{str(a.ravel()[0])!r}); map the names to indices: classes, y = "
                        "np.unique(y, return_inverse=True), then DataBundle.from_arrays(x, y, "
                        "classes=classes).")
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise TypeError(f"{name} must be a numeric array, got dtype {a.dtype} (e.g. strings or "
                        f"mixed objects); convert it, e.g. {name}.astype('float32').")


def _first_mismatch(a: Any) -> str:
    """Where a ragged ``a`` first differs: `` (example 0 has shape (2,), example 1 (1,))``."""
    try:
        shapes = [np.shape(e) for e in a]
    except (TypeError, ValueError):  # ragged deeper down
        return ""
    i = next((i for i, s in enumerate(shapes) if s != shapes[0]), None)
    return "" if i is None else f" (example 0 has shape {shapes[0]}, example {i} {shapes[i]})"


def _rectangular(name: str, a: Any) -> np.ndarray:
    """``a`` as an array; a ragged list (examples of different shapes) refused."""
    try:
        return np.asarray(a)
    except ValueError:  # numpy refuses inhomogeneous shapes
        raise ValueError(
            f"{name} must be a rectangular array (every example the same shape), got a ragged "
            f"{type(a).__name__}: {reprlib.repr(a)}{_first_mismatch(a)}; pad or crop the "
            f"examples to one shape, e.g. keras.utils.pad_sequences({name}) for sequences."
        ) from None


def _check_arrays(xname: str, yname: str, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _rectangular(xname, x), _rectangular(yname, y)
    for name, a, labels in ((xname, x, False), (yname, y, True)):
        _check_numeric(name, a, labels)
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        raise ValueError(f"{xname} contains {int(np.sum(~np.isfinite(x)))} NaN/Inf values; "
                         "clean or impute them before training.")
    if x.ndim < 2:
        raise ValueError(f"{xname} must have shape (n_examples, ...), got shape {x.shape}.")
    if len(x) != len(y):
        raise ValueError(f"{xname} has {len(x)} examples but {yname} has {len(y)}; pass one "
                         f"label per example ({yname}[i] for {xname}[i]).")
    if len(x) == 0:
        raise ValueError(f"{xname} is empty (shape {x.shape}); pass at least one example.")
    if y.ndim == 2 and y.shape[1] == 1 and np.issubdtype(y.dtype, np.integer):
        y = y[:, 0]  # Keras' (n, 1) label layout
    return x, y


def _class_ids(name: str, y: np.ndarray) -> np.ndarray:
    """Float class ids (``[0., 3., 1.]``) as int64; anything not integer-valued is refused."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.size and (y.dtype.kind not in "fb" or not np.all(np.isfinite(y))
                   or not np.all(y == np.round(y))):
        raise ValueError(f"{name} must hold class ids (whole numbers) for "
                         f"task='sparse_categorical', got dtype {y.dtype.name} with non-integer "
                         "values; use task='regression' for continuous targets.")
    return y.astype(np.int64)


def _check_dataset(name: str, ds: Any) -> None:
    if not isinstance(ds, tf.data.Dataset):
        raise TypeError(f"{name} must be a tf.data.Dataset of (x, y) batches, got "
                        f"{type(ds).__name__}. For arrays use DataBundle.from_arrays(x, y).")
    spec = ds.element_spec
    if not (isinstance(spec, tuple) and len(spec) in (2, 3) and all(
            isinstance(s, tf.TensorSpec) for s in tf.nest.flatten(spec))
            and (len(spec) == 2 or isinstance(spec[2], tf.TensorSpec))):
        raise ValueError(
            f"{name} must yield (x, y) or (x, y, sample_weight) tuples, x and y each a tensor "
            f"or a tuple/dict of tensors (several model inputs / outputs), got "
            f"element_spec={spec}. Map it, e.g. ds.map(lambda d: (d['image'], d['label'])), or "
            "ds.map(lambda d: ({'image': d['image'], 'meta': d['meta']}, d['label'])) for a "
            "model with two inputs.")
    x_spec, y_spec = spec[:2]
    if any(s.dtype == tf.string for s in tf.nest.flatten(y_spec)):
        raise TypeError(
            f"{name}'s labels y are strings ({y_spec}), but a loss needs numbers: map class names "
            "to indices first, e.g. lookup = keras.layers.StringLookup(vocabulary=classes, "
            f"num_oov_indices=0); {name}.map(lambda x, y: (x, lookup(y))), and pass "
            "classes=classes.")
    if tf.nest.is_nested(x_spec) or tf.nest.is_nested(y_spec):
        leaves = tf.nest.flatten(x_spec) + tf.nest.flatten(y_spec)
        if any(s.shape.rank == 0 for s in leaves):
            raise ValueError(f"{name} looks unbatched (element_spec={spec}); call "
                             f"{name}.batch(batch_size) first.")
        x_spec, y_spec = first_leaf(x_spec), first_leaf(y_spec)
        if x_spec.shape.rank == 1:
            x_spec = tf.TensorSpec([None, 1], x_spec.dtype)  # a feature per example: batched
    if len(spec) == 3:
        w = spec[2]
        if not w.dtype.is_floating or not (w.shape.rank == 1 or (
                w.shape.rank == 2 and w.shape[-1] == 1)):
            raise ValueError(f"{name}'s third element (sample weights) must be floats of shape "
                             f"(batch,) or (batch, 1), got {w}; cast them, e.g. "
                             "ds.map(lambda x, y, w: (x, y, tf.cast(w, tf.float32))).")
    x_rank = x_spec.shape.rank
    if x_spec.dtype == tf.string and x_rank == 1:
        x_rank = 2  # a batch of strings (a model with its own text preprocessing takes them)
    if y_spec.shape.rank == 0 or x_rank in (0, 1):
        raise ValueError(f"{name} looks unbatched (element_spec={spec}); call "
                         f"{name}.batch(batch_size) first.")
    n = int(ds.cardinality())
    if n == 0:
        raise ValueError(f"{name} is empty (cardinality 0); it must yield at least one batch.")
    if n == int(tf.data.INFINITE_CARDINALITY):
        raise ValueError(f"{name} is infinite (did you call .repeat()?); an epoch must end. "
                         f"Use {name}.take(n_batches) to set the epoch length.")


def cifar10_data(batch_size: int = 128, valid_pct: float = 0.1, seed: int | None = 42,
                 path: str | Path | None = None, *, sample: bool = False,
                 eval_batch_size: int | None = None) -> DataBundle:
    """CIFAR-10 as a DataBundle: 45,000 train / 5,000 valid / 10,000 test, pixels in [0, 1].

    The validation split is a seeded permutation of the 50,000 training images, fixed before any
    shuffling; training batches are reshuffled every epoch. Sources, in order: ``path``, the
    ``TFLEARNER_DATA`` environment variable, the Keras cache, Keras' own download.
    ``sample=True`` uses the small real sample shipped inside tflearner (offline, for demos
    and tests).
    """
    (x, y), (xt, yt) = load_cifar10(path, sample=sample)
    bundle = DataBundle.from_arrays(x, y, test=(xt, yt), valid_pct=valid_pct,
                                    batch_size=batch_size, seed=seed, classes=CIFAR10_CLASSES,
                                    task="sparse_categorical", eval_batch_size=eval_batch_size)
    bundle.meta["source"] = "sample" if sample else str(path or "auto")
    return bundle
