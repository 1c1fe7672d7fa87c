"""Hostile-input sweep: every public entry point answers bad input with a ValueError or
TypeError whose message names the argument, never a traceback from deep inside TensorFlow."""

from __future__ import annotations

import math
import re

import keras
import numpy as np
import pytest
from conftest import blobs, mlp

import tflearner as tl
from tflearner import DataBundle, Learner

NAN, INF = math.nan, math.inf


@pytest.fixture(scope="module")
def learn():
    x, y = blobs(96)
    return Learner(mlp(), DataBundle.from_arrays(x, y, valid_pct=0.25, batch_size=16, seed=0),
                   quiet=True)


def _data():
    x, y = blobs(64)
    return DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=16)


LEARNER_CASES = [
    # (call, expected exception, words that must appear)
    (lambda L: L.fit(0), ValueError, "epochs"),
    (lambda L: L.fit(-3), ValueError, "epochs"),
    (lambda L: L.fit("3"), TypeError, "epochs"),
    (lambda L: L.fit(2.5), TypeError, "epochs"),
    (lambda L: L.fit(None), TypeError, "epochs"),
    (lambda L: L.fit(1, lr=NAN), ValueError, "lr"),
    (lambda L: L.fit(1, lr=-0.1), ValueError, "lr"),
    (lambda L: L.fit(1, lr=INF), ValueError, "lr"),
    (lambda L: L.fit(1, lr="fast"), TypeError, "lr"),
    (lambda L: L.fit(1, wd=-1), ValueError, "wd"),
    (lambda L: L.fit(1, wd=NAN), ValueError, "wd"),
    (lambda L: L.fit(1, callbacks=[print]), TypeError, "callbacks[0]"),
    (lambda L: L.fit_one_cycle(1, NAN), ValueError, "max_lr"),
    (lambda L: L.fit_one_cycle(1, INF), ValueError, "max_lr"),
    (lambda L: L.fit_one_cycle(1, "0.1"), TypeError, "max_lr='0.1' is not a learning rate"),
    (lambda L: L.fit_one_cycle(1, 0.1, pct_start=NAN), ValueError, "pct_start"),
    (lambda L: L.fit_one_cycle(1, 0.1, div=-1), ValueError, "div"),
    (lambda L: L.fit_one_cycle(1, 0.1, moms="high"), TypeError, "moms"),
    (lambda L: L.fit_one_cycle(1, 0.1, anneal=None), TypeError, "anneal"),
    (lambda L: L.fit_flat_cos(1, -1.0), ValueError, "lr"),
    (lambda L: L.fit_flat_cos(1, 0.1, pct_start=1.5), ValueError, "pct_start"),
    (lambda L: L.lr_find(start_lr=0), ValueError, "start_lr"),
    (lambda L: L.lr_find(start_lr=NAN), ValueError, "start_lr"),
    (lambda L: L.lr_find(end_lr=1e-9), ValueError, "end_lr"),
    (lambda L: L.lr_find(end_lr=INF), ValueError, "end_lr"),
    (lambda L: L.lr_find(num_it=1), ValueError, "num_it"),
    (lambda L: L.lr_find(num_it="100"), TypeError, "num_it"),
    (lambda L: L.lr_find(beta=1.0), ValueError, "beta"),
    (lambda L: L.lr_find(beta=NAN), ValueError, "beta"),
    (lambda L: L.lr_find(div_threshold=1), ValueError, "div_threshold"),
    (lambda L: L.lr_find(suggest_funcs=["best"]), ValueError, "best"),
    (lambda L: L.lr_find(suggest_funcs=[3]), TypeError, "suggester"),
    (lambda L: L.lr_find(mode="log"), ValueError, "mode"),
    (lambda L: L.validate(np.zeros((4, 8))), TypeError, "ds"),
    (lambda L: L.validate(_data().train.map(lambda x, y: (x[:, :4], y))), ValueError, "ds"),
    (lambda L: L.predict("images"), TypeError, "item"),
    (lambda L: L.get_preds(object()), TypeError, "items"),
    (lambda L: L.load("/nonexistent/file.npz"), FileNotFoundError, "path"),
    (lambda L: L.recorder.plot(skip_start=-1), ValueError, "skip_start"),
    (lambda L: L.recorder.plot_loss(skip_start="5"), TypeError, "skip_start"),
    (lambda L: L.recorder.plot_sched(keys=("lr", "beta")), ValueError, "keys"),
]


@pytest.mark.parametrize("i", range(len(LEARNER_CASES)))
def test_learner_methods_refuse_bad_input(learn, i):
    call, exc, words = LEARNER_CASES[i]
    if "plot" in words or i >= len(LEARNER_CASES) - 3:
        learn.fit(1)  # the recorder needs something to plot
    with pytest.raises(exc) as info:
        call(learn)
    assert words in str(info.value)


CONSTRUCTION_CASES = [
    (lambda: Learner("lenet", _data()), TypeError, "model"),
    (lambda: Learner(mlp(), None), TypeError, "data"),
    (lambda: Learner(mlp(), (np.zeros((4, 8)), np.zeros(4))), TypeError, "data"),
    (lambda: Learner(mlp(), _data(), loss_fn="mse!"), ValueError, "not a Keras loss name"),
    (lambda: Learner(mlp(), _data(), loss_fn=3), TypeError, "loss_fn"),
    (lambda: Learner(mlp(), _data(), opt="sgdd"), ValueError, "opt"),
    (lambda: Learner(mlp(), _data(), opt=3), TypeError, "opt"),
    (lambda: Learner(mlp(), _data(), metrics=[3]), TypeError, "metrics[0]"),
    (lambda: Learner(mlp(), _data(), lr=-1), ValueError, "lr"),
    (lambda: Learner(mlp(), _data(), wd=NAN), ValueError, "wd"),
    (lambda: Learner(mlp(), _data(), callbacks=["cb"]), TypeError, "callbacks[0]"),
    (lambda: Learner(mlp(), _data(), steps_per_execution=0), ValueError,
     "steps_per_execution"),
    (lambda: Learner(mlp(), _data(), strategy="mirrored"), TypeError, "strategy"),
    (lambda: Learner(mlp(), _data(), mixed_precision="fp8"), ValueError, "mixed_precision"),
    (lambda: Learner(keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)]), _data()),
     ValueError, "input"),
    (lambda: Learner(keras.Sequential([keras.Input((8,)), keras.layers.Dense(7)]), _data()),
     ValueError, "classes"),
    (lambda: DataBundle.from_arrays(np.zeros((4, 8)), np.zeros(5)), ValueError, "y"),
    (lambda: DataBundle.from_arrays(np.zeros((0, 8)), np.zeros(0)), ValueError, "x"),
    (lambda: DataBundle.from_arrays([[1, 2], [3]], [0, 1]), ValueError, "x"),
    (lambda: DataBundle.from_arrays(np.array([["a", "b"], ["c", "d"]]), np.zeros(2)), TypeError,
     "x must be a numeric array"),
    (lambda: DataBundle.from_arrays(np.zeros((2, 2)), np.array(["cat", "dog"])), TypeError,
     "y must be a numeric array"),
    (lambda: DataBundle.from_arrays(np.full((2, 2), NAN), np.zeros(2)), ValueError,
     "x contains 4 NaN/Inf"),
    (lambda: Learner(mlp(), _data()).fit(1, callbacks=print), TypeError, "callbacks"),
    (lambda: DataBundle.from_arrays(np.zeros((4, 8)), np.zeros(4), batch_size=0), ValueError,
     "batch_size"),
    (lambda: DataBundle.from_arrays(np.zeros((4, 8)), np.zeros(4), valid_pct=1.5), ValueError,
     "valid_pct"),
    (lambda: DataBundle.from_datasets(None), TypeError, "train"),
    (lambda: tl.cifar10_data(batch_size=-1, sample=True), ValueError, "batch_size"),
    (lambda: tl.one_cycle(10, NAN), ValueError, "max_lr"),
    (lambda: tl.one_cycle("10", 0.1), TypeError, "total_steps"),
    (lambda: tl.exp_sweep(1e-3, 1e-4, 10), ValueError, "end_lr"),
    (lambda: tl.lin_sweep(0, 1, 10), ValueError, "start_lr"),
    (lambda: tl.OneCycleSchedule(0, 0.1), ValueError, "total_steps"),
    (lambda: tl.OneCycleSchedule(100, -0.1), ValueError, "max_lr"),
    (lambda: tl.OneCycleCallback(max_lr=NAN), ValueError, "max_lr"),
    (lambda: tl.set_seed(-1), ValueError, "seed"),
]


@pytest.mark.parametrize("i", range(len(CONSTRUCTION_CASES)))
def test_constructors_and_pure_functions_refuse_bad_input(i):
    call, exc, words = CONSTRUCTION_CASES[i]
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


@pytest.mark.parametrize("name", ["robust", "valley", "slide", "steep", "minimum"])
@pytest.mark.parametrize("lrs,losses,exc,words", [
    ([1e-3, 1e-2], [1.0], ValueError, "same length"),
    ("lrs", [1.0], TypeError, "lrs"),
    ([[1e-3, 1e-2]], [[1.0, 2.0]], ValueError, "1-D"),
    ([1e-2, 1e-3, 1e-1, 1, 10], [1, 2, 3, 4, 5], ValueError, "increasing"),
    ([-1e-2, 1e-3, 1e-1, 1, 10], [1, 2, 3, 4, 5], ValueError, "lrs"),
])
def test_suggesters_refuse_bad_curves(name, lrs, losses, exc, words):
    from tflearner.lr_finder.suggest import SUGGESTERS
    with pytest.raises(exc) as info:
        SUGGESTERS[name](lrs, losses)
    assert words in str(info.value)


# ---- a refused fit changes nothing (issue 26, item 7) -----------------------------------------
def _two_groups():
    keras.utils.set_random_seed(0)
    backbone = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu")],
                                name="backbone")
    inputs = keras.Input((8,))
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(backbone(inputs))
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def refusing(tmp_path_factory):
    """A two-group Learner that has trained (slots, counters, data order all moved), a
    checkpoint of another fit (``fit``) and one of fine_tune's frozen phase that differs, and a
    last sweep that diverged at 1e-3 (so a guard warning would fire and clear it)."""
    import shutil
    x, y = blobs(96)
    learn = Learner(_two_groups(), DataBundle.from_arrays(x, y, valid_pct=0.25, batch_size=16,
                                                          seed=0), opt="adam", quiet=True)
    other = tmp_path_factory.mktemp("other_fit")
    learn.fit(1, lr=slice(1e-3, 1e-2), wd=0.01, checkpoint=other)
    shutil.copytree(other, other.parent / "ft" / "frozen")
    return learn, str(other), str(other.parent / "ft")


REFUSED = {
    "fit wd=-1": (lambda L, d, ft: L.fit(1, lr=0.5, wd=-1), ValueError, "wd"),
    "fit checkpoint=123": (lambda L, d, ft: L.fit(1, lr=0.5, checkpoint=123), TypeError,
                           "checkpoint"),
    "fit terminate_on_nan": (lambda L, d, ft: L.fit(1, lr=0.5, wd=0.1,
                                                   terminate_on_nan="yes"), TypeError,
                             "terminate_on_nan"),
    "fit checkpoint_every": (lambda L, d, ft: L.fit(1, lr=0.5, checkpoint_every=2), ValueError,
                             "checkpoint_every"),
    "fit ReduceLROnPlateau 2 groups": (
        lambda L, d, ft: L.fit(1, lr=0.5, wd=0.1,
                               callbacks=[keras.callbacks.ReduceLROnPlateau()]),
        ValueError, "ReduceLROnPlateau"),
    "fit BackupAndRestore 2 groups": (
        lambda L, d, ft: L.fit(1, lr=0.5, callbacks=[keras.callbacks.BackupAndRestore(d)]),
        ValueError, "BackupAndRestore"),
    "fit class_weight": (lambda L, d, ft: L.fit(1, lr=0.5, class_weight={0: -1.0}),
                         ValueError, "class_weight"),
    "fit other checkpoint": (lambda L, d, ft: L.fit(1, lr=0.5, wd=0.1, checkpoint=d),
                             ValueError, "different fit"),
    "one_cycle wd=-1": (lambda L, d, ft: L.fit_one_cycle(1, 0.5, wd=-1), ValueError, "wd"),
    "one_cycle checkpoint=123": (lambda L, d, ft: L.fit_one_cycle(1, 0.5, checkpoint=123),
                                 TypeError, "checkpoint"),
    "one_cycle ReduceLROnPlateau": (
        lambda L, d, ft: L.fit_one_cycle(1, 0.5, wd=0.1,
                                         callbacks=[keras.callbacks.ReduceLROnPlateau()]),
        ValueError, "ReduceLROnPlateau"),
    "one_cycle other checkpoint": (lambda L, d, ft: L.fit_one_cycle(1, 0.5, wd=0.1,
                                                                    checkpoint=d),
                                   ValueError, "different fit"),
    "flat_cos terminate_on_nan": (lambda L, d, ft: L.fit_flat_cos(1, 0.5, wd=0.1,
                                                                  terminate_on_nan=1),
                                  TypeError, "terminate_on_nan"),
    "sgdr LearningRateScheduler": (
        lambda L, d, ft: L.fit_sgdr(1, 1, 0.5, wd=0.1, callbacks=[
            keras.callbacks.LearningRateScheduler(lambda e, lr: lr)]),
        ValueError, "LearningRateScheduler"),
    "fine_tune wd=-1": (lambda L, d, ft: L.fine_tune(1, wd=-1), ValueError, "wd"),
    "fine_tune checkpoint=123": (lambda L, d, ft: L.fine_tune(1, checkpoint=123), TypeError,
                                 "checkpoint"),
    "fine_tune checkpoint_every": (lambda L, d, ft: L.fine_tune(1, checkpoint_every=2),
                                   ValueError, "checkpoint_every"),
    "fine_tune ReduceLROnPlateau": (
        lambda L, d, ft: L.fine_tune(1, callbacks=[keras.callbacks.ReduceLROnPlateau()]),
        ValueError, "ReduceLROnPlateau"),
    "fine_tune unknown keyword": (lambda L, d, ft: L.fine_tune(1, lr_max=0.1), TypeError,
                                  "lr_max"),
    "fine_tune other checkpoint": (lambda L, d, ft: L.fine_tune(1, wd=0.1, checkpoint=ft),
                                   ValueError, "different fit"),
}


def _everything(learn):
    return ([np.array(v.numpy()) for vs in learn.state_variables().values() for v in vs],
            [v.trainable for v in learn.model.variables],
            [layer.trainable for layer in learn.model.layers],
            learn.hypers.as_dict(), len(learn.recorder.values), learn.last_sweep,
            learn.suggested_lr, set(learn.warned))


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_fit_changes_nothing(refusing, case):
    learn, other, ft = refusing
    learn.last_sweep = {"stop_reason": "diverged", "stop_lr": 1e-3, "stop_step": 40}
    call, exc, words = REFUSED[case]
    before = _everything(learn)
    with pytest.raises(exc, match=words):
        call(learn, other, ft)
    after = _everything(learn)
    for a, b in zip(before[0], after[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert before[1:] == after[1:]


@pytest.mark.parametrize("freeze_epochs", [0, 1])
def test_fine_tune_on_one_group_says_it_needs_layer_groups(learn, freeze_epochs):
    with pytest.raises(ValueError) as info:
        learn.fine_tune(1, freeze_epochs=freeze_epochs)
    message = str(info.value)
    assert "fine_tune" in message and "two layer groups" in message
    assert "splitter=" in message and "slice(1e" not in message


def test_fit_arguments_found_by_the_hostile_sweep(learn, tmp_path, monkeypatch):
    """quiet must be a bool; a checkpoint path that is a file is refused before training (it
    failed at the first save, after an epoch); '~' is the home folder, not a folder named '~'."""
    before = _everything(learn)
    with pytest.raises(TypeError, match="quiet must be True or False"):
        learn.fit(1, quiet="yes")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"checkpoint=.*must be a directory.*is a file"):
        learn.fit(1, checkpoint=tmp_path / "file" / "sub")
    after = _everything(learn)
    for a, b in zip(before[0], after[0], strict=True):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    learn.fit(1, checkpoint="~/ck")
    assert (tmp_path / "ck" / "checkpoint.npz").exists() and not (tmp_path / "~").exists()


def test_a_fit_of_a_model_with_nothing_trainable_is_refused():
    x, y = blobs(64)
    learn = Learner(mlp(), DataBundle.from_arrays(x, y, valid_pct=0.25, batch_size=16),
                    quiet=True)
    learn.model.trainable = False
    for call in (lambda: learn.fit(1, lr=0.1), lambda: learn.fit_one_cycle(1, 0.1)):
        with pytest.raises(ValueError, match=r"would train nothing.*model.trainable=False"):
            call()


# ---- every refusal names the argument, the value received and the fix (issue 26) ---------------
#: How a message shows the value when it does not say ``got <value>``: the text that shows it.
SHOWN = {
    ("learner", 14): "max_lr='0.1'",
    ("learner", 34): "element_spec=(",
    ("learner", 35): "item='images'",
    ("learner", 37): "path='/nonexistent/file.npz'",
    ("construction", 3): "loss_fn='mse!'",
    ("construction", 5): "opt='sgdd'",
    ("construction", 14): "x has example shape (8,)",
    ("construction", 15): "outputs 7 values",
    ("construction", 16): "y has 5",
    ("construction", 17): "(shape (0, 8))",
    ("construction", 21): "x contains 4 NaN/Inf values",
    ("refused", "fit ReduceLROnPlateau 2 groups"): "callbacks[0] is ReduceLROnPlateau",
    ("refused", "fit BackupAndRestore 2 groups"): "callbacks[0] is BackupAndRestore",
    ("refused", "one_cycle ReduceLROnPlateau"): "callbacks[0] is ReduceLROnPlateau",
    ("refused", "sgdr LearningRateScheduler"): "callbacks[0] is LearningRateScheduler",
    ("refused", "fine_tune ReduceLROnPlateau"): "callbacks[0] is ReduceLROnPlateau",
    ("refused", "fit other checkpoint"): "holds a different fit (saved vs now: {",
    ("refused", "one_cycle other checkpoint"): "holds a different fit (saved vs now: {",
    ("refused", "fine_tune other checkpoint"): "holds a different fit (saved vs now: {",
    ("one_group", 0): "this Learner has one",
    ("one_group", 1): "this Learner has one",
}

#: A fix tells the user what to pass or do: an example, an ``arg=value`` or an instruction.
_FIX = re.compile(r"e\.g\.|\w=|\b(pass|use|try|call|build|wrap|map|convert|clean|swap|drop|"
                  r"delete|give|make|pad|cast|subclass|typical)\b", re.IGNORECASE)

ALL_REFUSALS = ([("learner", i) for i in range(len(LEARNER_CASES))]
                + [("construction", i) for i in range(len(CONSTRUCTION_CASES))]
                + [("refused", case) for case in REFUSED] + [("one_group", 0), ("one_group", 1)])


def _refusal(request, table, key):
    """The message of refusal ``key`` of ``table``, raised with the table's exception type and
    naming the table's words (the argument)."""
    if table == "learner":
        learn = request.getfixturevalue("learn")
        call, exc, words = LEARNER_CASES[key]
        if "plot" in words or key >= len(LEARNER_CASES) - 3:
            learn.fit(1)
        args = (learn,)
    elif table == "construction":
        (call, exc, words), args = CONSTRUCTION_CASES[key], ()
    elif table == "refused":
        learn, other, ft = request.getfixturevalue("refusing")
        learn.last_sweep = {"stop_reason": "diverged", "stop_lr": 1e-3, "stop_step": 40}
        (call, exc, words), args = REFUSED[key], (learn, other, ft)
    else:
        call, exc, words = (lambda L: L.fine_tune(1, freeze_epochs=key), ValueError, "fine_tune")
        args = (request.getfixturevalue("learn"),)
    with pytest.raises(exc) as info:
        call(*args)
    message = str(info.value)
    assert words in message
    return message


def _value_and_fix(message, shown):
    """(the text that shows the value, the text after it): after ``got `` up to the first
    ``"; "`` or ``". "``, or the given ``shown`` text."""
    if shown is None:
        found = re.search(r"\bgot (\S.*?)(?:; |\. |\.?$)", message, re.DOTALL)
        assert found, f"no 'got <value>' in: {message}"
        return found.group(1), message[found.end():]
    assert shown in message, f"the value ({shown!r}) is not shown in: {message}"
    rest = message[message.index(shown) + len(shown):]
    ends = [rest.find(sep) for sep in ("; ", ". ") if sep in rest]
    return shown, rest[min(ends) + 2:] if ends else ""


@pytest.mark.parametrize("table,key", ALL_REFUSALS, ids=[f"{t}-{k}" for t, k in ALL_REFUSALS])
def test_every_refusal_names_the_value_and_the_fix(request, table, key):
    """Issue 26: "every error names the argument, the value and the fix", in the format of
    ``core/checks.py``: ``<name> must be <requirement>, got <value>; <fix>`` (or a sentence
    after the value that says what to pass or do)."""
    message = _refusal(request, table, key)
    value, fix = _value_and_fix(message, SHOWN.get((table, key)))
    assert value.strip(" .;:"), f"no value shown in: {message}"
    assert fix.strip(" .;"), f"no fix after the value in: {message}"
    assert _FIX.search(fix), f"the fix {fix!r} says nothing to pass or do, in: {message}"


def test_an_input_mismatch_quotes_keras_own_shape_error():
    """The probe's error keeps the line of Keras' message that says what is wrong (Keras wraps
    it in "Exception encountered when calling Sequential.call()." and ANSI bold)."""
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError) as info:
        Learner(model, _data())
    message = str(info.value)
    assert "expected axis -1 of input shape to have value 5" in message
    assert "Exception encountered" not in message and "\x1b[" not in message
    assert message.endswith("Make the model's input_shape match the data.")
