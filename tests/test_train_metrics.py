"""Learner(train_metrics=True): the metrics on the training batches, from the compiled step."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import StopAfter, blobs, mlp

from tflearner import SGD, DataBundle, Learner

# Their BatchNormalization models train for a few batches on purpose: no short-fit hint.
pytestmark = pytest.mark.filterwarnings("ignore::tflearner.models.BatchNormMomentumWarning")


def bn_mlp(seed: int = 0) -> keras.Model:
    """BatchNormalization makes the training forward pass (batch statistics) differ from
    inference, so only the training-pass predictions reproduce the training metric."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((8,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(3, activation="softmax"),
    ])


def _counter(data):
    return [v.numpy() for v in data.rng_state]


def _set_counter(data, values):
    for v, value in zip(data.rng_state, values, strict=True):
        v.assign(value)


def test_train_accuracy_is_that_of_the_epochs_training_forward_passes(blob_data):
    """With an LR so small the weights cannot move, each epoch's train_accuracy equals the
    accuracy of model(x, training=True) over that epoch's batches in the same order (each
    batch normalised by its own statistics), not the inference accuracy."""
    learn = Learner(bn_mlp(), blob_data, opt=SGD(), lr=1e-30, quiet=True, train_metrics=True)
    start = _counter(blob_data)
    weights = [v.numpy() for v in learn.model.trainable_variables]
    learn.fit(2)
    for a, v in zip(weights, learn.model.trainable_variables, strict=True):
        np.testing.assert_allclose(v.numpy(), a, rtol=0, atol=1e-25)
    # the validation metric is the Learner's own object, untouched by training batches (checked
    # before the calls below, whose training=True passes move BatchNorm's moving statistics)
    assert learn.recorder.values[-1]["accuracy"] == pytest.approx(learn.validate()["accuracy"])
    _set_counter(blob_data, start)
    by_hand, inference = [], []
    for _ in range(2):  # the same two epochs' data order
        hits, infer_hits, n = 0, 0, 0
        for x, y in blob_data.train:
            hits += int(np.sum(np.argmax(learn.model(x, training=True), -1) == y.numpy()))
            infer_hits += int(np.sum(np.argmax(learn.model(x, training=False), -1) ==
                                     y.numpy()))
            n += len(y)
        by_hand.append(hits / n)
        inference.append(infer_hits / n)
    got = [row["train_accuracy"] for row in learn.recorder.values]
    np.testing.assert_allclose(got, by_hand, rtol=1e-6)
    assert got != pytest.approx(inference, abs=1e-9)  # it is the training pass, not inference
    assert learn.train_metric_objects[0] is not learn.metrics[0]
    assert dict(learn.loop.trace_counts) == {"train": 1, "eval": 1}


def test_columns_order_and_the_default_is_unchanged(blob_data):
    top2 = keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")
    start = _counter(blob_data)
    on = Learner(mlp(), blob_data, quiet=True, train_metrics=True, metrics=["accuracy", top2])
    on.fit(1, 0.1)
    assert list(on.recorder.values[0]) == ["epoch", "train_loss", "train_accuracy",
                                           "train_top2", "valid_loss", "accuracy", "top2",
                                           "time"]
    assert type(on.train_metric_objects[1]) is type(top2)
    assert on.train_metric_objects[1].get_config() == top2.get_config()
    _set_counter(blob_data, start)  # the same data order
    off = Learner(mlp(), blob_data, quiet=True)
    assert off.train_metrics is False and off.train_metric_objects == []
    off.fit(1, 0.1)
    assert list(off.recorder.values[0]) == ["epoch", "train_loss", "valid_loss", "accuracy",
                                            "time"]
    # the same run either way: training metrics only read the forward pass
    for a, b in zip(on.model.variables, off.model.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(on.recorder.losses, off.recorder.losses)


def test_lr_find_leaves_the_training_metrics_out_and_shares_the_trace(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True, train_metrics=True)
    learn.lr_find(num_it=20, suggest_funcs=("valley",))
    metric = learn.train_metric_objects[0]
    assert [float(v.numpy()) for v in metric.variables] == [0.0, 0.0]  # never updated
    assert all("train_accuracy" not in row for row in learn.recorder.values)
    learn.fit(1, 0.1)
    learn.lr_find(num_it=20, suggest_funcs=("valley",))
    learn.fit(1, 0.1)
    assert "train_accuracy" in learn.recorder.values[0]
    assert learn.loop.trace_counts["train"] == 1


def test_keras_callbacks_get_keras_names(blob_data):
    seen = []

    class Logs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(dict(logs))

    learn = Learner(mlp(), blob_data, quiet=True, train_metrics=True)
    learn.fit(2, 0.1, callbacks=[Logs()])
    assert set(seen[0]) == {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    for logs, row in zip(seen, learn.recorder.values, strict=True):
        assert logs["accuracy"] == row["train_accuracy"]
        assert logs["val_accuracy"] == row["accuracy"]


def test_a_resumed_epoch_reports_the_whole_epochs_train_metric(tmp_path):
    x, y = blobs(256)

    def run(**kw):
        keras.utils.set_random_seed(3)
        data = DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=32, seed=0)
        learn = Learner(mlp(), data, quiet=True, train_metrics=True)
        learn.fit_sgdr(1, 2, 0.1, **kw)
        return learn

    ref = run()
    run(checkpoint=tmp_path, callbacks=[StopAfter(11)])  # stops in epoch 1, batch 3
    again = run(checkpoint=tmp_path)
    got = [row["train_accuracy"] for row in again.recorder.values]
    assert got == pytest.approx([row["train_accuracy"] for row in ref.recorder.values],
                                abs=1e-7)


def test_skipped_non_finite_batches_do_not_count():
    """terminate_on_nan=False: a batch with a NaN loss is not applied and not counted, in the
    loss as in the metric (the metric of the epoch is that of the applied batches)."""
    calls = tf.Variable(0, dtype=tf.int64, trainable=False)
    base = keras.losses.SparseCategoricalCrossentropy()

    def nan_at_3(y, pred):  # NaN at the 4th call, the 4th batch once calls is reset
        c = calls.assign_add(1) - 1
        return tf.where(tf.equal(c, 3), tf.constant(float("nan")), base(y, pred))

    x, y = blobs(256)
    data = DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=32, seed=0)
    learn = Learner(mlp(), data, loss_fn=nan_at_3, quiet=True, train_metrics=True)
    calls.assign(0)  # the Learner probed the loss once at construction
    with pytest.warns(RuntimeWarning, match="skipped 1 batch"):
        state = learn.fit(1, terminate_on_nan=False)
    assert state.n_skipped == 1 and state.seen == 224
    count = float(learn.train_metric_objects[0].variables[1].numpy())
    assert count == 224  # 7 applied batches of 32, not 8


@pytest.mark.parametrize("kwargs,exc,words", [
    ({"train_metrics": 1}, TypeError, "train_metrics must be True or False, got 1 (int)"),
    ({"train_metrics": True, "metrics": [keras.metrics.MeanAbsoluteError(name="loss")]},
     ValueError, "metrics[0] is named 'loss'"),
    ({"train_metrics": True, "metrics": [keras.metrics.MeanAbsoluteError(name="a"),
                                         keras.metrics.MeanSquaredError(name="train_a")]},
     ValueError, "distinct name"),
])
def test_bad_arguments(blob_data, kwargs, exc, words):
    with pytest.raises(exc) as info:
        Learner(mlp(), blob_data, quiet=True, **kwargs)
    assert words in str(info.value)
