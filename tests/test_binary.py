"""Binary and multi-label heads: Dense(1, sigmoid) / logits with a binary cross-entropy, k
sigmoid outputs with 0/1 rows; each trained as model.fit trains it (same weights after an
epoch), read with a decoding threshold, interpreted, exported and predicted from the CLI."""

from __future__ import annotations

import json
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs

from tflearner import ClassificationInterpretation, DataBundle, Learner, load_learner
from tflearner.cli import main

KERAS_BCE = "binary_crossentropy"
LOGITS_BCE = keras.losses.BinaryCrossentropy(from_logits=True)


def _net(k=1, act="sigmoid", seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(k, activation=act, name="out")])


def _pair(x, y, k=1, act="sigmoid", loss=None, keras_loss=KERAS_BCE, keras_metric=None):
    """A Learner trained one epoch and its model.fit twin, from the same weights and batches."""
    model = _net(k, act)
    start = model.get_weights()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    learn = Learner(model, DataBundle.from_datasets(ds, ds), loss_fn=loss, quiet=True,
                    opt=keras.optimizers.SGD(0.1))
    learn.fit(1)
    twin = _net(k, act)
    twin.set_weights(start)
    twin.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras_loss,
                 metrics=[keras_metric or keras.metrics.BinaryAccuracy(name="acc")])
    twin.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    return learn, twin


@pytest.mark.parametrize("labels,loss,act,keras_loss,activation", [
    ("int", None, "sigmoid", KERAS_BCE, None),
    ("float", "binary_crossentropy", "sigmoid", KERAS_BCE, None),
    ("int", "binary_crossentropy", None, LOGITS_BCE, "sigmoid"),  # from_logits read off
    ("float", keras.losses.BinaryCrossentropy(from_logits=True), None, LOGITS_BCE, "sigmoid"),
], ids=["int-default", "float-name", "logits-name", "logits-object"])
def test_binary_trains_and_evaluates_as_model_fit(labels, loss, act, keras_loss, activation):
    x, y = blobs(96, c=2)
    y = y.astype("float32") if labels == "float" else y
    metric = keras.metrics.BinaryAccuracy(name="acc", threshold=0.0 if act is None else 0.5)
    learn, twin = _pair(x, y, act=act, loss=loss, keras_loss=keras_loss, keras_metric=metric)
    assert learn.task == "binary" and learn.activation == activation
    for a, b in zip(learn.model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    want = twin.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    got = learn.validate()
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
    assert got["accuracy"] == pytest.approx(want["acc"])
    probs, targets, decoded = learn.get_preds(with_decoded=True)
    p = 1 / (1 + np.exp(-twin.predict(x, verbose=0))) if act is None else twin.predict(
        x, verbose=0)
    np.testing.assert_allclose(probs, p, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(decoded, (p[:, 0] > 0.5).astype(int))


def test_multi_label_trains_evaluates_and_decodes_as_model_fit():
    x, _ = blobs(96)
    rng = np.random.default_rng(0)
    y = (x[:, :3] + rng.normal(0, 1, (96, 3)) > 0).astype("float32")  # rows with 0-3 labels
    learn, twin = _pair(x, y, k=3)
    assert learn.task == "multi_label" and learn.setup.n_classes == 3
    for a, b in zip(learn.model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    want = twin.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    got = learn.validate()  # accuracy: per label, averaged (Keras' binary_accuracy)
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
    assert got["accuracy"] == pytest.approx(want["acc"])
    probs, _, decoded = learn.get_preds(with_decoded=True)
    np.testing.assert_array_equal(decoded, (twin.predict(x, verbose=0) > 0.5).astype(int))
    learn.threshold = 0.3
    labels, mask, p = learn.predict(x[0])
    np.testing.assert_array_equal(mask, p > 0.3)
    assert labels == [int(i) for i in np.flatnonzero(p > 0.3)]
    np.testing.assert_array_equal(learn.get_preds(with_decoded=True)[2], probs > 0.3)


def test_tasks_from_arrays():
    x, y = blobs(60, c=2)
    assert Learner(_net(), DataBundle.from_arrays(x, y), quiet=True).task == "binary"
    two = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    assert Learner(two, DataBundle.from_arrays(x, y), quiet=True).task == "sparse_categorical"
    multi_hot = np.stack([y, 1 - y, np.ones_like(y)], 1)  # ints, rows with two 1s
    data = DataBundle.from_arrays(x, multi_hot)
    assert data.task == "multi_label" and data.c == 3
    assert data.train.element_spec[1].dtype == tf.float32
    one_hot = np.stack([y, 1 - y], 1)
    data = DataBundle.from_arrays(x, one_hot)
    assert data.task == "categorical"  # the head decides: a sigmoid makes it multi-label
    assert Learner(_net(2), data, quiet=True).task == "multi_label"
    with pytest.raises(ValueError, match=r"task='binary' needs 0/1 labels .* values in \[0, 2\]"):
        DataBundle.from_arrays(x, np.where(y == 1, 2, 0), task="binary")
    with pytest.warns(UserWarning, match="taken for regression .* loss_fn='binary_crossentropy'"):
        Learner(_net(), DataBundle.from_arrays(x, y.astype("float32")), quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explicit = DataBundle.from_arrays(x, y.astype("float32"), task="binary")
        assert Learner(_net(), explicit, quiet=True).task == "binary"


def test_wrong_heads_and_losses_are_told_the_fix():
    x, y = blobs(60, c=2)
    data = DataBundle.from_arrays(x, y)
    with pytest.raises(ValueError, match=r"one column per model output \(2\).* for binary "
                                         r"classification give the model one output"):
        Learner(_net(2), data, loss_fn="binary_crossentropy", quiet=True)
    with pytest.raises(ValueError, match="loss_fn='binary_crossentropy'"):
        Learner(_net(), data, loss_fn="sparse_categorical_crossentropy", quiet=True)
    with pytest.warns(UserWarning, match=r"from_logits=False\) but the model's last layer "
                                         r"\('out'\) has no activation"):
        Learner(_net(act=None), data, loss_fn=keras.losses.BinaryCrossentropy(), quiet=True)
    multi = DataBundle.from_arrays(x, np.stack([y, 1 - y, y], 1).astype("float32"))
    with pytest.raises(ValueError, match="class_weight weighs each example by its one class"):
        Learner(_net(3), multi, class_weight={0: 2.0}, quiet=True)


def test_binary_interpretation_and_class_weight_follow_keras():
    x, y = blobs(96, c=2)
    learn = Learner(_net(), DataBundle.from_arrays(x, y, classes=("no", "yes"), valid_pct=0.5,
                                                   seed=0), quiet=True)
    learn.fit(1, class_weight={1: 3.0})
    probs, targets = learn.get_preds()
    learn.threshold = 0.7
    interp = ClassificationInterpretation.from_learner(learn)
    pred = (probs[:, 0] > 0.7).astype(int)
    want = np.array([[np.sum((targets == a) & (pred == b)) for b in (0, 1)] for a in (0, 1)])
    np.testing.assert_array_equal(interp.confusion_matrix(), want)
    assert interp.classes == ["no", "yes"] and interp.probs.shape == (48, 2)
    assert learn.predict(x[0])[0] in ("no", "yes")


def test_export_and_cli_carry_the_threshold(tmp_path, capsys):
    from PIL import Image

    rng = np.random.default_rng(0)
    rows = ["file,tags"]
    for i in range(16):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
        rows.append(f"{i}.png," + ["cat", "dog", "cat dog", ""][i % 4])
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    data = DataBundle.from_csv(tmp_path / "labels.csv", tmp_path, label_delim=" ", img_size=8,
                               batch_size=4, valid_pct=0.25)
    assert data.task == "multi_label" and data.classes == ("cat", "dog")
    y = np.concatenate([b[1].numpy() for b in data.train.take(4)])
    assert y.shape[1] == 2 and set(np.unique(y)) <= {0.0, 1.0}
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2)])  # logits
    learn = Learner(model, data, quiet=True)
    learn.threshold = 0.45
    inf = load_learner(learn.export(tmp_path / "export"))
    assert inf.threshold == 0.45 and inf.activation == "sigmoid"
    assert json.loads((tmp_path / "export" / "tflearner.json").read_text())["format_version"] == 2
    image = str(tmp_path / "0.png")
    labels, mask, probs = learn.predict(image)
    assert inf.predict(image)[0] == labels
    assert main(["predict", str(tmp_path / "export"), image, "--threshold", "0.01"]) == 0
    assert capsys.readouterr().out.split("\t")[1] == "cat dog"  # both above 0.01
    assert main(["predict", str(tmp_path / "export"), image, "--json"]) == 0
    entry = json.loads(capsys.readouterr().out)[0]
    assert entry["labels"] == labels and entry["threshold"] == 0.45


def test_rows_under_logits_from_a_dataset_are_ambiguous_and_said_so():
    x, y = blobs(32, c=2)
    rows = np.stack([y, 1 - y, y], 1).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((x, rows)).batch(8)
    with pytest.warns(UserWarning, match="pass task='multi_label' to the DataBundle"):
        learn = Learner(_net(3, act=None), DataBundle.from_datasets(ds), quiet=True)
    assert learn.task == "categorical"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learn = Learner(_net(3, act=None), DataBundle.from_datasets(ds, task="multi_label"),
                        quiet=True)
        assert learn.task == "multi_label" and learn.activation == "sigmoid"
        Learner(_net(3, act=None), DataBundle.from_datasets(ds, task="categorical"), quiet=True)
