"""Real Keras callbacks in tflearner's loop: TensorBoard, CSVLogger, ModelCheckpoint,
EarlyStopping, ReduceLROnPlateau; mixed with tflearner callbacks."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pytest
from conftest import blobs, mlp

from tflearner import Callback, DataBundle, Learner


def learner(spe="auto") -> Learner:
    keras.utils.set_random_seed(0)
    x, y = blobs(320)
    return Learner(mlp(), DataBundle.from_arrays(x, y, valid_pct=0.25, batch_size=32, seed=0),
                   opt="adam", quiet=True, steps_per_execution=spe)


class EpochWeights(Callback):
    """A tflearner callback beside the Keras ones: the weights at every epoch end."""

    def __init__(self):
        self.weights = []

    def after_epoch(self, state):
        self.weights.append([np.array(v) for v in state.learner.model.get_weights()])


class KerasLog(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("train_begin", self.params["epochs"], self.params["steps"]))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, dict(logs)))

    def on_train_end(self, logs=None):
        self.events.append(("train_end", self.model is not None))


def test_standard_hooks_and_keras_log_names():
    learn, log = learner(), KerasLog()
    learn.fit_one_cycle(2, 3e-3, callbacks=[log])
    assert log.events[0] == ("train_begin", 2, 8)
    ends = [e for e in log.events if e[0] == "epoch_end"]
    assert [e[1] for e in ends] == [0, 1]
    logs = ends[-1][2]
    assert set(logs) == {"loss", "val_loss", "val_accuracy", "learning_rate"}
    row = learn.recorder.values[-1]
    assert logs["loss"] == row["train_loss"] and logs["val_loss"] == row["valid_loss"]
    assert logs["val_accuracy"] == row["accuracy"]
    batches = [e for e in log.events if e[0] == "batch_end"]
    assert [e[1] for e in batches] == list(range(8)) * 2
    assert batches[7][2] == pytest.approx(learn.recorder.values[0]["train_loss"])  # running mean
    assert log.events[-1] == ("train_end", True)


def test_csv_logger_rows_match_the_recorder(tmp_path):
    learn = learner()
    learn.fit(3, lr=1e-3, callbacks=[keras.callbacks.CSVLogger(str(tmp_path / "log.csv"))])
    with open(tmp_path / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for r, v in zip(rows, learn.recorder.values, strict=True):
        assert float(r["loss"]) == pytest.approx(v["train_loss"])
        assert float(r["val_loss"]) == pytest.approx(v["valid_loss"])
        assert float(r["val_accuracy"]) == pytest.approx(v["accuracy"])


def test_tensorboard_writes_event_files(tmp_path):
    learn = learner()
    learn.fit_one_cycle(2, 3e-3, callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "tb"))])
    events = list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert events and all(e.stat().st_size > 0 for e in events)


def test_model_checkpoint_saves_the_best_weights(tmp_path):
    learn, epochs = learner(), EpochWeights()
    path = tmp_path / "best.weights.h5"
    ckpt = keras.callbacks.ModelCheckpoint(str(path), monitor="val_loss", save_best_only=True,
                                           save_weights_only=True)
    learn.fit(4, lr=3e-3, callbacks=[ckpt, epochs])
    best = int(np.argmin([v["valid_loss"] for v in learn.recorder.values]))
    fresh = mlp()
    fresh.load_weights(str(path))
    for a, b in zip(fresh.get_weights(), epochs.weights[best], strict=True):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_stops_and_restores_the_best(tmp_path):
    learn, epochs = learner(), EpochWeights()

    class WorseAfter(Callback):  # make validation loss rise from epoch 2 on
        def after_validate(self, state):
            if state.epoch >= 2:
                state.logs["valid_loss"] += 10.0 * state.epoch

    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1,
                                         restore_best_weights=True)
    learn.fit(10, lr=3e-3, callbacks=[WorseAfter(), stop, epochs])
    # Best at epoch 1; epoch 2 is worse and patience is 1, so Keras stops after epoch 2.
    assert len(learn.recorder.values) == 3
    assert int(np.argmin([v["valid_loss"] for v in learn.recorder.values])) == 1
    for a, b in zip(learn.model.get_weights(), epochs.weights[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_reduce_lr_on_plateau_works_in_fit_and_is_refused_in_one_cycle():
    learn = learner()
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=0,
                                                min_delta=1e9)  # every epoch is a "plateau"
    learn.fit(4, lr=1e-3, callbacks=[plateau])
    # Keras counts epoch 0 as an improvement over inf, then halves the LR after every epoch.
    np.testing.assert_allclose(learn.recorder.lrs[::8], [1e-3, 1e-3, 5e-4, 2.5e-4], rtol=1e-6)
    assert learn.model.optimizer is None  # restored after the fit
    with pytest.raises(ValueError, match="callbacks\\[0\\] is ReduceLROnPlateau.*fit_one_cycle"):
        learn.fit_one_cycle(1, 1e-3, callbacks=[plateau])
    sched = keras.callbacks.LearningRateScheduler(lambda e, lr: lr)
    with pytest.raises(ValueError, match="LearningRateScheduler.*fit_flat_cos"):
        learn.fit_flat_cos(1, 1e-3, callbacks=[sched])


def test_not_a_callback_is_refused():
    with pytest.raises(TypeError, match="callbacks\\[1\\] must be a tflearner.Callback or a "
                                        "keras.callbacks.Callback, got int"):
        learner().fit(1, callbacks=[EpochWeights(), 3])


def test_keras_callbacks_given_to_the_learner_join_every_fit_but_not_lr_find(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = blobs(320)
    log = KerasLog()
    learn = Learner(mlp(), DataBundle.from_arrays(x, y, valid_pct=0.25, batch_size=32),
                    quiet=True, callbacks=[log, EpochWeights()])
    learn.lr_find(num_it=20)
    assert log.events == []
    learn.fit(1)
    learn.fit_one_cycle(1, 0.1)
    assert [e[0] for e in log.events].count("train_begin") == 2
