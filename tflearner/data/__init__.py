"""Data for a Learner: :class:`DataBundle` pipelines (arrays, image folders, CSV files),
seeded augmentation and CIFAR-10 loading.

The names are imported on first access (:mod:`tflearner._lazy`), so ``tflearner.data.cifar``
(numpy only) loads without TensorFlow."""

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:
    from .augment import ImageAugment, aug_transforms
    from .bundle import TASKS, DataBundle, Preprocessing, cifar10_data
    from .cifar import CIFAR10_CLASSES, CifarFormatError, CifarNotFoundError, load_cifar10
    from .folder import IMAGE_EXTENSIONS, BadImageError, ImagePreprocessing
    from .split import split_indices

_EXPORTS = {
    "ImageAugment": ".augment", "aug_transforms": ".augment",
    "TASKS": ".bundle", "DataBundle": ".bundle", "Preprocessing": ".bundle",
    "cifar10_data": ".bundle",
    "CIFAR10_CLASSES": ".cifar", "CifarFormatError": ".cifar", "CifarNotFoundError": ".cifar",
    "load_cifar10": ".cifar",
    "IMAGE_EXTENSIONS": ".folder", "BadImageError": ".folder", "ImagePreprocessing": ".folder",
    "split_indices": ".split",
}

__all__ = ["DataBundle", "cifar10_data", "split_indices", "TASKS", "CIFAR10_CLASSES",
           "CifarFormatError", "CifarNotFoundError", "load_cifar10", "Preprocessing",
           "ImagePreprocessing", "ImageAugment", "aug_transforms", "BadImageError",
           "IMAGE_EXTENSIONS"]

__getattr__, __dir__ = attach(__name__, _EXPORTS, (
    "augment", "bundle", "cifar", "folder", "items", "show", "split"))

del TYPE_CHECKING, attach  # dir() lists the public names, as the eager imports did
