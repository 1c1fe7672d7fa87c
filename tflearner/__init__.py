"""tflearner: a fastai-style Learner for TensorFlow 2 / Keras 3.

One compiled training loop serves ``fit``, ``fit_one_cycle``, ``fit_flat_cos``, ``fit_sgdr`` and
``lr_find``; hyper-parameters live in variables the loop sets per batch; ``learn.recorder`` keeps
the history. These are the names users compose; the layers behind them are mapped in
``docs/architecture.md``. Pure helpers: :mod:`tflearner.schedules` (numpy) and
:mod:`tflearner.lr_finder.suggest` (numpy/scipy).
"""

from ._version import __version__
from .callbacks import CheckpointCallback, ParamScheduler, ProgressCallback, Recorder
from .core.contract import FitState, StopLimits
from .core.events import Callback
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
