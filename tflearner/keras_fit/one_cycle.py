"""The 1cycle policy for plain ``model.fit`` users, on :func:`tflearner.schedules.one_cycle`.

Two entry points share the same numpy schedule (no second formula):

* :class:`OneCycleSchedule` — a ``keras.optimizers.schedules.LearningRateSchedule`` for the
  learning rate only: ``keras.optimizers.Adam(OneCycleSchedule(total_steps, max_lr))``. It
  holds the per-step table as a float32 constant and looks it up with ``tf.gather`` (graph
  safe; steps past the end hold the last value). It is registered for ``.keras`` saving.
* :class:`OneCycleCallback` — a ``keras.callbacks.Callback`` that sets the learning rate *and*
  the momentum every batch. Keras reads SGD's momentum as a Python float at trace time, so
  momentum is put in a ``tf.Variable`` the compiled step reads on every call: ``beta_1`` for
  the Adam family, ``momentum`` for :class:`tflearner.SGD`, found by type as the Learner does
  (:func:`tflearner.optim.detect.momentum_of`: subclasses included, a ``LossScaleOptimizer``
  looked through). A plain ``keras.optimizers.SGD`` with momentum > 0 is refused; other
  optimizers whose momentum cannot be cycled get a warning and the LR schedule only.
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..optim.detect import learning_rate_problem, momentum_of
from ..optim.hypers import install_variable
from ..schedules import ONE_CYCLE_DEFAULTS as _D
from ..schedules import one_cycle

__all__ = ["OneCycleCallback", "OneCycleSchedule"]

_Schedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="tflearner")
class OneCycleSchedule(_Schedule):
    """1cycle learning rates as a Keras schedule: ``schedule(step)`` is
    ``one_cycle(total_steps, max_lr, ...)[0][step]``, with ``step`` clipped to
    ``[0, total_steps - 1]``. Arguments as in :func:`tflearner.schedules.one_cycle`."""

    def __init__(self, total_steps: int, max_lr: float, pct_start: float = _D["pct_start"],
                 div: float = _D["div"], div_final: float = _D["div_final"],
                 anneal: str = _D["anneal"], three_phase: bool = _D["three_phase"]) -> None:
        super().__init__()
        lrs, _ = one_cycle(total_steps, max_lr, pct_start=pct_start, div=div,
                           div_final=div_final, moms=None, anneal=anneal,
                           three_phase=three_phase)
        self.total_steps = int(total_steps)
        self.max_lr = float(max_lr)
        self.pct_start = float(pct_start)
        self.div = float(div)
        self.div_final = float(div_final)
        self.anneal = anneal
        self.three_phase = bool(three_phase)
        self.lrs = lrs  # float64, for inspection
        self._table = tf.constant(lrs.astype(np.float32))

    def __call__(self, step):
        step = tf.cast(tf.convert_to_tensor(step), tf.int64)
        step = tf.clip_by_value(step, 0, self.total_steps - 1)
        return tf.gather(self._table, step)

    def get_config(self) -> dict[str, Any]:
        return {"total_steps": self.total_steps, "max_lr": self.max_lr,
                "pct_start": self.pct_start, "div": self.div, "div_final": self.div_final,
                "anneal": self.anneal, "three_phase": self.three_phase}


class OneCycleCallback(keras.callbacks.Callback):
    """Set learning rate and momentum per batch inside ``model.fit`` (fastai's
    ``fit_one_cycle``).

    ``epochs`` / ``steps_per_epoch`` default to ``model.fit``'s (``self.params``); pass
    ``steps_per_epoch`` when the dataset's length is unknown. Step ``i`` (counted across
    epochs) gets ``one_cycle(epochs * steps_per_epoch, max_lr, ...)`` at ``i``; steps past the
    end keep the last values. ``moms=None`` schedules the learning rate only, as do optimizers
    without a momentum term and SGD with momentum 0.

    After training, ``self.lrs`` / ``self.moms`` hold the values set, one per batch hook
    (``self.moms`` is None when no momentum is scheduled); ``self.sched_lrs`` /
    ``self.sched_moms`` hold the full planned arrays.
    """

    def __init__(self, max_lr: float, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = _D["pct_start"],
                 div: float = _D["div"], div_final: float = _D["div_final"],
                 moms: tuple[float, float, float] | None = _D["moms"],
                 anneal: str = _D["anneal"], three_phase: bool = _D["three_phase"]) -> None:
        super().__init__()
        self.max_lr = max_lr
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.kwargs = dict(pct_start=pct_start, div=div, div_final=div_final, moms=moms,
                           anneal=anneal, three_phase=three_phase)
        # validate now (total_steps=1 is always allowed) so mistakes surface before fit
        one_cycle(1, max_lr, **self.kwargs)
        self.lrs: list[float] = []
        self.moms: list[float] | None = None
        self.sched_lrs: np.ndarray | None = None
        self.sched_moms: np.ndarray | None = None
        self._mom_var: tf.Variable | None = None

    # ---------------------------------------------------------------------------------------
    def _total_steps(self) -> int:
        params = self.params or {}
        epochs = self.epochs if self.epochs is not None else params.get("epochs")
        steps = (self.steps_per_epoch if self.steps_per_epoch is not None
                 else params.get("steps"))
        if not epochs or not steps:
            raise ValueError(
                f"OneCycleCallback cannot tell the number of training steps (epochs={epochs!r}, "
                f"steps per epoch={steps!r}); the dataset's length is unknown. Pass "
                "OneCycleCallback(..., steps_per_epoch=N) (and epochs=... if needed).")
        return int(epochs) * int(steps)

    def _momentum(self, opt: keras.optimizers.Optimizer) -> tuple[Any, str | None]:
        """The (unwrapped) optimizer and the attribute to cycle; None: LR only (warned when the
        optimizer has a momentum that cannot be cycled; a plain keras SGD is refused)."""
        found = momentum_of(opt)
        if self.kwargs["moms"] is None or found.attr is not None or found.problem is None:
            return found.optimizer, (None if self.kwargs["moms"] is None else found.attr)
        if type(found.optimizer) is keras.optimizers.SGD:
            raise ValueError(found.problem)  # the Learner would convert it; here it is the user's
        warnings.warn(found.problem, UserWarning, stacklevel=2)
        return found.optimizer, None

    def on_train_begin(self, logs=None) -> None:
        model = self.model
        source = learning_rate_problem(model.optimizer)
        if source is not None:
            raise ValueError(
                f"The optimizer takes its learning_rate from {source}; OneCycleCallback sets "
                "the learning rate itself every batch. Compile with a float learning_rate, or "
                "use OneCycleSchedule as the learning_rate without this callback.")
        total = self._total_steps()
        opt, attr = self._momentum(model.optimizer)
        lrs, moms = one_cycle(total, self.max_lr, **self.kwargs)
        self.sched_lrs, self.sched_moms = lrs, (moms if attr is not None else None)
        spe = int(getattr(model, "steps_per_execution", 1) or 1)
        if spe > 1:
            warnings.warn(
                f"model.steps_per_execution={spe}: Keras calls batch hooks once every {spe} "
                "batches, so OneCycleCallback changes the learning rate / momentum only every "
                f"{spe} steps (a coarser schedule).", UserWarning, stacklevel=2)
        self._mom_var = None
        self._attr = attr
        if attr is not None and not opt.built:
            model.optimizer.build(model.trainable_variables)  # a LossScaleOptimizer builds both
        if attr is not None:
            baked = not isinstance(getattr(opt, attr), tf.Variable)
            self._mom_var = install_variable(opt, attr, "tflearner_one_cycle_mom")
            if baked and getattr(model, "train_function", None) is not None:
                # a step traced earlier baked the float in: retrace to read the variable
                model.make_train_function(force=True)
        self.lrs = []
        self.moms = [] if self._mom_var is not None else None
        self._step = 0
        self._epoch_start = 0

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._epoch_start = self._step

    def on_train_batch_begin(self, batch, logs=None) -> None:
        i = min(self._epoch_start + int(batch), len(self.sched_lrs) - 1)
        lr = float(self.sched_lrs[i])
        self.model.optimizer.learning_rate.assign(lr)
        self.lrs.append(lr)
        if self._mom_var is not None:
            mom = float(self.sched_moms[i])
            self._mom_var.assign(mom)
            self.moms.append(mom)

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._step = self._epoch_start + int(batch) + 1
