"""The race's pure parts (tflearner.lr_finder.race), against values worked out by hand."""

import math

import numpy as np
import pytest

from tflearner.lr_finder import race
from tflearner.lr_finder.race import Trial


def trials(losses, lrs=None, steps=30):
    lrs = lrs or [10.0 ** -i for i in range(len(losses))]
    return [Trial(lr, steps, loss) for lr, loss in zip(lrs, losses, strict=True)]


# ---- the cliff -------------------------------------------------------------------------------
def test_cliff_is_the_first_point_past_the_minimum_30_percent_above_it():
    lrs = [1, 2, 3, 4, 5, 6]
    # lowest 1.0 at lr 3; 1.0 + 0.3 = 1.3: 1.2 is below, 1.31 is the first above
    assert race.cliff_lr(lrs, [2.0, 1.5, 1.0, 1.2, 1.31, 9.0]) == (5.0, True)


def test_cliff_before_the_minimum_does_not_count():
    # 3.0 at lr 1 is far above the lowest loss, but it comes before it
    assert race.cliff_lr([1, 2, 3, 4], [3.0, 1.0, 1.1, 1.29]) == (4.0, False)


def test_cliff_exactly_at_the_threshold_is_not_past_it():
    # lowest 2.0: the cliff needs a loss > 2.6; 2.6 itself is not past it
    assert race.cliff_lr([1, 2, 3], [2.0, 2.6, 2.6]) == (3.0, False)
    assert race.cliff_lr([1, 2, 3], [2.0, 2.6, 2.61]) == (3.0, True)
    assert race.cliff_lr([1, 2, 3], [2.0, 2.61, 2.0]) == (2.0, True)


def test_cliff_uses_the_absolute_lowest_value_for_negative_losses():
    # lowest -1.0: the threshold is -1.0 + 0.3 * 1.0 = -0.7
    assert race.cliff_lr([1, 2, 3], [-1.0, -0.75, -0.65]) == (3.0, True)


def test_cliff_skips_non_finite_points_and_refuses_an_empty_curve():
    assert race.cliff_lr([1, 2, 3, 4], [1.0, float("nan"), 0.5, float("inf")]) == (3.0, False)
    with pytest.raises(ValueError, match="no finite"):
        race.cliff_lr([1, 2], [float("nan")] * 2)
    with pytest.raises(ValueError, match="one length"):
        race.cliff_lr([1, 2], [1.0])


# ---- candidates and budgets --------------------------------------------------------------------
def test_candidates_start_a_third_of_a_decade_below_the_cliff_and_step_two_thirds():
    c = race.candidate_lrs(1.0)
    assert len(c) == 6
    np.testing.assert_allclose(np.log10(c), [-1 / 3, -1, -5 / 3, -7 / 3, -3, -11 / 3])
    assert np.all(np.diff(c) < 0)  # highest first


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), "1"])
def test_candidates_refuse_a_bad_cliff(bad):
    with pytest.raises((ValueError, TypeError), match="cliff"):
        race.candidate_lrs(bad)


def test_trial_steps_round_and_clip():
    assert race.trial_steps(900, 1 / 9) == 100
    assert race.trial_steps(40, 1 / 9) == race.MIN_TRIAL_STEPS  # 4.4 -> at least 8
    assert race.trial_steps(5, 1 / 9) == 5  # never longer than the fit
    assert race.trial_steps(100, 3 / 9) == 33


def test_second_round_brackets_the_winner_a_third_of_a_decade_apart():
    np.testing.assert_allclose(np.log10(race.second_round(1e-2)), [-2 + 1 / 3, -2, -2 - 1 / 3])


def test_refine_adds_the_winners_fine_neighbours_not_yet_tried():
    np.testing.assert_allclose(np.log10(race.refine(1e-2, [1e-2])), [-2 + 1 / 3, -2 - 1 / 3])
    # the upper neighbour was tried already (within 1 %): only the lower one is new
    upper = 1e-2 * 10 ** (1 / 3) * 1.005
    np.testing.assert_allclose(np.log10(race.refine(1e-2, [upper, 1e-2])), [-2 - 1 / 3])


def test_beyond_extends_past_an_end_winner_only():
    lrs = [1.0, 0.1, 0.01]
    np.testing.assert_allclose(race.beyond(lrs, 0, 10.0), [100.0, 10.0])
    np.testing.assert_allclose(race.beyond(lrs, 2, 10.0), [1e-3, 1e-4])
    assert race.beyond(lrs, 1, 10.0) == []


def test_horizon_lr_scales_with_the_trial_to_fit_ratio():
    assert race.horizon_lr(0.9, 100, 900, 0.5) == pytest.approx(0.3)
    assert race.horizon_lr(0.9, 900, 900) == pytest.approx(0.9)
    assert race.horizon_lr(0.9, 1000, 900) == pytest.approx(0.9)  # never raised
    # the default exponent: 1/9 of the fit -> 9 ** -0.35 = 0.4634
    assert race.horizon_lr(1.0, 100, 900) == pytest.approx(9 ** -0.35)


# ---- reading a round ---------------------------------------------------------------------------
def test_smoothed_averages_neighbours_and_counts_the_worst_loss_past_the_ends():
    s = race.smoothed([1.0, 2.0, 4.0, 1.0])
    # ends: (4 + 1 + 2) / 3 and (4 + 1 + 4) / 3 (the worst, 4, stands in); inside: 3-point means
    np.testing.assert_allclose(s, [7 / 3, 7 / 3, 7 / 3, 3.0])
    np.testing.assert_allclose(race.smoothed([3.0, 1.0, 2.0]), [3.0, 1.0, 2.0])  # too few


def test_pick_prefers_a_wide_basin_to_a_lone_spike():
    # index 1 has the lowest loss, but both its neighbours failed; 3 sits in a good basin
    losses = [2.3, 0.5, 2.3, 0.7, 0.6, 0.8]
    assert int(np.argmin(losses)) == 1
    assert race.pick(trials(losses), baseline=2.3) == 4


def test_pick_does_not_give_an_end_the_benefit_of_its_missing_neighbour():
    # the first LR's only neighbour is the best trial; counted with the worst loss past it,
    # the end (1.81 + 0.76 + 2.28) / 3 loses to the middle (1.81 + 0.76 + 1.49) / 3
    assert race.pick(trials([1.81, 0.76, 1.49, 2.15, 2.28]), baseline=2.3) == 1


def test_pick_treats_a_diverged_trial_as_at_least_as_bad_as_the_untrained_model():
    t = trials([float("inf"), 0.4, 0.5, 0.45])
    # inf -> 4.6 (2 x the baseline); smoothed: the middle, away from the diverged one, wins
    assert race.pick(t, baseline=2.3) == 2
    # capped at 2 x the baseline: a diverged trial counts as that, a blown-up finite one too
    np.testing.assert_allclose(race.penalised([float("nan"), 0.4, 3.0], 2.3), [4.6, 0.4, 3.0])
    np.testing.assert_allclose(race.penalised([1e27, 0.4], 2.3), [4.6, 0.4])
    np.testing.assert_allclose(race.penalised([float("inf"), 0.4], float("nan")), [0.4, 0.4])
    assert race.failed(trials([float("inf"), 5.0, 4.6]), 2.3)
    assert not race.failed(trials([float("inf"), 5.0, 4.5]), 2.3)


def test_informative_gate_at_seventy_percent_of_the_baseline():
    assert race.informative(trials([2.0, 0.7 * 2.3]), 2.3)  # exactly at the gate
    assert not race.informative(trials([2.0, 0.7 * 2.3 + 1e-9]), 2.3)
    assert not race.informative(trials([float("inf")]), 2.3)
    assert not race.informative(trials([0.1]), float("nan"))


# ---- how sure --------------------------------------------------------------------------------
def test_sure_when_informative_and_inside_the_candidates():
    v = race.assess([trials([2.0, 0.5, 0.4, 0.6])], 2.3, winner=2)
    assert v.sure and v.reasons == ()


def test_not_sure_when_nothing_learned():
    v = race.assess([trials([2.29, 2.2, 2.25])], 2.3, winner=1)
    assert not v.sure and "no trial learned enough" in v.reasons[0]


@pytest.mark.parametrize("winner, word", [(0, "highest"), (3, "lowest")])
def test_not_sure_at_an_edge_of_the_candidates(winner, word):
    v = race.assess([trials([0.5, 0.6, 0.7, 0.4])], 2.3, winner=winner)
    assert not v.sure and word in v.reasons[0]
    assert race.assess([trials([0.5, 0.6, 0.7, 0.4])], 2.3, winner, edge_ok=True).sure


def test_not_sure_when_every_trial_of_the_last_round_diverged():
    v = race.assess([trials([0.5, 0.6, 0.7]), trials([math.inf] * 3)], 2.3, winner=1)
    assert not v.sure and any("diverged" in r for r in v.reasons)


def test_not_sure_when_the_trials_were_too_short_to_tell():
    short = trials([2.0, 0.5, 0.4, 0.6], steps=race.MIN_SURE_STEPS - 1)
    v = race.assess([short], 2.3, winner=2)
    assert not v.sure and "only 19 updates long" in v.reasons[0]
    assert race.assess([trials([2.0, 0.5, 0.4, 0.6], steps=race.MIN_SURE_STEPS)], 2.3, 2).sure
