"""Models with several inputs and outputs, with sample weights, through every Learner path."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import StopAfter

from tflearner import DataBundle, Learner

LOSS = {"cls": "sparse_categorical_crossentropy", "reg": "mse"}
WEIGHTS = {"cls": 1.0, "reg": 0.5}


def two_by_two(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    a, b = keras.Input((8,), name="a"), keras.Input((3,), name="b")
    h = keras.layers.Dense(16, activation="relu")(keras.layers.Concatenate()([a, b]))
    return keras.Model({"a": a, "b": b},
                       {"cls": keras.layers.Dense(3, activation="softmax", name="cls")(h),
                        "reg": keras.layers.Dense(1, name="reg")(h)})


def arrays(n: int = 96, seed: int = 0):
    rng = np.random.default_rng(seed)
    xa = rng.normal(size=(n, 8)).astype("float32")
    xb = rng.normal(size=(n, 3)).astype("float32")
    yc = (xa[:, 0] > 0).astype("int64") + (xb[:, 0] > 0.5)
    yr = (xa[:, :1] * 2 + xb[:, :1]).astype("float32")
    w = rng.uniform(0.5, 2.0, n).astype("float32")
    return {"a": xa, "b": xb}, {"cls": yc, "reg": yr}, w


def test_two_inputs_two_outputs_with_sample_weights_train_like_model_fit():
    x, y, w = arrays()
    ds = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(16)
    model = two_by_two()
    start = model.get_weights()
    learn = Learner(model, DataBundle.from_datasets(ds), loss_fn=LOSS, loss_weights=WEIGHTS,
                    metrics={"cls": ["accuracy"]}, opt=keras.optimizers.SGD(0.05), quiet=True)
    learn.fit(2)
    twin = two_by_two()
    twin.set_weights(start)
    twin.compile(keras.optimizers.SGD(0.05), loss=LOSS, loss_weights=WEIGHTS,
                 metrics={"cls": ["accuracy"]})
    hist = twin.fit(x, y, sample_weight=w, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for p, q in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-6)
    assert learn.recorder.values[-1]["train_loss"] == pytest.approx(hist.history["loss"][-1],
                                                                    rel=1e-4)
    got = learn.validate(ds)
    want = twin.evaluate(x, y, sample_weight=w, batch_size=16, verbose=0, return_dict=True)
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-4)
    assert got["cls_accuracy"] == pytest.approx(want["cls_accuracy"], rel=1e-5)
    for name in ("cls_loss", "reg_loss"):  # each output's own loss, as Keras logs it
        assert got[name] == pytest.approx(want[name], rel=1e-4)


def test_every_path_runs_with_two_inputs_and_outputs(tmp_path):
    x, y, w = arrays(120)
    data = DataBundle.from_arrays(x, y, sample_weight=w, valid_pct=0.25, batch_size=16, seed=0)
    assert data.task == "multi_output" and data.structured
    learn = Learner(two_by_two(), data, loss_fn=LOSS, loss_weights=WEIGHTS,
                    metrics={"cls": ["accuracy"]}, opt="adam", quiet=True)
    before = [v.numpy().copy() for v in learn.model.variables]
    found = learn.lr_find(num_it=20)
    for a, v in zip(before, learn.model.variables, strict=True):
        np.testing.assert_array_equal(a, v.numpy())  # lr_find left no trace
    assert len(learn.recorder.lrs) >= 5 and found is not None
    learn.fit_one_cycle(2, 3e-3)
    row = learn.recorder.values[-1]
    assert {"train_loss", "valid_loss", "cls_accuracy"} <= set(row)
    out, targets = learn.get_preds()
    assert set(out) == {"cls", "reg"} and out["cls"].shape == (30, 3)
    assert out["reg"].shape == (30, 1) and set(targets) == {"cls", "reg"}
    ready = tf.data.Dataset.from_tensor_slices(
        {"a": x["a"][:10], "b": x["b"][:10]}).batch(4)  # inputs only: a dict, not (x, y)
    out2, none = learn.get_preds(ready)
    assert none is None and out2["cls"].shape == (10, 3)
    np.testing.assert_allclose(out2["cls"], learn.model(
        {"a": x["a"][:10], "b": x["b"][:10]})["cls"].numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="one input and one output"):
        learn.predict(x["a"][0])
    with pytest.raises(ValueError, match="with_loss / with_decoded need one output"):
        learn.get_preds(with_loss=True)

    # a checkpointed fit, stopped and resumed, ends where an uninterrupted one does
    def run():
        return Learner(two_by_two(), DataBundle.from_arrays(
            x, y, sample_weight=w, valid_pct=0.25, batch_size=16, seed=0), loss_fn=LOSS,
            loss_weights=WEIGHTS, opt="adam", quiet=True)

    whole = run()
    whole.fit_one_cycle(2, 3e-3)
    part = run()
    ck = tmp_path / "ck"
    part.fit_one_cycle(2, 3e-3, checkpoint=ck, checkpoint_every=2, callbacks=[StopAfter(7)])
    resumed = run()
    resumed.fit_one_cycle(2, 3e-3, checkpoint=ck, checkpoint_every=2)
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_mirrored_strategy_trains_the_two_by_two_model():
    x, y, w = arrays(64)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = two_by_two()
    learn = Learner(model, DataBundle.from_arrays(x, y, sample_weight=w, valid_pct=0.25,
                                                  batch_size=16, seed=0),
                    loss_fn=LOSS, metrics={"cls": ["accuracy"]}, quiet=True)
    assert learn.strategy is strategy
    learn.fit(1)
    out, targets = learn.get_preds()
    assert out["cls"].shape == (16, 3) and targets["reg"].shape == (16, 1)


def test_clear_errors_for_mismatched_structures():
    x, y, _ = arrays(32)
    data = DataBundle.from_arrays(x, y, batch_size=8)
    with pytest.raises(ValueError, match="pass loss_fn as a list or dict"):
        Learner(two_by_two(), data, quiet=True)
    single = DataBundle.from_arrays(x, y["cls"], batch_size=8)
    with pytest.raises(ValueError, match=r"returns 2 outputs .* but the labels y are one tensor"):
        Learner(two_by_two(), single, loss_fn=LOSS, quiet=True)
    wrong = DataBundle.from_arrays({"a": x["a"], "c": x["b"]}, y, batch_size=8)
    with pytest.raises(ValueError, match="cannot take the data's inputs"):
        Learner(two_by_two(), wrong, loss_fn=LOSS, quiet=True)
    with pytest.raises(ValueError, match="one row per example"):
        DataBundle.from_arrays({"a": x["a"], "b": x["b"][:5]}, y)


def test_tuple_inputs_and_list_outputs_by_position():
    x, y, _ = arrays(48)
    keras.utils.set_random_seed(0)
    a, b = keras.Input((8,)), keras.Input((3,))
    h = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()([a, b]))
    model = keras.Model([a, b], [keras.layers.Dense(3)(h), keras.layers.Dense(1)(h)])
    data = DataBundle.from_arrays((x["a"], x["b"]), [y["cls"], y["reg"]], batch_size=8)
    loss = [keras.losses.SparseCategoricalCrossentropy(from_logits=True), "mse"]
    learn = Learner(model, data, loss_fn=loss, metrics=[None, ["mae"]], quiet=True)
    learn.fit(1)
    assert learn.runner.labelled(data.train.element_spec)
    xs = tf.data.Dataset.from_tensor_slices((x["a"][:6], x["b"][:6])).batch(3)
    assert not learn.runner.labelled(xs.element_spec)  # a tuple of inputs, not (x, y)
    out, none = learn.get_preds(xs)
    assert none is None and [o.shape for o in out] == [(6, 3), (6, 1)]
    assert any(k.endswith("_mae") for k in learn.recorder.values[-1])
