"""Real Keras callbacks in tflearner's loop: TensorBoard, CSVLogger, ModelCheckpoint,
EarlyStopping, ReduceLROnPlateau; mixed with tflearner callbacks."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pytest
from conftest import blobs, mlp

from tflearner import Callback, DataBundle, Learner
from tflearner.callbacks.keras_adapter import KerasCallbacks


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


# ---- side by side with model.fit -------------------------------------------------------------

class HookLog(keras.callbacks.Callback):
    """Every hook model.fit calls: ``(hook, batch or epoch, logs)``. Its begin hook only
    records, so it keeps the Learner's chunks (``sync_every_batch = False``)."""

    sync_every_batch = False

    def __init__(self):
        super().__init__()
        self.events = []

    def _log(self, hook, index=None, logs=None):
        self.events.append((hook, index, {k: float(v) for k, v in (logs or {}).items()}))

    def on_train_begin(self, logs=None):
        self._log("train_begin", None, logs)

    def on_train_end(self, logs=None):
        self._log("train_end", None, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._log("epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._log("epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._log("train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._log("train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._log("test_begin", None, logs)

    def on_test_end(self, logs=None):
        self._log("test_end", None, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._log("test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._log("test_batch_end", batch, logs)


def _bundle() -> DataBundle:
    x, y = blobs(320)
    return DataBundle.from_arrays(x, y, valid_pct=0.25, batch_size=32, seed=0)


def _learner_fit(callbacks, epochs, lr=1e-3, spe="auto", opt=None):
    keras.utils.set_random_seed(0)
    learn = Learner(mlp(), _bundle(), opt=opt or keras.optimizers.Adam(lr), quiet=True,
                    steps_per_execution=spe)
    learn.fit(epochs, callbacks=callbacks)
    return learn


def _keras_fit(callbacks, epochs, lr=1e-3, opt=None):
    """The same model, data (same batches, same order), loss and optimizer under model.fit,
    with steps_per_execution=1: the order the Learner's replay reproduces."""
    keras.utils.set_random_seed(0)
    data, model = _bundle(), mlp()
    loss = Learner(mlp(), data, quiet=True).loss_fn
    model.compile(optimizer=opt or keras.optimizers.Adam(lr), loss=loss, metrics=["accuracy"],
                  steps_per_execution=1)
    model.fit(data.train, validation_data=data.valid, epochs=epochs, verbose=0,
              callbacks=callbacks, shuffle=False)  # the dataset shuffles itself
    return model


# What may differ: model.fit also computes the compiled metrics on the training batches
# ("accuracy" in train logs); the Learner computes metrics on validation data only and adds
# "learning_rate" to the epoch logs.
_TRAIN_HOOKS = ("train_batch_end", "epoch_end", "train_end")


def _comparable(events, keras_side):
    out = []
    for hook, index, logs in events:
        drop = ({"accuracy"} if keras_side else {"learning_rate"}) if hook in _TRAIN_HOOKS else ()
        out.append((hook, index, {k: v for k, v in logs.items() if k not in drop}))
    return out


def _assert_same_events(mine, theirs):
    assert [e[:2] for e in mine] == [e[:2] for e in theirs]
    for (hook, index, a), (_, _, b) in zip(mine, theirs, strict=True):
        assert sorted(a) == sorted(b), (hook, index)
        for key in a:
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), (hook, index, key)


@pytest.fixture(scope="module")
def keras_fit_events() -> list:
    """The hooks and logs of ``_keras_fit([HookLog()], 2)``: model.fit's side of the
    comparison below, the same for every chunk size, so recorded once for the module."""
    theirs = HookLog()
    _keras_fit([theirs], 2)
    return theirs.events


@pytest.mark.parametrize("spe", [1, 3, "auto"])
def test_hooks_logs_and_numbering_match_model_fit_under_any_chunk_size(spe, keras_fit_events):
    """begin(i), end(i) per batch, i from 0 each epoch; on_test_* per validation batch; the
    same logs (names and values) as model.fit with steps_per_execution=1."""
    mine = HookLog()
    learn = _learner_fit([mine], 2, spe=spe)
    _assert_same_events(_comparable(mine.events, False), _comparable(keras_fit_events, True))
    assert learn.loop.chunker.max_chunk == (32 if spe == "auto" else spe)
    hooks = [e[0] for e in mine.events]
    n_train, n_valid = 8, 3  # 240 / 32, 80 / 32
    epoch = (["epoch_begin"] + ["train_batch_begin", "train_batch_end"] * n_train
             + ["test_begin"] + ["test_batch_begin", "test_batch_end"] * n_valid
             + ["test_end", "epoch_end"])
    assert hooks == ["train_begin", *epoch * 2, "train_end"]
    ends = [e for e in mine.events if e[0] == "epoch_end"]
    assert all(e[2]["learning_rate"] == pytest.approx(1e-3) for e in ends)


def _scalars(logdir):
    """{(writer dir, tag): [(step, value), ...]} from TensorBoard's event files."""
    import tensorflow as tf

    out = {}
    for path in sorted(logdir.rglob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for v in event.summary.value:
                value = float(tf.make_ndarray(v.tensor)) if v.HasField("tensor") else v.simple_value
                out.setdefault((path.parent.name, v.tag), []).append((event.step, value))
    return out


def _side_by_side_callbacks(tmp_path, name):
    d = tmp_path / name
    return [keras.callbacks.TensorBoard(str(d / "tb"), update_freq="batch", write_graph=False),
            keras.callbacks.CSVLogger(str(d / "log.csv")),
            keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=1),
            keras.callbacks.ModelCheckpoint(str(d / "best.keras"), save_best_only=True,
                                            monitor="val_accuracy"),
            HookLog()]


def test_side_by_side_with_model_fit(tmp_path):
    """TensorBoard(update_freq="batch"), CSVLogger, EarlyStopping and ModelCheckpoint on
    val_accuracy without mode=, and a hook log: the same steps, rows, stop and best model."""
    mine, theirs = (_side_by_side_callbacks(tmp_path, n) for n in ("learner", "keras"))
    learn = _learner_fit(mine, 20, lr=0.02)
    _keras_fit(theirs, 20, lr=0.02)

    # the hook sequence and the logs
    _assert_same_events(_comparable(mine[-1].events, False),
                        _comparable(theirs[-1].events, True))

    # EarlyStopping: mode inferred (max), stops at the same epoch, as model.fit
    assert mine[2].monitor_op is keras.ops.greater and mine[2].mode == "auto"
    assert 0 < mine[2].stopped_epoch == theirs[2].stopped_epoch < 19
    epochs_run = mine[2].stopped_epoch + 1
    assert len(learn.recorder.values) == epochs_run

    # TensorBoard: one batch point per batch at steps 1, 2, ..., as model.fit
    tb_mine, tb_theirs = _scalars(tmp_path / "learner" / "tb"), _scalars(tmp_path / "keras" / "tb")
    extra = {("train", "batch_accuracy"), ("train", "epoch_accuracy")}  # train metrics
    assert set(tb_theirs) - set(tb_mine) == extra and set(tb_mine) <= set(tb_theirs)
    assert [s for s, _ in tb_mine["train", "batch_loss"]] == list(range(1, 8 * epochs_run + 1))
    for key, points in tb_mine.items():
        assert [s for s, _ in points] == [s for s, _ in tb_theirs[key]], key
        np.testing.assert_allclose([v for _, v in points], [v for _, v in tb_theirs[key]],
                                   rtol=1e-4, atol=1e-6, err_msg=str(key))
    assert [s for s, _ in tb_mine["validation", "evaluation_loss_vs_iterations"]] == [
        8 * (e + 1) for e in range(epochs_run)]  # at optimizer.iterations

    # CSVLogger: the same rows in the columns both write
    def rows(name):
        with open(tmp_path / name / "log.csv") as f:
            return list(csv.DictReader(f))
    rows_mine, rows_theirs = rows("learner"), rows("keras")
    assert len(rows_mine) == len(rows_theirs) == epochs_run
    for a, b in zip(rows_mine, rows_theirs, strict=True):
        assert a["epoch"] == b["epoch"]
        for col in ("loss", "val_loss", "val_accuracy"):
            assert float(a[col]) == pytest.approx(float(b[col]), rel=1e-4, abs=1e-6)

    # ModelCheckpoint: the same best value and (to float precision) the same saved weights
    assert mine[3].best == pytest.approx(theirs[3].best)
    saved = [keras.saving.load_model(tmp_path / n / "best.keras", compile=False)
             for n in ("learner", "keras")]
    for a, b in zip(saved[0].get_weights(), saved[1].get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_mode_auto_monitors_work_for_the_learners_metrics(tmp_path):
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=0,
                                                min_delta=1.0)  # no epoch improves by 1.0
    ckpt = keras.callbacks.ModelCheckpoint(str(tmp_path / "b.weights.h5"), save_best_only=True,
                                           save_weights_only=True, monitor="val_accuracy")
    learn = _learner_fit([plateau, ckpt], 3, spe=4)
    assert plateau.monitor_op is keras.ops.greater and ckpt.monitor_op is keras.ops.greater
    # epoch 0 improves on -inf, then every epoch is a plateau (as in the val_loss test above)
    np.testing.assert_allclose(learn.recorder.lrs[::8], [1e-3, 1e-3, 5e-4], rtol=1e-6)
    assert (tmp_path / "b.weights.h5").exists()
    assert plateau.mode == ckpt.mode == "auto"  # as the user left them
    unknown = keras.callbacks.EarlyStopping(monitor="val_f1")  # what model.fit says, too
    with pytest.raises(ValueError, match="val_f1.*maximized or minimized"):
        _learner_fit([unknown], 1)


# ---- use_ema ---------------------------------------------------------------------------------

class LastAverages(Callback):
    """The optimizers' moving averages at the last epoch end (before fit finalizes)."""

    def after_epoch(self, state):
        self.averages = [[a.numpy() for a in o._model_variables_moving_average]
                         for o in state.learner.opts]
        self.weights = [v.numpy() for v in state.learner.model.trainable_variables]


@pytest.mark.filterwarnings("ignore:.*no suggestion")
def test_use_ema_optimizer_ends_fit_with_the_averages_as_model_fit():
    last = LastAverages()
    learn = _learner_fit([last], 2, opt=keras.optimizers.Adam(1e-2, use_ema=True))
    final = [v.numpy() for v in learn.model.trainable_variables]
    for w, avg in zip(final, last.averages[-1], strict=True):
        np.testing.assert_array_equal(w, avg)
    assert any(not np.array_equal(w, raw) for w, raw in zip(final, last.weights, strict=True))
    # model.fit ends the same way (the same run: the same averages, to float precision)
    model = _keras_fit([], 2, opt=keras.optimizers.Adam(1e-2, use_ema=True))
    for a, b in zip(model.get_weights(), learn.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # lr_find leaves everything as it was: no finalize there
    before = [v.numpy() for v in learn.model.variables]
    learn.lr_find(num_it=10)
    for a, b in zip(before, learn.model.variables, strict=True):
        np.testing.assert_array_equal(a, b.numpy())


def test_use_ema_with_layer_groups_finalizes_each_group_that_trained():
    keras.utils.set_random_seed(0)
    learn = Learner(mlp(), _bundle(), opt=keras.optimizers.Adam(1e-2, use_ema=True),
                    quiet=True, splitter=lambda m: [[m.layers[0]], [m.layers[1]]])
    learn.freeze()  # group 0 never steps: its averages are still zeros and must not be used
    frozen = [v.numpy() for v in learn.model.layers[0].weights]
    last = LastAverages()
    learn.fit(1, callbacks=[last])
    for a, b in zip(frozen, learn.model.layers[0].weights, strict=True):
        np.testing.assert_array_equal(a, b.numpy())
    for w, avg in zip(learn.model.layers[1].trainable_variables, last.averages[1], strict=True):
        np.testing.assert_array_equal(w.numpy(), avg)


# ---- per-batch learning rates from Keras callbacks -------------------------------------------

class Warmup(keras.callbacks.Callback):
    """A per-batch LR warm-up, as written for model.fit."""

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(1e-4 * (batch + 1))


def test_per_batch_lr_callback_sets_each_batchs_lr():
    learn = _learner_fit([Warmup()], 2, spe=4)
    expected = [1e-4 * (i + 1) for i in range(8)] * 2
    np.testing.assert_allclose(learn.recorder.lrs, expected, rtol=1e-6)
    opt = keras.optimizers.Adam(1e-3)  # model.fit with the same callback
    lrs = []
    log = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: lrs.append(float(opt.learning_rate)))
    _keras_fit([Warmup(), log], 2, opt=opt)
    np.testing.assert_allclose(learn.recorder.lrs, lrs, rtol=1e-6)
    lam = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs: learn.opt.learning_rate.assign(2e-4))
    assert KerasCallbacks([lam]).sync_every_batch
    assert not KerasCallbacks([keras.callbacks.TensorBoard(), HookLog()]).sync_every_batch


class DecayAfterEach(keras.callbacks.Callback):
    """Writes the next batch's LR in on_train_batch_end: only right with one batch per call."""

    def on_train_batch_end(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(1e-3 / (batch + 2))


def test_lr_change_in_a_replayed_hook_is_refused_with_the_fix():
    with pytest.raises(RuntimeError, match=r"callbacks\[0\] \(DecayAfterEach\) changed the "
                                           r"learning rate.*sync_every_batch = True"):
        _learner_fit([DecayAfterEach()], 1, spe=4)
    cb = DecayAfterEach()
    cb.sync_every_batch = True
    learn = _learner_fit([cb], 1, spe=4)
    np.testing.assert_allclose(learn.recorder.lrs, [1e-3] + [1e-3 / (i + 2) for i in range(7)],
                               rtol=1e-6)


# ---- BackupAndRestore: Keras' contract when the fit raises ----------------------------------
class Crash(keras.callbacks.Callback):
    """Records the epochs begun (with the weights and optimizer step there) and the weights at
    each epoch end; with ``crash``, raises at batch 2 of epoch 1 as a dying job would."""

    def __init__(self, crash):
        super().__init__()
        self.crash, self.begun, self.ends = crash, [], {}

    def on_epoch_begin(self, epoch, logs=None):
        self.begun.append((epoch, self.model.get_weights(),
                           int(self.model.optimizer.iterations.numpy())))

    def on_epoch_end(self, epoch, logs=None):
        self.ends[epoch] = self.model.get_weights()

    def on_train_batch_end(self, batch, logs=None):
        if self.crash and self.begun[-1][0] == 1 and batch == 2:
            raise RuntimeError("the job died")


def _crash_then_rerun(fit, backup):
    first, second = Crash(True), Crash(False)
    with pytest.raises(RuntimeError, match="the job died"):
        fit([keras.callbacks.BackupAndRestore(str(backup)), first])
    kept = backup.exists()
    fit([keras.callbacks.BackupAndRestore(str(backup)), second])
    return first, second, kept, backup.exists()


def test_backup_and_restore_keeps_its_backup_when_the_fit_raises_and_resumes_as_model_fit(
        tmp_path):
    """As model.fit: no on_train_end when the fit raises, so the backup stays; the rerun
    restores it and starts at the epoch it names, with the optimizer's state."""
    keras.utils.set_random_seed(0)
    learn = Learner(mlp(), _bundle(), opt=keras.optimizers.SGD(0.05, momentum=0.9), quiet=True)
    mine = _crash_then_rerun(lambda cbs: learn.fit(3, callbacks=cbs), tmp_path / "mine")
    keras.utils.set_random_seed(0)
    data, model = _bundle(), mlp()
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss=learn.loss_fn)
    theirs = _crash_then_rerun(lambda cbs: model.fit(data.train, epochs=3, verbose=0,
                                                     callbacks=cbs, shuffle=False),
                               tmp_path / "theirs")
    for first, second, kept, left in (mine, theirs):
        assert kept and not left  # kept after the crash; deleted when the rerun ends
        assert [b[0] for b in first.begun] == [0, 1] and [b[0] for b in second.begun] == [1, 2]
        assert second.begun[0][2] == 8  # one epoch's updates, restored with the optimizer
        for a, b in zip(second.begun[0][1], first.ends[0], strict=True):
            np.testing.assert_array_equal(a, b)
    later = Crash(False)
    learn.fit(1, callbacks=[later])  # the backup's epoch was read once: a later fit starts at 0
    assert [b[0] for b in later.begun] == [0]


def test_backup_and_restore_resumes_a_schedule_at_its_epoch(tmp_path):
    from tflearner import one_cycle
    keras.utils.set_random_seed(0)
    learn = Learner(mlp(), _bundle(), opt=keras.optimizers.SGD(0.05), quiet=True)
    backup = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="the job died"):
        learn.fit_one_cycle(3, 0.1, callbacks=[keras.callbacks.BackupAndRestore(backup),
                                               Crash(True)])
    learn.fit_one_cycle(3, 0.1, callbacks=[keras.callbacks.BackupAndRestore(backup)])
    np.testing.assert_allclose(learn.recorder.lrs, one_cycle(24, 0.1)[0][8:], rtol=1e-6)


# ---- a Keras callback that sets an LR tflearner owns ------------------------------------------
class EpochLR(keras.callbacks.Callback):
    """Sets the LR at each epoch's start, as written for model.fit (assign or attribute)."""

    def __init__(self, how="assign"):
        super().__init__()
        self.how = how

    def on_epoch_begin(self, epoch, logs=None):
        if self.how == "assign":
            self.model.optimizer.learning_rate.assign(0.5)
        else:
            self.model.optimizer.learning_rate = 0.5


@pytest.mark.parametrize("how", ["assign", "attribute"])
def test_a_keras_callback_setting_the_lr_a_schedule_owns_is_refused(how):
    learn = learner()
    lr = learn.hypers.lr
    with pytest.raises(RuntimeError, match=r"callbacks\[0\] \(EpochLR\)'s on_epoch_begin "
                                           r"changed the learning rate.*in fit_one_cycle"):
        learn.fit_one_cycle(1, 3e-3, callbacks=[EpochLR(how)])
    assert learn.hypers.lr == lr  # put back
    learn.fit(1, lr=1e-3, callbacks=[EpochLR(how)])  # a plain fit: the LR is the callback's
    assert learn.recorder.lrs[0] == pytest.approx(0.5)


def test_a_keras_callback_setting_one_of_several_groups_lrs_is_refused():
    keras.utils.set_random_seed(0)
    backbone = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8)], name="backbone")
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(backbone(inputs)))
    learn = Learner(model, _bundle(), quiet=True)
    assert len(learn.groups) == 2
    with pytest.raises(RuntimeError, match="in a Learner with 2 layer groups"):
        learn.fit(1, lr=slice(1e-3, 1e-2), callbacks=[EpochLR()])
    assert learn.hypers.lrs == pytest.approx([1e-3, 1e-2])


class Replaces(keras.callbacks.Callback):
    """Writes an optimizer attribute at each epoch's start, as written for model.fit."""

    def __init__(self, what):
        super().__init__()
        self.what = what

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        if self.what == "weight_decay = 0.5":
            opt.weight_decay = 0.5
        elif self.what == "momentum = 0.5":
            opt.momentum = 0.5
        elif self.what == "learning_rate = schedule":
            opt.learning_rate = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
        elif self.what == "model.optimizer = Adam()":
            self.model.optimizer = keras.optimizers.Adam()
        elif self.what == "weight_decay.assign(0.5)":
            opt.weight_decay.assign(0.5)
        elif self.what == "momentum.assign(0.5)":
            opt.momentum.assign(0.5)


@pytest.mark.parametrize("what,attr", [("weight_decay = 0.5", "optimizer.weight_decay"),
                                       ("momentum = 0.5", "optimizer.momentum"),
                                       ("learning_rate = schedule", "optimizer.learning_rate"),
                                       ("model.optimizer = Adam()", "model.optimizer")])
def test_a_keras_callback_replacing_a_variable_the_step_reads_is_refused(what, attr):
    """The compiled step reads these variables; a float or another object in their place would
    be silently ignored (and a later trace would read it while learn.hypers says otherwise)."""
    from tflearner import SGD
    learn = Learner(mlp(), _bundle(), opt=SGD(0.05, momentum=0.9), quiet=True)
    with pytest.raises(RuntimeError, match=rf"callbacks\[0\] \(Replaces\)'s on_epoch_begin "
                                           rf"replaced {attr}"):
        learn.fit(1, callbacks=[Replaces(what)])
    mom, wd = learn.hypers.head.targets()[1:]
    assert learn.opt.momentum is mom and learn.opt.weight_decay is wd  # put back


def test_assigning_a_keras_callbacks_weight_decay_works_but_a_scheduled_momentum_is_refused():
    from tflearner import SGD
    learn = Learner(mlp(), _bundle(), opt=SGD(0.05, momentum=0.9), quiet=True)
    learn.fit(1, callbacks=[Replaces("weight_decay.assign(0.5)")])
    assert learn.recorder.wds[0] == pytest.approx(0.5) and learn.hypers.wd == pytest.approx(0.5)
    with pytest.raises(RuntimeError, match=r"changed the momentum.*in fit_one_cycle"):
        learn.fit_one_cycle(1, 0.05, callbacks=[Replaces("momentum.assign(0.5)")])
    assert learn.hypers.mom == pytest.approx(0.9)  # put back
