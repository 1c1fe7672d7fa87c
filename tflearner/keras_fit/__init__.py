"""For plain ``model.fit`` users: the LR finder and the one-cycle policy as Keras objects.

Nothing in the core imports this subpackage; it builds on the Learner and the pure schedules.
"""

from .lr_finder import KerasLRFinder, LRFinderCallback
from .one_cycle import OneCycleCallback, OneCycleSchedule

__all__ = ["KerasLRFinder", "LRFinderCallback", "OneCycleCallback", "OneCycleSchedule"]
