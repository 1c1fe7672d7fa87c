"""The optimizers of a Learner: the strategy, one optimizer per layer group, mixed precision and
the per-batch hyper-parameters, built once into :class:`GroupOptimizers`.

Each layer group gets an optimizer of its own with the same configuration (the last one is the
optimizer given), built for every variable the group trains once unfrozen, so freezing and
unfreezing never meets Keras' "unknown variable" error. Under ``mixed_float16`` there is one
group and Keras' ``LossScaleOptimizer`` wraps it (one loss scale needs one optimizer).

A ``keras.optimizers.MultiOptimizer`` is read as layer groups (:func:`multi_optimizer_groups`):
one group per optimizer it holds, of the variables its map gives that optimizer, ordered by
their first variable in the model (the head, ``learn.opt``, holds the model's last one), each
trained by that optimizer itself. That is what ``model.fit`` with it applies; a number given as
a learning rate then keeps the ratios of their learning rates (``lr_ratios``,
:func:`~tflearner.schedules.spread_lr`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import keras
import tensorflow as tf

from ..core.internals import is_default_strategy, multi_optimizer_choice, variable_strategy
from ..core.precision import apply_policy, model_policy
from ..optim.accumulate import accumulation_steps
from ..optim.factory import get_optimizer
from ..optim.group_hypers import GroupHypers
from ..optim.groups import Group, check_groups, kept_trainable, trainable_capable
from ..optim.hypers import Hypers

__all__ = ["GroupOptimizers", "build_optimizers", "resolve_strategy", "check_replica_batch",
           "strategy_scope", "multi_optimizer_groups"]


def strategy_scope(strategy: tf.distribute.Strategy | None):
    """The strategy's scope (a no-op context without one)."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def _strategy_of(model: keras.Model) -> tf.distribute.Strategy | None:
    """The strategy whose scope the model's variables were created in (None: no strategy)."""
    for v in model.variables:
        strategy = variable_strategy(v)
        if strategy is not None:
            return strategy
    return None


def resolve_strategy(model: keras.Model, strategy: Any) -> tf.distribute.Strategy | None:
    """``strategy``, or the one the model was built under; refuses a mismatch."""
    if strategy is not None and not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(f"strategy must be a tf.distribute.Strategy, got "
                        f"{type(strategy).__name__}: {strategy!r}; build the model inside "
                        "`with tf.distribute.MirroredStrategy().scope():` and pass that "
                        "strategy object, or None (the Learner finds it from the model).")
    if strategy is not None and is_default_strategy(strategy):
        strategy = None
    built_under = _strategy_of(model) if getattr(model, "variables", None) else None
    if strategy is None:
        return built_under
    if built_under is None:
        raise ValueError(
            f"strategy={type(strategy).__name__} was given, but the model's variables were not "
            "created under it. Build the model inside `with strategy.scope():` and pass it "
            "to the Learner (the Learner then finds the strategy itself).")
    if built_under is not strategy:
        raise ValueError(
            f"strategy={type(strategy).__name__} does not match the strategy the model's "
            f"variables were created under ({type(built_under).__name__}); pass that one, or "
            "build the model under this strategy's scope.")
    return strategy


def check_replica_batch(data: Any, strategy: tf.distribute.Strategy | None) -> None:
    """Refuse a global batch the strategy's replicas cannot share evenly."""
    if strategy is None:
        return
    n, bs = strategy.num_replicas_in_sync, data.batch_size
    if bs is not None and bs % n:
        raise ValueError(
            f"data has batch_size={bs}, which {n} replicas cannot share evenly; the "
            f"global batch is split across replicas, so use a multiple of {n} (e.g. "
            f"{bs - bs % n or n} or {bs + n - bs % n}).")


@dataclass(frozen=True)
class GroupOptimizers:
    """The optimizers of every layer group (``opts``; ``opt`` is the last), the ``groups`` and
    the variables each trains once unfrozen (``group_variables``), their ``hypers``, the
    model's mixed-precision ``precision`` and ``accumulation`` (micro-batches per update);
    ``lr_ratios``: each group's LR over the head's as a ``MultiOptimizer`` set them (None for
    groups from a splitter, where a number means the same LR for every group)."""

    opt: keras.optimizers.Optimizer
    opts: tuple
    groups: list[Group]
    group_variables: tuple
    hypers: GroupHypers
    precision: str
    accumulation: int
    lr_ratios: tuple | None = None


def _multi_choice(multi: Any, variable: Any) -> Any:
    """The optimizer ``multi`` gives ``variable``, refused as ``MultiOptimizer.build`` refuses
    it (the Keras wording, with the argument named)."""
    opt = multi_optimizer_choice(multi, variable)
    if not isinstance(opt, keras.optimizers.Optimizer):
        raise TypeError(f"opt (a MultiOptimizer) gives variable {variable.path!r} "
                        f"{type(opt).__name__} {opt!r}, not a keras Optimizer instance.")
    if isinstance(opt, (keras.optimizers.LossScaleOptimizer, keras.optimizers.MultiOptimizer)):
        raise ValueError(f"opt (a MultiOptimizer) gives variable {variable.path!r} a "
                         f"{type(opt).__name__}; Keras refuses that inside a MultiOptimizer.")
    return opt


def multi_optimizer_groups(model: keras.Model, multi: Any, splitter: Any
                           ) -> tuple[list[list], list]:
    """A ``keras.optimizers.MultiOptimizer`` as ``(groups, optimizers)``: one group per
    optimizer its map gives some variable the model trains (every layer unfrozen), in model
    order of their first variable, each group a list of variables."""
    if splitter is not None:
        raise ValueError(
            "opt is a keras.optimizers.MultiOptimizer, which already assigns the variables to "
            "optimizers; pass either it or splitter= (layer groups, each with a copy of one "
            "optimizer, their LRs set with lr=slice(...)), not both.")
    if multi.built:
        raise ValueError("opt is a MultiOptimizer that is already built (it holds state for "
                         "other variables); pass a fresh one.")
    with kept_trainable(model):
        model.trainable = True
        variables = list(model.trainable_variables)
    order: list = []
    members: dict[int, list] = {}
    for v in variables:
        opt = _multi_choice(multi, v)
        if id(opt) not in members:
            order.append(opt)
            members[id(opt)] = []
        members[id(opt)].append(v)
    if not order:
        raise ValueError("the model has no trainable variables for the MultiOptimizer.")
    return [members[id(o)] for o in order], order


def _check_loss_scale_factor(opts: list) -> None:
    """Refuse a fixed ``loss_scale_factor``: Keras' step multiplies the loss by it in
    ``model.fit`` and the optimizer divides the gradients by it; tflearner's step does not
    scale the loss, so the gradients would come out divided."""
    for o in opts:
        factor = getattr(o, "loss_scale_factor", None)
        if factor is not None and not isinstance(o, keras.optimizers.LossScaleOptimizer):
            raise ValueError(
                f"opt has loss_scale_factor={factor!r} ({type(o).__name__}); the Learner does "
                "not scale the loss by a fixed factor. Leave it None and use "
                "mixed_precision='mixed_float16' (a dynamic loss scale) where float16 needs one.")


def _one_group(model: keras.Model) -> list[list]:
    """Every layer in one group (the default under float16, which needs one loss scale)."""
    return [[layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]]


def _in_scope(opt: keras.optimizers.Optimizer, strategy: tf.distribute.Strategy | None) -> Any:
    """``opt``, or a copy made from its config when it was built outside the strategy's scope
    (Keras optimizers bind the strategy current at construction, ``iterations`` included)."""
    if strategy is None or strategy.extended.variable_created_in_scope(opt.iterations.value):
        return opt
    return type(opt).from_config(opt.get_config())


def _check_one_group_needed(opts: list, precision: str, n_groups: int) -> int:
    """The accumulation steps; refuses several groups with accumulation or float16."""
    k = max(accumulation_steps(o) for o in opts)
    if k > 1 and n_groups > 1:
        raise ValueError(
            f"opt has gradient_accumulation_steps={k}, but the model has "
            f"{n_groups} layer groups (one optimizer each, whose accumulation "
            "phases drift apart when a group is frozen); use one group "
            "(splitter=lambda m: [m.layers]) or no accumulation.")
    if precision == "mixed_float16" and n_groups > 1:
        raise ValueError(
            f"mixed_precision='mixed_float16' needs one loss scale, but the model has "
            f"{n_groups} layer groups (one optimizer each); use "
            "'mixed_bfloat16' (no loss scaling), or splitter=lambda m: [m.layers] "
            "for one group.")
    return k


def _resolve(model: keras.Model, opt: Any, lr: float | None, splitter: Any,
             strategy: tf.distribute.Strategy | None) -> tuple[Any, list | None, Any]:
    """``(opt, inner, splitter)``: the optimizer given, and for a ``MultiOptimizer`` the
    optimizers it holds (one per group) with the splitter of their variables."""
    if not isinstance(opt, keras.optimizers.MultiOptimizer):
        return _in_scope(get_optimizer(opt, 1e-3 if lr is None else lr), strategy), None, splitter
    raw, inner = multi_optimizer_groups(model, opt, splitter)
    inner = [_in_scope(get_optimizer(o), strategy) for o in inner]
    return inner[-1], inner, lambda m: raw


def build_optimizers(model: keras.Model, opt: Any, lr: float | None,
                     strategy: tf.distribute.Strategy | None, mixed_precision: str | None,
                     splitter: Any) -> GroupOptimizers:
    """One optimizer per layer group from ``opt`` (an instance, class or name; see
    :func:`~tflearner.optim.factory.get_optimizer`; a ``MultiOptimizer``: its own, see the
    module doc), inside the strategy's scope; applies ``mixed_precision`` to the model first
    (None keeps its policy)."""
    with strategy_scope(strategy):
        opt, inner, splitter = _resolve(model, opt, lr, splitter, strategy)
        _check_loss_scale_factor([opt] if inner is None else inner)
        if mixed_precision is not None:
            apply_policy(model, mixed_precision)
        precision = model_policy(model)
        if splitter is None and precision == "mixed_float16":
            splitter = _one_group
        groups = check_groups(model, splitter)
        group_vars = trainable_capable(model, groups)
        k = _check_one_group_needed(inner or [opt], precision, len(groups))
        if precision == "mixed_float16":
            opt = keras.optimizers.LossScaleOptimizer(opt)
            inner = None if inner is None else [opt]
        opts = inner or [*(type(opt).from_config(opt.get_config()) for _ in groups[1:]), opt]
        for o, variables in zip(opts, group_vars, strict=True):
            o.build(variables)  # every variable the group trains once unfrozen
        hypers = GroupHypers([Hypers(getattr(o, "inner_optimizer", o)) for o in opts])
    ratios = None if inner is None else tuple(float(r) for r in hypers.ratios)
    return GroupOptimizers(opt=opt, opts=tuple(opts), groups=groups,
                           group_variables=tuple(tuple(v) for v in group_vars), hypers=hypers,
                           precision=precision, accumulation=k, lr_ratios=ratios)
