"""The one training loop: compiled steps, the chunk iterator and the stop rule."""

from .train_loop import TrainLoop

__all__ = ["TrainLoop"]
