"""Seeded image augmentation for the training split: :func:`aug_transforms`.

Every random draw is a *stateless* TensorFlow op keyed by ``(seed, epoch, example index)``
(:func:`example_seed`), so an augmented epoch is a pure function of the data's epoch counter
(``DataBundle.rng_state``): runs repeat, ``lr_find`` leaves no trace and a resumed fit sees the
same images. Per example, on float32 ``(h, w, c)`` images in ``[0, 1]``:

1. flip: left-right with probability 1/2 (``flip``), up-down with probability 1/2 (``flip_vert``);
2. affine, with probability ``p_affine``: rotate by ``U(-rotate, rotate)`` degrees, zoom in by a
   factor ``U(1, 1 + zoom)``, shift by ``U(-translate, translate)`` of the width and height, in
   one bilinear resampling about the centre (``ImageProjectiveTransformV3``, the op behind Keras'
   ``RandomRotation`` / ``RandomZoom`` / ``RandomTranslation``), borders filled by reflection;
3. lighting, with probability ``p_lighting``: add ``U(-brightness, brightness)``, then scale the
   contrast about the image mean by ``U(1 - contrast, 1 + contrast)``; clipped to ``[0, 1]``;
4. pad-crop (``pad`` pixels, 0: off): reflect-pad every side by ``pad``, then crop the original
   size back at a uniform offset in ``{0, ..., 2 pad}`` each way (the CIFAR "pad 4, random
   crop" augmentation; reflection as in Myrtle's ResNet-9 recipe);
5. cutout (``cutout`` pixels, 0: off): one ``cutout x cutout`` square, placed uniformly so that
   it lies inside the image, set to :data:`CUTOUT_FILL` (DeVries & Taylor, 2017).

Steps 1-3 are the defaults of :func:`aug_transforms`; 4 and 5 are off unless asked for.

This runs in the ``tf.data`` pipeline on the CPU. The GPU-friendly alternative is Keras'
augmentation layers inside the model (``keras.layers.RandomFlip``, ``RandomRotation``, ...),
which run on the accelerator and only in training; see ``docs/images.md``.

:func:`as_augment` is what ``from_folder(augment=)`` and ``tta(augment=)`` accept, three kinds:

* ``aug(image, seed) -> image`` (:class:`ImageAugment`, or any callable with that contract):
  per image, keyed by ``(seed, epoch, file index)``; repeats exactly;
* a Keras layer (``keras.layers.RandomFlip("horizontal")``, a ``keras.Sequential`` of them):
  per *batch*, called with ``training=True``, as Keras users apply them in ``tf.data``. Every
  ``keras.random.SeedGenerator`` the layer draws from (the ``generator`` of each
  ``keras.layers.Random*`` layer) is set from ``(seed, epoch, first file index of the batch)``
  before the batch, so these repeat exactly too; randomness from anything else in the layer is
  its own. Pass a layer that is not also in the model (the two would share its generators);
* ``f(image) -> image``: per image, with no seed: reproducible only if ``f`` is deterministic
  (its own random ops, e.g. ``tf.image.random_flip_left_right``, draw anew every epoch and are
  not restored by ``lr_find`` or checkpoints).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import tensorflow as tf

from ..core.checks import check_bool, check_int, check_real, fail

__all__ = ["CUTOUT_FILL", "Augmentation", "ImageAugment", "aug_transforms", "as_augment",
           "example_seed"]

_SALT = 0x617567  # "aug": keeps augmentation draws apart from the shuffle's (seed, epoch) key
#: What cutout writes into its square: mid-grey, about CIFAR-10's mean pixel (0.49, 0.48, 0.45);
#: Myrtle's recipe cuts out after normalising, with 0, which is the mean pixel exactly.
CUTOUT_FILL = 0.5


def example_seed(seed: tf.Tensor, epoch: tf.Tensor, index: tf.Tensor) -> tf.Tensor:
    """The ``[2]`` int64 stateless seed of one example in one epoch: a pure function of
    ``(seed, epoch, index)``."""
    base = tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)])
    base = tf.random.experimental.stateless_fold_in(base, tf.constant(_SALT, tf.int64))
    return tf.random.experimental.stateless_fold_in(base, tf.cast(index, tf.int64))


@dataclass(frozen=True)
class ImageAugment:
    """A seeded augmentation: ``aug(image, seed) -> image`` (see the module docstring).

    Build it with :func:`aug_transforms`; pass it as ``DataBundle.from_folder(augment=...)``.
    Any callable with the same contract (float32 ``(h, w, c)`` in ``[0, 1]`` and a ``[2]``
    int64 seed in; an image of the same shape out; randomness only from stateless ops on that
    seed) can be passed instead.
    """

    flip: bool = True
    flip_vert: bool = False
    rotate: float = 10.0
    zoom: float = 0.1
    translate: float = 0.1
    brightness: float = 0.2
    contrast: float = 0.2
    p_affine: float = 0.75
    p_lighting: float = 0.75
    pad: int = 0
    cutout: int = 0

    @property
    def has_affine(self) -> bool:
        return self.p_affine > 0 and (self.rotate > 0 or self.zoom > 0 or self.translate > 0)

    @property
    def has_lighting(self) -> bool:
        return self.p_lighting > 0 and (self.brightness > 0 or self.contrast > 0)

    def __call__(self, image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        seeds = tf.random.experimental.stateless_split(seed, num=8)
        x = tf.convert_to_tensor(image, tf.float32)
        if self.flip:
            x = tf.image.stateless_random_flip_left_right(x, seeds[0])
        if self.flip_vert:
            x = tf.image.stateless_random_flip_up_down(x, seeds[1])
        if self.has_affine:
            x = self._affine(x, seeds[2], seeds[3])
        if self.has_lighting:
            x = self._lighting(x, seeds[4], seeds[5])
        if self.pad or self.cutout:
            self._check_size(x)
        if self.pad:
            x = self._pad_crop(x, seeds[6])
        if self.cutout:
            x = self._cutout(x, seeds[7])
        return x

    def _check_size(self, x: tf.Tensor) -> None:
        h, w = x.shape[0], x.shape[1]
        if h is None or w is None:
            return  # a dynamic size: TensorFlow's own op errors apply
        if self.pad and self.pad >= min(h, w):
            raise fail("pad", f"smaller than the image ({h}x{w}) for a reflected border",
                       self.pad, "e.g. pad=4 for 32x32 images.")
        if self.cutout > min(h, w):
            raise fail("cutout", f"at most the image size ({h}x{w})", self.cutout,
                       "e.g. cutout=8 for 32x32 images.")

    def _pad_crop(self, x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        p = self.pad
        padded = tf.pad(x, [[p, p], [p, p], [0, 0]], mode="REFLECT")
        dy, dx = tf.unstack(tf.random.stateless_uniform([2], seed, 0, 2 * p + 1, tf.int32))
        out = tf.slice(padded, tf.stack([dy, dx, 0]), tf.shape(x))
        return tf.ensure_shape(out, x.shape)

    def _cutout(self, x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        k = self.cutout
        h, w = tf.shape(x)[0], tf.shape(x)[1]
        u = tf.random.stateless_uniform([2], seed, minval=0.0, maxval=1.0)
        y0 = tf.cast(u[0] * tf.cast(h - k + 1, tf.float32), tf.int32)
        x0 = tf.cast(u[1] * tf.cast(w - k + 1, tf.float32), tf.int32)
        rows = tf.range(h)[:, None]
        cols = tf.range(w)[None, :]
        inside = (rows >= y0) & (rows < y0 + k) & (cols >= x0) & (cols < x0 + k)
        return tf.where(inside[:, :, None], tf.constant(CUTOUT_FILL, x.dtype), x)

    def _affine(self, x: tf.Tensor, seed: tf.Tensor, p_seed: tf.Tensor) -> tf.Tensor:
        u = tf.random.stateless_uniform([4], seed, minval=-1.0, maxval=1.0)
        on = tf.random.stateless_uniform([], p_seed) < self.p_affine
        theta = tf.where(on, u[0] * (self.rotate * math.pi / 180.0), 0.0)
        scale = tf.where(on, 1.0 + (u[1] + 1.0) * (self.zoom / 2.0), 1.0)
        h = tf.cast(tf.shape(x)[0], tf.float32)
        w = tf.cast(tf.shape(x)[1], tf.float32)
        tx = tf.where(on, u[2] * self.translate * w, 0.0)
        ty = tf.where(on, u[3] * self.translate * h, 0.0)
        cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
        # output (col, row) -> input: centre + R(theta) (out - centre) / scale - shift
        a0, a1 = tf.cos(theta) / scale, -tf.sin(theta) / scale
        b0, b1 = tf.sin(theta) / scale, tf.cos(theta) / scale
        a2 = cx - (a0 * cx + a1 * cy) - tx
        b2 = cy - (b0 * cx + b1 * cy) - ty
        transform = tf.stack([a0, a1, a2, b0, b1, b2, 0.0, 0.0])[None]
        out = tf.raw_ops.ImageProjectiveTransformV3(
            images=x[None], transforms=transform, output_shape=tf.shape(x)[:2],
            fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT")
        return tf.ensure_shape(out[0], x.shape)

    def _lighting(self, x: tf.Tensor, seed: tf.Tensor, p_seed: tf.Tensor) -> tf.Tensor:
        u = tf.random.stateless_uniform([2], seed, minval=-1.0, maxval=1.0)
        on = tf.random.stateless_uniform([], p_seed) < self.p_lighting
        delta = tf.where(on, u[0] * self.brightness, 0.0)
        factor = tf.where(on, 1.0 + u[1] * self.contrast, 1.0)
        x = x + delta
        mean = tf.reduce_mean(x, axis=[0, 1], keepdims=True)
        return tf.clip_by_value((x - mean) * factor + mean, 0.0, 1.0)


def aug_transforms(flip: bool = True, rotate: float = 10.0, zoom: float = 0.1,
                   translate: float = 0.1, brightness: float = 0.2, contrast: float = 0.2, *,
                   flip_vert: bool = False, p_affine: float = 0.75,
                   p_lighting: float = 0.75, pad: int = 0, cutout: int = 0) -> ImageAugment:
    """fastai-style augmentation for the training split (see the module docstring for the draws).

    ``rotate`` in degrees (>= 0, at most 180); ``zoom``, ``translate`` fractions in ``[0, 1)``;
    ``brightness`` an additive shift in ``[0, 1]``; ``contrast`` in ``[0, 1)``; ``p_affine``,
    ``p_lighting`` probabilities in ``[0, 1]``; ``pad`` (reflect-pad then random crop) and
    ``cutout`` (square side) in pixels, integers >= 0, smaller than the image. Zero turns a
    transform off.

    >>> data = DataBundle.from_folder("pets", augment=aug_transforms(rotate=20))

    CIFAR-10's classic "flip, pad 4, random crop" (plus cutout 8, as Myrtle's ResNet-9):

    >>> cifar = aug_transforms(rotate=0, zoom=0, translate=0, brightness=0, contrast=0,
    ...                        pad=4, cutout=8)
    """
    def frac(name, value, high, high_open, fix):
        req = f"a finite number in [0, {high:g}{')' if high_open else ']'}"
        return check_real(name, value, 0.0, high, high_open=high_open, requirement=req, fix=fix)

    return ImageAugment(
        flip=check_bool("flip", flip, "flip=False turns left-right flips off."),
        flip_vert=check_bool("flip_vert", flip_vert, "flip_vert=True adds up-down flips."),
        rotate=frac("rotate", rotate, 180.0, False, "the largest rotation in degrees, e.g. 10."),
        zoom=frac("zoom", zoom, 1.0, True, "the largest zoom-in as a fraction, e.g. 0.1."),
        translate=frac("translate", translate, 1.0, True,
                       "the largest shift as a fraction of the size, e.g. 0.1."),
        brightness=frac("brightness", brightness, 1.0, False,
                        "the largest shift of [0, 1] pixel values, e.g. 0.2."),
        contrast=frac("contrast", contrast, 1.0, True,
                      "the largest relative contrast change, e.g. 0.2."),
        p_affine=frac("p_affine", p_affine, 1.0, False, "a probability, e.g. 0.75."),
        p_lighting=frac("p_lighting", p_lighting, 1.0, False, "a probability, e.g. 0.75."),
        pad=check_int("pad", pad, 0, fix="the reflected border in pixels, e.g. pad=4 (0: off)."),
        cutout=check_int("cutout", cutout, 0,
                         fix="the side of the cut-out square in pixels, e.g. cutout=8 (0: off)."),
    )


@dataclass(frozen=True)
class Augmentation:
    """An accepted ``augment=`` (see :func:`as_augment`): ``self(x, seed)`` on one image
    (``per_batch`` False) or on a batch (True), ``seed`` a ``[2]`` int64 stateless seed."""

    fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    per_batch: bool = False
    source: Any = None

    def __call__(self, x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        return self.fn(x, seed)


def _layers(layer: Any) -> list:
    out = [layer]
    for inner in getattr(layer, "layers", None) or []:
        out.extend(_layers(inner))
    return out


def _keras_layer(layer: keras.layers.Layer) -> Augmentation:
    generators = [g for g in (getattr(sub, "generator", None) for sub in _layers(layer))
                  if isinstance(g, keras.random.SeedGenerator)]

    def apply(xb: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        reseed = [g.state.assign(tf.cast(tf.random.experimental.stateless_fold_in(
            seed, tf.constant(k, tf.int64)), g.state.dtype)) for k, g in enumerate(generators)]
        with tf.control_dependencies(reseed):
            return tf.cast(layer(tf.identity(xb), training=True), xb.dtype)

    return Augmentation(apply, per_batch=True, source=layer)


def _required_positional(fn: Callable) -> int | None:
    """How many positional arguments ``fn`` needs (None: it takes ``*args`` or cannot say)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
               for p in params)


def as_augment(augment: Any, name: str = "augment") -> Augmentation | None:
    """``augment`` as an :class:`Augmentation` (None: None): a Keras layer (per batch), an
    ``aug(image, seed)`` callable or a one-argument ``f(image)`` (per image); anything else is
    refused here, before any work, naming the signatures accepted."""
    if augment is None or isinstance(augment, Augmentation):
        return augment
    if isinstance(augment, keras.layers.Layer):
        return _keras_layer(augment)
    accepted = ("aug_transforms(), a Keras preprocessing layer such as "
                "keras.layers.RandomFlip('horizontal') (applied per batch), a seeded "
                "aug(image, seed) -> image or a one-argument f(image) -> image")
    if not callable(augment):
        raise fail(name, "None or a callable", augment, f"pass {accepted}.", error=TypeError,
                   with_type=True)
    n = _required_positional(augment)
    if n == 1:
        return Augmentation(lambda x, seed: augment(x), source=augment)
    if n in (2, None):
        return Augmentation(augment, source=augment)
    raise fail(name, "a callable of one argument (image) or two (image, seed)", augment,
               f"it needs {n} arguments; pass {accepted}.", error=TypeError, with_type=True)
