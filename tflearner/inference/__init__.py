"""Answers out: predictions from raw items, interpretation, test-time augmentation, and export
for inference (:func:`load_learner`). Above ``data/`` and ``core/``; the Learner uses it, it
never imports the Learner.

The names are imported on first access (:mod:`tflearner._lazy`), so
``tflearner.inference.layout`` (the export folder's file names) loads without TensorFlow."""

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:
    from .export import ExportError, load_learner, read_export_meta
    from .interpret import ClassificationInterpretation
    from .layout import EXPORT_FORMAT, EXPORT_VERSION
    from .predictor import InferenceLearner
    from .tta import tta_mix

_EXPORTS = {
    "EXPORT_FORMAT": ".layout", "EXPORT_VERSION": ".layout",
    "ExportError": ".export", "load_learner": ".export", "read_export_meta": ".export",
    "ClassificationInterpretation": ".interpret",
    "InferenceLearner": ".predictor",
    "tta_mix": ".tta",
}

__all__ = ["ClassificationInterpretation", "EXPORT_FORMAT", "EXPORT_VERSION", "ExportError",
           "InferenceLearner", "load_learner", "read_export_meta", "tta_mix"]

__getattr__, __dir__ = attach(__name__, _EXPORTS, (
    "export", "interpret", "outputs", "predictor", "tta"))

del TYPE_CHECKING, attach  # dir() lists the public names and the submodules
