"""How an LR sweep ended is said once and consistently: the stop reason, the plot title and the
warnings agree (issue 16, point 4); and the guard rail of fit_one_cycle against a peak LR above
the last sweep's divergence (point 5)."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from conftest import blobs, mlp  # noqa: E402

from tflearner import DataBundle, Learner  # noqa: E402
from tflearner.callbacks.recorder import Recorder  # noqa: E402
from tflearner.lr_finder.finder import (  # noqa: E402
    DIVERGED_LR_FACTOR,
    above_divergence,
    compute_suggestions,
    resolve_suggesters,
    still_falling,
)
from tflearner.lr_finder.suggest import robust, trim  # noqa: E402
from tflearner.schedules import exp_sweep  # noqa: E402

STILL_FALLING = "the loss was still falling"
LRS = exp_sweep(1e-7, 10.0, 100)
X = np.log10(LRS)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _descent(x):  # falls around lr 1e-2, still (slightly) falling at lr 10
    return 2.3 - 1.0 * _sigmoid((x + 2.0) / 0.6)


CURVES = {
    # reason: (lrs, smooth losses, raw losses)
    "end, still falling": (LRS, _descent(X), _descent(X)),
    "end, after a minimum": (LRS, _descent(X) + 1.5 * _sigmoid((X - 0.0) / 0.3),
                             _descent(X) + 1.5 * _sigmoid((X - 0.0) / 0.3)),
    # the loss explodes in the last 5 points, which trim drops: the trimmed curve still falls
    "diverged": (LRS[:81], np.r_[_descent(X[:76]), 3.0, 4.0, 6.0, 8.0, 12.0],
                 np.r_[_descent(X[:76]), 30.0, 60.0, 90.0, 150.0, 400.0]),
    "non-finite": (LRS[:81], np.r_[_descent(X[:76]), 2.0, 2.5, 3.0, 3.5, 3.5],
                   np.r_[_descent(X[:76]), 10.0, 20.0, 40.0, 80.0, np.nan]),
}
STOP = {"end, still falling": "end", "end, after a minimum": "end", "diverged": "diverged",
        "non-finite": "non-finite"}


def _recorder(case: str) -> Recorder:
    lrs, smooth, raw = CURVES[case]
    rec = Recorder()
    rec.lrs, rec.smooth_losses, rec.losses = list(lrs), list(smooth), list(raw)
    rec.lr_find_info = {"num_it": 100, "stop_reason": STOP[case], "stop_step": len(lrs) - 1,
                        "beta": 0.98, "stop_lr": float(lrs[-1])}
    return rec


def _suggest(rec: Recorder) -> list[str]:
    names, funcs = resolve_suggesters(("robust", "valley"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = compute_suggestions(rec, names, funcs, 100)
    assert result.robust is not None and result.valley is not None
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("case", list(CURVES))
def test_stop_reason_title_and_warnings_agree(case):
    rec = _recorder(case)
    messages = _suggest(rec)
    title = rec.plot().get_title()
    plt.close("all")
    info = rec.lr_find_info
    assert info["stop_reason"] == STOP[case]
    if case == "end, still falling":
        assert info["still_falling"] is True
        assert title == "LR finder (loss still falling at end_lr)"
        assert len(messages) == 1  # said once, not once per suggester
        assert messages[0].startswith(f"lr_find: {STILL_FALLING} at the end of the sweep "
                                      "(end_lr=10)")
        assert "rerun the LR finder with a larger end_lr" in messages[0]
        assert "--end-lr" in messages[0]
    elif case == "end, after a minimum":
        assert info["still_falling"] is False
        assert title == "LR finder" and messages == []
    else:
        lr = f"{CURVES[case][0][-1]:.3g}"
        assert info["still_falling"] is False
        assert title == f"LR finder (stopped: {STOP[case]} at step 80 / lr {lr})"
        assert messages == []  # no "still falling / raise end_lr" after a divergence


@pytest.mark.parametrize("case", ["diverged", "non-finite"])
def test_the_trimmed_divergence_looks_still_falling_to_robust_alone(case):
    # Why the stop reason is passed: on its own, robust sees only the trimmed curve, whose
    # last point is its lowest, and (standalone behaviour, kept) says the loss still falls.
    lrs, smooth, _ = CURVES[case]
    t_lrs, t_losses = trim(lrs, smooth, num_it=100)
    assert still_falling(t_lrs, t_losses)
    with pytest.warns(UserWarning, match="robust: the loss was still falling"):
        alone = robust(t_lrs, t_losses, 100, beta=0.98)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        told = robust(t_lrs, t_losses, 100, beta=0.98, stop_reason=case)
    assert told == alone  # the same suggestion; only the warning differs


def test_robust_refuses_a_stop_reason_that_is_not_a_string():
    with pytest.raises(TypeError, match=r"stop_reason must be a string or None, got 3 \(int\)"):
        robust(LRS, _descent(X), stop_reason=3)


def test_still_falling_needs_enough_finite_points():
    assert still_falling([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])
    assert not still_falling([1, 2, 3, 4, 5], [5, 4, 1, 2, 3])
    assert not still_falling([1, 2, 3, 4], [4, 3, 2, 1])  # fewer than MIN_POINTS
    assert still_falling([1, 2, 3, 4, 5, 6], [5, 4, 3, 2, 1, np.nan])  # last finite point


def test_other_early_stops_keep_their_plain_title():
    rec = _recorder("end, still falling")
    rec.lr_find_info.update(stop_reason="callback", stop_step=42)
    assert _suggest(rec) == []  # not "still falling at end_lr": the sweep never got there
    assert rec.plot().get_title() == "LR finder (stopped: callback at step 42)"
    plt.close("all")


# ---- a real sweep that diverges ----------------------------------------------------------------
@pytest.fixture(scope="module")
def diverged() -> dict:
    """A tiny MLP swept to end_lr=100 with Adam: the loss blows up before the end (with plain
    SGD its softmax saturates and the loss just keeps falling)."""
    x, y = blobs()
    data = DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0.2, seed=0)
    learn = Learner(mlp(), data, opt="adam", quiet=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = learn.lr_find(end_lr=100.0)
    title = learn.recorder.plot().get_title()
    plt.close("all")
    return {"learn": learn, "found": found, "title": title,
            "warnings": [str(w.message) for w in caught
                         if not issubclass(w.category, DeprecationWarning)]}


def test_a_real_divergence_is_named_in_the_title_and_not_called_still_falling(diverged):
    learn = diverged["learn"]
    info = learn.recorder.lr_find_info
    assert info["stop_reason"] in ("diverged", "non-finite")
    assert len(learn.recorder.lrs) < 100
    assert info["stop_lr"] == learn.recorder.lrs[-1] < 100.0
    assert info["still_falling"] is False
    assert diverged["title"] == (f"LR finder (stopped: {info['stop_reason']} at step "
                                 f"{info['stop_step']} / lr {info['stop_lr']:.3g})")
    assert not [m for m in diverged["warnings"] if STILL_FALLING in m]
    assert diverged["found"].robust is not None


def test_guard_rail_warns_above_the_divergence_lr_with_both_numbers(diverged):
    learn = diverged["learn"]
    info = dict(learn.recorder.lr_find_info)
    stop_lr, suggested = info["stop_lr"], diverged["found"].robust
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        learn.fit_one_cycle(1, suggested)  # the suggestion, below: silent
    assert learn.recorder.lr_find_info == {}  # the fit reset the recorder; the Learner remembers
    peak = 3 * stop_lr
    with pytest.warns(UserWarning, match="peak LR") as record:
        learn.fit_one_cycle(1, peak)  # (it also hits NaN, which warns as well)
    [guard] = [w for w in record if "peak LR" in str(w.message)]
    message = str(guard.message)
    assert f"peak LR {peak:.3g}" in message and f"is {peak / stop_lr:.3g}x the LR" in message
    assert f"({stop_lr:.3g}, step {info['stop_step']})" in message
    assert f"max_lr=None for the suggestion ({suggested:.3g})" in message
    assert f"a peak LR below {stop_lr:.3g}" in message
    assert guard.filename == __file__  # the user's line


def test_no_guard_rail_without_a_prior_lr_find(blob_data):
    learn = Learner(mlp(), blob_data, opt="sgd", quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        learn.fit_one_cycle(1, 50.0)
    assert learn.recorder.lr_find_info == {}


def test_above_divergence_rule():
    info = {"stop_reason": "diverged", "stop_lr": 0.2, "stop_step": 70}
    message = above_divergence(1.0, info, suggested=0.01)
    assert message is not None
    assert "peak LR 1 " in message and "5x the LR" in message and "(0.2, step 70)" in message
    assert "max_lr=None for the suggestion (0.01)" in message
    assert above_divergence(0.2 * DIVERGED_LR_FACTOR, info) is None  # at the factor: silent
    assert above_divergence(0.19, info) is None
    assert above_divergence(1.0, {**info, "stop_reason": "non-finite"}) is not None
    assert above_divergence(1.0, {**info, "stop_reason": "end"}) is None  # no divergence
    assert above_divergence(1.0, {}) is None  # no sweep
    assert "max_lr=None" not in above_divergence(1.0, info)  # no suggestion to point to


def test_guard_rail_compares_the_last_layer_groups_lr(blob_data):
    model = mlp()
    learn = Learner(model, blob_data, opt="sgd", quiet=True,
                    splitter=lambda m: [[m.get_layer("hidden")], [m.get_layer("out")]])
    learn.last_sweep = {"stop_reason": "diverged", "stop_lr": 1.0, "stop_step": 80}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        learn.fit_one_cycle(1, [5.0, 0.5])  # the first group above, the last below: silent
    with pytest.warns(UserWarning, match="peak LR 2 "):
        learn.fit_one_cycle(1, slice(0.02, 2.0))
    assert learn.last_sweep is None  # said once per sweep


class _Through(keras.layers.Layer):
    """``x + 0 * w``: the loss is whatever the data says, whatever the LR."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(1,), initializer="zeros")

    def call(self, x):
        return x + 0.0 * self.w


@pytest.mark.parametrize("second,stop", [(5.5, "end"), (5.5 + 1e-6, "diverged")])
def test_a_smoothed_loss_exactly_on_the_threshold_does_not_stop_the_sweep(second, stop):
    # beta 0.5, losses (MAE of x against 0) 1, `second`, 1, 1: the smoothed losses are
    # 1, (0.25 + 0.5 second) / 0.75, ... in exact binary arithmetic, so second = 5.5 puts the
    # second one on 4.0 = div_threshold * best: the rule is `smooth > div_threshold * best`.
    x = np.array([[1.0], [second], [1.0], [1.0]], np.float32)
    ds = tf.data.Dataset.from_tensor_slices((x, np.zeros_like(x))).batch(1)
    model = keras.Sequential([keras.Input((1,)), _Through()])
    learn = Learner(model, DataBundle.from_datasets(ds), loss_fn=keras.losses.MeanAbsoluteError(),
                    quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # four points: no suggestion to speak of
        learn.lr_find(num_it=4, beta=0.5, div_threshold=4.0)
    assert learn.recorder.lr_find_info["stop_reason"] == stop
    assert len(learn.recorder.losses) == (4 if stop == "end" else 2)
