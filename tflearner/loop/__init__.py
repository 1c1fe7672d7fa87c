"""The one training loop: the compiled steps, the event loop around them, the chunk iterator and
the runner that evaluates and predicts with the same steps."""

from .runner import Runner
from .train_loop import TrainLoop

__all__ = ["Runner", "TrainLoop"]
