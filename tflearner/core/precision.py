"""Mixed precision: Keras 3 dtype policies on a built model, loss scaling for float16.

``mixed_float16`` / ``mixed_bfloat16`` keep variables in float32 and compute in the lower
precision. tflearner applies the policy to every layer of an already-built model except the
output layer, which stays float32 (Keras' advice: the final softmax and the loss in float32).
float16 also needs loss scaling: the optimizer is wrapped in ``keras.optimizers.
LossScaleOptimizer`` (dynamic scale; ``scale_loss`` before the gradient, unscaling and the
skip-on-overflow inside ``apply``); the per-batch LR / momentum variables stay on the *inner*
optimizer, which is the one that updates the weights.
"""

from __future__ import annotations

from typing import Any

import keras

from .checks import check_choice

__all__ = ["POLICIES", "check_policy", "model_policy", "apply_policy"]

#: Policies the Learner accepts (None: keep the model's own).
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def check_policy(value: Any) -> str | None:
    """``value`` (the Learner's ``mixed_precision``) if it is None or one of :data:`POLICIES`;
    TypeError for a non-string, ValueError for an unknown name."""
    return check_choice("mixed_precision", value, POLICIES, allow_none=True,
                        fix="None keeps the model's own policy; pass e.g. 'mixed_float16' on "
                        "a GPU or 'mixed_bfloat16' on a TPU.")


def _layers(model: keras.Model) -> list:
    out = []
    for layer in getattr(model, "layers", []):
        out.append(layer)
        if hasattr(layer, "layers"):
            out += _layers(layer)
    return out


def model_policy(model: keras.Model) -> str:
    """The model's policy: ``mixed_float16`` if any layer computes in float16, else
    ``mixed_bfloat16`` if any computes in bfloat16, else ``float32``."""
    names = {getattr(getattr(layer, "dtype_policy", None), "name", "float32")
             for layer in _layers(model)}
    for name in ("mixed_float16", "mixed_bfloat16"):
        if name in names:
            return name
    return "float32"


def apply_policy(model: keras.Model, policy: str) -> None:
    """Set ``policy`` on every layer of the built ``model`` but the output layer (float32)."""
    layers = [layer for layer in _layers(model) if not hasattr(layer, "layers")]
    for layer in layers[:-1]:
        layer.dtype_policy = policy
    if layers:
        layers[-1].dtype_policy = "float32"
