"""Recorder contents and its plots (real matplotlib Axes, drawn from the recorded numbers)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import mlp  # noqa: E402

from tflearner import Callback, Learner  # noqa: E402


class Ramp(Callback):
    order = -10

    def before_batch(self, state):
        state.hypers.lr = 0.01 + 0.001 * state.step
        state.hypers.mom = 0.95 - 0.01 * state.step


@pytest.fixture
def fitted(blob_data):
    learn = Learner(mlp(), blob_data, opt="adam", quiet=True)
    learn.fit(2, callbacks=[Ramp()])
    yield learn
    plt.close("all")


def test_recorder_per_batch_and_per_epoch(fitted):
    rec = fitted.recorder
    assert len(rec.losses) == len(rec.lrs) == len(rec.moms) == 16 and rec.iters == list(range(16))
    np.testing.assert_allclose(rec.lrs, 0.01 + 0.001 * np.arange(16), rtol=1e-6)
    np.testing.assert_allclose(rec.moms, 0.95 - 0.01 * np.arange(16), rtol=1e-6)
    assert rec.epoch_ends == [8, 16] and rec.n_iter == 8
    hist = rec.history()
    assert hist["epoch"] == [0, 1] and len(hist["valid_loss"]) == 2
    assert rec.metric_names == ["epoch", "train_loss", "valid_loss", "accuracy", "time"]
    np.testing.assert_allclose(hist["train_loss"][0], np.mean(rec.losses[:8]), rtol=0.05)


def test_recorder_resets_at_each_fit(fitted):
    fitted.fit(1)
    assert len(fitted.recorder.losses) == 8 and len(fitted.recorder.values) == 1


def test_plot_loss_returns_axes_with_the_recorded_data(fitted, tmp_path):
    ax = fitted.recorder.plot_loss(skip_start=2)
    assert isinstance(ax, plt.Axes)
    raw, smooth, valid = ax.get_lines()
    np.testing.assert_allclose(raw.get_ydata(), fitted.recorder.losses[2:])
    np.testing.assert_allclose(smooth.get_ydata(), fitted.recorder.smooth_losses[2:])
    assert list(valid.get_xdata()) == [7, 15]
    assert ax.get_xlabel() == "batch" and ax.get_ylabel() == "loss"
    ax.figure.savefig(tmp_path / "loss.png")
    assert (tmp_path / "loss.png").stat().st_size > 10_000
    _, given = plt.subplots()
    assert fitted.recorder.plot_loss(ax=given) is given


def test_plot_sched_returns_one_axes_per_key(fitted):
    axes = fitted.recorder.plot_sched()
    assert len(axes) == 2 and all(isinstance(a, plt.Axes) for a in axes)
    np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(), fitted.recorder.lrs)
    np.testing.assert_allclose(axes[1].get_lines()[0].get_ydata(), fitted.recorder.moms)
    assert axes[0].get_title() == "learning rate"
    only_wd = fitted.recorder.plot_sched(keys=("wd",))
    assert len(only_wd) == 1


def test_plot_sched_without_momentum_draws_the_lr_panel_alone(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)  # plain SGD: no momentum
    learn.fit(1)
    axes = learn.recorder.plot_sched()
    assert len(axes) == 1 and len(axes[0].figure.axes) == 1  # no empty momentum panel
    np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(), learn.recorder.lrs)
    assert axes[0].get_title() == "learning rate (no momentum / beta_1 recorded)"
    assert len(axes[0].texts) == 0
    wd = learn.recorder.plot_sched(keys=("lr", "mom", "wd"))  # wd (0 here) keeps its panel
    assert [a.get_title().split(" (")[0] for a in wd] == ["learning rate", "weight decay"]
    np.testing.assert_allclose(wd[1].get_lines()[0].get_ydata(), learn.recorder.wds)
    _, given = plt.subplots(1, 2)
    drawn = learn.recorder.plot_sched(axes=given)
    assert list(drawn) == [given[0]] and not given[1].get_visible()
    with pytest.raises(ValueError, match=r"recorded no momentum / beta_1; plot keys=\('lr',\)"):
        learn.recorder.plot_sched(keys=("mom",))
    plt.close("all")


def test_plots_refuse_empty_recorder_and_bad_args(blob_data, fitted):
    empty = Learner(mlp(), blob_data, quiet=True).recorder
    with pytest.raises(ValueError, match=r"run learn.fit\(...\) before plot_loss"):
        empty.plot_loss()
    with pytest.raises(ValueError, match=r"run learn.fit\(...\) before plot_sched"):
        empty.plot_sched()
    with pytest.raises(ValueError, match="keys must be a non-empty subset"):
        fitted.recorder.plot_sched(keys=("beta",))
    with pytest.raises(ValueError, match="skip_start must be an int >= 0, got -1"):
        fitted.recorder.plot_loss(skip_start=-1)
    with pytest.raises(TypeError, match=r"skip_start must be an int >= 0, got True \(bool\)"):
        fitted.recorder.plot_loss(skip_start=True)
    with pytest.raises(TypeError, match=r"skip_end must be an int >= 0, got 2.0 \(float\)"):
        fitted.recorder.plot(skip_end=2.0)
    with pytest.raises(ValueError, match=r"axes must be 2 Axes, one per key.*got 1; pass"):
        fitted.recorder.plot_sched(axes=[plt.gca()])
    plt.close("all")
