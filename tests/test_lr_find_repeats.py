"""lr_find(repeats=k): k sweeps from one snapshot, combined suggestions, spread, no side effects."""

from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from conftest import blobs, mlp  # noqa: E402

from tflearner import Callback, DataBundle, Learner, Suggestion  # noqa: E402
from tflearner.core.running_loss import debiased_ema  # noqa: E402
from tflearner.lr_finder import finder  # noqa: E402
from tflearner.lr_finder.repeats import (  # noqa: E402
    BOOTSTRAP_CURVES,
    SPREAD_WARN,
    band,
    bootstrap_curves,
    combine,
    spread,
)
from tflearner.lr_finder.suggest import robust, trim  # noqa: E402


def _state(learn):
    return [np.array(v.numpy(), copy=True) for vs in learn.state_variables().values()
            for v in vs]


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def learn():
    """One trained Learner for the module (lr_find restores it; the tests that fit say so)."""
    x, y = blobs()
    data = DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0.2, seed=0)
    learn = Learner(mlp(), data, opt="adam", quiet=True)
    learn.fit(1, lr=0.01)  # non-trivial slots, counters and epoch counter
    return learn


# ---- pure functions -------------------------------------------------------------------------
def test_spread_is_max_over_min_and_inf_when_a_sweep_gave_none():
    assert spread([1e-3, 4e-3, 2e-3]) == pytest.approx(4.0)
    assert spread([5e-2]) == 1.0
    assert spread([1e-3, None]) == math.inf
    assert spread([]) is None


def test_combine_takes_the_geometric_median_and_the_median_range():
    sugs = [Suggestion(1e-3, (1e-3, 2.0), (1e-4, 1e-2)), Suggestion(1e-1, (1e-1, 1.0),
                                                                    (1e-2, 1.0)),
            Suggestion(4e-3, (4e-3, 1.5), (2e-4, 4e-2))]
    out = combine(sugs)
    assert out.lr == pytest.approx(4e-3)  # the middle one, not the arithmetic mean (3.5e-2)
    assert out.lr_range == pytest.approx((2e-4, 4e-2))
    assert out.spread == pytest.approx(100.0)
    assert out.point == (4e-3, 1.5)  # the sweep whose LR is the median's
    two = combine(sugs[:2])  # even count: geometric mean of the middle two
    assert two.lr == pytest.approx(1e-2)
    on_curve = combine(sugs, curve=(np.array([1e-3, 1e-2]), np.array([3.0, 1.0])))
    # log-interpolated: 4e-3 sits log10(4) = 0.602 of the way from 1e-3 to 1e-2
    assert on_curve.point[1] == pytest.approx(3.0 - 2.0 * math.log10(4.0))


def test_combine_without_any_suggestion_and_with_some_missing():
    none = combine([Suggestion(None, None), Suggestion(None, None)])
    assert none.lr is None and none.spread == math.inf
    some = combine([Suggestion(None, None), Suggestion(2e-3, None), Suggestion(8e-3, None)])
    assert some.lr == pytest.approx(4e-3) and some.spread == math.inf  # 2 of 3: a majority
    few = combine([Suggestion(None, None), Suggestion(None, None), Suggestion(8e-3, None)])
    assert few.lr is None and few.spread == math.inf  # 1 of 3: most sweeps saw no descent
    half = combine([Suggestion(None, None), Suggestion(8e-3, None)])
    assert half.lr is None  # not more than half
    with pytest.raises(ValueError, match="at least one Suggestion"):
        combine([])


def test_band_is_pointwise_over_the_common_prefix():
    lrs = [1e-3, 1e-2, 1e-1, 1.0]
    b_lrs, med, low, high = band([(lrs, [3.0, 2.0, 1.0, 5.0]), (lrs[:3], [2.0, 2.5, 0.5]),
                                  (lrs, [4.0, 1.0, float("nan"), 9.0])])
    np.testing.assert_allclose(b_lrs, lrs[:3])  # the shortest sweep sets the length
    np.testing.assert_allclose(med, [3.0, 2.0, 0.75])  # NaN ignored point by point
    np.testing.assert_allclose(low, [2.0, 1.0, 0.5])
    np.testing.assert_allclose(high, [4.0, 2.5, 1.0])
    with pytest.raises(ValueError, match="share one LR schedule"):
        band([(lrs, [1, 2, 3, 4]), ([1e-4, 1e-2, 1e-1, 1.0], [1, 2, 3, 4])])


# ---- lr_find(repeats=k) ---------------------------------------------------------------------
def test_repeats_leaves_no_trace_and_sweep_one_is_lr_find(learn):
    before = _state(learn)
    single = learn.lr_find(num_it=40)
    single_curve = list(learn.recorder.smooth_losses)
    res = learn.lr_find(num_it=40, repeats=3)
    _same(before, _state(learn))  # weights, slots, counters, hypers, data order: bitwise
    assert learn.loop.trace_counts["train"] == 1  # one compiled loop for fit and all sweeps
    rec = learn.recorder
    assert len(rec.sweeps) == 3 and rec.lr_find_info["repeats"] == 3
    assert rec.sweeps[0]["smooth_losses"] == single_curve  # the same start, the same order
    assert rec.smooth_losses == single_curve  # the recorder's own lists: the first sweep
    assert rec.sweeps[0]["suggestions"]["robust"].lr == single.robust
    # Each later sweep sees another data order: its raw losses differ from the first's.
    for s in rec.sweeps[1:]:
        assert s["losses"] != rec.sweeps[0]["losses"]
        n = min(len(s["lrs"]), len(rec.sweeps[0]["lrs"]))  # each stops where it diverges
        assert n >= 30 and s["lrs"][:n] == rec.sweeps[0]["lrs"][:n]
    per = [s["suggestions"]["robust"].lr for s in rec.sweeps]
    assert res.robust == pytest.approx(float(np.exp(np.median(np.log(per)))))
    assert res.spread["robust"] == pytest.approx(max(per) / min(per))
    assert rec.suggestions["robust"].spread == res.spread["robust"]
    assert learn.suggested_lr == res.robust
    # one sweep: each built-in method's spread over bootstrap copies of its own noise
    assert set(single.spread) == {"robust", "valley"}
    assert all(v is not None and v >= 1.0 for v in single.spread.values())


def test_repeats_are_reproducible(learn):
    a = learn.lr_find(num_it=30, end_lr=1.0, repeats=2)
    curves = [s["losses"] for s in learn.recorder.sweeps]
    b = learn.lr_find(num_it=30, end_lr=1.0, repeats=2)
    assert [s["losses"] for s in learn.recorder.sweeps] == curves
    assert a == b and a.spread == b.spread


class _Interrupt(Callback):
    def __init__(self, at: int) -> None:
        self.at, self.seen = at, 0

    def before_batch(self, state) -> None:
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt


def test_interrupt_in_a_later_sweep_restores_everything(blob_data):
    learn = Learner(mlp(), blob_data, opt="adam", quiet=True, callbacks=[_Interrupt(45)])
    learn.fit(1, lr=0.01)  # the fit's batches count too: 300 * 0.9 / 64 -> 5 batches
    before = _state(learn)
    with pytest.raises(KeyboardInterrupt):
        learn.lr_find(num_it=20, end_lr=1.0, stop_div=False, repeats=3)  # stops in sweep 3
    _same(before, _state(learn))


def test_a_wide_spread_warns_with_the_lrs_and_the_fix(learn):
    answers = iter([1e-3, 1e-2, 1e-1])

    def jumpy(lrs, losses):
        return next(answers)

    with pytest.warns(UserWarning) as caught:
        res = learn.lr_find(num_it=20, repeats=3, suggest_funcs=[jumpy])
    text = " ".join(str(w.message) for w in caught)
    assert res.jumpy == pytest.approx(1e-2) and res.spread["jumpy"] == pytest.approx(100.0)
    assert "the 3 sweeps disagree" in text and "1.00e-03, 1.00e-02, 1.00e-01" in text
    assert f"above x{SPREAD_WARN:g}" in text and "num_it=200" in text and "batch" in text


def test_agreeing_sweeps_do_not_warn(learn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = learn.lr_find(num_it=30, end_lr=100, repeats=3,
                            suggest_funcs=[lambda lrs, losses: 3e-3])  # it diverges
    assert res.func0 == pytest.approx(3e-3) and res.spread["func0"] == 1.0


def test_a_fixed_order_dataset_warns_that_the_spread_measures_nothing():
    x, y = blobs()
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)  # no shuffle, no counter
    learn = Learner(mlp(), DataBundle.from_datasets(train), quiet=True)
    with pytest.warns(UserWarning, match="identical losses, so the data order did not change"):
        learn.lr_find(num_it=12, repeats=2, suggest_funcs=[lambda lrs, losses: 1e-2])


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                        ("3", TypeError), (True, TypeError)])
def test_bad_repeats_is_refused_before_any_sweep(learn, bad, error):
    info, curve = learn.recorder.lr_find_info, learn.recorder.lrs
    with pytest.raises(error, match="repeats"):
        learn.lr_find(repeats=bad)
    assert learn.recorder.lr_find_info is info and learn.recorder.lrs is curve  # untouched


def test_plot_of_repeats_draws_the_band_median_and_spread(learn):
    learn.lr_find(num_it=40, repeats=3)
    ax = learn.recorder.plot()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "range of 3 sweeps" in labels and "median of 3 sweeps" in labels
    assert any(lb.startswith("robust: ") and "spread ×" in lb for lb in labels)
    assert ax.get_title().startswith("LR finder (3 sweeps)")
    assert len(ax.collections) >= 1  # the band (fill_between)
    median = ax.get_lines()[0].get_ydata()
    _, expected, _, _ = band([(s["lrs"], s["smooth_losses"]) for s in learn.recorder.sweeps])
    np.testing.assert_allclose(median, expected[5:len(expected) - 5])
    plt.close(ax.figure)
    learn.fit(1, lr=0.01)  # (changes the module's Learner: nothing after relies on its state)
    assert learn.recorder.sweeps == []  # a fit resets it, like the rest of the recorder


def test_named_keras_losses_train_like_the_loss_objects():
    x, y = blobs()
    yr = (x[:, :1] * 0.5).astype("float32")
    results = []
    for loss in ("mse", keras.losses.MeanSquaredError()):
        data = DataBundle.from_arrays(x, yr, batch_size=32, seed=0, task="regression")
        learn = Learner(mlp(c=1, softmax=False), data, loss_fn=loss, quiet=True)
        learn.fit(2, lr=0.01)
        results.append(learn.recorder.losses)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    with pytest.raises(ValueError, match="loss_fn='mse_typo' is not a Keras loss name"):
        Learner(mlp(c=1, softmax=False), data, loss_fn="mse_typo", quiet=True)


def _none(lrs, losses):
    return None


def _fixed(lrs, losses):
    return 2e-3


def test_suggested_lr_falls_back_to_the_next_method_with_a_warning(learn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = learn.lr_find(num_it=30, end_lr=100, suggest_funcs=[_none, _fixed])
    assert res.none is None and res.fixed == 2e-3
    assert learn.suggested_lr == 2e-3  # what fit_one_cycle(max_lr=None) uses
    said = [x for x in w if "has no suggestion" in str(x.message)]
    assert [str(x.message) for x in said] == [
        "lr_find: none has no suggestion, so learn.suggested_lr (what fit_one_cycle(max_lr=None)"
        " uses) is fixed's 2.00e-03; look at the plot (learn.recorder.plot()) before you train "
        "with it."]
    assert said[0].filename == __file__  # said at the caller's line
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        learn.lr_find(num_it=30, end_lr=100, suggest_funcs=[_none])
    assert learn.suggested_lr is None  # nothing to fall back to: None, and no such warning
    assert not [x for x in w if "has no suggestion" in str(x.message)]


# ---- one sweep: the bootstrap spread -------------------------------------------------------
def test_debiased_ema_by_hand():
    # avg: 0.5, then 0.5*0.5 + 0.5*2 = 1.25; debiased: 0.5/0.5 = 1, 1.25/0.75 = 5/3
    np.testing.assert_allclose(debiased_ema(np.array([1.0, 2.0]), 0.5), [1.0, 5.0 / 3.0])
    np.testing.assert_allclose(debiased_ema(np.full(7, 3.0), 0.9), np.full(7, 3.0))


def test_bootstrap_curves_resample_the_noise_only():
    x = np.linspace(-1, 1, 60)
    smooth_raw = 2.0 - 0.5 * x + 0.3 * x ** 2  # a quadratic: its local trend is itself
    for c in bootstrap_curves(smooth_raw, 0.9, n=3):
        np.testing.assert_allclose(c, debiased_ema(smooth_raw, 0.9), rtol=1e-9)
    noisy = smooth_raw * np.exp(0.05 * np.random.default_rng(0).standard_normal(60))
    a, b = bootstrap_curves(noisy, 0.9, n=2, seed=1), bootstrap_curves(noisy, 0.9, n=2, seed=1)
    np.testing.assert_array_equal(a[0], b[0])  # seeded
    assert not np.allclose(a[0], a[1])  # the copies differ ...
    assert len(bootstrap_curves(noisy, 0.9)) == BOOTSTRAP_CURVES
    # ... and only the finite prefix counts; too short a prefix gives none
    assert len(bootstrap_curves(np.r_[noisy[:30], np.nan, noisy[31:]], 0.9, n=1)[0]) == 30
    assert bootstrap_curves(noisy[:19], 0.9) == []


def test_one_sweeps_spread_is_robust_over_the_bootstrap_curves(learn, monkeypatch):
    res = learn.lr_find(num_it=40, end_lr=100)
    rec = learn.recorder
    curves = bootstrap_curves(rec.losses, rec.lr_find_info["beta"])
    lrs = np.asarray(rec.lrs[: len(curves[0])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = [robust(*trim(lrs, c, num_it=40), 40, beta=rec.lr_find_info["beta"],
                        stop_reason=rec.lr_find_info["stop_reason"]).lr for c in curves]
    assert res.spread["robust"] == pytest.approx(spread(found))
    assert rec.suggestions["robust"].spread == res.spread["robust"]
    custom = learn.lr_find(num_it=40, end_lr=100, suggest_funcs=["robust", _fixed])
    assert custom.spread["fixed"] is None  # custom suggesters are not re-run
    monkeypatch.setattr(finder, "SPREAD_WARN", 1.0)  # any spread above x1 now warns
    with pytest.warns(UserWarning, match=r"the suggestion is uncertain: robust's .* moves over "
                                         r"a x.* range \(above x1\) on 20 bootstrap copies"):
        learn.lr_find(num_it=40, end_lr=100)
