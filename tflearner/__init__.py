"""tflearner: a fastai-style Learner for TensorFlow 2 / Keras 3.

One compiled training loop serves ``fit``, ``fit_one_cycle``, ``fit_flat_cos``, ``fit_sgdr`` and
``lr_find``; hyper-parameters live in variables the loop sets per batch; ``learn.recorder`` keeps
the history. These are the names users compose; the layers behind them are mapped in
``docs/architecture.md``. Pure helpers: :mod:`tflearner.schedules` (numpy) and
:mod:`tflearner.lr_finder.suggest` (numpy/scipy).

The names are imported on first access (PEP 562, :mod:`tflearner._lazy`): ``import tflearner``
loads no TensorFlow until a name that needs it is read, so the ``tflearner`` command's
``--help`` and argument errors answer at once.
"""

from typing import TYPE_CHECKING

from ._lazy import attach
from ._version import __version__

if TYPE_CHECKING:
    from .callbacks import CheckpointCallback, ParamScheduler, ProgressCallback, Recorder
    from .core.events import Callback
    from .core.fit_state import FitState, StopLimits, StopReason
    from .core.seed import set_seed
    from .core.snapshot import Snapshot, preserved
    from .data import (
        CIFAR10_CLASSES,
        BadImageError,
        CifarFormatError,
        CifarNotFoundError,
        DataBundle,
        ImageAugment,
        ImagePreprocessing,
        aug_transforms,
        cifar10_data,
        load_cifar10,
    )
    from .inference import ClassificationInterpretation, ExportError, InferenceLearner, load_learner
    from .keras_fit import KerasLRFinder, LRFinderCallback, OneCycleCallback, OneCycleSchedule
    from .learner import Learner
    from .lr_finder import LRFinder, Suggestion, minimum, robust, slide, steep, valley
    from .models import LeNet
    from .optim import SGD
    from .schedules import (
        FASTAI_ONE_CYCLE,
        ONE_CYCLE_DEFAULTS,
        combine,
        exp_sweep,
        flat_cos,
        lin_sweep,
        one_cycle,
        sgdr,
    )

_EXPORTS = {
    "CheckpointCallback": ".callbacks",
    "ParamScheduler": ".callbacks",
    "ProgressCallback": ".callbacks",
    "Recorder": ".callbacks",
    "FitState": ".core.fit_state",
    "StopLimits": ".core.fit_state",
    "StopReason": ".core.fit_state",
    "Callback": ".core.events",
    "set_seed": ".core.seed",
    "Snapshot": ".core.snapshot",
    "preserved": ".core.snapshot",
    "CIFAR10_CLASSES": ".data",
    "BadImageError": ".data",
    "CifarFormatError": ".data",
    "CifarNotFoundError": ".data",
    "DataBundle": ".data",
    "ImageAugment": ".data",
    "ImagePreprocessing": ".data",
    "aug_transforms": ".data",
    "cifar10_data": ".data",
    "load_cifar10": ".data",
    "ClassificationInterpretation": ".inference",
    "ExportError": ".inference",
    "InferenceLearner": ".inference",
    "load_learner": ".inference",
    "KerasLRFinder": ".keras_fit",
    "LRFinderCallback": ".keras_fit",
    "OneCycleCallback": ".keras_fit",
    "OneCycleSchedule": ".keras_fit",
    "Learner": ".learner",
    "LRFinder": ".lr_finder",
    "Suggestion": ".lr_finder",
    "minimum": ".lr_finder",
    "robust": ".lr_finder",
    "slide": ".lr_finder",
    "steep": ".lr_finder",
    "valley": ".lr_finder",
    "LeNet": ".models",
    "SGD": ".optim",
    "FASTAI_ONE_CYCLE": ".schedules",
    "ONE_CYCLE_DEFAULTS": ".schedules",
    "combine": ".schedules",
    "exp_sweep": ".schedules",
    "flat_cos": ".schedules",
    "lin_sweep": ".schedules",
    "one_cycle": ".schedules",
    "sgdr": ".schedules",
}

__all__ = [
    "BadImageError",
    "CIFAR10_CLASSES",
    "Callback",
    "CheckpointCallback",
    "ClassificationInterpretation",
    "CifarFormatError",
    "CifarNotFoundError",
    "DataBundle",
    "ExportError",
    "FitState",
    "ImageAugment",
    "ImagePreprocessing",
    "InferenceLearner",
    "KerasLRFinder",
    "LRFinder",
    "LRFinderCallback",
    "LeNet",
    "Learner",
    "FASTAI_ONE_CYCLE",
    "ONE_CYCLE_DEFAULTS",
    "OneCycleCallback",
    "OneCycleSchedule",
    "ParamScheduler",
    "ProgressCallback",
    "Recorder",
    "SGD",
    "Snapshot",
    "StopLimits",
    "StopReason",
    "Suggestion",
    "aug_transforms",
    "cifar10_data",
    "combine",
    "exp_sweep",
    "flat_cos",
    "lin_sweep",
    "load_cifar10",
    "load_learner",
    "minimum",
    "one_cycle",
    "preserved",
    "robust",
    "set_seed",
    "sgdr",
    "slide",
    "steep",
    "valley",
    "__version__",
]

__getattr__, __dir__ = attach(__name__, _EXPORTS, (
    "callbacks", "core", "data", "inference", "keras_fit", "learner", "loop", "lr_finder",
    "models", "optim", "schedules", "training"))

del TYPE_CHECKING, attach  # dir() lists the public names and the submodules
