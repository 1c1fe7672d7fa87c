"""Callbacks the Learner composes: recorder, progress, schedules, checkpoints, Keras adapter."""

from .checkpoint import CheckpointCallback
from .progress import ProgressCallback, SweepProgress
from .recorder import Recorder
from .scheduler import ParamScheduler

__all__ = ["CheckpointCallback", "ParamScheduler", "ProgressCallback", "Recorder",
           "SweepProgress"]
