"""tflearner: a fastai-style Learner for TensorFlow 2 / Keras 3.

One compiled training loop serves ``fit`` and ``lr_find`` (and, later, ``fit_one_cycle``);
hyper-parameters live in variables the loop sets per batch; ``learn.recorder`` keeps the history.
Pure helpers: :mod:`tflearner.schedules` (numpy) and :mod:`tflearner.suggest` (numpy/scipy).
"""

from .callbacks import EVENTS, Callback, CallbackList, FitState
from .cifar import CIFAR10_CLASSES, CifarFormatError, CifarNotFoundError, load_cifar10
from .data import DataBundle, cifar10_data
from .keras_callbacks import KerasCallbacks
from .keras_lr_finder import KerasLRFinder, LRFinderCallback
from .keras_one_cycle import OneCycleCallback, OneCycleSchedule
from .learner import Learner
from .loop import TrainLoop
from .lr_finder import LRFinder
from .models import LeNet
from .optim import SGD, Hypers, get_optimizer
from .progress import ProgressCallback, SweepProgress
from .recorder import Recorder
from .schedules import exp_sweep, lin_sweep, one_cycle
from .seed import set_seed
from .snapshot import Snapshot, preserved
from .suggest import Suggestion

__version__ = "0.1.0"

__all__ = [
    "CIFAR10_CLASSES",
    "Callback",
    "CallbackList",
    "CifarFormatError",
    "CifarNotFoundError",
    "DataBundle",
    "EVENTS",
    "FitState",
    "Hypers",
    "KerasCallbacks",
    "KerasLRFinder",
    "LRFinder",
    "LRFinderCallback",
    "LeNet",
    "Learner",
    "OneCycleCallback",
    "OneCycleSchedule",
    "ProgressCallback",
    "Recorder",
    "SGD",
    "Snapshot",
    "Suggestion",
    "SweepProgress",
    "TrainLoop",
    "cifar10_data",
    "exp_sweep",
    "get_optimizer",
    "lin_sweep",
    "load_cifar10",
    "one_cycle",
    "preserved",
    "set_seed",
    "__version__",
]
