"""fit_one_cycle / fit_flat_cos on the one loop: the per-batch values equal the pure schedules."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from conftest import StopAfter, mlp

from tflearner import SGD, Learner
from tflearner.schedules import flat_cos, one_cycle, sgdr

# Learner.fit_one_cycle's defaults (Smith's three-phase linear form, chosen by measurement)
SMITH = {"pct_start": 0.45, "div": 10.0, "div_final": 1e4, "anneal": "linear",
         "three_phase": True}


def test_fit_one_cycle_sets_lr_and_beta1_per_batch_without_retrace(blob_data):
    learn = Learner(mlp(), blob_data, opt="adam", quiet=True)
    learn.fit(1)
    traces = dict(learn.loop.trace_counts)
    learn.fit_one_cycle(3, 0.01)
    lrs, moms = one_cycle(24, 0.01, **SMITH)
    np.testing.assert_allclose(learn.recorder.lrs, lrs, rtol=1e-6)
    np.testing.assert_allclose(learn.recorder.moms, moms, rtol=1e-6)
    assert dict(learn.loop.trace_counts) == traces
    assert learn.recorder.lrs[0] == pytest.approx(0.01 / 10, rel=1e-6)
    fastai = {"pct_start": 0.25, "div": 25.0, "div_final": 1e5, "anneal": "cos",
              "three_phase": False}
    learn.fit_one_cycle(3, 0.01, **fastai)
    np.testing.assert_allclose(learn.recorder.lrs, one_cycle(24, 0.01, **fastai)[0], rtol=1e-6)


def test_sgd_momentum_is_cycled_and_plain_sgd_gets_lr_only(blob_data):
    learn = Learner(mlp(), blob_data, opt=SGD(0.1, momentum=0.9), quiet=True)
    learn.fit_one_cycle(2, 0.1, three_phase=True, pct_start=0.3, anneal="linear")
    lrs, moms = one_cycle(16, 0.1, 0.3, anneal="linear", three_phase=True)
    np.testing.assert_allclose(learn.recorder.moms, moms, rtol=1e-6)
    plain = Learner(mlp(), blob_data, quiet=True)
    plain.fit_one_cycle(1, 0.1)
    np.testing.assert_allclose(plain.recorder.lrs, one_cycle(8, 0.1, **SMITH)[0], rtol=1e-6)
    assert np.all(np.isnan(plain.recorder.moms))


class MyAdam(keras.optimizers.Adam):
    """A user's Adam subclass: cycled like Adam (detection is by type, not by class name)."""


class MySGD(keras.optimizers.SGD):
    """A stock-SGD subclass: Keras bakes its momentum in at trace time, so it cannot cycle."""


def test_adam_subclass_gets_beta1_cycled(blob_data):
    learn = Learner(mlp(), blob_data, opt=MyAdam(1e-3), quiet=True)
    learn.fit_one_cycle(2, 0.01)
    lrs, moms = one_cycle(16, 0.01, **SMITH)
    np.testing.assert_allclose(learn.recorder.lrs, lrs, rtol=1e-6)
    np.testing.assert_allclose(learn.recorder.moms, moms, rtol=1e-6)
    assert float(np.asarray(learn.opt.beta_1)) == pytest.approx(moms[-1], rel=1e-6)


def _cycle_warnings(caught) -> list:
    return [w for w in caught if "cycled" in str(w.message)]


def test_uncyclable_momentum_warns_once_and_moms_none_is_quiet(blob_data):
    learn = Learner(mlp(), blob_data, opt=MySGD(0.05, momentum=0.9), quiet=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        learn.fit_one_cycle(1, 0.05)
    found = _cycle_warnings(caught)
    assert len(found) == 1 and found[0].filename == __file__  # at the caller's line
    for words in ("MySGD(momentum=0.9) cannot have its momentum cycled",
                  "Derive MySGD from tflearner.SGD", "moms=None"):
        assert words in str(found[0].message)
    np.testing.assert_allclose(learn.recorder.lrs, one_cycle(8, 0.05, **SMITH)[0], rtol=1e-6)
    assert np.all(np.isnan(learn.recorder.moms))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        learn.fit_one_cycle(1, 0.05, moms=None)
    assert _cycle_warnings(caught) == []


def test_max_lr_none_uses_the_lr_find_suggestion_or_says_what_to_do(blob_data):
    learn = Learner(mlp(), blob_data, opt=keras.optimizers.Adam, quiet=True)
    with pytest.raises(ValueError, match=r"run learn.lr_find\(\) first or pass max_lr"):
        learn.fit_one_cycle(1)
    learn.suggested_lr = 0.003
    learn.fit_one_cycle(1)
    np.testing.assert_allclose(learn.recorder.lrs, one_cycle(8, 0.003, **SMITH)[0], rtol=1e-6)


def test_fit_flat_cos(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    learn.fit_flat_cos(2, 0.05)
    np.testing.assert_allclose(learn.recorder.lrs, flat_cos(16, 0.05), rtol=1e-6)


@pytest.mark.parametrize("kwargs,err,words", [
    ({"epochs": 0, "max_lr": 0.1}, ValueError, "epochs must be an int >= 1, got 0"),
    ({"epochs": 1, "max_lr": -0.1}, ValueError, "max_lr"),
    ({"epochs": 1, "max_lr": 0.1, "pct_start": 1.2}, ValueError, "pct_start"),
    ({"epochs": 1, "max_lr": 0.1, "anneal": "sqrt"}, ValueError, "anneal"),
    ({"epochs": 1, "max_lr": 0.1, "moms": (0.9, 0.8)}, ValueError, "moms"),
    ({"epochs": 1, "max_lr": 0.1, "moms": (0.9, 1.2, 0.9)}, ValueError, "moms[1] must be"),
    ({"epochs": 1, "max_lr": 0.1, "div": 0}, ValueError, "div must be a finite number > 0, got 0"),
    ({"epochs": 1, "max_lr": 0.1, "div_final": -1}, ValueError, "div_final must be a finite"),
    ({"epochs": 1, "max_lr": 0.1, "pct_start": 0.5}, ValueError, "three_phase"),
    ({"epochs": 1, "max_lr": 0.1, "pct_start": 0.5, "three_phase": False, "anneal": "cosine"},
     ValueError, "anneal"),
    ({"epochs": 1}, ValueError, "run learn.lr_find() first or pass max_lr"),
    ({"epochs": 1.5, "max_lr": 0.1}, TypeError, "epochs must be an int >= 1, got 1.5 (float)"),
])
def test_bad_arguments(blob_data, kwargs, err, words):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(err) as info:
        learn.fit_one_cycle(**kwargs)
    assert words in str(info.value)
    assert learn.recorder.lrs == []


def test_effective_momentum_and_update_match_a_hand_computation():
    """Linear regression, one full batch per epoch, tflearner.SGD(momentum>0): at every batch
    the optimizer's *effective* momentum equals the schedule, and the weights follow
    v = mom_i * v - lr_i * g;  w = w + v  computed in numpy."""
    from tflearner import Callback, DataBundle

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3).astype("float32")[:, None]
    data = DataBundle.from_arrays(x, y, valid_pct=0.0, batch_size=32, seed=0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    learn = Learner(model, data, opt=SGD(0.01, momentum=0.9), quiet=True)
    seen = []

    class ReadOptimizer(Callback):
        """One batch per epoch, so one batch per compiled call: after it, the optimizer's
        variables still hold what that batch's update used."""

        def after_batch(self, state):
            seen.append((float(learn.opt.learning_rate.numpy()),
                         float(np.asarray(learn.opt.momentum))))

    w, b = (v.numpy().astype(float) for v in model.variables)
    learn.fit_one_cycle(6, 0.05, callbacks=[ReadOptimizer()])
    lrs, moms = one_cycle(6, 0.05, **SMITH)
    np.testing.assert_allclose([s[0] for s in seen], lrs, rtol=1e-6)
    np.testing.assert_allclose([s[1] for s in seen], moms, rtol=1e-6)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    for lr, mom in zip(lrs, moms, strict=True):
        err = x @ w + b - y
        gw, gb = 2 * x.T @ err / len(x), 2 * err.mean(0)
        vw, vb = mom * vw - lr * gw, mom * vb - lr * gb
        w, b = w + vw, b + vb
    np.testing.assert_allclose(model.variables[0].numpy(), w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.variables[1].numpy(), b, rtol=1e-4, atol=1e-6)


# --------------------------------------------------------------------------------------------
# fit_sgdr
# --------------------------------------------------------------------------------------------

def test_fit_sgdr_runs_the_pure_schedule_per_batch_without_retrace(blob_data):
    learn = Learner(mlp(), blob_data, opt=SGD(momentum=0.9), quiet=True)
    state = learn.fit_sgdr(2, 1, 0.05)  # cycles of 1 and 2 epochs: 3 epochs of 8 batches
    assert state.epochs == 3 and len(learn.recorder.values) == 3
    np.testing.assert_allclose(learn.recorder.lrs, sgdr(8, 2, 1, 0.05, 2), rtol=1e-6)
    assert learn.recorder.lrs[0] == learn.recorder.lrs[8] == pytest.approx(0.05, rel=1e-6)
    assert learn.recorder.moms == [pytest.approx(0.9)] * 24  # momentum is not scheduled
    assert learn.loop.trace_counts["train"] == 1
    learn.fit_sgdr(3, 1, 0.05, cycle_mult=1)  # equal cycles: 3 epochs
    np.testing.assert_allclose(learn.recorder.lrs, sgdr(8, 3, 1, 0.05, 1), rtol=1e-6)
    assert learn.loop.trace_counts["train"] == 1


def test_fit_sgdr_lr_max_none_slices_and_wd(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(ValueError, match=r"lr_max=None .*run learn.lr_find\(\) first"):
        learn.fit_sgdr(1, 1)
    learn.suggested_lr = 0.02
    learn.fit_sgdr(1, 2, wd=1e-3)
    np.testing.assert_allclose(learn.recorder.lrs, sgdr(8, 1, 2, 0.02), rtol=1e-6)
    assert learn.recorder.wds == [pytest.approx(1e-3)] * 16
    two = Learner(mlp(), blob_data, quiet=True, splitter=lambda m: [m.layers[:1], m.layers[1:]])
    two.fit_sgdr(1, 1, slice(1e-3, 1e-1))
    groups = np.asarray(two.recorder.group_lrs)
    np.testing.assert_allclose(groups[:, 1], sgdr(8, 1, 1, 0.1), rtol=1e-6)
    np.testing.assert_allclose(groups[:, 0], groups[:, 1] / 100, rtol=1e-5)


@pytest.mark.parametrize("kwargs,err,words", [
    ({"n_cycles": 0, "cycle_len": 1}, ValueError, "n_cycles must be an int >= 1, got 0;"),
    ({"n_cycles": 2.5, "cycle_len": 1}, TypeError, "n_cycles must be an int >= 1, got 2.5"),
    ({"n_cycles": 2, "cycle_len": 0}, ValueError, "cycle_len must be an int >= 1, got 0;"),
    ({"n_cycles": 2, "cycle_len": 1, "cycle_mult": 0}, ValueError,
     "cycle_mult must be an int >= 1, got 0;"),
    ({"n_cycles": 2, "cycle_len": 1, "cycle_mult": 1.5}, TypeError,
     "cycle_mult must be an int >= 1, got 1.5 (float)"),
    ({"n_cycles": 2, "cycle_len": 1, "lr_max": -1.0}, ValueError, "lr_max"),
    ({"n_cycles": 2, "cycle_len": 1, "lr_max": 0.1, "wd": -1.0}, ValueError, "wd must be"),
    ({"n_cycles": 2, "cycle_len": 1, "lr_max": 0.1, "callbacks": 3}, TypeError, "callbacks"),
])
def test_fit_sgdr_bad_arguments_fail_before_training(blob_data, kwargs, err, words):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(err) as info:
        learn.fit_sgdr(**kwargs)
    assert words in str(info.value)
    assert learn.recorder.lrs == [] and int(learn.opt.iterations.numpy()) == 0


def test_fit_sgdr_resumes_from_a_checkpoint(blob_data, tmp_path):
    def run(**kw):
        keras.utils.set_random_seed(3)
        for v in blob_data.rng_state:
            v.assign(0)
        learn = Learner(mlp(), blob_data, quiet=True)
        return learn, learn.fit_sgdr(2, 1, 0.05, **kw)

    ref, _ = run()
    _, state = run(checkpoint=tmp_path, callbacks=[StopAfter(11)])
    assert state.step == 12 and state.stop_reason == "callback"
    again, _ = run(checkpoint=tmp_path)
    for a, b in zip(ref.model.variables, again.model.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert again.recorder.lrs == ref.recorder.lrs
    with pytest.raises(ValueError, match="different fit"):
        run(checkpoint=tmp_path, cycle_mult=1)
