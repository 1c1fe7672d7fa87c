"""DataBundle pipelines: splits fixed before shuffling (no leak), reshuffling, scaling, specs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs

from tflearner import DataBundle, cifar10_data
from tflearner.data import split_indices


def _ids(ds, n_epochs=1):
    """Per epoch, the list of example ids (pixel 0 encodes the id) in the order seen."""
    out = []
    for _ in range(n_epochs):
        out.append([int(i) for xb, _ in ds for i in np.round(xb.numpy()[:, 0] * 1000)])
    return out


def _id_data(n=200, **kw):
    x = (np.arange(n, dtype="float32")[:, None] / 1000) * np.ones((1, 4), "float32")
    y = np.arange(n) % 5
    return DataBundle.from_arrays(x, y, batch_size=16, **kw)


def test_split_is_fixed_before_shuffling_and_never_leaks():
    data = _id_data(valid_pct=0.2, seed=3)
    valid = _ids(data.valid, 2)
    train = _ids(data.train, 3)
    assert valid[0] == valid[1] == sorted(valid[0]) and len(valid[0]) == 40
    for epoch in train:  # every epoch: the same 160 training ids, none of them validation ids
        assert sorted(epoch) == sorted(train[0]) and len(epoch) == 160
        assert not set(epoch) & set(valid[0])
    assert train[0] != train[1] != train[2]  # reshuffled every epoch
    assert set(train[0]) | set(valid[0]) == set(range(200))


def test_split_and_shuffle_depend_only_on_seed():
    a, b, c = _id_data(seed=1), _id_data(seed=1), _id_data(seed=2)
    assert _ids(a.valid) == _ids(b.valid) != _ids(c.valid)
    assert _ids(a.train, 2) == _ids(b.train, 2)
    tr, va = split_indices(50000, 0.1, 0)
    assert len(tr) == 45000 and len(va) == 5000 and not np.intersect1d(tr, va).size


def test_uint8_images_are_scaled_to_unit_range_and_float_left_alone():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 4, 4, 3), dtype=np.uint8)
    x[0] = 255
    x[1] = 0
    data = DataBundle.from_arrays(x, np.arange(40) % 2, valid_pct=0.0, batch_size=40)
    xb, yb = next(iter(data.train))
    assert xb.dtype == tf.float32 and float(tf.reduce_max(xb)) == 1.0
    assert float(tf.reduce_min(xb)) == 0.0
    xf, _ = blobs(20)
    data = DataBundle.from_arrays(xf, np.arange(20) % 2, valid_pct=0.0, batch_size=20)
    np.testing.assert_array_equal(np.sort(next(iter(data.train))[0].numpy(), 0), np.sort(xf, 0))


def test_bundle_describes_itself():
    data = _id_data(valid_pct=0.1, seed=0)
    assert data.task == "sparse_categorical" and data.c == 5
    assert data.input_shape == (4,) and data.batch_size == 16
    assert data.meta["n_train"] == 180 and data.meta["n_valid"] == 20
    assert data.n_train_batches == 12  # 180 / 16 -> 11 full + 1 partial
    assert "Prefetch" in type(data.train).__name__
    x, y = blobs(30)
    reg = DataBundle.from_arrays(x, y.astype("float32"), valid_pct=0.0)
    assert reg.task == "regression" and reg.default_metrics()[0].name == "mae"


def test_from_datasets_accepts_any_batched_xy_dataset():
    x, y = blobs(100)
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(100, seed=0).batch(10,
                                                                            drop_remainder=True)
    valid = tf.data.Dataset.from_tensor_slices((x[:20], y[:20])).batch(7)
    data = DataBundle.from_datasets(train, valid, classes=["a", "b", "c"])
    assert data.c == 3 and data.batch_size == 10 and data.input_shape == (8,)
    assert data.task == "sparse_categorical"


def test_batches_of_strings_train_a_model_that_vectorizes_its_own_text():
    import keras

    from tflearner import Learner

    texts = np.array(["good film", "bad plot", "great movie", "awful film"] * 8)
    labels = np.array([1, 0, 1, 0] * 8)
    raw = tf.data.Dataset.from_tensor_slices((texts, labels))
    with pytest.raises(ValueError, match="looks unbatched"):
        DataBundle.from_datasets(raw)
    data = DataBundle.from_datasets(raw.batch(8))  # x: a (batch,) string tensor
    assert data.input_shape == () and data.task == "sparse_categorical"
    keras.utils.set_random_seed(0)
    vectorize = keras.layers.TextVectorization(max_tokens=10, output_sequence_length=4)
    vectorize.adapt(texts)
    inputs = keras.Input((), dtype="string")
    x = keras.layers.Embedding(10, 8)(vectorize(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(x)))
    learn = Learner(model, data, opt="adam", quiet=True)
    learn.fit(8, 3e-2)
    assert learn.validate(data.train)["accuracy"] == 1.0


@pytest.mark.parametrize("make,err,words", [
    (lambda: DataBundle.from_datasets([1, 2]), TypeError, "train must be a tf.data.Dataset"),
    (lambda: DataBundle.from_datasets(tf.data.Dataset.range(3).batch(2)), ValueError,
     "must yield (x, y) or (x, y, sample_weight)"),
    (lambda: DataBundle.from_datasets(tf.data.Dataset.from_tensor_slices(
        (np.zeros((4, 2)), np.zeros(4))).batch(2).repeat()), ValueError, "train is infinite"),
    (lambda: DataBundle.from_arrays(np.zeros((3, 2)), np.zeros(4)), ValueError,
     "x has 3 examples but y has 4"),
    (lambda: DataBundle.from_arrays(np.zeros((3, 2)), np.zeros(3), batch_size=0), ValueError,
     "batch_size must be an int >= 1, got 0; the examples per batch"),
    (lambda: DataBundle.from_arrays(np.zeros((3, 2)), np.zeros(3), batch_size=True), TypeError,
     "batch_size must be an int >= 1, got True (bool)"),
    (lambda: DataBundle.from_arrays(np.zeros((3, 2)), np.zeros(3), eval_batch_size=0.5),
     TypeError, "eval_batch_size must be an int >= 1, got 0.5 (float)"),
    (lambda: DataBundle.from_arrays(np.zeros((3, 2)), np.zeros(3), seed=1.5), TypeError,
     "seed must be an int >= 0 or None, got 1.5 (float)"),
    (lambda: DataBundle.from_arrays(np.zeros((3, 2)), np.zeros(3), valid_pct=1.5), ValueError,
     "valid_pct must be a finite number in [0, 1), got 1.5; the fraction held out"),
    (lambda: DataBundle.from_arrays(np.zeros((3, 2)), np.zeros(3), valid_pct="0.1"), TypeError,
     "valid_pct must be a finite number in [0, 1), got '0.1' (str)"),
    (lambda: DataBundle.from_arrays(np.zeros((3, 2)), np.zeros(3), valid_pct=float("nan")),
     ValueError, "valid_pct must be a finite number in [0, 1), got nan"),
    (lambda: DataBundle.from_arrays([[1, 2], [3]], [0, 1]), ValueError,
     "x must be a rectangular array (every example the same shape), got a ragged list: "
     "[[1, 2], [3]] (example 0 has shape (2,), example 1 (1,)); pad or crop"),
    (lambda: DataBundle.from_arrays(np.zeros(5), np.zeros(5)), ValueError,
     "x must have shape (n_examples, ...)"),
    (lambda: DataBundle.from_arrays(np.zeros((3, 2)), np.zeros(3), task="ranking"), ValueError,
     "task must be one of 'sparse_categorical', 'categorical', 'regression', 'multi_output', "
     "'binary', 'multi_label', got 'ranking'"),
    (lambda: DataBundle.from_datasets(tf.data.Dataset.from_tensor_slices(
        (np.zeros((4, 2)), np.zeros(4, int))).batch(2), c=2, classes=["a", "b", "c"]),
     ValueError, "c must be the number of class names (3), got 2; drop c"),
])
def test_bad_data_input(make, err, words):
    with pytest.raises(err) as info:
        make()
    assert words in str(info.value)


def test_cifar10_sample_through_the_same_api():
    data = cifar10_data(32, sample=True)
    n_total = data.meta["n_train"] + data.meta["n_valid"]
    assert data.meta["n_valid"] == round(n_total * 0.1)
    assert data.c == 10 and data.classes[0] == "airplane" and data.input_shape == (32, 32, 3)
    xb, yb = next(iter(data.train))
    assert xb.shape == (32, 32, 32, 3) and xb.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(xb)) and float(tf.reduce_max(xb)) <= 1.0
    assert yb.dtype == tf.int64 and int(tf.reduce_max(yb)) < 10
    assert data.test is not None and data.meta["n_test"] > 0


REAL_ARCHIVE = (Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
                / "cifar-10-python.tar.gz")


@pytest.mark.skipif(not REAL_ARCHIVE.exists(), reason=f"{REAL_ARCHIVE} not available")
def test_cifar10_full_split_sizes_and_no_leak():
    data = cifar10_data(1000, path=REAL_ARCHIVE)
    assert (data.meta["n_train"], data.meta["n_valid"], data.meta["n_test"]) == (45000, 5000,
                                                                                 10000)
    assert data.n_train_batches == 45
    # hash every image: the validation images never appear in a training epoch
    valid = {hash(img.tobytes()) for xb, _ in data.valid for img in xb.numpy()}
    train = {hash(img.tobytes()) for xb, _ in data.train for img in xb.numpy()}
    assert len(valid) > 4990 and len(train) > 44900  # CIFAR-10 has a few duplicate images
    assert len(valid & train) <= 10  # only those duplicates, never the split itself


@pytest.mark.parametrize("y_of", [lambda y: {"a": y, "b": y}, lambda y: [y, y]],
                         ids=["dict", "list"])
def test_uint8_x_is_scaled_whatever_the_structure_of_y(y_of):
    x = np.full((8, 2, 2, 1), 255, np.uint8)
    y = np.arange(8) % 2
    data = DataBundle.from_arrays(x, y_of(y), valid_pct=0.25, batch_size=8)
    for ds in (data.train, data.valid):
        xb = next(iter(ds))[0]
        assert xb.dtype == tf.float32 and float(tf.reduce_max(xb)) == 1.0


def test_raw_integers_outside_the_built_dtype_are_refused_not_misscaled():
    x = np.random.default_rng(0).integers(0, 256, (10, 4, 4, 3), dtype=np.uint8)
    prep = DataBundle.from_arrays(x, np.arange(10) % 2, valid_pct=0).preprocess
    np.testing.assert_array_equal(prep(x.astype(np.int64)), prep(x))  # same values: fine
    with pytest.raises(ValueError, match=r"values in \[0, 255\], got dtype uint16 with values "
                                         r"in \[15, 4095\]; convert them to uint8"):
        prep(x.astype(np.uint16) * 16 + 15)


def test_string_labels_are_refused_up_front_with_the_fix():
    x = np.zeros((6, 3), np.float32)
    names = np.array(["cat", "dog", "cat", "dog", "cat", "dog"])
    with pytest.raises(TypeError, match=r"y must be a numeric array of class indices, got "
                                        r"strings \(e.g. 'cat'\); .*np.unique\(y, return_inverse"):
        DataBundle.from_arrays(x, names)
    with pytest.raises(TypeError, match=r"y\[a\] must be a numeric array of class indices"):
        DataBundle.from_arrays(x, {"a": names, "b": np.arange(6)})
    with pytest.raises(TypeError, match=r"x must be a numeric array"):  # inputs: no label hint
        DataBundle.from_arrays(names[:, None], np.arange(6))
    ds = tf.data.Dataset.from_tensor_slices((x, names)).batch(2)
    with pytest.raises(TypeError, match=r"train's labels y are strings .*StringLookup"):
        DataBundle.from_datasets(ds)
