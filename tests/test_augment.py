"""aug_transforms: stateless draws keyed by (seed, epoch, index); train split only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from _images import cifar_images, write_tree

from tflearner import DataBundle, Learner, aug_transforms
from tflearner.data.augment import ImageAugment, example_seed

KW = {"img_size": (32, 32), "batch_size": 16}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("aug")
    write_tree(root, per_class=10)
    return root


@pytest.fixture(scope="module")
def img() -> tf.Tensor:
    return tf.constant(cifar_images(1)["bird"][0].astype(np.float32) / 255)


def epoch(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def checksums(x: np.ndarray) -> list[float]:
    """The epoch's images as a multiset (order removed): per-image pixel sums, sorted."""
    return sorted(np.round(x.reshape(len(x), -1).astype(np.float64).sum(1), 4).tolist())


def test_same_key_same_image_other_keys_differ(img):
    aug = aug_transforms(p_affine=1.0, p_lighting=1.0)
    s = example_seed(42, 1, 7)
    a, b = aug(img, s).numpy(), aug(img, example_seed(42, 1, 7)).numpy()
    np.testing.assert_array_equal(a, b)
    for other in (example_seed(42, 2, 7), example_seed(42, 1, 8), example_seed(43, 1, 7)):
        assert not np.array_equal(a, aug(img, other).numpy())
    assert a.shape == (32, 32, 3) and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0


def test_all_off_is_the_identity(img):
    aug = aug_transforms(flip=False, rotate=0, zoom=0, translate=0, brightness=0, contrast=0)
    np.testing.assert_array_equal(aug(img, example_seed(0, 1, 0)).numpy(), img.numpy())
    # probability 0 is off too, whatever the ranges
    aug = aug_transforms(flip=False, p_affine=0.0, p_lighting=0.0)
    np.testing.assert_array_equal(aug(img, example_seed(0, 1, 0)).numpy(), img.numpy())


def test_flip_alone_mirrors_or_keeps(img):
    aug = aug_transforms(rotate=0, zoom=0, translate=0, brightness=0, contrast=0)
    outs = [aug(img, example_seed(0, 1, i)).numpy() for i in range(16)]
    mirrored = [np.array_equal(o, img.numpy()[:, ::-1]) for o in outs]
    kept = [np.array_equal(o, img.numpy()) for o in outs]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert any(mirrored) and any(kept)


def test_brightness_alone_shifts_every_pixel_by_one_amount(img):
    aug = aug_transforms(flip=False, rotate=0, zoom=0, translate=0, brightness=0.1,
                         contrast=0, p_lighting=1.0)
    out = aug(img, example_seed(0, 1, 3)).numpy()
    inner = (img.numpy() > 0.15) & (img.numpy() < 0.85)  # away from the clip
    delta = (out - img.numpy())[inner]
    assert np.ptp(delta) < 1e-6 and 0 < abs(delta[0]) <= 0.1


def test_two_epochs_differ_and_an_epoch_repeats_bitwise(root):
    data = DataBundle.from_folder(root, augment=aug_transforms(), **KW)
    plain = DataBundle.from_folder(root, **KW)
    e1, e2 = epoch(data.train), epoch(data.train)
    assert checksums(e1[0]) != checksums(e2[0])  # other images, not only another order
    p1, p2 = epoch(plain.train), epoch(plain.train)
    assert checksums(p1[0]) == checksums(p2[0])  # without augmentation: the same images
    data.rng_state[0].assign(1)
    np.testing.assert_array_equal(epoch(data.train)[0], e2[0])


def test_valid_is_never_augmented(root):
    data = DataBundle.from_folder(root, augment=aug_transforms(p_affine=1, p_lighting=1), **KW)
    plain = DataBundle.from_folder(root, **KW)
    a, b = epoch(data.valid), epoch(data.valid)
    np.testing.assert_array_equal(a[0], epoch(plain.valid)[0])
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.filterwarnings("ignore:robust. no suggestion")  # a 2-batch sweep; not the point
def test_lr_find_leaves_the_next_augmented_epoch_unchanged(root):
    import keras
    data = DataBundle.from_folder(root, augment=aug_transforms(), **KW)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    learn = Learner(model, data, quiet=True)
    learn.lr_find(num_it=20)
    after = epoch(data.train)
    data.rng_state[0].assign(0)
    np.testing.assert_array_equal(after[0], epoch(data.train)[0])
    assert int(data.rng_state[0].numpy()) == 1


def test_a_custom_callable_gets_the_example_seed(root):
    seen = []

    def aug(x, seed):
        seen.append(seed.shape)
        return tf.image.stateless_random_flip_up_down(x, seed)

    data = DataBundle.from_folder(root, augment=aug, **KW)
    assert data.meta["augment"] is aug and seen == [(2,)]
    epoch(data.train)


@pytest.mark.parametrize("kwargs,err,words", [
    ({"rotate": -1}, ValueError, "rotate must be a finite number in [0, 180], got -1"),
    ({"zoom": 1.0}, ValueError, "zoom must be a finite number in [0, 1), got 1.0"),
    ({"translate": float("nan")}, ValueError, "translate must be"),
    ({"brightness": "0.2"}, TypeError, "brightness must be"),
    ({"p_affine": 1.5}, ValueError, "p_affine must be a finite number in [0, 1], got 1.5"),
    ({"flip": 1}, TypeError, "flip must be True or False, got 1 (int)"),
])
def test_argument_errors(kwargs, err, words):
    with pytest.raises(err) as e:
        aug_transforms(**kwargs)
    assert words in str(e.value)


def test_defaults_are_the_documented_ones():
    assert aug_transforms() == ImageAugment(flip=True, flip_vert=False, rotate=10.0, zoom=0.1,
                                            translate=0.1, brightness=0.2, contrast=0.2,
                                            p_affine=0.75, p_lighting=0.75)


CIFAR = {"flip": False, "rotate": 0, "zoom": 0, "translate": 0, "brightness": 0, "contrast": 0}


def test_pad_crop_is_a_shifted_window_of_the_reflected_image(img):
    aug = aug_transforms(**CIFAR, pad=4)
    src = np.pad(img.numpy(), [(4, 4), (4, 4), (0, 0)], mode="reflect")
    offsets = set()
    for i in range(40):
        out = aug(img, example_seed(0, 1, i)).numpy()
        assert out.shape == (32, 32, 3)
        hits = [(dy, dx) for dy in range(9) for dx in range(9)
                if np.array_equal(out, src[dy:dy + 32, dx:dx + 32])]
        assert len(hits) == 1, f"draw {i} is no window of the reflect-padded image"
        offsets.add(hits[0])
    assert len(offsets) > 20  # offsets spread over the 9 x 9 choices, not a fixed crop


def test_cutout_writes_one_square_inside_the_image(img):
    assert not (img.numpy() == 0.5).all(-1).any()  # no pixel of the image is the fill already
    aug = aug_transforms(**CIFAR, cutout=8)
    base = img.numpy()
    corners = set()
    for i in range(40):
        out = aug(img, example_seed(0, 1, i)).numpy()
        filled = (out == 0.5).all(-1)
        rows, cols = np.nonzero(filled)
        y0, x0 = rows.min(), cols.min()
        assert filled[y0:y0 + 8, x0:x0 + 8].all() and filled.sum() == 64
        assert y0 + 8 <= 32 and x0 + 8 <= 32
        np.testing.assert_array_equal(out[~filled], base[~filled])  # the rest untouched
        corners.add((y0, x0))
    assert len(corners) > 20


def test_pad_and_cutout_are_seeded_and_leave_the_other_draws_alone(img):
    s = example_seed(7, 3, 11)
    both = aug_transforms(p_affine=1.0, p_lighting=1.0, pad=4, cutout=8)
    np.testing.assert_array_equal(both(img, s).numpy(), both(img, example_seed(7, 3, 11)).numpy())
    assert not np.array_equal(both(img, s).numpy(), both(img, example_seed(7, 3, 12)).numpy())
    # pad=0, cutout=0 are the old transform, draw for draw
    plain = aug_transforms(p_affine=1.0, p_lighting=1.0)
    off = aug_transforms(p_affine=1.0, p_lighting=1.0, pad=0, cutout=0)
    np.testing.assert_array_equal(plain(img, s).numpy(), off(img, s).numpy())


@pytest.mark.parametrize("kwargs,err,words", [
    ({"pad": -1}, ValueError, "pad must be an int >= 0, got -1"),
    ({"pad": 2.0}, TypeError, "pad must be an int >= 0, got 2.0 (float)"),
    ({"cutout": True}, TypeError, "cutout must be an int >= 0"),
])
def test_pad_cutout_argument_errors(kwargs, err, words):
    with pytest.raises(err) as e:
        aug_transforms(**kwargs)
    assert words in str(e.value)


def test_pad_or_cutout_too_big_for_the_image_is_named(img):
    with pytest.raises(ValueError, match=r"pad must be smaller than the image \(32x32\)"):
        aug_transforms(**CIFAR, pad=32)(img, example_seed(0, 1, 0))
    with pytest.raises(ValueError, match=r"cutout must be at most the image size \(32x32\)"):
        aug_transforms(**CIFAR, cutout=33)(img, example_seed(0, 1, 0))


# ---- what Keras users have: preprocessing layers and one-argument functions ----------------------
def _flipped_or_not(aug: np.ndarray, plain: np.ndarray) -> np.ndarray:
    """Per image: True if flipped left-right, False if unchanged (anything else fails)."""
    same = np.all(np.isclose(aug, plain, atol=1e-6), axis=(1, 2, 3))
    flipped = np.all(np.isclose(aug, plain[:, :, ::-1], atol=1e-6), axis=(1, 2, 3))
    assert np.all(same | flipped)
    return flipped & ~same


def test_a_keras_layer_augments_per_batch_and_repeats_exactly(root):
    import keras

    plain = DataBundle.from_folder(root, valid_pct=0, **KW)
    data = DataBundle.from_folder(root, valid_pct=0, augment=keras.layers.RandomFlip("horizontal"),
                                  **KW)
    x0, y0 = epoch(plain.train)
    x1, y1 = epoch(data.train)
    np.testing.assert_array_equal(y0, y1)  # same seed, same order
    flipped = _flipped_or_not(x1, x0)
    assert 0 < flipped.sum() < len(flipped)  # the layer's own draws, per image of the batch
    data.rng_state[0].assign(0)  # the epoch counter alone decides: the layer's draws repeat
    np.testing.assert_array_equal(epoch(data.train)[0], x1)
    assert not np.array_equal(epoch(data.train)[0], x1)  # epoch 2 draws anew


def test_a_one_argument_function_augments_each_image(root):
    plain = DataBundle.from_folder(root, valid_pct=0, **KW)
    data = DataBundle.from_folder(root, valid_pct=0, augment=tf.image.flip_left_right, **KW)
    np.testing.assert_array_equal(epoch(data.train)[0], epoch(plain.train)[0][:, :, ::-1])


def test_other_signatures_are_refused_up_front_naming_what_is_accepted(root):
    with pytest.raises(TypeError, match=r"augment must be a callable of one argument \(image\) or "
                                        r"two \(image, seed\).*it needs 3 arguments.*RandomFlip"):
        DataBundle.from_folder(root, augment=lambda x, seed, extra: x, **KW)
