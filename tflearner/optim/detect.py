"""What a Keras optimizer lets the loop change per batch: its LR variable and its momentum.

Detection is by type, never by class name: subclasses of the optimizers below behave as their
base, and a ``keras.optimizers.LossScaleOptimizer`` is looked through to its
``inner_optimizer``. :func:`momentum_of` is the one momentum rule, used by
:class:`~tflearner.optim.hypers.Hypers` (the Learner) and by
:class:`~tflearner.keras_fit.one_cycle.OneCycleCallback` (``model.fit``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import keras

from .sgd import SGD

__all__ = ["BETA_1_OPTIMIZERS", "NORMALIZED_OPTIMIZERS", "SCHEDULE_FREE_OPTIMIZERS", "Momentum",
           "is_normalized", "is_schedule_free", "learning_rate_problem",
           "learning_rate_variable", "momentum_of", "unwrap"]

#: Optimizers whose ``update_step`` reads ``self.beta_1`` on every step (checked in
#: ``tests/test_optim.py``), so a variable put there after ``build`` is honoured without a
#: retrace. Subclasses count too.
BETA_1_OPTIMIZERS: tuple[type, ...] = tuple(
    getattr(keras.optimizers, name) for name in ("Adam", "AdamW", "Nadam", "Adamax", "Lion", "Lamb")
    if hasattr(keras.optimizers, name))  # Lamb only where this Keras has it

#: Optimizers whose step does not scale with the gradient (it is divided by a running RMS, or
#: is a sign or an orthogonalized matrix): the best LR of a longer fit is lower for them.
#: Subclasses count too; SGD (the step scales with the gradient) and Adagrad (its accumulator
#: anneals the step by itself) are not among them.
NORMALIZED_OPTIMIZERS: tuple[type, ...] = tuple(
    getattr(keras.optimizers, name) for name in (
        "Adam", "AdamW", "Nadam", "Adamax", "Lion", "Lamb", "RMSprop", "Muon", "Adafactor",
        "ScheduleFreeAdamW") if hasattr(keras.optimizers, name))

#: Schedule-free optimizers (Defazio et al. 2024): their variables hold the training point ``y``
#: and the point to evaluate is an average ``x`` (:mod:`tflearner.optim.schedule_free`). Keras
#: names them ``ScheduleFree*``; those this Keras has. Subclasses count too.
SCHEDULE_FREE_OPTIMIZERS: tuple[type, ...] = tuple(
    getattr(keras.optimizers, name) for name in (
        "ScheduleFreeAdamW", "ScheduleFreeSGD", "ScheduleFreeRAdam")
    if hasattr(keras.optimizers, name))

#: Why a schedule-free optimizer's ``beta_1`` is never scheduled (``fit_one_cycle``'s warning,
#: ``hypers.mom = ...``'s error); ``{name}`` is the class.
SCHEDULE_FREE_MOMENTUM = (
    "{name}'s beta_1 is not a momentum tflearner schedules: it sets where the training point y "
    "lies between the base sequence z and the averaged point x (x = (y - (1 - beta_1) z) / "
    "beta_1), so changing it during training would break x. A one-cycle fit therefore "
    "schedules the learning rate only (its warm-up and annealing, on top of the optimizer's "
    "own warmup_steps), which schedule-free training does not need: learn.fit(epochs, lr) at a "
    "constant learning rate is its natural schedule (docs/schedule_free.md). Pass moms=None to "
    "schedule the learning rate without this warning.")

_CYCLABLE = ("tflearner.SGD(momentum=...) or an Adam-family optimizer ("
             + ", ".join(c.__name__ for c in BETA_1_OPTIMIZERS) + ", or a subclass)")


def unwrap(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """The optimizer that updates the weights: ``LossScaleOptimizer.inner_optimizer``, followed
    through any nesting; any other optimizer itself."""
    while isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    return optimizer


@dataclass(frozen=True)
class Momentum:
    """How an optimizer's momentum can be cycled.

    ``optimizer``: the unwrapped optimizer (see :func:`unwrap`) whose attribute is replaced.
    ``attr``: ``"momentum"`` (:class:`tflearner.SGD`), ``"beta_1"`` (:data:`BETA_1_OPTIMIZERS`),
    or None when it cannot be cycled. ``problem``: when ``attr`` is None but the optimizer has a
    momentum term, the warning to give if a momentum schedule is asked for (it names the class
    and the fix); None when there is simply no momentum term (e.g. SGD with momentum 0).
    """

    optimizer: keras.optimizers.Optimizer
    attr: str | None
    problem: str | None = None


def _value(x: Any) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def momentum_of(optimizer: keras.optimizers.Optimizer) -> Momentum:
    """The momentum attribute a compiled step reads per step, by type (see :class:`Momentum`).

    * :data:`SCHEDULE_FREE_OPTIMIZERS`: never (``beta_1`` places ``y`` between ``z`` and ``x``),
      with :data:`SCHEDULE_FREE_MOMENTUM` as the ``problem``.
    * :class:`tflearner.SGD` (and subclasses): ``momentum``, unless it has no momentum slots
      (momentum 0 at build time, or now if unbuilt): then no momentum term.
    * :data:`BETA_1_OPTIMIZERS` (and subclasses): ``beta_1``.
    * anything else with ``momentum`` > 0 or a ``beta_1`` (a stock ``keras.optimizers.SGD``
      or a subclass of it, which bake momentum in at trace time; RMSprop; Muon; custom
      optimizers): cannot be cycled, with a ``problem`` that says so.
    * otherwise: no momentum term.
    """
    opt = unwrap(optimizer)
    name = type(opt).__name__
    if isinstance(opt, SCHEDULE_FREE_OPTIMIZERS):
        return Momentum(opt, None, SCHEDULE_FREE_MOMENTUM.format(name=name))
    if isinstance(opt, SGD):
        has = opt.uses_momentum if opt.built else bool(_value(opt.momentum))
        return Momentum(opt, "momentum" if has else None)
    if isinstance(opt, BETA_1_OPTIMIZERS):
        return Momentum(opt, "beta_1")
    momentum = _value(getattr(opt, "momentum", None))
    if isinstance(opt, keras.optimizers.SGD):
        if not momentum:
            return Momentum(opt, None)
        fix = ("Use tflearner.SGD(momentum=...) instead" if type(opt) is keras.optimizers.SGD
               else f"Derive {name} from tflearner.SGD instead of keras.optimizers.SGD")
        return Momentum(opt, None, (
            f"{name}(momentum={momentum:g}) cannot have its momentum cycled: "
            "keras.optimizers.SGD reads momentum as a Python float when the step is traced, so "
            f"later changes do nothing. {fix} (a drop-in subclass of keras.optimizers.SGD with "
            "the same update, whose momentum can change per step), or pass moms=None to cycle "
            "the learning rate only."))
    for attr, value in (("momentum", momentum), ("beta_1", getattr(opt, "beta_1", None))):
        if value is None or (attr == "momentum" and not value):
            continue
        return Momentum(opt, None, (
            f"{name}({attr}={value!r}) cannot have its {attr} cycled: tflearner does not know "
            f"that {name}'s update reads {attr} on every step, so it schedules the learning "
            f"rate only. Use {_CYCLABLE}, or pass moms=None to cycle the learning rate only."))
    return Momentum(opt, None)


def learning_rate_variable(optimizer: keras.optimizers.Optimizer) -> keras.Variable | None:
    """The variable the (unwrapped) optimizer reads its learning rate from, or None when it
    takes it from a ``LearningRateSchedule`` or a callable.

    Public API: ``optimizer.learning_rate`` is that ``keras.Variable`` for a float learning
    rate, and the schedule's (or callable's) current value otherwise.
    """
    lr = unwrap(optimizer).learning_rate
    return lr if isinstance(lr, keras.Variable) else None


def learning_rate_problem(optimizer: keras.optimizers.Optimizer) -> str | None:
    """None when the loop can own the optimizer's LR (see :func:`learning_rate_variable`);
    otherwise what it takes the LR from, e.g. ``"ExponentialDecay (a LearningRateSchedule)"``
    (from ``get_config()["learning_rate"]``, a serialized object for schedules)."""
    if learning_rate_variable(optimizer) is not None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras warns when it serializes a lambda
            config = unwrap(optimizer).get_config().get("learning_rate")
    except Exception:  # noqa: BLE001 - e.g. a schedule without get_config
        return "a LearningRateSchedule or a callable"
    if isinstance(config, dict) and config.get("class_name") not in (None, "function",
                                                                     "__lambda__"):
        return f"{config['class_name']} (a LearningRateSchedule)"
    return "a callable"



def is_normalized(optimizer: keras.optimizers.Optimizer) -> bool:
    """Whether ``optimizer`` (looked through a ``LossScaleOptimizer``) is one of the
    :data:`NORMALIZED_OPTIMIZERS` (or a subclass)."""
    return isinstance(unwrap(optimizer), NORMALIZED_OPTIMIZERS)


def is_schedule_free(optimizer: Any) -> bool:
    """Whether ``optimizer`` (looked through a ``LossScaleOptimizer``) is one of
    :data:`SCHEDULE_FREE_OPTIMIZERS` (or a subclass)."""
    return isinstance(optimizer, keras.optimizers.Optimizer) and isinstance(
        unwrap(optimizer), SCHEDULE_FREE_OPTIMIZERS)
