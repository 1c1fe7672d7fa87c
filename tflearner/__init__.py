"""tflearner: a fastai-style Learner for TensorFlow 2 / Keras 3.

One compiled training loop serves ``fit`` (and, later, ``lr_find`` and ``fit_one_cycle``);
hyper-parameters live in variables the loop sets per batch; ``learn.recorder`` keeps the history.
"""

from .callbacks import EVENTS, Callback, CallbackList, FitState
from .cifar import CIFAR10_CLASSES, CifarFormatError, CifarNotFoundError, load_cifar10
from .data import DataBundle, cifar10_data
from .learner import Learner
from .loop import TrainLoop
from .models import LeNet
from .optim import SGD, Hypers, get_optimizer
from .progress import ProgressCallback
from .recorder import Recorder

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
    "LeNet",
    "Learner",
    "ProgressCallback",
    "Recorder",
    "SGD",
    "TrainLoop",
    "cifar10_data",
    "get_optimizer",
    "load_cifar10",
    "__version__",
]
