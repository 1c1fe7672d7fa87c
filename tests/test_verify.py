"""The verified LR finder on a Learner: lr_find(verify=True), fit_one_cycle(max_lr="auto"),
fine_tune(base_lr="auto"); the race restores everything bit for bit (also after Ctrl-C)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import blobs, mlp

from tflearner import Callback, DataBundle, Learner
from tflearner.lr_finder import race as R
from tflearner.lr_finder.verify import planned_fit, run_trial


def noisy_blobs(n=240):
    """Blobs with 20 % of the labels redrawn: not separable, so the sweep's loss turns."""
    x, y = blobs(n)
    rng = np.random.default_rng(1)
    return x, np.where(rng.random(n) < 0.2, rng.integers(0, 3, n), y)


def learner(opt="sgd", groups=False, n=240, batch=32, seed=0, **kw):
    x, y = noisy_blobs(n)
    data = DataBundle.from_arrays(x, y, batch_size=batch, valid_pct=0.25, seed=seed)
    splitter = (lambda m: [[m.layers[0]], [m.layers[1]]]) if groups else None
    return Learner(mlp(), data, opt=opt, quiet=True, splitter=splitter, **kw)


def state(learn):
    return [v.numpy().copy() for vs in learn.state_variables().values() for v in vs]


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


class Trials(Callback):
    """Counts the trial fits a race runs (each is one loop.fit of a few batches) and keeps
    every batch's group LRs."""

    def __init__(self):
        self.fits, self.lrs = 0, []

    def before_fit(self, state):
        self.fits += 1

    def after_batch(self, state):
        self.lrs.append(list(state.lrs))


def test_verify_races_after_the_sweep_and_restores_everything_bitwise():
    learn = learner()
    before = state(learn)
    res = learn.lr_find(verify=True, epochs=5)
    assert same(before, state(learn))
    race = learn.recorder.race
    assert res.verified == race.lr == learn.suggested_lr and res._fields[0] == "verified"
    assert res.race is race and res.sure == race.sure and res.cost == race.cost
    first = race.rounds[0]
    assert len(first) >= R.N_CANDIDATES and all(t.steps == R.trial_steps(30, 1 / 9) for t in first)
    assert [t.lr for t in first] == sorted((t.lr for t in first), reverse=True)
    # every batch's smoothed training loss (a trial that blew up stopped early)
    assert all(len(t.curve) == t.steps for t in first if math.isfinite(t.loss))
    assert race.baseline == pytest.approx(learn.validate()["loss"])
    # the cost counts the sweep and every trial, in units of the planned fit's updates
    trained = sum(t.steps for r in race.rounds for t in r) + len(learn.recorder.lrs)
    assert race.cost == pytest.approx(trained / race.planned.updates)


def test_fit_after_a_race_is_exactly_the_fit_alone():
    a, b = learner(), learner()
    res = a.lr_find(verify=True, epochs=3)
    a.fit_one_cycle(3, res.verified)
    b.fit_one_cycle(3, res.verified)
    assert same(state(a), state(b))


def test_the_winner_is_the_trial_with_the_lowest_smoothed_validation_loss():
    learn = learner(opt="sgd")
    learn.lr_find(verify=True, epochs=5)
    race = learn.recorder.race
    trials = race.rounds[-1]
    assert race.winner == trials[R.pick(trials, race.baseline)].lr
    assert race.exponent == 0.0 and race.lr == race.winner  # SGD: no horizon shade


def test_a_normalized_optimizer_shades_the_winner_for_the_longer_fit():
    learn = learner(opt="adam")
    learn.lr_find(verify=True, epochs=9)
    race = learn.recorder.race
    if len(race.rounds) > 1:
        pytest.skip("round 1 learned too little here; round 2 is not shaded")
    steps = race.rounds[0][0].steps
    assert race.exponent == R.HORIZON_EXPONENT
    assert race.lr == pytest.approx(race.winner * (steps / race.planned.updates) ** 0.35)


def test_interrupt_mid_race_restores_weights_optimizer_data_order_and_frozen_groups():
    learn = learner(groups=True)
    learn.freeze()
    before = state(learn)
    flags = [v.trainable for v in learn.model.variables]

    class Interrupt(Callback):
        fits = 0

        def before_fit(self, state):
            Interrupt.fits += 1

        def after_batch(self, state):
            if Interrupt.fits == 4 and state.step == 2:  # the sweep, then trials 1-2, in 3
                raise KeyboardInterrupt

    learn.callbacks.append(Interrupt())
    with pytest.raises(KeyboardInterrupt):
        learn.fine_tune(2, base_lr="auto")
    assert same(before, state(learn))
    assert [v.trainable for v in learn.model.variables] == flags


def test_layer_groups_keep_their_ratios_in_every_trial():
    learn = learner(groups=True)
    learn.hypers.set_lrs([0.01, 0.1])
    spy = Trials()
    learn.callbacks.append(spy)
    learn.lr_find(verify=True, epochs=4)
    ratios = [lo / hi for lo, hi in spy.lrs[len(learn.recorder.lrs):]]
    assert ratios and np.allclose(ratios, 0.1)
    assert learn.hypers.lrs == pytest.approx([0.01, 0.1])
    learn.fit_one_cycle(2, max_lr="auto")  # the fit keeps them too, as its trials did
    lrs = np.asarray(learn.recorder.group_lrs)
    assert np.allclose(lrs[:, 0] / lrs[:, 1], 0.1)
    # a 12-step one-cycle's highest step falls short of its peak by a few %
    assert lrs[:, 1].max() == pytest.approx(learn.recorder.race.lr, rel=0.1)


@pytest.mark.skipif(not hasattr(keras.optimizers, "ScheduleFreeAdamW"),
                    reason="Keras has no ScheduleFreeAdamW")
def test_a_schedule_free_race_reads_its_trials_at_the_averaged_point():
    learn = learner(opt=keras.optimizers.ScheduleFreeAdamW())
    before = state(learn)
    learn.lr_find(verify=True, epochs=3)
    race = learn.recorder.race
    assert same(before, state(learn))
    assert race.baseline == pytest.approx(learn.validate()["loss"])  # validate reads at x
    with learn.averaging.at("y"):
        at_y = learn.validate()["loss"]
    assert learn.averaging.point == "x" and race.baseline == pytest.approx(at_y)  # untrained

def test_fit_one_cycle_auto_trains_at_the_verified_lr():
    learn = learner(opt="adam")
    learn.fit_one_cycle(4, max_lr="auto", wd=0.01)
    race = learn.recorder.race
    assert max(learn.recorder.lrs) == pytest.approx(race.lr, rel=0.05)  # the schedule's top
    assert race.planned.policy == "one_cycle" and race.planned.wd == 0.01
    assert learn.hypers.wd == pytest.approx(0.01)


def test_fit_flat_cos_and_sgdr_auto_size_the_race_to_their_policy():
    learn = learner()
    learn.fit_flat_cos(3, lr="auto")
    assert learn.recorder.race.planned.policy == "flat_cos"
    learn.fit_sgdr(2, 1, lr_max="auto")
    assert learn.recorder.race.planned.policy == "sgdr"
    assert learn.recorder.race.planned.updates == 3 * learn.data.n_train_batches


def test_fine_tune_auto_races_both_phases_and_starts_frozen():
    learn = learner(groups=True)
    spy = Trials()
    learn.callbacks.append(spy)
    learn.fine_tune(2, base_lr="auto", freeze_epochs=1)
    race = learn.recorder.race
    assert race.planned.policy == "fine_tune" and race.planned.frozen_share == pytest.approx(1 / 3)
    # each trial is two fits (frozen, then unfrozen): the sweep, 2 per trial, then fine_tune's 2
    n_trials = sum(len(r) for r in race.rounds)
    assert spy.fits == 1 + 2 * n_trials + 2
    assert all(v.trainable for v in learn.model.trainable_variables)


@pytest.mark.parametrize("kwargs, match", [
    ({"verify": True}, "pass its epochs"),
    ({"epochs": 5}, "pass verify=True too"),
    ({"verify": True, "epochs": 0}, "epochs must be"),
    ({"verify": "yes", "epochs": 5}, "verify must be"),
    ({"verify": True, "epochs": 5, "budget": 0}, "budget must be"),
])
def test_bad_verify_arguments_are_refused_before_any_sweep(kwargs, match):
    learn = learner()
    spy = Trials()
    learn.callbacks.append(spy)
    with pytest.raises((ValueError, TypeError), match=match):
        learn.lr_find(**kwargs)
    assert spy.fits == 0 or "budget" in kwargs


@pytest.mark.parametrize("call", [
    lambda learn: learn.fit_one_cycle(3, max_lr="best"),
    lambda learn: learn.fit_one_cycle(3, max_lr="auto", pct_start=2.0),
    lambda learn: learn.fit_one_cycle(3, max_lr="auto", wd=-1),
    lambda learn: learn.fit_one_cycle(3, max_lr="auto", checkpoint=123),
    lambda learn: learn.fine_tune(2, base_lr="auto", div=-1),
])
def test_auto_refuses_bad_fit_arguments_before_the_sweep(call):
    learn = learner(groups=True)
    spy = Trials()
    learn.callbacks.append(spy)
    before = state(learn)
    with pytest.raises((ValueError, TypeError)):
        call(learn)
    assert spy.fits == 0 and same(before, state(learn))


def test_verify_needs_a_validation_set():
    x, y = noisy_blobs()
    learn = Learner(mlp(), DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0, seed=0),
                    quiet=True)
    with pytest.raises(ValueError, match="needs a validation set"):
        learn.lr_find(verify=True, epochs=3)


def test_a_sweep_still_falling_at_end_lr_extends_itself():
    learn = learner()
    with pytest.warns(UserWarning, match="still falling"):
        learn.lr_find(end_lr=0.05, extend=False)  # mid-descent: still falling at its end
    assert learn.recorder.lr_find_info["end_lr"] == 0.05
    learn.lr_find(end_lr=0.05)
    info = learn.recorder.lr_find_info
    # 100 x further, as dense per decade: ceil(100 * log(5 / 1e-7) / log(0.05 / 1e-7))
    assert info["end_lr"] == pytest.approx(5.0) and info["num_it"] == 136
    assert not info["still_falling"]


def test_a_diverged_trial_scores_inf_and_is_not_the_winner():
    learn = learner()
    planned = planned_fit(learn, "one_cycle", 3)
    trial = run_trial(learn, planned, 1e6, 8)  # blows up at once
    assert trial.loss == math.inf
    t = [trial, R.Trial(0.1, 8, 0.5), R.Trial(0.01, 8, 0.6), R.Trial(0.001, 8, 0.7)]
    assert R.pick(t, baseline=1.1) != 0


def test_race_under_gradient_accumulation_counts_updates():
    x, y = noisy_blobs()
    data = DataBundle.from_arrays(x, y, batch_size=16, valid_pct=0.25, seed=0)
    learn = Learner(mlp(), data, quiet=True,
                    opt=keras.optimizers.SGD(0.1, gradient_accumulation_steps=2))
    before = state(learn)
    learn.lr_find(verify=True, epochs=4)
    race = learn.recorder.race
    assert race.planned.updates == 4 * data.n_train_batches // 2
    assert same(before, state(learn))


def test_race_under_a_strategy_and_mixed_precision_restores_bitwise():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    x, y = noisy_blobs()
    data = DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0.25, seed=0)
    with strategy.scope():
        model = mlp()
    learn = Learner(model, data, quiet=True, mixed_precision="mixed_bfloat16")
    before = state(learn)
    learn.lr_find(verify=True, epochs=3)
    assert learn.recorder.race.lr > 0 and same(before, state(learn))


def test_plot_and_plot_race_draw_the_trials():
    learn = learner()
    learn.lr_find(verify=True, epochs=3)
    ax = learn.recorder.plot()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(s.startswith("verified: ") for s in labels)
    assert any(s.startswith("trials, round 1") for s in labels)
    ax = learn.recorder.plot_race()
    race = learn.recorder.race
    xs = np.concatenate([line.get_xdata() for line in ax.get_lines() if line.get_marker() == "o"])
    assert sorted(xs) == sorted(t.lr for t in race.rounds[0] if np.isfinite(t.loss))
    assert ("sure" in ax.get_title()) and "cost" in ax.get_title()


def test_plain_lr_find_forgets_the_last_race():
    learn = learner()
    learn.lr_find(verify=True, epochs=3)
    learn.fit(1, 0.01)
    assert learn.recorder.race is not None  # kept across fits, for plot_race
    learn.lr_find()
    assert learn.recorder.race is None
    with pytest.raises(ValueError, match="No race to plot"):
        learn.recorder.plot_race()
