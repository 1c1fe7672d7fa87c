"""Learner: defaults from the data, fit/validate/predict, save/load, and helpful errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

from tflearner import SGD, DataBundle, Learner, LeNet


def test_defaults_match_the_seed_and_the_model_output(blob_data):
    learn = Learner(mlp(softmax=True), blob_data, quiet=True)
    assert isinstance(learn.loss_fn, keras.losses.SparseCategoricalCrossentropy)
    assert learn.loss_fn.get_config()["from_logits"] is False
    assert [m.name for m in learn.metrics] == ["accuracy"]
    assert isinstance(learn.opt, SGD) and learn.hypers.mom is None  # plain SGD, like the seed
    logits = Learner(mlp(softmax=False), blob_data, quiet=True)
    assert logits.loss_fn.get_config()["from_logits"] is True


def test_fit_learns_and_validate_predict_agree(blob_data):
    learn = Learner(mlp(), blob_data, lr=0.1, quiet=True)
    before = learn.validate()
    learn.fit(4)
    after = learn.validate()
    assert after["loss"] < before["loss"] * 0.7
    assert after["accuracy"] > 0.8
    rows = learn.recorder.values
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3]
    assert set(rows[0]) == {"epoch", "train_loss", "valid_loss", "accuracy", "time"}
    assert rows[-1]["valid_loss"] == pytest.approx(after["loss"])
    x, y = blobs()
    xv = np.concatenate([b[0].numpy() for b in learn.data.valid])
    yv = np.concatenate([b[1].numpy() for b in learn.data.valid])
    probs, targets = learn.get_preds(xv)
    assert targets is None
    assert probs.shape == (len(xv), 3)
    assert np.mean(probs.argmax(1) == yv) == pytest.approx(after["accuracy"])
    probs, targets = learn.get_preds(learn.data.valid)
    assert probs.shape == (len(xv), 3)
    np.testing.assert_array_equal(targets, yv)


def test_an_optimizer_instance_keeps_its_lr_unless_lr_is_given(blob_data):
    assert Learner(mlp(), blob_data, opt=keras.optimizers.Adam(3e-4)).hypers.lr == pytest.approx(
        3e-4)
    assert Learner(mlp(), blob_data, opt=keras.optimizers.Adam(3e-4),
                   lr=0.02).hypers.lr == pytest.approx(0.02)
    assert Learner(mlp(), blob_data, opt="adam").hypers.lr == pytest.approx(1e-3)


def test_fit_lr_and_wd_arguments_set_the_hypers(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    learn.fit(1, lr=0.05, wd=0.01)
    assert learn.hypers.lr == pytest.approx(0.05) and learn.hypers.wd == pytest.approx(0.01)
    assert set(np.round(learn.recorder.lrs, 6)) == {0.05}


def test_save_load_round_trip_is_bitwise(tmp_path, blob_data):
    learn = Learner(mlp(), blob_data, opt="adam", quiet=True)
    learn.fit(1, lr=0.01)
    learn.hypers.mom = 0.85
    path = learn.save(tmp_path / "stage1")
    assert path.name == "stage1.npz" and path.exists()
    saved = {g: [v.numpy().copy() for v in vs] for g, vs in learn.state_variables().items()}
    learn.fit(1, lr=0.05)
    learn.hypers.mom = 0.95
    learn.load(path)
    for group, values in saved.items():
        for v, s in zip(learn.state_variables()[group], values, strict=True):
            np.testing.assert_array_equal(v.numpy(), s)
    assert learn.hypers.mom == pytest.approx(0.85)
    assert int(learn.opt.iterations.numpy()) == 8  # one epoch: 240 images / 32 -> 8 steps


def test_load_refuses_other_architecture_and_other_optimizer(tmp_path, blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    path = learn.save(tmp_path / "a.npz")
    wider = keras.Sequential([keras.Input((8,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(ValueError, match="does not match this Learner's model variables"):
        Learner(wider, blob_data, quiet=True).load(path)
    with pytest.raises(ValueError, match="holds SGD state but this Learner uses Adam"):
        Learner(mlp(), blob_data, opt="adam", quiet=True).load(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        learn.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not a tflearner state file"):
        learn.load(tmp_path / "junk.npz")


# ---- bad input: each error names the argument, the value and the fix ---------------------------
def test_model_must_be_a_keras_model(blob_data):
    with pytest.raises(TypeError, match="model must be a keras.Model, got function"):
        Learner(lambda x: x, blob_data)


def test_data_must_be_a_databundle():
    with pytest.raises(TypeError, match="data must be a tflearner.DataBundle, got tuple"):
        Learner(mlp(), (1, 2))


def test_unbatched_data_is_refused():
    x, y = blobs(50)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    with pytest.raises(ValueError, match=r"looks unbatched .*call train.batch\(batch_size\)"):
        DataBundle.from_datasets(ds)
    # labels shaped (n, 1) hide that the images are unbatched: the Learner sees the rank
    img = tf.data.Dataset.from_tensor_slices((np.zeros((4, 32, 32, 3), "float32"),
                                              np.zeros((4, 1), "int64")))
    with pytest.raises(ValueError, match="data.train looks unbatched"):
        Learner(LeNet(), DataBundle.from_datasets(img))


def test_class_count_must_match_model_output(cifar_like):
    with pytest.raises(ValueError, match=r"10 classes but the model outputs 5 .*num_classes=10"):
        Learner(LeNet(num_classes=5), cifar_like)


def test_labels_must_match_the_task(blob_data):
    x, y = blobs(64)
    float_ds = tf.data.Dataset.from_tensor_slices((x, y.astype("float32"))).batch(16)
    float_labels = DataBundle.from_datasets(float_ds, task="sparse_categorical")
    with pytest.raises(ValueError, match="Sparse class labels must be integer tensors"):
        Learner(mlp(), float_labels)  # from_arrays casts whole-number floats; datasets do not
    onehot = DataBundle.from_arrays(x, np.eye(4, dtype="float32")[y % 4], valid_pct=0.0)
    assert onehot.task == "categorical" and onehot.c == 4
    with pytest.raises(ValueError, match="4 classes but the model outputs 3"):
        Learner(mlp(), onehot)


def test_model_that_cannot_take_the_inputs(blob_data):
    with pytest.raises(ValueError, match=r"model cannot take the data's inputs: x has example "
                                         r"shape \(8,\)"):
        Learner(mlp(d=5), blob_data)


def test_loss_must_return_a_scalar(blob_data):
    per_example = keras.losses.SparseCategoricalCrossentropy(reduction=None)
    with pytest.raises(ValueError, match=r"must return a scalar \(the batch mean\), got shape "
                                         r"\(2,\)"):
        Learner(mlp(), blob_data, loss_fn=per_example)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        Learner(mlp(), blob_data, loss_fn=3)
    with pytest.raises(ValueError, match="loss_fn='mse!' is not a Keras loss name"):
        Learner(mlp(), blob_data, loss_fn="mse!")


@pytest.mark.parametrize("epochs,err,words", [
    (0, ValueError, "epochs must be an int >= 1, got 0; to skip training"),
    (-2, ValueError, "epochs must be an int >= 1, got -2"),
    (1.5, TypeError, "epochs must be an int >= 1, got 1.5 (float)"),
    ("3", TypeError, "epochs must be an int >= 1, got '3' (str)"),
    (True, TypeError, "epochs must be an int >= 1, got True (bool)"),
])
def test_bad_epochs(blob_data, epochs, err, words):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(err) as info:
        learn.fit(epochs)
    assert words in str(info.value)
    assert learn.recorder.losses == []


def test_optimizer_with_lr_schedule_is_refused(blob_data):
    sched = keras.optimizers.schedules.CosineDecay(0.1, 100)
    with pytest.raises(ValueError, match="the Learner owns the learning rate"):
        Learner(mlp(), blob_data, opt=keras.optimizers.Adam(sched))


def test_empty_dataset_is_refused():
    x, y = blobs(10)
    empty = tf.data.Dataset.from_tensor_slices((x, y)).batch(4).take(0)
    with pytest.raises(ValueError, match="train is empty"):
        DataBundle.from_datasets(empty)
    unknown_empty = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: False).batch(4)
    learn = Learner(mlp(), DataBundle.from_datasets(unknown_empty), quiet=True)
    with pytest.raises(ValueError, match="train yielded no batches"):
        learn.fit(1)
    with pytest.raises(ValueError, match="x is empty"):
        DataBundle.from_arrays(x[:0], y[:0])


def test_bad_metrics(blob_data):
    with pytest.raises(ValueError, match="'nope' is not a Keras metric name"):
        Learner(mlp(), blob_data, metrics=["nope"])
    with pytest.raises(TypeError, match=r"metrics\[0\] must be a metric name"):
        Learner(mlp(), blob_data, metrics=[3])


def test_validate_without_valid_set_says_what_to_pass():
    x, y = blobs(64)
    learn = Learner(mlp(), DataBundle.from_arrays(x, y, valid_pct=0.0), quiet=True)
    with pytest.raises(ValueError, match="no validation set; pass a dataset"):
        learn.validate()


def test_predict_on_raw_uint8_applies_the_bundles_scaling():
    """Bug: predict(uint8 array) skipped the 1/255 scaling from_arrays applies to training
    images, so a model saw 0..255 at prediction and 0..1 in training."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 8, 8, 3), dtype=np.uint8)
    y = rng.integers(0, 3, 64)
    data = DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=16, seed=0)
    assert data.preprocess.raw_dtype == "uint8" and data.preprocess.scale == pytest.approx(1 / 255)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    learn = Learner(model, data, quiet=True)
    got = learn.get_preds(x)[0]
    want = model(x.astype("float32") / 255.0, training=False).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(learn.predict(x[3])[2], want[3], rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="x must be a raw uint8 array.*got dtype float32"):
        learn.get_preds(x.astype("float32") / 255.0)  # already scaled: refused, not re-scaled
    with pytest.raises(TypeError, match="x must be a raw uint8 array.*got dtype float32"):
        learn.predict(x[0].astype("float32") / 255.0)


@pytest.mark.parametrize("name, written", [("x.NPZ", "x.NPZ"), ("x.Npz", "x.Npz"),
                                           ("x.npz", "x.npz"), ("x", "x.npz"),
                                           ("x.weights", "x.weights.npz")])
def test_save_suffix_is_case_insensitive(tmp_path, blob_data, name, written):
    learn = Learner(mlp(), blob_data, quiet=True)
    path = learn.save(tmp_path / name)
    assert path == tmp_path / written
    assert sorted(p.name for p in tmp_path.iterdir()) == [written]  # nothing else written
    learn.load(tmp_path / name)  # the name given to save loads it back
    learn.load(path)
    with pytest.raises(FileNotFoundError, match=r"y\.NPZ' does not exist"):  # not y.NPZ.npz
        learn.load(tmp_path / "y.NPZ")
