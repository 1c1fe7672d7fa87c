"""Data for a Learner: :class:`DataBundle` pipelines and CIFAR-10 loading."""

from .bundle import TASKS, DataBundle, cifar10_data, split_indices
from .cifar import CIFAR10_CLASSES, CifarFormatError, CifarNotFoundError, load_cifar10

__all__ = ["DataBundle", "cifar10_data", "split_indices", "TASKS", "CIFAR10_CLASSES",
           "CifarFormatError", "CifarNotFoundError", "load_cifar10"]
