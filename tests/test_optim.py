"""Per-step hyper-parameters: hand-computed updates, no retrace, optimizer normalisation."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tflearner import SGD
from tflearner.optim import Hypers, get_optimizer


def _stepper(opt, var):
    """A compiled apply(g) that counts its traces."""
    traces = []

    @tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])
    def apply(g):
        traces.append(1)
        opt.apply_gradients([(g, var)])

    return apply, traces


def test_sgd_momentum_variable_changes_update_without_retrace():
    var = keras.Variable(np.array([1.0, 2.0], "float32"))
    opt = SGD(learning_rate=0.1, momentum=0.9)
    opt.build([var])
    hp = Hypers(opt)
    apply, traces = _stepper(opt, var)
    g = np.array([0.5, -1.0], "float32")
    apply(g)  # v = 0.9*0 - 0.1*g = [-0.05, 0.1]; w = [0.95, 2.1]
    np.testing.assert_allclose(var.numpy(), [0.95, 2.1], rtol=1e-6)
    hp.set(lr=0.2, mom=0.5)
    apply(g)  # v = 0.5*[-0.05, 0.1] - 0.2*g = [-0.125, 0.25]; w = [0.825, 2.35]
    np.testing.assert_allclose(var.numpy(), [0.825, 2.35], rtol=1e-6)
    assert len(traces) == 1
    assert hp.mom == pytest.approx(0.5) and hp.lr == pytest.approx(0.2)


def test_sgd_nesterov_matches_keras_formula():
    var = keras.Variable(np.array([1.0, 2.0], "float32"))
    opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    opt.build([var])
    Hypers(opt)
    g = np.array([0.5, -1.0], "float32")
    opt.apply_gradients([(tf.constant(g), var)])
    v = -0.1 * g
    np.testing.assert_allclose(var.numpy(), np.array([1.0, 2.0]) + 0.9 * v - 0.1 * g, rtol=1e-6)


def test_plain_sgd_has_no_momentum_and_refuses_setting_it():
    var = keras.Variable(np.zeros(2, "float32"))
    opt = get_optimizer(None, lr=0.3)
    opt.build([var])
    hp = Hypers(opt)
    assert hp.mom is None and hp.lr == pytest.approx(0.3)
    with pytest.raises(ValueError, match="mom=0.9 cannot be set: SGD has no schedulable"):
        hp.mom = 0.9


def _adam_numpy(w, g, steps):
    m = v = np.zeros_like(w)
    for t, (lr, b1) in enumerate(steps, start=1):
        b2, eps = 0.999, 1e-7
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        w = w - alpha * m / (np.sqrt(v) + eps)
    return w


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_beta1_variable_reaches_the_update(name):
    var = keras.Variable(np.array([1.0, -1.0], "float32"))
    opt = get_optimizer(name, lr=0.01)
    opt.build([var])
    hp = Hypers(opt)
    hp.wd = 0.0
    apply, traces = _stepper(opt, var)
    g = np.array([0.3, -2.0], "float32")
    apply(g)
    hp.set(lr=0.05, mom=0.8)
    apply(g)
    expected = _adam_numpy(np.array([1.0, -1.0]), g.astype(float), [(0.01, 0.9), (0.05, 0.8)])
    np.testing.assert_allclose(var.numpy(), expected, rtol=1e-5)
    assert len(traces) == 1


def test_weight_decay_variable_is_decoupled_and_per_step():
    var = keras.Variable(np.array([1.0, 2.0], "float32"))
    opt = get_optimizer("sgd", lr=0.1)
    opt.build([var])
    hp = Hypers(opt)
    apply, traces = _stepper(opt, var)
    g = np.array([0.5, -1.0], "float32")
    apply(g)  # wd 0: w - lr*g
    np.testing.assert_allclose(var.numpy(), [0.95, 2.1], rtol=1e-6)
    hp.wd = 0.5
    apply(g)  # w <- w - lr*wd*w, then w - lr*g
    w = np.array([0.95, 2.1])
    np.testing.assert_allclose(var.numpy(), w - 0.1 * 0.5 * w - 0.1 * g, rtol=1e-6)
    assert len(traces) == 1


def test_get_optimizer_accepts_instance_class_name_and_converts_keras_sgd():
    assert isinstance(get_optimizer(None), SGD)
    assert isinstance(get_optimizer("SGD"), SGD)
    converted = get_optimizer(keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True))
    assert isinstance(converted, SGD)
    assert converted.get_config()["momentum"] == pytest.approx(0.9)
    assert converted.nesterov is True
    assert isinstance(get_optimizer(keras.optimizers.Adam), keras.optimizers.Adam)
    assert isinstance(get_optimizer("adamw"), keras.optimizers.AdamW)
    nadam = keras.optimizers.Nadam(1e-3)
    assert get_optimizer(nadam) is nadam


def test_get_optimizer_refuses_what_the_loop_cannot_own():
    sched = keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9)
    with pytest.raises(ValueError, match="the Learner owns the learning rate"):
        get_optimizer(keras.optimizers.SGD(sched))
    with pytest.raises(ValueError, match="'not_an_opt' is not a Keras optimizer name"):
        get_optimizer("not_an_opt")
    with pytest.raises(TypeError, match="opt must be a keras.optimizers.Optimizer"):
        get_optimizer(3.0)
    with pytest.raises(TypeError, match="not a keras.optimizers.Optimizer subclass"):
        get_optimizer(dict)
    built = keras.optimizers.Adam()
    built.build([keras.Variable(np.zeros(2, "float32"))])
    with pytest.raises(ValueError, match="already built"):
        get_optimizer(built)


@pytest.mark.parametrize("field,value,err,words", [
    ("lr", -1.0, ValueError, "lr must be a finite number > 0, got -1.0; e.g. lr=1e-3"),
    ("lr", float("nan"), ValueError, "lr must be a finite number > 0, got nan"),
    ("lr", "0.1", TypeError, "lr must be a finite number > 0, got '0.1' (str)"),
    ("lr", True, TypeError, "lr must be a finite number > 0, got True (bool)"),
    ("lr", 0, ValueError, "lr must be a finite number > 0, got 0;"),
    ("mom", 1.0, ValueError, "mom must be a finite number >= 0 and < 1, got 1.0; e.g. mom=0.9"),
    ("mom", -0.1, ValueError, "mom must be a finite number >= 0 and < 1, got -0.1"),
    ("wd", float("inf"), ValueError, "wd must be a finite number >= 0, got inf"),
])
def test_hypers_reject_bad_values(field, value, err, words):
    var = keras.Variable(np.zeros(2, "float32"))
    opt = get_optimizer("adam")
    opt.build([var])
    hp = Hypers(opt)
    with pytest.raises(err) as info:
        setattr(hp, field, value)
    assert words in str(info.value)
