"""Hyper-parameters the training loop sets every batch, held in variables.

Keras 3 reads most hyper-parameters as Python floats at trace time, so changing them after the
first step silently does nothing. :class:`Hypers` moves learning rate, momentum (SGD) /
``beta_1`` (Adam family) and weight decay into variables that a compiled step reads on every
call; assigning them never retraces.

* learning rate: Keras' own ``optimizer.learning_rate`` variable.
* momentum: :class:`~tflearner.optim.sgd.SGD` reads ``self.momentum`` on every step; Adam, AdamW,
  Nadam, Adamax and Lion read ``self.beta_1`` on every step, so a variable is put there after
  ``build``.
* weight decay: ``optimizer.weight_decay`` is read as ``w -= lr * wd * w`` (decoupled) on every
  step; a variable is put there (0 when the optimizer had none).
"""

from __future__ import annotations

import math
from typing import Any

import keras
import tensorflow as tf

from .sgd import SGD

__all__ = ["Hypers", "MOMENTUM_ATTRS"]

#: Optimizer class name -> the attribute that plays the role of momentum.
MOMENTUM_ATTRS: dict[str, str] = {
    "SGD": "momentum",
    "Adam": "beta_1",
    "AdamW": "beta_1",
    "Nadam": "beta_1",
    "Adamax": "beta_1",
    "Lion": "beta_1",
}


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(
        value, "__float__"
    ):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}: {value!r}.")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return value


class Hypers:
    """The per-batch hyper-parameters of one optimizer, held in variables.

    ``hypers.lr``, ``hypers.mom`` and ``hypers.wd`` read the live values; assigning them (or
    :meth:`set`) writes the variables the compiled step reads, so no retrace happens. ``mom`` is
    ``None`` for optimizers without a momentum term (and for SGD built with momentum 0, which has
    no momentum slots).
    """

    def __init__(self, optimizer: keras.optimizers.Optimizer) -> None:
        if not optimizer.built:
            raise ValueError("Hypers needs a built optimizer; call optimizer.build(vars) first.")
        self.optimizer = optimizer
        self._lr = optimizer._learning_rate  # Keras' own variable
        self.mom_attr = MOMENTUM_ATTRS.get(type(optimizer).__name__)
        if type(optimizer).__name__ == "SGD" and not isinstance(optimizer, SGD):
            self.mom_attr = None  # a stock-SGD subclass bakes momentum in at trace time
        self._mom: tf.Variable | None = None
        if self.mom_attr is not None:
            current = getattr(optimizer, self.mom_attr)
            if isinstance(optimizer, SGD) and not optimizer._uses_momentum:
                self.mom_attr = None
            else:
                self._mom = tf.Variable(float(current), trainable=False, dtype=tf.float32,
                                        name="tflearner_mom")
                setattr(optimizer, self.mom_attr, self._mom)
        wd = optimizer.weight_decay
        self._wd = tf.Variable(0.0 if wd is None else float(wd), trainable=False,
                               dtype=tf.float32, name="tflearner_wd")
        optimizer.weight_decay = self._wd
        self._pending: dict[str, float] | None = None  # set while deferred (see deferred())

    @property
    def variables(self) -> list:
        """The variables this object owns (lr lives in ``optimizer.variables``)."""
        return [v for v in (self._mom, self._wd) if v is not None]

    def _get(self, name: str, var: Any) -> float:
        if self._pending is not None and name in self._pending:
            return self._pending[name]
        return float(var.numpy())

    def _put(self, name: str, var: Any, value: float) -> None:
        if self._pending is not None:
            self._pending[name] = value
        else:
            var.assign(value)

    @property
    def lr(self) -> float:
        return self._get("lr", self._lr)

    @lr.setter
    def lr(self, value: float) -> None:
        value = _as_float("lr", value)
        if value == 0:
            raise ValueError("lr must be > 0, got 0.")
        self._put("lr", self._lr, value)

    @property
    def mom(self) -> float | None:
        return None if self._mom is None else self._get("mom", self._mom)

    @mom.setter
    def mom(self, value: float) -> None:
        if self._mom is None:
            name = type(self.optimizer).__name__
            raise ValueError(
                f"mom={value!r} cannot be set: {name} has no schedulable momentum. Use SGD with "
                "momentum > 0 (e.g. tflearner.SGD(momentum=0.9)) or an Adam-family optimizer "
                "(Adam, AdamW, Nadam, Adamax, Lion), or pass mom=None."
            )
        value = _as_float("mom", value)
        if value >= 1:
            raise ValueError(f"mom must be in [0, 1), got {value!r}.")
        self._put("mom", self._mom, value)

    @property
    def wd(self) -> float:
        return self._get("wd", self._wd)

    @wd.setter
    def wd(self, value: float) -> None:
        self._put("wd", self._wd, _as_float("wd", value))

    # ---- deferred assignment, for running several batches per compiled call ---------------
    def begin_plan(self) -> None:
        """Start collecting assignments instead of writing the variables (getters return the
        collected values); :meth:`take_row` hands them over one batch at a time."""
        self._pending = {}

    def take_row(self) -> list[float]:
        """``[lr, mom, wd]`` as planned so far (NaN: never assigned during this plan, keep the
        variable's value). The compiled step applies the row with :meth:`assign_row` just
        before the batch it was planned for."""
        pending = self._pending or {}
        return [pending.get(k, math.nan) for k in ("lr", "mom", "wd")]

    def end_plan(self) -> None:
        """Back to writing the variables directly (anything not taken is dropped)."""
        self._pending = None

    def assign_row(self, row: tf.Tensor) -> None:
        """In a compiled step: assign ``row = [lr, mom, wd]`` to the variables, skipping NaNs."""
        for i, var in enumerate((self._lr, self._mom, self._wd)):
            if var is None:
                continue
            value = tf.cast(row[i], var.dtype)
            var.assign(tf.where(tf.math.is_nan(value), tf.convert_to_tensor(var), value))

    def read(self) -> list[tf.Tensor]:
        """``[lr, mom, wd]`` as float32 tensors (mom NaN when there is none); for use inside
        a compiled step, where it reads the live variables."""
        mom = self._mom if self._mom is not None else tf.constant(float("nan"))
        return [tf.cast(tf.convert_to_tensor(v), tf.float32) for v in (self._lr, mom, self._wd)]

    def set(self, lr: float | None = None, mom: float | None = None,
            wd: float | None = None) -> None:
        """Assign any of ``lr``, ``mom``, ``wd`` that are not None."""
        if lr is not None:
            self.lr = lr
        if mom is not None:
            self.mom = mom
        if wd is not None:
            self.wd = wd

    def as_dict(self) -> dict[str, float | None]:
        return {"lr": self.lr, "mom": self.mom, "wd": self.wd}

    def __repr__(self) -> str:
        return f"Hypers(lr={self.lr:.3g}, mom={self.mom}, wd={self.wd:.3g})"
