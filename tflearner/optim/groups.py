"""Layer groups (fastai's ``splitter``): the variables each group's optimizer trains; freezing.

A *splitter* maps a model to an ordered list of groups, each a list of layers or variables; the
first group is the one closest to the input (a pretrained backbone), the last the head.
:func:`default_splitter` splits a model that names its backbone (a KerasHub task, LoRA
included) or whose first layer with variables is itself a ``keras.Model`` (the
``keras.applications`` pattern) into ``[backbone, rest]``, and anything else into one group.
:func:`check_groups` turns a splitter's answer into variable lists and refuses overlaps, missed
trainable variables and non-layers. One learning rate per group (``lr=slice(...)``) is
:func:`tflearner.schedules.group_lrs`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.checks import fail

__all__ = ["Group", "default_splitter", "check_groups", "trainable_capable", "set_trainable",
           "kept_trainable"]


@dataclass(frozen=True)
class Group:
    """One layer group: a display ``name``, its ``layers`` and its ``variables``."""

    name: str
    layers: tuple
    variables: tuple

    def __repr__(self) -> str:
        n_train = sum(1 for v in self.variables if v.trainable)
        size = sum(int(np.prod(v.shape)) for v in self.variables)
        return (f"Group({self.name!r}, layers={len(self.layers)}, variables={len(self.variables)}"
                f" ({n_train} trainable), params={size:,})")


def default_splitter(model: Any) -> list[list]:
    """``[backbone, rest]`` for a KerasHub task (``model.backbone``; a LoRA backbone as its
    LoRA-trainable variables, see :func:`_task_split`) or when the model's first layer with
    weights is a ``keras.Model`` (a pretrained backbone, possibly after weightless preprocessing
    layers, which join it: random augmentation layers count as weightless, their seed-generator
    state is not a weight); else ``[all layers]``."""
    import keras

    task = _task_split(model)
    if task is not None:
        return task
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    for i, layer in enumerate(layers):
        if layer.weights:  # not .variables: those include RandomFlip's seed state
            if isinstance(layer, keras.Model) and i + 1 < len(layers):
                return [layers[:i + 1], layers[i + 1:]]
            break
    return [layers]


def _task_split(model: Any) -> list[list] | None:
    """``[backbone, head]`` for a model that names its backbone (a KerasHub task:
    ``model.backbone`` is one of its layers), else None. Layers before the backbone join it
    (None if one of them has trainable variables: not a backbone-first model); the head is every
    layer after it.

    A backbone with LoRA (``backbone.enable_lora(rank)``; Keras names the factors ``lora_*``)
    joins as the variables that train under LoRA: the factors and whatever else in it is
    trainable when the Learner is built (KerasHub leaves the biases of the layers it wraps
    trainable). Freezing and unfreezing it then toggles only those; the weights LoRA froze
    stay frozen."""
    import keras

    backbone = getattr(model, "backbone", None)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    at = [i for i, layer in enumerate(layers) if layer is backbone]
    if not isinstance(backbone, keras.Model) or not at:
        return None
    before, head = layers[:at[0]], layers[at[0] + 1:]
    if not head or any(layer.trainable_variables for layer in before):
        return None
    if any(v.name.startswith("lora_") for v in backbone.variables):
        lora = [v for v in backbone.variables if v.trainable or v.name.startswith("lora_")]
        return [before + lora, head]
    return [before + [backbone], head]


def _variables_of(item: Any, where: str) -> tuple[str, list]:
    import keras

    if isinstance(item, keras.layers.Layer):
        return item.name, list(item.variables)
    if isinstance(item, keras.Variable):
        return item.path, [item]
    raise fail(where, "a keras Layer or Variable", item, "a splitter returns a list of groups, "
               "each a list of layers (or variables).", error=TypeError, with_type=True)


def check_groups(model: Any, splitter: Callable[[Any], Sequence] | None) -> list[Group]:
    """The groups ``splitter(model)`` describes, checked: a non-empty list of non-empty groups
    of layers / variables, no variable in two groups, every trainable variable of the model in
    one group (non-trainable ones may be left out)."""
    raw = (splitter or default_splitter)(model)
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
        raise fail("splitter(model)", "a list of groups", raw,
                   "return e.g. [backbone.layers, head_layers].", error=TypeError,
                   with_type=True)
    if len(raw) == 0:
        raise fail("splitter(model)", "a non-empty list of groups", raw,
                   "return e.g. [backbone.layers, head_layers].")
    groups, owner = [], {}
    for g, items in enumerate(raw):
        if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
            items = [items]
        if len(items) == 0:
            raise fail(f"splitter(model)[{g}]", "a non-empty group", items,
                       "drop the empty group.")
        names, variables = [], []
        for i, item in enumerate(items):
            name, vs = _variables_of(item, f"splitter(model)[{g}][{i}]")
            names.append(name)
            for v in vs:
                key = id(v)
                if key in owner and owner[key] != g:
                    raise ValueError(f"splitter(model) puts variable {v.path!r} in groups "
                                     f"{owner[key]} and {g}; each variable belongs to one "
                                     "group.")
                if key not in owner:
                    owner[key] = g
                    variables.append(v)
        label = names[0] if len(names) == 1 else f"{names[0]}..{names[-1]}"
        groups.append(Group(label, tuple(items), tuple(variables)))
    missed = [v.path for v in model.trainable_variables if id(v) not in owner]
    if missed:
        raise ValueError(f"splitter(model) leaves {len(missed)} trainable variable(s) out of "
                         f"every group, e.g. {missed[:3]}; every trainable variable must be in "
                         "one group.")
    return groups


def _all_layers(layer: Any) -> list:
    """``layer`` and every layer nested in it, parents before children."""
    out = [layer]
    for sub in getattr(layer, "layers", None) or []:
        out += _all_layers(sub)
    return out


def _leaf_layers(items: Sequence) -> list:
    import keras

    out = []
    for item in items:
        if isinstance(item, keras.layers.Layer):
            out += [la for la in _all_layers(item) if not getattr(la, "layers", None)]
    return out


def _parent_layers(items: Sequence) -> list:
    """The layers in ``items`` (and nested in them) that hold other layers, parents first."""
    import keras

    out = []
    for item in items:
        if isinstance(item, keras.layers.Layer):
            out += [la for la in _all_layers(item) if getattr(la, "layers", None)]
    return out


def trainable_capable(model: Any, groups: Sequence[Group]) -> list[list]:
    """Per group, the variables that are trainable once every layer is unfrozen (what each
    group's optimizer is built for): a layer frozen the Keras way (``backbone.trainable =
    False`` before the Learner was built) counts as unfrozen; a variable made non-trainable by
    itself (LoRA's frozen kernels) does not. Every trainable flag is put back as it was."""
    import keras

    with kept_trainable(model):
        # Each frozen layer is unfrozen by itself: Keras skips an assignment of the value an
        # attribute already holds, so `model.trainable = True` on a trainable model does not
        # reach a frozen backbone inside it.
        for layer in _all_layers(model):
            if not layer.trainable:
                layer.trainable = True
        for g in groups:
            for item in g.layers:
                if not isinstance(item, keras.layers.Layer):
                    item.trainable = True  # a variable given directly
        return [[v for v in g.variables if v.trainable] for g in groups]


@contextlib.contextmanager
def kept_trainable(model: Any, on_error_only: bool = False) -> Iterator[None]:
    """Every layer's and variable's ``trainable`` flag of ``model`` put back as it was when
    the block ends (also after an exception); ``on_error_only``: only when an exception ends
    it (a verb that freezes as it goes leaves the flags as they were if it fails)."""
    layer_flags = [(layer, layer.trainable) for layer in _all_layers(model)]
    var_flags = [(v, v.trainable) for v in model.variables]

    def restore() -> None:
        for layer, flag in layer_flags:  # parents first: a parent's setter resets its children
            layer.trainable = flag
        for v, flag in var_flags:
            v.trainable = flag

    try:
        yield
    except BaseException:
        restore()
        raise
    if not on_error_only:
        restore()


def set_trainable(groups: Sequence[Group], n_frozen: int, train_bn: bool) -> None:
    """Freeze groups ``0 .. n_frozen - 1`` and unfreeze the rest. In a frozen group,
    BatchNormalization layers stay trainable when ``train_bn`` (fastai's default: their scale
    and shift train, and they normalise with batch statistics) and are frozen otherwise (Keras'
    transfer-learning guide: inference mode, moving statistics fixed)."""
    import keras

    for g, group in enumerate(groups):
        frozen = g < n_frozen
        for layer in _parent_layers(group.layers):  # e.g. a backbone's own flag, kept in step
            layer.trainable = not frozen
        for layer in _leaf_layers(group.layers):
            is_bn = isinstance(layer, keras.layers.BatchNormalization)
            layer.trainable = (not frozen) or (is_bn and train_bn)
        for item in group.layers:
            if isinstance(item, keras.Variable):
                item.trainable = not frozen
