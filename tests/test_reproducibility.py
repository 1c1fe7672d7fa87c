"""set_seed makes lr_find curves and fits repeatable run to run on CPU."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from conftest import blobs

from tflearner import DataBundle, Learner, set_seed


def model() -> keras.Model:
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dropout(0.3), keras.layers.Dense(3,
                                                                           activation="softmax")])


def fresh(seed: int) -> Learner:
    set_seed(seed)
    x, y = blobs(320)
    return Learner(model(), DataBundle.from_arrays(x, y, valid_pct=0.2, batch_size=32,
                                                   seed=seed), opt="adam", quiet=True)


def test_lr_find_twice_gives_the_same_curve_exactly():
    curves = []
    for _ in range(2):
        learn = fresh(7)
        learn.lr_find(num_it=50)
        curves.append((np.array(learn.recorder.lrs), np.array(learn.recorder.losses)))
    assert curves[0][0].tobytes() == curves[1][0].tobytes()
    assert curves[0][1].tobytes() == curves[1][1].tobytes()  # dropout included


def test_fit_is_repeatable_and_the_seed_matters():
    weights = []
    for seed in (3, 3, 4):
        learn = fresh(seed)
        learn.fit_one_cycle(2, 3e-3)
        weights.append(np.concatenate([v.numpy().ravel() for v in learn.model.weights]))
    assert weights[0].tobytes() == weights[1].tobytes()
    assert not np.array_equal(weights[0], weights[2])


@pytest.mark.parametrize("bad, exc, got", [(-1, ValueError, "-1"),
                                           (2**32, ValueError, "4294967296"),
                                           (1.5, TypeError, r"1.5 \(float\)"),
                                           ("1", TypeError, r"'1' \(str\)"),
                                           (True, TypeError, r"True \(bool\)")])
def test_bad_seed(bad, exc, got):
    with pytest.raises(exc, match=f"seed must be an int >= 0 and <= 4294967295, got {got}; "):
        set_seed(bad)


def test_bad_reproducible_flag():
    with pytest.raises(TypeError, match=r"reproducible must be True or False, got 'yes' \(str"):
        set_seed(0, reproducible="yes")


def test_lr_find_on_a_fast_learner_suggests_something():
    """This sweep's loss falls ~30 % (an MLP on blobs). The EMA's increments then carry the
    slope itself, and robust once mistook that trend for noise and gave None."""
    learn = fresh(7)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = learn.lr_find(num_it=50)
    assert found.robust is not None
    # "still falling" is said exactly when the sweep ran to its end with the loss still falling
    said = any("still falling" in str(w.message) for w in caught)
    assert said == learn.recorder.lr_find_info["still_falling"]
    smooth = learn.recorder.smooth_losses
    assert min(smooth) < 0.8 * smooth[0]
