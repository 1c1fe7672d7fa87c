"""The private Keras / TensorFlow access in tflearner.core.internals still works on the installed
versions, the public API used instead of the rest behaves as relied on, and nothing else in
tflearner touches a private attribute (so an upgrade breaks a test here, not a user)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

import tflearner
from tflearner import SGD
from tflearner.core.internals import (
    compile_loss,
    compile_metrics,
    is_default_strategy,
    metric_direction,
    multi_optimizer_choice,
    optimizer_variable_index,
    raw_iterations,
    schedule_free_base,
    take_initial_epoch,
    variable_strategy,
)

PACKAGE = Path(tflearner.__file__).parent


# ---- core.internals --------------------------------------------------------------------------

def _strategies():
    return [tf.distribute.OneDeviceStrategy("/cpu:0"), tf.distribute.MirroredStrategy(["/cpu:0"])]


def test_variable_strategy_names_the_scope_a_variable_was_made_in():
    assert variable_strategy(tf.Variable(1.0)) is None
    assert variable_strategy(keras.Variable(1.0)) is None
    for strategy in _strategies():
        with strategy.scope():
            tf_var, keras_var = tf.Variable(1.0), keras.Variable(np.zeros(2, "float32"))
            model = mlp()
        assert variable_strategy(tf_var) is strategy
        assert variable_strategy(keras_var) is strategy
        assert all(variable_strategy(v) is strategy for v in model.variables)


def test_schedule_free_base_is_the_slot_the_steps_go_to():
    a, b = keras.Variable(np.array([1.0, 2.0], "float32")), keras.Variable(np.zeros(3, "float32"))
    opt = keras.optimizers.ScheduleFreeAdamW(0.1)
    opt.build([a, b])
    np.testing.assert_array_equal(schedule_free_base(opt, a).numpy(), [1.0, 2.0])  # z = copy
    opt.apply([np.array([1.0, -1.0], "float32"), np.ones(3, "float32")], [a, b])
    # step 1 of Adam's normalised update: z = z0 - lr * g / (|g| + eps)
    np.testing.assert_allclose(schedule_free_base(opt, a).numpy(), [0.9, 2.1], rtol=1e-6)
    np.testing.assert_allclose(schedule_free_base(opt, b).numpy(), [-0.1] * 3, rtol=1e-6)


def test_multi_optimizer_choice_is_the_map_keras_builds_with():
    model = mlp()
    sgd, adam = keras.optimizers.SGD(), keras.optimizers.Adam()
    multi = keras.optimizers.MultiOptimizer(
        keras.optimizers.OptimizerMap(adam, {".*hidden.*": sgd}))
    assert [multi_optimizer_choice(multi, v) for v in model.trainable_variables] == [
        sgd, sgd, adam, adam]
    pick = keras.optimizers.MultiOptimizer(lambda v: sgd if "out" in v.path else adam)
    assert [multi_optimizer_choice(pick, v) for v in model.trainable_variables] == [
        adam, adam, sgd, sgd]


def test_is_default_strategy():
    assert is_default_strategy(tf.distribute.get_strategy())
    for strategy in _strategies():
        assert not is_default_strategy(strategy)
        with strategy.scope():
            assert not is_default_strategy(tf.distribute.get_strategy())
    assert is_default_strategy(tf.distribute.get_strategy())


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), keras.optimizers.Adam],
                         ids=["tflearner.SGD", "Adam"])
def test_optimizer_variable_index_points_at_the_variables_slots(make):
    a, b = keras.Variable(np.zeros((2, 3), "float32")), keras.Variable(np.zeros(5, "float32"))
    opt = make()
    opt.build([b, a])
    assert [optimizer_variable_index(opt, v) for v in (a, b)] == [1, 0]
    if isinstance(opt, SGD):
        assert tuple(opt.momentums[optimizer_variable_index(opt, a)].shape) == (2, 3)


def test_metric_direction_is_what_keras_infers_mode_auto_from():
    """KerasCallbacks resolves EarlyStopping(mode="auto") with it, as model.fit does."""
    up = [keras.metrics.SparseCategoricalAccuracy(), keras.metrics.Accuracy(),
          keras.metrics.AUC(), keras.metrics.Precision()]
    assert [metric_direction(m) for m in up] == ["up"] * len(up)
    assert metric_direction(keras.metrics.MeanSquaredError()) == "down"
    assert metric_direction(keras.metrics.Mean()) is None
    model = mlp()  # model.fit's own inference gives the same answer
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = blobs(32)
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[stop := keras.callbacks.EarlyStopping(monitor="accuracy")])
    assert stop.monitor_op is keras.ops.greater


# ---- public API relied on instead of private attributes --------------------------------------

def test_raw_iterations_counts_every_apply_gradients_call_under_accumulation():
    v = keras.Variable(np.ones(3, "float32"))
    for opt in (keras.optimizers.SGD(0.1, gradient_accumulation_steps=3),
                keras.optimizers.LossScaleOptimizer(
                    keras.optimizers.SGD(0.1, gradient_accumulation_steps=3))):
        opt.build([v])
        for _ in range(5):
            opt.apply_gradients([(tf.ones(3), v)])
        inner = getattr(opt, "inner_optimizer", opt)
        assert raw_iterations(opt) == 5 and int(inner.iterations.numpy()) == 5 // 3


def test_compile_loss_and_metrics_are_keras_multi_output_containers():
    y = {"a": tf.constant([0, 1]), "b": tf.constant([[1.0], [3.0]])}
    p = {"a": tf.constant([[0.9, 0.1], [0.2, 0.8]]), "b": tf.constant([[0.0], [1.0]])}
    loss = compile_loss({"a": "sparse_categorical_crossentropy", "b": "mse"}, {"a": 1.0,
                                                                             "b": 0.5},
                        ["a", "b"])
    ce = -np.mean(np.log([0.9, 0.8]))
    assert float(loss(y, p)) == pytest.approx(ce + 0.5 * 2.5, rel=1e-5)
    cm = compile_metrics({"a": ["accuracy"]}, ["a", "b"])
    cm.build(y, p)
    cm.update_state(y, p)
    assert {k: float(v) for k, v in cm.result().items()} == {"a_accuracy": 1.0}


def test_compiled_loss_tracker_is_the_first_metric_a_mean_named_loss():
    """keras_fit.lr_finder recovers the raw batch loss from it (no private tracker read)."""
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = blobs(24)
    tracker = model.metrics[0]
    assert isinstance(tracker, keras.metrics.Mean) and tracker.name == "loss"
    logs = model.train_on_batch(x, y, return_dict=True)
    assert float(tracker.count.numpy()) == 24  # weighted by batch size
    assert float(tracker.total.numpy()) / 24 == pytest.approx(logs["loss"], rel=1e-6)


def test_learning_rate_property_is_the_variable_for_a_float_lr():
    """optim.detect.learning_rate_variable relies on it (no private attribute read)."""
    opt = keras.optimizers.Adam(0.01)
    assert isinstance(opt.learning_rate, keras.Variable)
    assert opt.learning_rate is opt.learning_rate
    sched = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    sched_opt = keras.optimizers.SGD(sched)
    assert not isinstance(sched_opt.learning_rate, keras.Variable)
    assert sched_opt.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"


def test_variable_created_in_scope_tells_an_optimizer_made_outside_the_strategy():
    """training.optimizers rebuilds such an optimizer (no private strategy read)."""
    for strategy in _strategies():
        outside = keras.optimizers.Adam()
        with strategy.scope():
            inside = keras.optimizers.Adam()
        assert strategy.extended.variable_created_in_scope(inside.iterations.value)
        assert not strategy.extended.variable_created_in_scope(outside.iterations.value)


# ---- nothing else touches a private attribute -------------------------------------------------

def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _defined_names(trees) -> set[str]:
    """Every name tflearner itself defines (functions, classes, assigned attributes, imports,
    arguments): tflearner's own private attributes are allowed everywhere."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.split(".")[-1])
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


def _private_uses(tree) -> list[tuple[int, str]]:
    """``x._name`` and ``getattr/hasattr/setattr(x, "_name", ...)`` in one module."""
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            uses.append((node.lineno, node.attr))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and _private(node.args[1].value)):
            uses.append((node.lineno, node.args[1].value))
    return uses


def test_op_determinism_enabled_follows_tensorflows_switch():
    # a fresh interpreter: switching determinism on would change every later test's pipelines
    code = ("import tensorflow as tf\n"
            "from tflearner.core.internals import op_determinism_enabled as on\n"
            "before = on()\n"
            "tf.config.experimental.enable_op_determinism()\n"
            "print(before, on())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.stdout.split() == ["False", "True"], out.stderr[-2000:]


def test_take_initial_epoch_reads_where_backup_and_restore_tells_model_fit_to_start(tmp_path):
    import json
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert take_initial_epoch(model) is None  # no callback said anything
    backup = keras.callbacks.BackupAndRestore(str(tmp_path))
    backup.set_model(model)
    model.save_weights(str(tmp_path / "latest.weights.h5"))
    (tmp_path / "training_metadata.json").write_text(json.dumps({"epoch": 3, "batch": 0}))
    backup.on_train_begin()
    assert take_initial_epoch(model) == 3
    assert take_initial_epoch(model) is None  # read once


def test_no_private_keras_or_tf_attribute_outside_core_internals():
    trees = {path: ast.parse(path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))}
    own = _defined_names(trees.values())
    # sys._getframe: CPython's documented frame access; namedtuple's _fields: its documented
    # field names; neither is Keras' or TensorFlow's
    allowed = {"_getframe", "_fields"}
    found = [f"{path.relative_to(PACKAGE)}:{line}: .{name}"
             for path, tree in trees.items() if path.name != "internals.py"
             for line, name in _private_uses(tree) if name not in own and name not in allowed]
    assert found == [], ("private attributes of other libraries outside core/internals.py "
                         "(add a small documented function there instead):\n" + "\n".join(found))
    internals = _private_uses(trees[PACKAGE / "core" / "internals.py"])
    assert sorted({name for _, name in internals}) == [
        "_DefaultDistributionStrategy", "_direction", "_distribute_strategy",
        "_get_variable_index", "_initial_epoch", "_iterations", "_momentums", "_optimizer_map"]


# ---- nothing else imports TensorFlow's or Keras' private modules ------------------------------

#: Private-module imports outside core/internals.py that another part of the package still has,
#: each with what replaces it; the test fails once one is gone, so the entry is removed with it.
_KNOWN_PRIVATE_IMPORTS = {
    ("data/bundle.py", "tensorflow.python.util"): "keras.tree.flatten_with_path (public)",
}


def _private_module(name: str) -> bool:
    return name.startswith(("tensorflow.python", "keras.src", "tensorflow._", "keras._"))


def _private_imports(tree) -> list[tuple[int, str]]:
    """``import tensorflow.python...``, ``from keras.src... import ...`` (at any depth, inside
    functions too) in one module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if _private_module(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                _private_module(node.module)):
            found.append((node.lineno, node.module))
    return sorted(found)


def test_no_private_keras_or_tf_module_imported_outside_core_internals():
    found, known = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "core/internals.py":
            continue
        for line, module in _private_imports(ast.parse(path.read_text())):
            if (rel, module) in _KNOWN_PRIVATE_IMPORTS:
                known.add((rel, module))
            else:
                found.append(f"{rel}:{line}: {module}")
    assert found == [], ("private TensorFlow / Keras modules imported outside core/internals.py "
                         "(add a small documented function there instead):\n" + "\n".join(found))
    assert known == set(_KNOWN_PRIVATE_IMPORTS), (
        f"no longer imported, drop from _KNOWN_PRIVATE_IMPORTS: "
        f"{sorted(set(_KNOWN_PRIVATE_IMPORTS) - known)}")


def test_the_private_import_guard_sees_from_imports_inside_functions():
    tree = ast.parse("def f():\n    from tensorflow.python.util import nest\n"
                     "import keras.src.trainers.compile_utils as cu\nimport keras\n")
    assert _private_imports(tree) == [(2, "tensorflow.python.util"),
                                      (3, "keras.src.trainers.compile_utils")]


def test_core_internals_is_where_the_private_modules_are_imported():
    modules = {m for _, m in _private_imports(ast.parse(
        (PACKAGE / "core" / "internals.py").read_text()))}
    assert modules == {"tensorflow.python.distribute", "tensorflow.python.framework",
                       "keras.src.trainers.compile_utils"}
