"""Data for a Learner: :class:`DataBundle` pipelines (arrays, image folders, CSV files),
seeded augmentation and CIFAR-10 loading."""

from .augment import ImageAugment, aug_transforms
from .bundle import TASKS, DataBundle, Preprocessing, cifar10_data
from .cifar import CIFAR10_CLASSES, CifarFormatError, CifarNotFoundError, load_cifar10
from .folder import IMAGE_EXTENSIONS, BadImageError, ImagePreprocessing
from .split import split_indices

__all__ = ["DataBundle", "cifar10_data", "split_indices", "TASKS", "CIFAR10_CLASSES",
           "CifarFormatError", "CifarNotFoundError", "load_cifar10", "Preprocessing",
           "ImagePreprocessing", "ImageAugment", "aug_transforms", "BadImageError",
           "IMAGE_EXTENSIONS"]
