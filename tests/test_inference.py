"""Predictions, interpretation, TTA and export: numbers checked against values built by hand."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

from tflearner import (
    ClassificationInterpretation,
    DataBundle,
    ExportError,
    Learner,
    aug_transforms,
    load_learner,
)
from tflearner.inference import EXPORT_VERSION, tta_mix
from tflearner.inference.export import META_FILE, MODEL_FILE
from tflearner.inference.interpret import fetch_inputs
from tflearner.inference.outputs import activate, per_item_losses


def _valid_arrays(data):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in data.valid], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


# ---- get_preds ---------------------------------------------------------------------------------
@pytest.mark.parametrize("softmax", [True, False])
def test_get_preds_probabilities_targets_decoded_losses_by_hand(blob_data, softmax):
    learn = Learner(mlp(softmax=softmax), blob_data, lr=0.1, quiet=True)
    learn.fit(2)
    assert learn.activation == (None if softmax else "softmax")
    xv, yv = _valid_arrays(blob_data)
    x, probs, targets, decoded, losses = learn.get_preds(with_input=True, with_loss=True,
                                                         with_decoded=True)
    np.testing.assert_array_equal(x, xv)
    np.testing.assert_array_equal(targets, yv)
    raw = learn.model(xv, training=False).numpy()
    want = raw if softmax else np.exp(raw) / np.exp(raw).sum(1, keepdims=True)
    np.testing.assert_allclose(probs, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(decoded, probs.argmax(1))
    np.testing.assert_allclose(losses, -np.log(want[np.arange(len(yv)), yv]), rtol=1e-4)
    # the mean of the per-item losses is what validate() reports
    assert float(losses.mean()) == pytest.approx(learn.validate()["loss"], rel=1e-4)


def test_get_preds_one_hot_targets_and_a_plain_callable_loss():
    x, y = blobs(120)
    onehot = np.eye(3, dtype="float32")[y]
    data = DataBundle.from_arrays(x, onehot, valid_pct=0.25, batch_size=16, seed=0)
    assert data.task == "categorical"

    def loss(t, p):  # not a keras.losses.Loss: losses come from per-item calls
        return tf.reduce_mean(keras.losses.categorical_crossentropy(t, p))

    learn = Learner(mlp(), data, loss_fn=loss, quiet=True)
    probs, targets, losses = learn.get_preds(with_loss=True)
    assert targets.shape == (30, 3)
    want = -np.log(np.sum(probs * targets, axis=1))
    np.testing.assert_allclose(losses, want, rtol=1e-4)
    interp = ClassificationInterpretation.from_learner(learn)
    np.testing.assert_array_equal(interp.actual, targets.argmax(1))


def test_per_item_losses_of_a_keras_loss_equal_the_reduced_loss():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 50)
    logits = rng.normal(size=(50, 4)).astype("float32")
    fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    per = per_item_losses(fn, y, logits, batch_size=7)
    p = activate(logits, "softmax")
    np.testing.assert_allclose(per, -np.log(p[np.arange(50), y]), rtol=1e-5)
    assert float(per.mean()) == pytest.approx(float(fn(y, logits)), rel=1e-5)


def test_get_preds_errors(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(ValueError, match="with_loss=True needs"):
        learn.get_preds(blobs(10)[0], with_loss=True)
    with pytest.raises(TypeError, match="with_input"):
        learn.get_preds(with_input=1)
    with pytest.raises(ValueError, match="no test set"):
        learn.get_preds("test")
    with pytest.raises(ValueError, match="element_spec"):
        learn.get_preds(blob_data.valid.map(lambda x, y: (x[:, :4], y)))


# ---- predict -----------------------------------------------------------------------------------
def test_predict_one_item_label_index_probs():
    x, y = blobs(90)
    data = DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=16, seed=0,
                                  classes=("a", "b", "c"))
    learn = Learner(mlp(), data, quiet=True)
    label, index, probs = learn.predict(x[5])
    want = learn.model(x[5:6], training=False).numpy()[0]
    np.testing.assert_allclose(probs, want, rtol=1e-6)
    assert index == int(np.argmax(want)) and label == "abc"[index]
    with pytest.raises(ValueError, match=r"one example of shape \(8,\).*get_preds"):
        learn.predict(x[:3])
    with pytest.raises(TypeError, match="item='photo.png' is a file path"):
        learn.predict("photo.png")


def test_predict_regression_returns_outputs():
    x, _ = blobs(64)
    t = x[:, :1] * 2.0
    data = DataBundle.from_arrays(x, t, valid_pct=0.0, batch_size=16, seed=0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    learn = Learner(model, data, quiet=True)
    value, index, out = learn.predict(x[0])
    assert index is None and value.shape == (1,)
    np.testing.assert_allclose(value, model(x[:1]).numpy()[0], rtol=1e-6)


def test_from_datasets_predict_refuses_raw_integers_for_a_float_model():
    x, y = blobs(32)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    learn = Learner(mlp(), DataBundle.from_datasets(ds), quiet=True)
    assert learn.predict(x[0])[1] in (0, 1, 2)  # float inputs: taken as the model's inputs
    with pytest.raises(TypeError, match="does not know how their inputs were scaled"):
        learn.get_preds(np.zeros((4, 8), np.uint8))


def test_test_dl_labels_by_name_and_range_checks():
    x, y = blobs(60)
    data = DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=16, seed=0,
                                  classes=("a", "b", "c"))
    ds = data.test_dl(x[:5], labels=["c", "a", "b", "a", "c"], batch_size=2)
    got = np.concatenate([b[1].numpy() for b in ds])
    np.testing.assert_array_equal(got, [2, 0, 1, 0, 2])
    with pytest.raises(ValueError, match=r"class names \['z'\]"):
        data.test_dl(x[:2], labels=["a", "z"])
    with pytest.raises(ValueError, match=r"class index 3, outside \[0, 3\)"):
        data.test_dl(x[:2], labels=[0, 3])
    with pytest.raises(ValueError, match="labels has 1 entries but items has 2"):
        data.test_dl(x[:2], labels=[0])
    with pytest.raises(ValueError, match="items is empty"):
        data.test_dl(x[:0])


# ---- interpretation ----------------------------------------------------------------------------
def _hand_case():
    # 3 classes; actual -> predicted: 0->0 x2, 0->1 x1, 1->1 x1, 1->2 x2, 2->0 x2, 2->2 x1
    actual = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    pred = np.array([0, 0, 1, 1, 2, 2, 0, 0, 2])
    probs = np.full((9, 3), 0.1, np.float32)
    probs[np.arange(9), pred] = 0.8
    losses = -np.log(probs[np.arange(9), actual])
    return actual, pred, probs, losses


def test_confusion_matrix_most_confused_top_losses_by_hand():
    actual, pred, probs, losses = _hand_case()
    interp = ClassificationInterpretation(probs, actual, losses, classes=("x", "y", "z"))
    cm = np.zeros((3, 3), int)
    for a, p in zip(actual, pred, strict=True):
        cm[a, p] += 1
    np.testing.assert_array_equal(interp.confusion_matrix(), cm)
    np.testing.assert_array_equal(interp.confusion_matrix(), [[2, 1, 0], [0, 1, 2], [2, 0, 1]])
    assert interp.most_confused() == [("y", "z", 2), ("z", "x", 2), ("x", "y", 1)]
    assert interp.most_confused(min_val=2) == [("y", "z", 2), ("z", "x", 2)]
    vals, idxs = interp.top_losses(3)
    wrong = np.flatnonzero(actual != pred)  # all wrong items share the largest loss
    np.testing.assert_array_equal(idxs, wrong[:3])
    np.testing.assert_allclose(vals, -np.log(0.1), rtol=1e-6)
    vals, idxs = interp.top_losses()
    assert len(idxs) == 9 and np.all(np.diff(vals) <= 0)
    assert interp.top_losses(2, largest=False)[0].tolist() == pytest.approx([-np.log(0.8)] * 2)
    # one-hot targets give the same matrix
    onehot = np.eye(3)[actual]
    np.testing.assert_array_equal(
        ClassificationInterpretation(probs, onehot, losses).confusion_matrix(), cm)
    with pytest.raises(ValueError, match="class index 5"):
        ClassificationInterpretation(probs, np.r_[actual[:-1], 5], losses)


def test_interpretation_from_learner_matches_a_hand_count(blob_data):
    learn = Learner(mlp(), blob_data, lr=0.05, quiet=True)
    learn.fit(1)
    interp = ClassificationInterpretation.from_learner(learn)
    probs, targets = learn.get_preds()
    cm = np.zeros((3, 3), int)
    for t, p in zip(targets, probs.argmax(1), strict=True):
        cm[t, p] += 1
    np.testing.assert_array_equal(interp.confusion_matrix(), cm)
    assert np.trace(cm) / cm.sum() == pytest.approx(learn.validate()["accuracy"])
    ax = interp.plot_confusion_matrix(normalize=True)
    assert ax.get_xlabel() == "Predicted" and len(ax.texts) == 9
    np.testing.assert_allclose(ax.images[0].get_array().sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="plot_top_losses needs image inputs"):
        interp.plot_top_losses(4)


def test_interpretation_refuses_regression():
    x, _ = blobs(40)
    data = DataBundle.from_arrays(x, x[:, :1], valid_pct=0.25, batch_size=8, seed=0)
    learn = Learner(keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)]), data,
                    quiet=True)
    with pytest.raises(ValueError, match="needs a classification Learner"):
        ClassificationInterpretation.from_learner(learn)


def test_fetch_inputs_reads_items_by_index_and_detects_a_reordered_dataset():
    x = np.arange(20, dtype="float32").reshape(10, 2)
    y = np.arange(10)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(3)
    np.testing.assert_array_equal(fetch_inputs(ds, [7, 0, 4]), x[[7, 0, 4]])
    with pytest.raises(ValueError, match="other labels at the same positions"):
        fetch_inputs(ds, [1], targets=y[::-1])


# ---- TTA ---------------------------------------------------------------------------------------
def test_tta_mix_by_hand():
    plain = np.array([[0.6, 0.4], [0.2, 0.8]])
    aug = np.array([[[0.2, 0.8], [0.4, 0.6]], [[0.4, 0.6], [0.0, 1.0]]])  # mean [[.3,.7],[.2,.8]]
    np.testing.assert_allclose(tta_mix(aug, plain, 0.25),
                               [[0.25 * 0.6 + 0.75 * 0.3, 0.25 * 0.4 + 0.75 * 0.7],
                                [0.2, 0.8]])
    np.testing.assert_allclose(tta_mix(aug, plain, 1.0), plain)
    np.testing.assert_allclose(tta_mix(aug, plain, 0.0), aug.mean(0))
    np.testing.assert_allclose(tta_mix(aug, plain, use_max=True), [[0.6, 0.8], [0.4, 1.0]])
    mean, same = tta_mix(aug, plain, None)
    np.testing.assert_allclose(mean, aug.mean(0))
    with pytest.raises(ValueError, match="beta"):
        tta_mix(aug, plain, 1.5)
    with pytest.raises(ValueError, match="n_passes"):
        tta_mix(aug[0], plain)


def _image_learner(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (48, 12, 12, 3), dtype=np.uint8)
    y = rng.integers(0, 3, 48)
    data = DataBundle.from_arrays(x, y, valid_pct=0.25, batch_size=8, seed=0)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Conv2D(4, 3),
                              keras.layers.Flatten(), keras.layers.Dense(3)])
    return Learner(model, data, quiet=True), x, y


def test_tta_is_seeded_mixes_by_the_rule_and_leaves_state_alone():
    learn, _, _ = _image_learner()
    with pytest.raises(ValueError, match="no training augmentation"):
        learn.tta()
    aug = aug_transforms()
    weights = [w.copy() for w in learn.model.get_weights()]
    epoch = int(learn.data.rng_state[0].numpy())
    p1, t1 = learn.tta(augment=aug, n=3)
    p2, _ = learn.tta(augment=aug, n=3)
    np.testing.assert_array_equal(p1, p2)  # seeded: repeats exactly
    plain, targets = learn.get_preds()
    np.testing.assert_array_equal(t1, targets)
    np.testing.assert_allclose(learn.tta(augment=aug, n=3, beta=1.0)[0], plain, rtol=1e-6)
    (mean, plain2), _ = learn.tta(augment=aug, n=3, beta=None)
    np.testing.assert_allclose(p1, 0.25 * plain2 + 0.75 * mean, rtol=1e-5, atol=1e-7)
    assert not np.allclose(mean, plain)  # the passes really were augmented
    other, _ = learn.tta(augment=aug, n=3, seed=7)
    assert not np.allclose(other, p1)
    assert int(learn.data.rng_state[0].numpy()) == epoch
    for a, b in zip(weights, learn.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="augment must be None or a callable"):
        learn.tta(augment="flip")


# ---- export / load_learner ---------------------------------------------------------------------
def test_export_load_learner_predicts_identically(tmp_path):
    learn, x, _ = _image_learner()
    learn.fit_one_cycle(1, 0.05)
    path = learn.export(tmp_path / "exp")
    assert sorted(p.name for p in path.iterdir()) == [MODEL_FILE, META_FILE]
    meta = json.loads((path / META_FILE).read_text())
    assert meta["format_version"] == 1 and meta["task"] == "sparse_categorical"
    assert EXPORT_VERSION == 2 and "threshold" not in meta  # format 2 is for sigmoid heads
    assert meta["preprocess"] == {"kind": "array", "raw_dtype": "uint8", "scale": 1 / 255}
    assert meta["input_spec"] == {"shape": [None, 12, 12, 3], "dtype": "float32"}
    assert meta["activation"] == "softmax"
    with zipfile.ZipFile(path / MODEL_FILE) as z:  # Keras' format, no optimizer state
        names = z.namelist()
        assert "config.json" in names and not any("optimizer" in n for n in names)
        assert "optimizer" not in z.read("config.json").decode()
    inf = load_learner(path)
    for item in (x[0], x[17]):
        a, b = learn.predict(item), inf.predict(item)
        assert a[:2] == b[:2]
        np.testing.assert_array_equal(a[2], b[2])
    np.testing.assert_array_equal(inf.get_preds(x)[0], inf.get_preds(inf.test_dl(x))[0])
    np.testing.assert_allclose(inf.get_preds(x)[0], learn.get_preds(x)[0], rtol=1e-5,
                               atol=1e-7)
    assert not hasattr(inf, "data") and not hasattr(inf, "opt")
    # exporting again replaces the pair
    learn.fit(1, lr=0.05)
    learn.export(path)
    np.testing.assert_array_equal(load_learner(path).predict(x[0])[2], learn.predict(x[0])[2])


def test_load_learner_errors_name_the_problem(tmp_path):
    learn, _, _ = _image_learner()
    path = learn.export(tmp_path / "exp")
    with pytest.raises(FileNotFoundError, match="learn.export"):
        load_learner(tmp_path / "nothing")
    with pytest.raises(ValueError, match="is a file"):
        learn.export(path / META_FILE)
    meta = json.loads((path / META_FILE).read_text())

    def rewrite(**changes):
        (path / META_FILE).write_text(json.dumps({**meta, **changes}))

    rewrite(format_version=EXPORT_VERSION + 1, tflearner_version="9.0")
    with pytest.raises(ExportError, match=r"tflearner 9.0 .*Upgrade tflearner"):
        load_learner(path)
    rewrite(format="something-else")
    with pytest.raises(ExportError, match="not a tflearner export"):
        load_learner(path)
    (path / META_FILE).write_text('{"format": "tflearner-export", "format_')
    with pytest.raises(ExportError, match="not valid JSON"):
        load_learner(path)
    rewrite()
    good = (path / MODEL_FILE).read_bytes()
    (path / MODEL_FILE).write_bytes(good[:-100] + bytes(100))
    with pytest.raises(ExportError, match="corrupt.*SHA-256"):
        load_learner(path)
    (path / MODEL_FILE).write_bytes(b"not a zip")
    rewrite(model_sha256=__import__("hashlib").sha256(b"not a zip").hexdigest())
    with pytest.raises(ExportError, match="Keras could not load"):
        load_learner(path)
    (path / MODEL_FILE).unlink()
    with pytest.raises(FileNotFoundError, match="model.keras is missing"):
        load_learner(path)


def test_tampered_export_fails_to_load_with_a_clear_error(tmp_path):
    learn, x, _ = _image_learner()
    path = learn.export(tmp_path / "exp")
    meta = json.loads((path / META_FILE).read_text())

    def rewrite(**changes):
        (path / META_FILE).write_text(json.dumps({**meta, **changes}))

    five = ["a", "b", "c", "d", "e"]
    for changes, words in [
        ({"task": "bogus"}, r"has task='bogus'; expected one of \['sparse_categorical'"),
        ({"classes": five}, r"has c=3; expected the number of classes \(5\)"),
        ({"classes": five, "c": None}, r"outputs 3 values per item, but tflearner.json names 5 "
                                       r"classes"),
        ({"classes": "abc"}, r"has classes='abc'; expected null or a list"),
        ({"activation": "relu"}, r"has activation='relu'"),
        ({"input_spec": {"shape": [None, 12], "dtype": "float99"}}, r"has input_spec="),
        ({"preprocess": {"kind": "audio"}}, r"has preprocess="),
    ]:
        rewrite(**changes)
        with pytest.raises(ExportError, match=words):
            load_learner(path)
    rewrite()
    assert load_learner(path).predict(x[0])[1] == learn.predict(x[0])[1]


def test_a_swapped_valid_model_file_fails_the_checksum(tmp_path):
    learn, x, _ = _image_learner(seed=0)
    other, _, _ = _image_learner(seed=1)  # same architecture, other weights: a valid file
    path, elsewhere = learn.export(tmp_path / "a"), other.export(tmp_path / "b")
    (path / MODEL_FILE).write_bytes((elsewhere / MODEL_FILE).read_bytes())
    with pytest.raises(ExportError, match=r"model.keras is corrupt or was replaced: its SHA-256"):
        load_learner(path)


def test_load_learner_of_the_model_file_names_the_folder(tmp_path):
    learn, _, _ = _image_learner()
    path = learn.export(tmp_path / "exp")
    with pytest.raises(ExportError, match=r"is a file, not an export: pass the export folder "
                                          r"written by learn.export\(path\) \(.*exp' holds "
                                          r"one\)"):
        load_learner(path / MODEL_FILE)


def test_export_into_a_folder_that_cannot_be_written_is_a_clear_error(tmp_path):
    learn, _, _ = _image_learner()
    target = tmp_path / "ro"
    target.mkdir()
    target.chmod(0o555)
    if os.access(target, os.W_OK):  # root: file modes do not stop it; sysfs refuses new files
        target = Path("/sys/fs")
        if not target.is_dir() or os.access(target, os.W_OK) and _writable(target):
            pytest.skip("no folder here refuses writes")
    with pytest.raises(ValueError, match=r"is a folder that cannot be written to \(.*\); pass "
                                         r"a folder you can write to") as e:
        learn.export(target)
    assert ".tmp-" not in str(e.value)


def _writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def test_tta_takes_keras_layers_and_one_argument_functions():
    learn, _, _ = _image_learner()
    plain, targets = learn.get_preds()
    flip = keras.layers.RandomFlip("horizontal")
    p1, t1 = learn.tta(augment=flip, n=2)
    p2, _ = learn.tta(augment=flip, n=2)
    np.testing.assert_array_equal(p1, p2)  # the layer's generator is set per pass and batch
    np.testing.assert_array_equal(t1, targets)
    assert not np.allclose(p1, plain)
    xv, _ = _valid_arrays(learn.data)
    mirrored = learn.get_preds(tf.data.Dataset.from_tensor_slices(xv[:, :, ::-1]).batch(8))[0]
    probs, _ = learn.tta(augment=tf.image.flip_left_right, n=2, beta=0.5)
    np.testing.assert_allclose(probs, 0.5 * plain + 0.5 * mirrored, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="augment must be a callable of one argument"):
        learn.tta(augment=lambda a, b, c: a)


def test_tta_refuses_a_dataset_that_reshuffles_between_passes():
    learn, _, _ = _image_learner()
    xv, yv = _valid_arrays(learn.data)
    ds = (tf.data.Dataset.from_tensor_slices((xv, yv))
          .shuffle(len(xv), seed=0, reshuffle_each_iteration=True).batch(4))
    with pytest.raises(ValueError, match=r"other labels at the same positions on a second pass "
                                         r"\(is it shuffled\?\); tta needs a dataset with a fixed"):
        learn.tta(ds, augment=aug_transforms(), n=2)
