"""fit_one_cycle / fit_flat_cos on the one loop: the per-batch values equal the pure schedules."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import mlp

from tflearner import SGD, Learner
from tflearner.schedules import flat_cos, one_cycle


def test_fit_one_cycle_sets_lr_and_beta1_per_batch_without_retrace(blob_data):
    learn = Learner(mlp(), blob_data, opt="adam", quiet=True)
    learn.fit(1)
    traces = dict(learn.loop.trace_counts)
    learn.fit_one_cycle(3, 0.01)
    lrs, moms = one_cycle(24, 0.01)
    np.testing.assert_allclose(learn.recorder.lrs, lrs, rtol=1e-6)
    np.testing.assert_allclose(learn.recorder.moms, moms, rtol=1e-6)
    assert dict(learn.loop.trace_counts) == traces
    assert learn.recorder.lrs[0] == pytest.approx(0.01 / 25, rel=1e-6)


def test_sgd_momentum_is_cycled_and_plain_sgd_gets_lr_only(blob_data):
    learn = Learner(mlp(), blob_data, opt=SGD(0.1, momentum=0.9), quiet=True)
    learn.fit_one_cycle(2, 0.1, three_phase=True, pct_start=0.3, anneal="linear")
    lrs, moms = one_cycle(16, 0.1, 0.3, anneal="linear", three_phase=True)
    np.testing.assert_allclose(learn.recorder.moms, moms, rtol=1e-6)
    plain = Learner(mlp(), blob_data, quiet=True)
    plain.fit_one_cycle(1, 0.1)
    np.testing.assert_allclose(plain.recorder.lrs, one_cycle(8, 0.1)[0], rtol=1e-6)
    assert np.all(np.isnan(plain.recorder.moms))


def test_max_lr_none_uses_the_lr_find_suggestion_or_says_what_to_do(blob_data):
    learn = Learner(mlp(), blob_data, opt=keras.optimizers.Adam, quiet=True)
    with pytest.raises(ValueError, match=r"run learn.lr_find\(\) first or pass max_lr"):
        learn.fit_one_cycle(1)
    learn.suggested_lr = 0.003
    learn.fit_one_cycle(1)
    assert max(learn.recorder.lrs) == pytest.approx(0.003, rel=1e-3)


def test_fit_flat_cos(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    learn.fit_flat_cos(2, 0.05)
    np.testing.assert_allclose(learn.recorder.lrs, flat_cos(16, 0.05), rtol=1e-6)


@pytest.mark.parametrize("kwargs,err,words", [
    ({"epochs": 0, "max_lr": 0.1}, ValueError, "epochs must be a positive int, got 0"),
    ({"epochs": 1, "max_lr": -0.1}, ValueError, "max_lr"),
    ({"epochs": 1, "max_lr": 0.1, "pct_start": 1.2}, ValueError, "pct_start"),
    ({"epochs": 1, "max_lr": 0.1, "anneal": "sqrt"}, ValueError, "anneal"),
    ({"epochs": 1, "max_lr": 0.1, "moms": (0.9, 0.8)}, ValueError, "moms"),
])
def test_bad_arguments(blob_data, kwargs, err, words):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(err) as info:
        learn.fit_one_cycle(**kwargs)
    assert words in str(info.value)
    assert learn.recorder.lrs == []
