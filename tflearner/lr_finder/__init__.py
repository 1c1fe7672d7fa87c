"""The LR range test: the sweep callback, its argument checks and the pure suggestion functions."""

from .finder import DEFAULT_SUGGESTIONS, LRFinder, sweep_beta
from .suggest import SUGGESTERS, Suggestion, minimum, robust, slide, steep, trim, valley

__all__ = ["LRFinder", "DEFAULT_SUGGESTIONS", "sweep_beta", "SUGGESTERS", "Suggestion", "robust",
           "valley", "slide", "steep", "minimum", "trim"]
