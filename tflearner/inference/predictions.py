"""The Learner's reading verbs: ``validate``, ``get_preds``, ``show_results`` and ``tta``.

They read the validation / test pipelines (which never shuffle) or datasets made from raw items,
never ``data.train``, so no training state moves. Each takes the Learner through
:class:`PredictHandle` and runs the model with the Learner's
:class:`~tflearner.loop.runner.Runner` (its compiled predict and eval steps).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import tensorflow as tf

from ..core.checks import check_bool, check_int, check_real
from ..data.show import check_images
from .interpret import fetch_inputs
from .interpret import show_results as draw_results
from .outputs import assemble
from .tta import tta_mix, tta_passes

__all__ = ["PredictHandle", "validation_dataset", "preds_dataset", "get_preds", "show_results",
           "tta"]


class PredictHandle(Protocol):
    """What the reading verbs need of a Learner."""

    model: Any
    data: Any
    runner: Any
    inference: Any
    multi_output: bool
    activation: str | None
    loss_fn: Any
    averaging: Any
    task: str
    threshold: float


def validation_dataset(learn: PredictHandle, ds: tf.data.Dataset | None) -> tf.data.Dataset:
    """``ds`` checked against the training data, or the validation set for None."""
    if ds is None:
        ds = learn.data.valid
        if ds is None:
            raise ValueError("ds is None and the data has no validation set; pass a dataset "
                             "such as learn.data.test.")
    elif not isinstance(ds, tf.data.Dataset):
        raise TypeError(f"ds must be a tf.data.Dataset of (x, y) batches, got "
                        f"{type(ds).__name__}; for arrays pass learn.data.test_dl(x, "
                        "labels=y), or None for the validation set.")
    learn.runner.check_dataset("ds", ds)
    return ds


def preds_dataset(learn: PredictHandle, ds: Any = None) -> tf.data.Dataset:
    """See :meth:`Learner.preds_dataset <tflearner.Learner.preds_dataset>`."""
    if ds is None or isinstance(ds, str) and ds in ("valid", "test"):
        name = ds or "valid"
        split = getattr(learn.data, name)
        if split is None:
            raise ValueError(f"ds={ds!r}: the data has no {name} set; pass a dataset, or "
                             "raw items (an array, image paths).")
        return split
    if isinstance(ds, tf.data.Dataset):
        learn.runner.check_dataset("ds", ds, with_y=learn.runner.labelled(ds.element_spec))
        return ds
    if learn.inference is None:
        raise TypeError(f"ds must be a tf.data.Dataset of model-ready batches for a model "
                        f"with several inputs or outputs, got {type(ds).__name__}; build "
                        "one with tf.data.Dataset.from_tensor_slices((x, y)).batch(64).")
    return learn.data.test_dl(ds)


def get_preds(learn: PredictHandle, ds: Any = None, with_input: bool = False,
              with_loss: bool = False, with_decoded: bool = False) -> tuple:
    """See :meth:`Learner.get_preds <tflearner.Learner.get_preds>`."""
    for name, v in (("with_input", with_input), ("with_loss", with_loss),
                    ("with_decoded", with_decoded)):
        check_bool(name, v)
    dataset = preds_dataset(learn, ds)
    if with_loss and not learn.runner.labelled(dataset.element_spec):
        raise ValueError("with_loss=True needs (x, y) batches, but ds yields inputs only; "
                         "pass labels, e.g. learn.data.test_dl(items, labels=...).")
    if learn.multi_output and (with_loss or with_decoded):
        raise ValueError("with_loss / with_decoded need one output; this model has "
                         f"{len(learn.model.outputs)}: get_preds returns each output as "
                         "the model gives it.")
    with learn.averaging.reading():
        out, y, x = learn.runner.gather(dataset, inputs=with_input)
    if learn.multi_output:
        return (x, out, y) if with_input else (out, y)
    return assemble(out, y, x, task=learn.task, activation=learn.activation,
                    loss_fn=learn.loss_fn, with_input=with_input, with_loss=with_loss,
                    with_decoded=with_decoded, threshold=learn.threshold)


def show_results(learn: PredictHandle, n: int = 9, ds: Any = None, shuffle: bool = True,
                 seed: int = 0, ncols: int | None = None,
                 figsize: tuple[float, float] | None = None):
    """See :meth:`Learner.show_results <tflearner.Learner.show_results>`."""
    n = check_int("n", n, 1, fix="the number of images to show, e.g. n=9.")
    check_bool("shuffle", shuffle)
    seed = check_int("seed", seed, 0, fix="e.g. seed=0.")
    dataset = preds_dataset(learn, ds)
    spec = dataset.element_spec
    if not learn.runner.labelled(spec):
        raise ValueError("show_results needs (x, y) batches; ds yields inputs only.")
    check_images(spec[0], "show_results")
    if learn.task == "multi_label":
        raise ValueError("show_results titles one class per image, but this Learner is "
                         "multi-label; use learn.get_preds(with_decoded=True).")
    if not shuffle:
        x, probs, y = get_preds(learn, dataset.unbatch().take(n).batch(n), with_input=True)
    else:
        probs, y = get_preds(learn, dataset)
        idxs = np.random.default_rng(seed).permutation(len(y))[:n]
        x, probs, y = fetch_inputs(dataset, idxs, y), probs[idxs], y[idxs]
    return draw_results(x, y, probs, learn.data.classes, ncols=ncols, figsize=figsize,
                        threshold=learn.threshold)


def tta(learn: PredictHandle, ds: Any = None, n: int = 4, beta: float | None = 0.25,
        augment: Any = None, use_max: bool = False, seed: int | None = None) -> tuple:
    """See :meth:`Learner.tta <tflearner.Learner.tta>`."""
    n = check_int("n", n, 1, fix="the number of augmented passes, e.g. n=4.")
    check_bool("use_max", use_max)
    if beta is not None:
        check_real("beta", beta, 0.0, 1.0, fix="the plain pass's weight, e.g. beta=0.25.")
    augment = augment if augment is not None else learn.data.meta.get("augment")
    if augment is None:
        raise ValueError("augment is None and the data has no training augmentation to "
                         "reuse; pass one, e.g. learn.tta(augment=aug_transforms()).")
    seed = check_int("seed", seed if seed is not None else learn.data.meta.get("seed") or 0,
                     0, fix="e.g. seed=0.")
    dataset = preds_dataset(learn, ds)
    spec = dataset.element_spec
    check_images(spec[0] if learn.runner.labelled(spec) else spec, "tta")
    aug, plain, targets = tta_passes(lambda d: get_preds(learn, d), dataset, augment, seed, n,
                                     learn.data.batch_size or 64)
    return tta_mix(aug, plain, beta, use_max), targets
