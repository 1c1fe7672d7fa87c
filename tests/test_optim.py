"""Per-step hyper-parameters: hand-computed updates, no retrace, optimizer normalisation."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from tflearner import SGD
from tflearner.optim import BETA_1_OPTIMIZERS, Hypers, get_optimizer, momentum_of
from tflearner.optim.detect import learning_rate_problem, learning_rate_variable


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


# ---- detection by type (not by class name) -------------------------------------------------

class MyAdam(keras.optimizers.Adam):
    pass


class MySGD(keras.optimizers.SGD):
    pass


class MyTFLSGD(SGD):
    pass


@pytest.mark.parametrize("make,attr,problem_words", [
    (lambda: SGD(0.1, momentum=0.9), "momentum", None),
    (lambda: MyTFLSGD(0.1, momentum=0.9), "momentum", None),
    (lambda: SGD(0.1), None, None),  # momentum 0: no momentum term, nothing to warn about
    (lambda: keras.optimizers.Adam(), "beta_1", None),
    (lambda: MyAdam(), "beta_1", None),
    (lambda: keras.optimizers.LossScaleOptimizer(MyAdam()), "beta_1", None),
    (lambda: keras.optimizers.Lion(), "beta_1", None),
    (lambda: keras.optimizers.SGD(0.1, momentum=0.9), None,
     ["SGD(momentum=0.9) cannot have its momentum cycled", "Use tflearner.SGD(momentum=...)",
      "moms=None"]),
    (lambda: MySGD(0.1, momentum=0.9), None,
     ["MySGD(momentum=0.9) cannot have its momentum cycled",
      "Derive MySGD from tflearner.SGD", "moms=None"]),
    (lambda: MySGD(0.1), None, None),
    (lambda: keras.optimizers.RMSprop(momentum=0.5), None,
     ["RMSprop(momentum=0.5) cannot have its momentum cycled", "tflearner.SGD(momentum=...)",
      "Adam", "moms=None"]),
    (lambda: keras.optimizers.RMSprop(), None, None),
    (lambda: keras.optimizers.Adagrad(), None, None),
    (lambda: keras.optimizers.ScheduleFreeAdamW(), None,
     ["ScheduleFreeAdamW's beta_1 is not a momentum tflearner schedules",
      "x = (y - (1 - beta_1) z) / beta_1", "learn.fit(epochs, lr)", "moms=None"]),
])
def test_momentum_is_detected_by_type(make, attr, problem_words):
    opt = make()
    found = momentum_of(opt)
    assert found.attr == attr
    assert found.optimizer is getattr(opt, "inner_optimizer", opt)
    if problem_words is None:
        assert found.problem is None
    else:
        for words in problem_words:
            assert words in found.problem


@pytest.mark.parametrize("cls", BETA_1_OPTIMIZERS, ids=lambda c: c.__name__)
def test_beta_1_optimizers_read_a_variable_every_step(cls):
    """The family that gets beta_1 cycled: a variable put on beta_1 after build changes the
    update with one trace, exactly like an eager run that sets the float before each step."""
    betas = [0.9, 0.5, 0.99, 0.3]  # vs. 0.9 throughout: Lion's last sign flips with beta_1
    grads = [np.array(g, "float32") for g in ([0.3, -2.0], [1.0, -0.5], [-0.03, 0.2],
                                              [-0.1, 0.02])]  # Lamb: the direction must vary

    def run(per_step_variable: bool, changing: bool = True):
        var = keras.Variable(np.array([1.0, -1.0], "float32"))
        opt = cls(learning_rate=0.01)
        opt.build([var])
        beta = tf.Variable(betas[0], trainable=False) if per_step_variable else None
        if beta is not None:
            opt.beta_1 = beta
        apply, traces = _stepper(opt, var)
        for k, g in enumerate(grads):
            b = betas[k] if changing else betas[0]
            if beta is not None:
                beta.assign(b)
                apply(g)
            else:
                opt.beta_1 = b
                opt.apply_gradients([(tf.constant(g), var)])
        return var.numpy(), len(traces)

    compiled, traces = run(True)
    eager, _ = run(False)
    constant, _ = run(False, changing=False)
    assert traces == 1
    np.testing.assert_allclose(compiled, eager, rtol=1e-6, atol=1e-7)
    assert np.abs(compiled - constant).max() > 1e-6  # the schedule reached the update


def test_hypers_looks_through_a_loss_scale_optimizer():
    var = keras.Variable(np.zeros(2, "float32"))
    inner = MyAdam(1e-3)
    opt = keras.optimizers.LossScaleOptimizer(inner)
    opt.build([var])
    hp = Hypers(opt)
    assert hp.optimizer is inner and hp.mom_attr == "beta_1"
    hp.set(lr=0.02, mom=0.7)
    assert float(np.asarray(inner.beta_1)) == pytest.approx(0.7)
    assert float(np.asarray(opt.learning_rate)) == pytest.approx(0.02)


def test_hypers_refuses_mom_with_the_reason_it_cannot_be_cycled():
    var = keras.Variable(np.zeros(2, "float32"))
    opt = MySGD(0.1, momentum=0.9)
    opt.build([var])
    hp = Hypers(opt)
    assert hp.mom is None and "Derive MySGD from tflearner.SGD" in hp.mom_problem
    with pytest.raises(ValueError, match="MySGD.*cannot have its momentum cycled"):
        hp.mom = 0.8


def _lr_fn():
    return 0.1


def test_learning_rate_variable_and_what_else_an_optimizer_takes_it_from():
    opt = keras.optimizers.Adam(0.05)
    lr = learning_rate_variable(opt)
    assert isinstance(lr, keras.Variable) and float(lr.numpy()) == pytest.approx(0.05)
    assert any(v is lr for v in opt.variables)  # the variable snapshots and checkpoints hold
    assert learning_rate_variable(keras.optimizers.LossScaleOptimizer(opt)) is lr
    assert learning_rate_problem(opt) is None
    sched = keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9)
    assert learning_rate_variable(keras.optimizers.SGD(sched)) is None
    assert learning_rate_problem(keras.optimizers.SGD(sched)) == (
        "ExponentialDecay (a LearningRateSchedule)")
    assert learning_rate_problem(keras.optimizers.SGD(_lr_fn)) == "a callable"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Keras warning about serializing the lambda leaks out
        assert learning_rate_problem(keras.optimizers.SGD(lambda: 0.1)) == "a callable"
