"""Sample weights and class weights, with Keras' semantics: checked against model.fit."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

from tflearner import DataBundle, Learner


def _keras_twin(learn_model, weights):
    twin = mlp(seed=0)
    twin.set_weights(weights)
    twin.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"])
    return twin


@pytest.mark.parametrize("kind", ["sample_weight", "class_weight"])
def test_weighted_training_matches_model_fit(kind):
    x, y = blobs(96)
    w = np.where(y == 0, 3.0, 0.5).astype("float32")
    model = mlp(seed=0)
    start = [a.copy() for a in model.get_weights()]
    if kind == "sample_weight":
        ds = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(16)
        learn = Learner(model, DataBundle.from_datasets(ds), opt=keras.optimizers.SGD(0.1),
                        quiet=True)
        learn.fit(2)
    else:
        ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
        learn = Learner(model, DataBundle.from_datasets(ds), opt=keras.optimizers.SGD(0.1),
                        quiet=True, class_weight={0: 3.0, 1: 0.5, 2: 0.5})
        learn.fit(2)
    twin = _keras_twin(model, start)
    hist = twin.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                    **({"sample_weight": w} if kind == "sample_weight"
                       else {"class_weight": {0: 3.0, 1: 0.5, 2: 0.5}}))
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # the recorder's train_loss is the weighted loss that was optimised, as Keras reports it
    assert learn.recorder.values[-1]["train_loss"] == pytest.approx(hist.history["loss"][-1],
                                                                    rel=1e-4)


def test_weighted_validation_equals_keras_evaluate():
    x, y = blobs(80)
    w = np.linspace(0.1, 2.0, 80).astype("float32")
    data = DataBundle.from_arrays(x, y, sample_weight=w, valid_pct=0.25, batch_size=16, seed=0)
    assert len(data.train.element_spec) == 3 and len(data.valid.element_spec) == 3
    learn = Learner(mlp(), data, quiet=True)
    xv, yv, wv = (np.concatenate(p) for p in zip(*[(a.numpy(), b.numpy(), c.numpy())
                                                   for a, b, c in data.valid], strict=True))
    twin = _keras_twin(learn.model, learn.model.get_weights())
    want = twin.evaluate(xv, yv, sample_weight=wv, batch_size=20, verbose=0, return_dict=True)
    got = learn.validate()
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
    assert got["accuracy"] == pytest.approx(want["accuracy"], rel=1e-5)
    # unweighted validation of the same Learner: a (x, y) dataset still works
    plain = tf.data.Dataset.from_tensor_slices((xv, yv)).batch(20)
    assert learn.validate(plain)["loss"] != pytest.approx(got["loss"], rel=1e-3)
    # per-item losses are unweighted (docs/images.md): validate() is mean(w * losses) with
    # weights (Keras' sum over the count, not over sum(w)), mean(losses) without
    losses = learn.get_preds(with_loss=True)[2]
    assert got["loss"] == pytest.approx(float(np.mean(wv * losses)), rel=1e-5)
    assert got["loss"] != pytest.approx(float(np.mean(losses)), rel=1e-2)
    assert learn.validate(plain)["loss"] == pytest.approx(float(np.mean(losses)), rel=1e-5)


def test_fit_class_weight_is_for_that_fit_only_and_errors_are_clear():
    x, y = blobs(64)
    learn = Learner(mlp(), DataBundle.from_arrays(x, y, batch_size=16, seed=0), quiet=True)
    learn.fit(1, class_weight={0: 2.0})
    assert learn.class_weights.variable.numpy().tolist() == [1.0, 1.0, 1.0]
    learn.fit(1)
    assert learn.loop.trace_counts["train"] == 1  # the weighting was built in before training
    with pytest.raises(ValueError, match="class_weight key must be an int >= 0 and <= 2"):
        learn.fit(1, class_weight={3: 1.0})
    with pytest.raises(TypeError, match="class_weight must be a dict"):
        Learner(mlp(), learn.data, class_weight=[1, 2, 3])
    with pytest.raises(ValueError, match=r"sample_weight must be one number per example"):
        DataBundle.from_arrays(x, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="finite and >= 0"):
        DataBundle.from_arrays(x, y, sample_weight=-np.ones(64))
    bad = tf.data.Dataset.from_tensor_slices((x, y, np.ones(64, "int32"))).batch(8)
    with pytest.raises(ValueError, match="sample weights"):
        DataBundle.from_datasets(bad)


@pytest.mark.parametrize("bad", [-3.0, np.nan])
def test_a_negative_or_non_finite_weight_inside_a_dataset_is_refused(bad):
    """from_datasets cannot look inside the data up front: the compiled step checks each
    batch's weights (a negative weight would turn the loss negative)."""
    x, y = blobs(64)
    w = np.ones(64, "float32")
    w[37] = bad  # batch 2 of 16
    ds = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(16)
    ok = tf.data.Dataset.from_tensor_slices((x, y, np.ones(64, "float32"))).batch(16)
    learn = Learner(mlp(), DataBundle.from_datasets(ds, ok), quiet=True)
    with pytest.raises(ValueError, match=rf"sample weight {'-3' if bad < 0 else 'nan'}.*"
                                         r"finite and >= 0"):
        learn.fit(1, lr=0.1)
    with pytest.raises(ValueError, match="finite and >= 0"):
        learn.validate(ds)
