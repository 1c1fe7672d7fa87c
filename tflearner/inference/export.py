"""Export for inference: a folder with the model in Keras' own format and a small JSON.

``export(path)`` writes ``path/model.keras`` (``model.save``: architecture and weights; the
Learner never compiles the model, so no optimizer state) and ``path/tflearner.json``::

    {"format": "tflearner-export", "format_version": 1, "tflearner_version": "0.1.0",
     "keras_version": ..., "tensorflow_version": ..., "model_file": "model.keras",
     "model_sha256": ..., "task": ..., "classes": [...], "c": ..., "activation": ...,
     "preprocess": {...}, "input_spec": {"shape": [null, 32, 32, 3], "dtype": "float32"}}

A binary or multi-label export (format 2) also records ``"threshold"``, the probability above
which a label decodes to 1; single-label and regression exports stay format 1, which older
tflearner versions read.

No pickle: nothing in the folder runs code when read (Keras' ``safe_mode`` stays on). Both
files are written to temporary names and renamed, so an interrupted export never leaves a
half-written pair. :func:`load_learner` checks the format, its version, the files and the
model's checksum before Keras reads it, and returns an
:class:`~tflearner.inference.predictor.InferenceLearner`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from .._version import __version__
from ..data.bundle import TASKS, preprocessing_from_dict
from .layout import EXPORT_FORMAT, EXPORT_VERSION, META_FILE, MODEL_FILE
from .outputs import ACTIVATIONS, CLASSIFICATION, DEFAULT_THRESHOLD, SIGMOID_TASKS, check_threshold
from .predictor import InferenceLearner

__all__ = ["EXPORT_FORMAT", "EXPORT_VERSION", "ExportError", "export", "load_learner",
           "read_export_meta"]


class ExportError(ValueError):
    """An export folder that cannot be read: wrong format, newer version, corrupt files."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _atomic_json(obj: dict, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export(model: keras.Model, path: str | os.PathLike, *, task: str,
           classes: tuple[str, ...] | None, c: int | None, activation: str | None,
           preprocess: Any, input_shape: tuple, x_dtype: str,
           threshold: float = DEFAULT_THRESHOLD) -> Path:
    """Write the export folder ``path`` (created if needed; an existing export in it is
    replaced); returns it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"path must be a folder to export into, got {str(path)!r}, which is a "
                         "file; pass a folder name, e.g. learn.export('export').")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"path={str(path)!r} cannot be created as a folder: {exc}.") from None
    try:
        fd, tmp_model = tempfile.mkstemp(dir=path, prefix=".tmp-", suffix=".keras")
    except OSError as exc:
        raise ValueError(f"path={str(path)!r} is a folder that cannot be written to "
                         f"({exc.strerror}); pass a folder you can write to.") from None
    os.close(fd)
    try:
        model.save(tmp_model, overwrite=True)
        sha = _sha256(Path(tmp_model))
        os.replace(tmp_model, path / MODEL_FILE)
    except BaseException:
        Path(tmp_model).unlink(missing_ok=True)
        raise
    sigmoid = task in SIGMOID_TASKS
    meta = {"format": EXPORT_FORMAT, "format_version": EXPORT_VERSION if sigmoid else 1,
            "tflearner_version": __version__, "keras_version": keras.__version__,
            "tensorflow_version": tf.__version__, "model_file": MODEL_FILE,
            "model_sha256": sha, "task": task,
            "classes": None if classes is None else list(classes), "c": c,
            "activation": activation,
            "preprocess": None if preprocess is None else preprocess.as_dict(),
            "input_spec": {"shape": [None, *(None if d is None else int(d) for d in input_shape)],
                           "dtype": x_dtype}}
    if sigmoid:
        meta["threshold"] = check_threshold(threshold)
    _atomic_json(meta, path / META_FILE)
    return path


def _meta_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / META_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"path={str(path)!r} does not exist; pass the folder written by learn.export(path) "
            f"(it holds {META_FILE} and {MODEL_FILE}).")
    if path.name != META_FILE:
        folder = (f" ({str(path.parent)!r} holds one)" if (path.parent / META_FILE).is_file()
                  else "")
        raise ExportError(f"path={str(path)!r} is a file, not an export: pass the export folder "
                          f"written by learn.export(path){folder}, which holds {META_FILE} and "
                          f"{MODEL_FILE}.")
    return path


def _check_values(meta: dict[str, Any], meta_path: Path) -> None:
    """The entries a loaded model relies on hold what ``export`` writes."""
    def bad(key: str, want: str) -> ExportError:
        return ExportError(f"{meta_path} has {key}={meta.get(key)!r}; expected {want}. It was "
                           "not written by learn.export (or was edited): export the Learner "
                           "again.")

    if meta["task"] not in TASKS:
        raise bad("task", f"one of {list(TASKS)}")
    classes, c = meta["classes"], meta.get("c")
    if classes is not None and not (isinstance(classes, list)
                                    and all(isinstance(k, str) for k in classes)):
        raise bad("classes", "null or a list of class names")
    if c is not None and (not isinstance(c, int) or (classes is not None and c != len(classes))):
        raise bad("c", "the number of classes" + (f" ({len(classes)})" if classes else ""))
    if meta["activation"] not in ACTIVATIONS:
        raise bad("activation", f"one of {list(ACTIVATIONS)}")
    if meta["task"] in SIGMOID_TASKS:
        try:
            check_threshold(meta.get("threshold"))
        except (TypeError, ValueError):
            raise bad("threshold", "a probability strictly between 0 and 1") from None
    spec = meta["input_spec"]
    if not (isinstance(spec, dict) and isinstance(spec.get("shape"), list) and spec["shape"]
            and all(d is None or isinstance(d, int) for d in spec["shape"])
            and isinstance(spec.get("dtype"), str)):
        raise bad("input_spec", '{"shape": [null, ...], "dtype": "float32"}')
    try:
        tf.as_dtype(spec["dtype"])
    except TypeError:
        raise bad("input_spec", "a TensorFlow dtype name in it") from None
    try:
        preprocessing_from_dict(meta["preprocess"])
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        raise bad("preprocess", "what learn.export writes") from None


def _check_outputs(model: Any, meta: dict[str, Any], model_path: Path) -> None:
    """A classifier's output width is its number of classes (1 for binary)."""
    classes = meta["classes"]
    if classes is None or meta["task"] not in CLASSIFICATION:
        return
    want = 1 if meta["task"] == "binary" else len(classes)
    shape = meta["input_spec"]["shape"][1:]
    outputs = getattr(model, "outputs", None)
    if outputs and len(outputs) == 1:
        width = outputs[0].shape[-1]
    elif all(d is not None for d in shape):
        width = model(tf.zeros([1, *shape], meta["input_spec"]["dtype"]),
                      training=False).shape[-1]
    else:
        return
    if width is not None and int(width) != want:
        raise ExportError(f"{model_path} outputs {int(width)} values per item, but "
                          f"{META_FILE} names {len(classes)} classes of a {meta['task']} "
                          "model; the files do not belong together: export the Learner again.")


def read_export_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The checked JSON of an export folder (or of its ``tflearner.json``)."""
    meta_path = _meta_path(path)
    try:
        meta = json.loads(meta_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{meta_path} is not a tflearner export: it is not valid JSON "
                          f"({exc}). Export the Learner again.") from None
    if not isinstance(meta, dict) or meta.get("format") != EXPORT_FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ExportError(f"{meta_path} is not a tflearner export (format {got!r}, expected "
                          f"{EXPORT_FORMAT!r}).")
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ExportError(f"{meta_path} has format_version={version!r}; expected an int >= 1.")
    if version > EXPORT_VERSION:
        raise ExportError(
            f"{meta_path} was written by tflearner {meta.get('tflearner_version', '?')} in "
            f"export format {version}; this tflearner reads format {EXPORT_VERSION} and older. "
            "Upgrade tflearner (pip install -U tflearner) to load it.")
    missing = [k for k in ("model_file", "model_sha256", "task", "input_spec", "activation",
                           "preprocess", "classes") if k not in meta]
    if missing:
        raise ExportError(f"{meta_path} lacks the entries {missing}; export the Learner again.")
    _check_values(meta, meta_path)
    meta["_dir"] = str(meta_path.parent)
    return meta


def load_learner(path: str | os.PathLike, custom_objects: dict | None = None,
                 safe_mode: bool = True, loss_fn: Any = None) -> InferenceLearner:
    """The :class:`InferenceLearner` of an export folder written by ``Learner.export``.

    ``custom_objects`` / ``safe_mode`` go to ``keras.saving.load_model`` (custom layers need
    the former); ``loss_fn`` enables ``get_preds(with_loss=True)``. A binary or multi-label
    export decodes with the threshold it was exported with (``inf.threshold`` changes it).
    A missing folder or file raises ``FileNotFoundError``; a file of another format, a newer
    format version, a corrupt JSON or model file raises :class:`ExportError` saying which.
    """
    meta = read_export_meta(path)
    model_path = Path(meta["_dir"]) / meta["model_file"]
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path} is missing; the export folder must hold the "
                                f"{META_FILE} and the {meta['model_file']} written with it.")
    if _sha256(model_path) != meta["model_sha256"]:
        raise ExportError(f"{model_path} is corrupt or was replaced: its SHA-256 does not match "
                          f"the one recorded in {META_FILE}. Export the Learner again.")
    try:
        model = keras.saving.load_model(model_path, custom_objects=custom_objects,
                                        compile=False, safe_mode=safe_mode)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        raise ExportError(f"Keras could not load {model_path}: "
                          f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. "
                          "Custom layers need custom_objects=.") from None
    _check_outputs(model, meta, model_path)
    spec = meta["input_spec"]
    return InferenceLearner(model, task=meta["task"], input_shape=tuple(spec["shape"][1:]),
                            x_dtype=spec["dtype"], classes=meta["classes"],
                            preprocess=preprocessing_from_dict(meta["preprocess"]),
                            activation=meta["activation"], loss_fn=loss_fn,
                            threshold=meta.get("threshold", DEFAULT_THRESHOLD))
