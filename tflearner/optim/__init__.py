"""Optimizers and the per-batch hyper-parameters the loop sets on them."""

from .detect import BETA_1_OPTIMIZERS, Momentum, momentum_of
from .factory import get_optimizer
from .hypers import Hypers
from .sgd import SGD

__all__ = ["SGD", "Hypers", "BETA_1_OPTIMIZERS", "Momentum", "momentum_of", "get_optimizer"]
