"""Hyper-parameters the training loop sets every batch, held in variables.

Keras 3 reads most hyper-parameters as Python floats at trace time, so changing them after the
first step silently does nothing. :class:`Hypers` moves learning rate, momentum (SGD) /
``beta_1`` (Adam family) and weight decay into variables that a compiled step reads on every
call; assigning them never retraces.

* learning rate: Keras' own ``optimizer.learning_rate`` variable.
* momentum: the attribute :func:`~tflearner.optim.detect.momentum_of` finds by type:
  :class:`~tflearner.optim.sgd.SGD` reads ``self.momentum`` on every step; Adam, AdamW, Nadam,
  Adamax, Lion and Lamb (and their subclasses) read ``self.beta_1``; :func:`install_variable`
  puts a variable there after ``build``.
* weight decay: ``optimizer.weight_decay`` is read as ``w -= lr * wd * w`` (decoupled) on every
  step; a variable is put there (0 when the optimizer had none).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from ..core.checks import check_positive, check_real
from .detect import learning_rate_problem, learning_rate_variable, momentum_of, unwrap

__all__ = ["Hypers", "install_variable"]


def install_variable(optimizer: Any, attr: str, name: str) -> tf.Variable:
    """The variable a compiled step reads ``optimizer.<attr>`` from on every step: the one
    already there, or a new float32 variable holding the attribute's value (0 for None), put
    there. The one way tflearner makes a float hyper-parameter of an optimizer schedulable."""
    current = getattr(optimizer, attr)
    if isinstance(current, tf.Variable):
        return current
    var = tf.Variable(0.0 if current is None else float(current), trainable=False,
                      dtype=tf.float32, name=name)
    setattr(optimizer, attr, var)
    return var


class Hypers:
    """The per-batch hyper-parameters of one optimizer, held in variables.

    ``hypers.lr``, ``hypers.mom`` and ``hypers.wd`` read the live values; assigning them (or
    :meth:`set`) writes the variables the compiled step reads, so no retrace happens. ``mom`` is
    ``None`` for optimizers without a momentum term (and for SGD built with momentum 0, which has
    no momentum slots), and for those whose momentum cannot be cycled: then ``mom_problem``
    says why and what to do (the warning to give when a momentum schedule is asked for).

    A ``keras.optimizers.LossScaleOptimizer`` is looked through: the variables go on its
    ``inner_optimizer``, which is ``hypers.optimizer``.
    """

    def __init__(self, optimizer: keras.optimizers.Optimizer) -> None:
        if not optimizer.built:
            raise ValueError("Hypers needs a built optimizer; call optimizer.build(vars) first.")
        optimizer = unwrap(optimizer)
        self.optimizer = optimizer
        lr = learning_rate_variable(optimizer)  # Keras' own variable
        if lr is None:
            raise ValueError(f"Hypers needs an optimizer with a float learning_rate; "
                             f"{type(optimizer).__name__} takes it from "
                             f"{learning_rate_problem(optimizer)}.")
        self._lr = lr
        found = momentum_of(optimizer)
        self.mom_attr: str | None = found.attr
        self.mom_problem: str | None = found.problem
        self._mom = (None if self.mom_attr is None
                     else install_variable(optimizer, self.mom_attr, "tflearner_mom"))
        self._wd = install_variable(optimizer, "weight_decay", "tflearner_wd")

    @property
    def variables(self) -> list:
        """The variables this object owns (lr lives in ``optimizer.variables``)."""
        return [v for v in (self._mom, self._wd) if v is not None]

    def targets(self) -> tuple[Any, Any, Any]:
        """The ``(lr, mom, wd)`` variables a plan row is assigned to (mom None: none)."""
        return self._lr, self._mom, self._wd

    @property
    def lr(self) -> float:
        return float(self._lr.numpy())

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr.assign(check_positive("lr", value, fix="e.g. lr=1e-3."))

    @property
    def mom(self) -> float | None:
        return None if self._mom is None else float(self._mom.numpy())

    @mom.setter
    def mom(self, value: float) -> None:
        self.require_mom(value)
        self._mom.assign(check_real("mom", value, 0.0, 1.0, high_open=True, fix="e.g. mom=0.9."))

    def require_mom(self, value: Any = None) -> None:
        """Raise the ``ValueError`` that says why ``mom`` cannot be set, if it cannot."""
        if self._mom is None:
            name = type(self.optimizer).__name__
            raise ValueError(self.mom_problem or (
                f"mom={value!r} cannot be set: {name} has no schedulable momentum. Use SGD with "
                "momentum > 0 (e.g. tflearner.SGD(momentum=0.9)) or an Adam-family optimizer "
                "(Adam, AdamW, Nadam, Adamax, Lion, Lamb), or pass mom=None."))

    @property
    def wd(self) -> float:
        return float(self._wd.numpy())

    @wd.setter
    def wd(self, value: float) -> None:
        self._wd.assign(check_real("wd", value, 0.0, fix="e.g. wd=1e-2, or 0."))

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
