"""Optimizers and the per-batch hyper-parameters the loop sets on them."""

from .factory import get_optimizer
from .hypers import MOMENTUM_ATTRS, Hypers
from .sgd import SGD

__all__ = ["SGD", "Hypers", "MOMENTUM_ATTRS", "get_optimizer"]
