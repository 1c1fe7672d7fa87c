"""The loop reads a plan: planners give the values of the coming batches as arrays, the loop
slices one chunk's rows from them, and Hypers has no pending mode; one stop vocabulary; one
update clock; the one schedule builder."""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import pytest
from conftest import blobs, mlp

import tflearner.optim.hypers as hypers_module
import tflearner.schedules as schedules_module
from tflearner import SGD, Callback, DataBundle, Learner, ParamScheduler, StopReason
from tflearner.core.events import Planner, acts_between_batches
from tflearner.core.fit_state import FitState
from tflearner.loop.train_loop import plan_table
from tflearner.lr_finder.finder import LRFinder, sweep_reason
from tflearner.optim.accumulate import UpdateClock
from tflearner.optim.hypers import Hypers
from tflearner.schedules import (
    FASTAI_ONE_CYCLE,
    fine_tune_phases,
    fine_tune_plans,
    fit_plan,
    flat_cos,
    group_lrs,
    one_cycle,
    sgdr,
)


class _Hypers:
    """What a planner reads of ``state.hypers`` before a fit."""

    def __init__(self, lrs, mom=True):
        self.lrs = list(lrs)
        self.mom_attr = "momentum" if mom else None

    def require_mom(self, value=None):
        if self.mom_attr is None:
            raise ValueError("no momentum here")


def _state(step=0, lrs=(1.0,), clock=None, n_iter=None, epochs=1):
    return FitState(learner=None, hypers=_Hypers(lrs), epochs=epochs, step=step, clock=clock,
                    n_iter=n_iter)


# ---- the protocol -------------------------------------------------------------------------

def test_schedules_are_planners_and_do_not_act_between_batches():
    sched = ParamScheduler({"lr": [0.1, 0.2]})
    assert isinstance(sched, Planner) and isinstance(LRFinder(np.ones(3)), Planner)
    assert not acts_between_batches(sched) and not acts_between_batches(LRFinder(np.ones(3)))
    assert not hasattr(Hypers, "begin_plan") and not hasattr(Hypers, "take_row")  # no pending

    class Acts(Callback):
        def before_batch(self, state): ...

    class Quiet(Callback):
        sync_every_batch = False

        def before_batch(self, state): ...

    assert acts_between_batches(Acts()) and not acts_between_batches(Quiet())
    assert not acts_between_batches(Callback())


def test_param_scheduler_plans_the_next_batches_by_update():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    sched = ParamScheduler({"lr": values, "mom": [0.9, 0.8, 0.7, 0.6]})
    state = _state(step=1, lrs=(0.5, 2.0))  # two groups, the first at a quarter of the last
    sched.before_fit(state)
    plan = sched.plan(state, 5)  # past the end: the last value
    np.testing.assert_array_equal(plan["lr"], np.outer([2.0, 3.0, 4.0, 4.0, 4.0], [0.25, 1]))
    np.testing.assert_array_equal(plan["mom"], [0.8, 0.7, 0.6, 0.6, 0.6])
    # gradient accumulation, 3 micro-batches per update, the raw counter at 2 for step 0:
    # micro-batches 0 | 1 2 3 | 4 5 6 apply updates 0, 1, 2
    acc = _state(step=0, clock=UpdateClock(3, 2))
    sched.before_fit(acc)
    np.testing.assert_array_equal(sched.plan(acc, 7)["lr"][:, 0], [1, 2, 2, 2, 3, 3, 3])
    assert [_state(step=s, clock=UpdateClock(3, 2)).update for s in range(5)] == [0, 1, 1, 1, 2]


def test_param_scheduler_length_and_group_checks():
    sched = ParamScheduler({"lr": np.full(10, 0.1)})
    with pytest.raises(ValueError, match="the schedule has 10 steps but this fit runs 8"):
        sched.before_fit(_state(n_iter=4, epochs=2))
    two = ParamScheduler({"lr": np.full((8, 2), 0.1)})
    with pytest.raises(ValueError, match=r"one column per layer group \(3\)"):
        two.before_fit(_state(n_iter=4, epochs=2, lrs=(1, 1, 1)))
    with pytest.raises(ValueError, match="no momentum here"):
        ParamScheduler({"mom": np.full(8, 0.9)}).before_fit(
            FitState(learner=None, hypers=_Hypers([1.0], mom=False), epochs=1))


@pytest.mark.parametrize("scheds,words", [
    ({"lr": [0.1, -0.1]}, r"scheds\['lr'\]\[1\] must be finite and > 0, got -0.1"),
    ({"lr": [0.1, math.nan]}, r"scheds\['lr'\]\[1\] must be finite and > 0, got nan"),
    ({"mom": [0.9, 1.0]}, r"scheds\['mom'\]\[1\] must be in \[0, 1\), got 1.0"),
    ({"wd": [-1.0]}, r"scheds\['wd'\]\[0\] must be finite and >= 0"),
    ({"lr": [0.1, 0.2], "wd": [0.0]}, "all schedules must have the same length"),
    ({"mom": [[0.9]]}, r"scheds\['mom'\] must be a non-empty 1-D array"),
    ({"beta": [0.9]}, "scheds keys must be among"),
])
def test_param_scheduler_checks_its_arrays_once_up_front(scheds, words):
    with pytest.raises(ValueError, match=words):
        ParamScheduler(scheds)


def test_plan_table_later_planners_win_and_nan_keeps():
    class P:
        def __init__(self, out):
            self.out = out

        def plan(self, state, n):
            return self.out

    table = plan_table([P({"lr": np.ones((2, 2)), "wd": [0.1, 0.2]}),
                        P({"lr": np.full((2, 2), 3.0)})], _state(), 2, 2, rows=4)
    assert table.dtype == np.float32 and table.shape == (4, 4)
    np.testing.assert_array_equal(table[:2, :2], 3.0)
    assert np.isnan(table[:2, 2]).all() and table[:2, 3].tolist() == pytest.approx([0.1, 0.2])
    assert np.isnan(table[2:]).all()
    with pytest.raises(ValueError, match="P.plan returned 'beta'"):
        plan_table([P({"beta": [1.0]})], _state(), 1, 1, rows=1)


# ---- in the loop ------------------------------------------------------------------------------

class Sees(Callback):
    """Acts before each batch: records the LR it sees there, optionally overrides it."""

    order = 0

    def __init__(self, override=None):
        self.seen, self.override = [], override

    def before_batch(self, state):
        self.seen.append(state.hypers.lr)
        if self.override is not None and state.step == 2:
            state.hypers.lr = self.override


def test_a_callback_acting_before_a_batch_sees_its_planned_lr_and_may_change_it(blob_data):
    learn = Learner(mlp(), blob_data, opt="adam", quiet=True, steps_per_execution=4)
    sees = Sees(override=0.5)
    learn.fit_one_cycle(1, 0.01, callbacks=[sees])
    lrs = one_cycle(8, 0.01)[0]
    np.testing.assert_allclose(sees.seen, lrs, rtol=1e-6)  # each batch's own, before it runs
    expected = lrs.copy()
    expected[2] = 0.5  # the callback's value is the one batch 2 used
    np.testing.assert_allclose(learn.recorder.lrs, expected, rtol=1e-6)


def test_no_validation_per_batch_and_max_lr_checked_once(blob_data, monkeypatch):
    """The plan goes into the compiled step as an array: no Hypers setter (and its checks) runs
    per batch, and max_lr is spread and checked once per fit."""
    learn = Learner(mlp(), blob_data, opt=SGD(momentum=0.9), quiet=True)
    setter_checks, spreads = [], []
    real_check, real_spread = hypers_module.check_positive, schedules_module.group_lrs
    monkeypatch.setattr(hypers_module, "check_positive",
                        lambda *a, **k: setter_checks.append(a) or real_check(*a, **k))
    monkeypatch.setattr(schedules_module, "group_lrs",
                        lambda *a, **k: spreads.append(a) or real_spread(*a, **k))
    learn.fit_one_cycle(3, 0.1)
    assert len(learn.recorder.lrs) == 24
    assert setter_checks == [] and len(spreads) == 1


def test_param_scheduler_with_momentum_on_plain_sgd_fails_before_training(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(ValueError, match="SGD has no schedulable momentum"):
        learn.fit(1, callbacks=[ParamScheduler({"lr": np.full(8, 0.1),
                                                "mom": np.full(8, 0.9)})])
    assert int(learn.opt.iterations.numpy()) == 0


def test_lr_finder_r0_and_k_are_deprecated():
    with pytest.warns(DeprecationWarning, match="r0 and k are deprecated"):
        finder = LRFinder(np.array([1e-3, 1e-2]), 0, 1)
    np.testing.assert_array_equal(finder.lrs, [1e-3, 1e-2])


def test_group_hypers_ratios_replace_lr_mults(blob_data):
    model = mlp()
    learn = Learner(model, blob_data, quiet=True,
                    splitter=lambda m: [[m.get_layer("hidden")], [m.get_layer("out")]])
    learn.hypers.set_lrs([1e-3, 1e-1])
    np.testing.assert_allclose(learn.hypers.ratios, [1e-2, 1.0], rtol=1e-6)
    learn.hypers.lr = 0.5  # keeps the ratios the variables hold
    np.testing.assert_allclose(learn.hypers.lrs, [5e-3, 0.5], rtol=1e-6)
    with pytest.warns(DeprecationWarning, match="lr_mults is deprecated"):
        np.testing.assert_allclose(learn.hypers.lr_mults, [1e-2, 1.0], rtol=1e-6)


# ---- one stop vocabulary ----------------------------------------------------------------------

def test_stop_reason_is_one_string_enum():
    assert [r.value for r in StopReason] == ["non-finite", "diverged", "max_steps", "callback",
                                             "end", "fit ended"]
    assert StopReason.DIVERGED == "diverged" and f"{StopReason.NON_FINITE}" == "non-finite"
    assert json.dumps({"r": StopReason.END}) == '{"r": "end"}'
    assert StopReason("diverged") is StopReason.DIVERGED
    assert [r.blew_up for r in StopReason] == [True, True, False, False, False, False]
    assert sweep_reason("max_steps") is StopReason.END and sweep_reason(None) is None
    assert sweep_reason("diverged") is StopReason.DIVERGED


def test_fit_state_stop_is_the_one_place_a_stop_is_recorded():
    state = _state()
    state.stop("callback")
    assert state.stop_training and state.stop_reason is StopReason.CALLBACK
    state.stop(StopReason.MAX_STEPS)  # the first reason stays ...
    assert state.stop_reason is StopReason.CALLBACK
    state.stop(StopReason.NON_FINITE)  # ... unless the batch itself was not finite
    assert state.stop_reason is StopReason.NON_FINITE
    with pytest.raises(ValueError):
        state.stop("tired")


def test_the_loop_reports_its_stops_as_stop_reasons(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True, steps_per_execution=1)

    class Stop(Callback):
        def after_batch(self, state):
            state.stop_training = state.step == 1

    assert learn.fit(2, callbacks=[Stop()]).stop_reason is StopReason.CALLBACK
    with pytest.warns(UserWarning, match="no suggestion"):
        learn.lr_find(num_it=5, stop_div=False, suggest_funcs="minimum")
    assert learn.recorder.lr_find_info["stop_reason"] is StopReason.END


# ---- the one schedule builder -----------------------------------------------------------------

def test_fit_plan_is_each_policy_times_the_group_ratios():
    plan = fit_plan("one_cycle", 24, slice(1e-4, 1e-2), n_groups=3)
    lrs, moms = one_cycle(24, 1e-2)
    peaks = group_lrs(slice(1e-4, 1e-2), 3)
    np.testing.assert_array_equal(plan.lr, lrs[:, None] * (peaks / peaks[-1])[None, :])
    np.testing.assert_array_equal(plan.lr[:, -1], lrs)  # the last group's: the policy's own
    np.testing.assert_array_equal(plan.mom, moms)
    np.testing.assert_array_equal(plan.peaks, peaks)
    np.testing.assert_array_equal(fit_plan("flat_cos", 10, 0.3, pct_start=0.5).lr[:, 0],
                                  flat_cos(10, 0.3, pct_start=0.5))
    np.testing.assert_array_equal(fit_plan("sgdr", 14, 0.3, n_cycles=3, cycle_len=1).lr[:, 0],
                                  sgdr(2, 3, 1, 0.3))
    assert fit_plan("one_cycle", 5, 0.1, moms=None).mom is None


def test_fit_plan_lays_out_any_number_of_steps():
    """A trial fit is the same policy, compressed: restarts land where each cycle's share of
    the run begins, the one-cycle peak where pct_start puts it."""
    lrs = fit_plan("sgdr", 10, 1.0, n_cycles=2, cycle_len=1, cycle_mult=2).lr[:, 0]
    assert lrs[0] == 1.0 and lrs[4] == 1.0  # cycle 2 starts at ceil(10 / 3) = 4
    assert np.all(np.diff(lrs[:4]) < 0) and np.all(np.diff(lrs[4:]) < 0)
    short = fit_plan("one_cycle", 20, 0.1, pct_start=0.25, three_phase=False).lr[:, 0]
    assert int(np.argmax(short)) == 5 and short[5] == pytest.approx(0.1)


def test_fit_plan_checks_every_argument_once():
    with pytest.raises(ValueError, match="max_lr must be a finite number > 0, got -1.0"):
        fit_plan("one_cycle", 10, -1.0)
    with pytest.raises(ValueError, match="lr_max.stop must be"):
        fit_plan("sgdr", 10, slice(0.0), n_cycles=1, cycle_len=1, name="lr_max")
    with pytest.raises(TypeError, match=r"fit_plan\('flat_cos'\) got options \['div'\]"):
        fit_plan("flat_cos", 10, 0.1, div=3)
    with pytest.raises(ValueError, match="policy must be one of"):
        fit_plan("warmup", 10, 0.1)
    with pytest.raises(ValueError, match="pct_start must be < 0.5 when three_phase=True"):
        fit_plan("one_cycle", 10, 0.1, pct_start=0.6)


def test_fine_tune_plans_are_fastais_two_phases():
    (lr1, opts1), (lr2, opts2) = fine_tune_phases(2e-3, lr_mult=100, pct_start=0.3, div=5.0)
    assert (lr1, lr2) == (slice(2e-3), slice(1e-5, 1e-3))
    assert opts1 == {**FASTAI_ONE_CYCLE, "pct_start": 0.99}
    assert opts2 == {**FASTAI_ONE_CYCLE, "pct_start": 0.3, "div": 5.0}
    frozen, unfrozen = fine_tune_plans(8, 16, 2e-3, n_groups=2)
    np.testing.assert_allclose(frozen.peaks, [2e-4, 2e-3])
    np.testing.assert_allclose(unfrozen.peaks, [1e-5, 1e-3])
    assert (frozen.steps, unfrozen.steps) == (8, 16)
    assert len(fine_tune_plans(0, 16, 2e-3, n_groups=2)) == 1
    with pytest.raises(ValueError, match="pct_start"):
        fine_tune_phases(2e-3, pct_start=1.5)


def test_fine_tune_trains_exactly_its_plans(blob_data):
    """What fine_tune records is fine_tune_plans' layout, group by group."""
    model = mlp()
    learn = Learner(model, blob_data, opt="adam", quiet=True,
                    splitter=lambda m: [[m.get_layer("hidden")], [m.get_layer("out")]])
    learn.fine_tune(2, base_lr=2e-3, freeze_epochs=1)
    frozen, unfrozen = fine_tune_plans(8, 16, 2e-3, n_groups=2)
    p1, p2 = learn.recorder.phases
    np.testing.assert_allclose(p1["group_lrs"], frozen.lr, rtol=1e-6)
    np.testing.assert_allclose(p2["group_lrs"], unfrozen.lr, rtol=1e-6)


# ---- the setup does not touch the caller's data -----------------------------------------------

def test_the_learner_leaves_the_callers_databundle_alone():
    import tensorflow as tf

    x, y = blobs(64)
    data = DataBundle.from_datasets(tf.data.Dataset.from_tensor_slices((x, y)).batch(16))
    before = dict(vars(data))
    learn = Learner(mlp(), data, quiet=True)
    assert data.c is None and vars(data).keys() == before.keys()
    assert learn.setup.n_classes == 3  # the model's outputs say
    learn.fit(1, class_weight={0: 2.0})
    assert learn.class_weights.variable.numpy().tolist() == [1.0, 1.0, 1.0]


def test_adam_momentum_installer_is_shared_and_reuses_a_variable():
    var = keras.Variable(np.zeros(2, "float32"))
    opt = keras.optimizers.Adam()
    opt.build([var])
    first = hypers_module.install_variable(opt, "beta_1", "m")
    assert hypers_module.install_variable(opt, "beta_1", "m") is first
    assert float(first.numpy()) == pytest.approx(0.9)


def test_group_ratios_come_from_the_state_so_they_survive_save_and_load(blob_data, tmp_path):
    """The groups' spread is what their LR variables hold, not a Python-side copy: a Learner
    that loads a state trained with lr=slice(...) sweeps (and schedules max_lr=None) with it."""
    def learner():
        return Learner(mlp(), blob_data, opt="adam", quiet=True,
                       splitter=lambda m: [[m.get_layer("hidden")], [m.get_layer("out")]])

    trained = learner()
    trained.fit(1, lr=slice(1e-4, 1e-3))
    path = trained.save(tmp_path / "state")
    fresh = learner().load(path)
    fresh.lr_find(num_it=12, stop_div=False, suggest_funcs="minimum")
    assert fresh.recorder.lr_find_info["lr_mults"] == pytest.approx([0.1, 1.0], rel=1e-6)
    swept = np.asarray(fresh.recorder.group_lrs)
    np.testing.assert_allclose(swept[:, 0] / swept[:, 1], 0.1, rtol=1e-6)
