"""Answers out: predictions from raw items, interpretation, test-time augmentation, and export
for inference (:func:`load_learner`). Above ``data/`` and ``core/``; the Learner uses it, it
never imports the Learner."""

from .export import EXPORT_FORMAT, EXPORT_VERSION, ExportError, load_learner, read_export_meta
from .interpret import ClassificationInterpretation
from .predictor import InferenceLearner
from .tta import tta_mix

__all__ = ["ClassificationInterpretation", "EXPORT_FORMAT", "EXPORT_VERSION", "ExportError",
           "InferenceLearner", "load_learner", "read_export_meta", "tta_mix"]
