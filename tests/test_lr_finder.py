"""lr_find: exact sweep, smoothing, stop rules, zero side effects on every exit path, plot."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import blobs, mlp  # noqa: E402

from tflearner import Callback, DataBundle, Learner  # noqa: E402
from tflearner.core import running_loss  # noqa: E402
from tflearner.lr_finder.finder import sweep_beta, sweep_limits  # noqa: E402


def _state_copy(learn):
    return {g: [np.array(v.numpy(), copy=True) for v in vs]
            for g, vs in learn.state_variables().items()}


def _assert_same_state(learn, before):
    after = _state_copy(learn)
    assert before.keys() == after.keys()
    for group in before:
        assert len(before[group]) == len(after[group])
        for a, b in zip(before[group], after[group], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=group)


@pytest.fixture
def trained(blob_data):
    """An Adam learner that has trained a little, so slots and counters are non-trivial."""
    learn = Learner(mlp(), blob_data, opt="adam", quiet=True)
    learn.fit(1, lr=0.01)
    learn.hypers.set(mom=0.91, wd=0.001)
    return learn


def test_exact_lr_sequence_both_endpoints(trained):
    trained.lr_find(start_lr=1e-5, end_lr=1.0, num_it=11, stop_div=False)
    lrs = np.array(trained.recorder.lrs)
    assert len(lrs) == 11
    assert lrs[0] == pytest.approx(1e-5, rel=1e-6) and lrs[-1] == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], 10 ** 0.5, rtol=1e-5)  # increasing, constant
    trained.lr_find(start_lr=0.1, end_lr=1.0, num_it=10, stop_div=False, mode="linear")
    np.testing.assert_allclose(trained.recorder.lrs, np.linspace(0.1, 1.0, 10), rtol=1e-6)


def _debiased_ema(raw, beta: float) -> list[float]:
    """lr_find's smoothing by hand: avg = beta*avg + (1-beta)*loss; smooth = avg/(1-beta**(i+1))."""
    avg, out = 0.0, []
    for i, loss in enumerate(raw):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta ** (i + 1)))
    return out


def test_records_raw_batch_loss_and_debiased_ema(trained):
    trained.lr_find(num_it=15, beta=0.9, stop_div=False, end_lr=0.1)
    raw = trained.recorder.losses
    np.testing.assert_allclose(trained.recorder.smooth_losses, _debiased_ema(raw, 0.9),
                               rtol=1e-12)
    assert len(set(np.round(raw, 6))) > 5  # raw batch losses, not a running average


def test_default_beta_follows_num_it(trained):
    """beta=None smooths with 1 - 2/num_it (fastai's 0.98 at 100 steps), recorded for robust."""
    assert sweep_beta(100) == pytest.approx(0.98) and sweep_beta(300) == pytest.approx(1 - 2 / 300)
    trained.lr_find(num_it=20, stop_div=False, end_lr=0.1)
    assert trained.recorder.lr_find_info["beta"] == pytest.approx(0.9)
    np.testing.assert_allclose(trained.recorder.smooth_losses,
                               _debiased_ema(trained.recorder.losses, 0.9), rtol=1e-12)


def _drive(num_it, losses, beta=0.98, stop_div=True, div_threshold=4.0):
    """Run the stop rule of the compiled step (tflearner.core.running_loss, eagerly) over a scripted
    loss sequence with a sweep's limits; returns (index of the stopping step, reason)."""
    limits = sweep_limits(num_it, stop_div, div_threshold)
    avg, count, best = 0.0, 0.0, math.inf
    for i, loss in enumerate(losses):
        avg, count, best, _, code = running_loss.step_eagerly(avg, count, best, loss, beta,
                                                       limits.div_limit, limits.terminate_on_nan)
        if running_loss.reason_of(code) is not None:
            return i, running_loss.reason_of(code)
        if i + 1 >= limits.max_steps:
            return i, "end"
    return None, None


def test_stop_index_on_scripted_losses():
    # beta 0: smooth == raw. best so far 1.0 at step 2; 4.1 > 4 x 1.0 at step 5
    assert _drive(50, [2.0, 1.5, 1.0, 2.0, 3.9, 4.1, 1.0], beta=0.0) == (5, "diverged")
    assert _drive(50, [2.0, 1.5, 1.0, 2.0, 3.9, 4.1, 1.0], beta=0.0,
                  stop_div=False) == (None, None)
    # threshold 2: 2.5 > 2 x 1.0 at step 3
    assert _drive(50, [2.0, 1.0, 1.9, 2.5], beta=0.0, div_threshold=2.0) == (3, "diverged")
    assert _drive(50, [2.0, 1.0, math.nan, 1.0], stop_div=False) == (2, "non-finite")
    assert _drive(50, [2.0, math.inf]) == (1, "non-finite")
    assert _drive(4, [2.0] * 10) == (3, "end")


def test_lr_find_leaves_no_trace_on_success(trained):
    before = _state_copy(trained)
    trace_before = dict(trained.loop.trace_counts)
    trained.lr_find(num_it=30)
    _assert_same_state(trained, before)
    assert dict(trained.loop.trace_counts) == trace_before  # the same compiled step, no retrace


def test_restored_after_divergence_and_nan(trained):
    before = _state_copy(trained)
    trained.lr_find(start_lr=1e-3, end_lr=1e8, num_it=60)
    assert trained.recorder.lr_find_info["stop_reason"] in ("diverged", "non-finite")
    assert len(trained.recorder.lrs) < 60
    _assert_same_state(trained, before)
    trained.lr_find(start_lr=1e2, end_lr=1e30, num_it=40, stop_div=False)
    assert trained.recorder.lr_find_info["stop_reason"] == "non-finite"
    assert not math.isfinite(trained.recorder.losses[-1])  # recorded, then stopped
    _assert_same_state(trained, before)


@pytest.mark.parametrize("snapshot", ["auto", "host"])
@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_restored_after_exception_inside_the_loop(trained, exc, snapshot):
    class Raise(Callback):
        def after_batch(self, state):
            if state.step == 4:
                raise exc

    before = _state_copy(trained)
    trained.callbacks.append(Raise())
    with pytest.raises(type(exc)):
        trained.lr_find(num_it=20, snapshot=snapshot)
    trained.callbacks.pop()
    _assert_same_state(trained, before)
    if snapshot == "host":
        assert trained._snapshot.where == "host"


def test_data_is_cycled_when_num_it_exceeds_an_epoch(trained):
    assert trained.data.n_train_batches == 8
    trained.lr_find(num_it=20, stop_div=False, end_lr=0.01)
    assert len(trained.recorder.lrs) == 20


def test_suggestions_and_recorder_contents(trained):
    res = trained.lr_find(num_it=60, suggest_funcs=("robust", "valley", "minimum"))
    assert type(res).__name__ == "SuggestedLRs" and res._fields == ("robust", "valley", "minimum")
    assert set(trained.recorder.suggestions) == {"robust", "valley", "minimum"}
    assert trained.suggested_lr == res.robust
    lo, hi = min(trained.recorder.lrs), max(trained.recorder.lrs)
    for lr in res:
        assert lr is None or lo <= lr <= hi


def test_fit_after_lr_find_equals_fit_alone(tmp_path):
    """With TF op determinism on (in a fresh process), lr_find changes nothing fit will see."""
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})
        import numpy as np, keras, tensorflow as tf
        tf.config.experimental.enable_op_determinism()
        from conftest import blobs, mlp
        from tflearner import DataBundle, Learner
        def run(with_lr_find):
            x, y = blobs()
            data = DataBundle.from_arrays(x, y, batch_size=32, valid_pct=0.2, seed=0)
            learn = Learner(mlp(seed=1), data, opt="adam", quiet=True)
            if with_lr_find:
                learn.lr_find(num_it=30)
            learn.fit(2, lr=0.01)
            return [v.numpy() for v in learn.model.variables]
        a, b = run(True), run(False)
        assert all(np.array_equal(u, v) for u, v in zip(a, b)), "weights differ"
        print("IDENTICAL", len(a))
    """)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "IDENTICAL 4" in res.stdout


def test_progress_is_one_bar_and_no_table(blob_data, capsys):
    learn = Learner(mlp(), blob_data)
    learn.lr_find(num_it=12)
    out, err = capsys.readouterr()
    assert "train_loss" not in out and "lr_find" in err


@pytest.mark.parametrize("kwargs,err,words", [
    ({"start_lr": 0}, ValueError, "start_lr must be a finite number > 0, got 0;"),
    ({"start_lr": -1e-3}, ValueError, "start_lr must be a finite number > 0"),
    ({"end_lr": 1e-8}, ValueError, "end_lr must be a finite number > start_lr=1e-07, got 1e-08"),
    ({"num_it": 1}, ValueError, "num_it must be an int >= 2, got 1"),
    ({"num_it": 10.0}, TypeError, "num_it must be an int >= 2, got 10.0 (float)"),
    ({"beta": 1.0}, ValueError, "beta must be in [0, 1) or None, got 1.0"),
    ({"beta": -0.1}, ValueError, "beta must be in [0, 1) or None, got -0.1"),
    ({"div_threshold": 1.0}, ValueError, "div_threshold must be a finite number > 1, got 1.0"),
    ({"suggest_funcs": ("valley", "nope")}, ValueError, "nope"),
    ({"mode": "cos"}, ValueError, "mode must be one of 'exp', 'linear', got 'cos'"),
    ({"start_lr": "1e-7"}, TypeError, "start_lr must be a finite number > 0, got '1e-7' (str)"),
])
def test_bad_arguments(blob_data, kwargs, err, words):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(err) as info:
        learn.lr_find(**kwargs)
    assert words in str(info.value)
    assert learn.recorder.lrs == []  # nothing ran


def test_too_few_points_warns_and_suggests_none(blob_data):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.warns(UserWarning):
        res = learn.lr_find(num_it=8, stop_div=False)
    assert all(v is None for v in res)


def test_plot_shows_curve_suggestions_and_range(trained, tmp_path):
    res = trained.lr_find(num_it=80)
    ax = trained.recorder.plot(skip_start=5, skip_end=5)
    assert isinstance(ax, plt.Axes) and ax.get_xscale() == "log"
    lines = ax.get_lines()
    smooth = [ln for ln in lines if ln.get_label() == "loss (smoothed)"][0]
    np.testing.assert_allclose(smooth.get_xdata(), trained.recorder.lrs[5:-5])
    np.testing.assert_allclose(smooth.get_ydata(), trained.recorder.smooth_losses[5:-5])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for name, lr in zip(res._fields, res, strict=True):
        assert any(lab.startswith(f"{name}: ") for lab in labels)
        if lr is not None:  # the LR, then the bootstrap spread of one sweep
            assert f"{name}: {lr:.2e} (spread ×{res.spread[name]:.2g})" in labels
    ax.figure.savefig(tmp_path / "lr_find.png")
    assert (tmp_path / "lr_find.png").stat().st_size > 10_000
    plt.close("all")


def test_plot_before_lr_find_says_what_to_do(blob_data):
    with pytest.raises(ValueError, match=r"run learn.lr_find\(\) before plot"):
        Learner(mlp(), blob_data, quiet=True).recorder.plot()


def test_unknown_length_training_data():
    x, y = blobs(100)
    import tensorflow as tf
    ds = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).batch(16)
    learn = Learner(mlp(), DataBundle.from_datasets(ds), quiet=True)
    learn.lr_find(num_it=10, stop_div=False, end_lr=0.01)
    assert len(learn.recorder.lrs) == 10


def test_many_learners_do_not_trigger_the_retracing_warning(blob_data):
    """Each Learner's compiled steps and snapshot copies are traced once; TensorFlow's
    frequent-retracing detector must not count six Learners' first traces as retraces of one
    function (it did, and warned "5 out of the last 5 calls ... triggered tf.function
    retracing")."""
    import logging

    import tensorflow as tf

    seen: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    handler = Catch(level=logging.WARNING)
    tf.get_logger().addHandler(handler)
    try:
        for _ in range(6):
            Learner(mlp(), blob_data, quiet=True).lr_find(num_it=8, stop_div=False, end_lr=0.1)
    finally:
        tf.get_logger().removeHandler(handler)
    assert not [m for m in seen if "retracing" in m], seen


def test_suggester_warnings_name_the_callers_line(blob_data):
    """lr_find's 'no suggestion' warnings are attributed to the line that called lr_find (where
    a notebook user looks), not to tflearner's internals."""
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.warns(UserWarning, match="robust: no suggestion") as caught:
        learn.lr_find(start_lr=1e-9, end_lr=1e-8, num_it=20)
    robust_warnings = [w for w in caught if "robust: no suggestion" in str(w.message)]
    assert [w.filename for w in robust_warnings] == [__file__]


def _lrs_losses_only(lrs, losses):
    return float(lrs[len(lrs) // 2])


def _private_name(lrs, losses, num_it=None):
    return float(lrs[0])


def test_any_callable_suggester_works(blob_data):
    """Bug: a lambda or a _-named function broke the SuggestedLRs namedtuple, and a function
    taking only (lrs, losses) got an unexpected num_it, all after the sweep had run."""
    learn = Learner(mlp(), blob_data, quiet=True)
    res = learn.lr_find(num_it=30, suggest_funcs=(lambda lrs, losses: float(lrs[-1]),
                                                  _private_name, _lrs_losses_only))
    assert res._fields == ("func0", "private_name", "lrs_losses_only")
    rec = learn.recorder
    assert res.func0 > res.private_name > 0 and res[0] == learn.suggested_lr
    assert set(rec.suggestions) == set(res._fields)


def test_fastais_three_argument_suggesters_get_num_it_third(blob_data):
    """fastai's suggesters are f(lrs, losses, num_it), the signature the error for an unknown
    name advertises: num_it goes third, whatever its name; beta= still by keyword."""
    seen = {}

    def fastai_style(lrs, losses, num_it):
        seen["fastai_style"] = num_it
        return float(lrs[len(lrs) // 2])

    def renamed(lrs, losses, n, beta=None):
        seen["renamed"] = (n, beta)
        return float(lrs[1])

    learn = Learner(mlp(), blob_data, quiet=True)
    res = learn.lr_find(num_it=30, suggest_funcs=(fastai_style, renamed), extend=False)
    assert res._fields == ("fastai_style", "renamed") and res.fastai_style > res.renamed > 0
    assert seen["fastai_style"] == 30 and seen["renamed"] == (30, pytest.approx(1 - 2 / 30))
    with pytest.raises(ValueError, match=r"f\(lrs, losses, num_it\)"):
        learn.lr_find(suggest_funcs=["bogus"])  # the signature this error advertises works


@pytest.mark.parametrize("funcs,exc,words", [
    ((), ValueError, "suggest_funcs must name at least one suggestion method, got ()"),
    ((lambda lrs: 1.0,), TypeError, "cannot be called as f(lrs, losses)"),
    ((lambda a, b, c, d: 1.0,), TypeError,
     "cannot be called as f(lrs, losses) or f(lrs, losses, num_it)"),
    (("valley", "valley"), ValueError, "duplicate names"),
    ((3,), TypeError, "suggester must be a name or a callable, got 3"),
])
def test_bad_suggesters_are_refused_before_the_sweep(blob_data, funcs, exc, words):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(exc) as info:
        learn.lr_find(num_it=30, suggest_funcs=funcs)
    assert words in str(info.value)
    assert learn.recorder.lrs == []  # refused before anything ran


def _dropout_mlp():
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dropout(0.3), keras.layers.Dense(3, "softmax")])


def _first_batch(data):
    return next(iter(data.train))[0].numpy()


@pytest.mark.parametrize("where", ["host", "device"])
def test_snapshot_places_restore_everything_bit_for_bit(blob_data, where):
    """Weights, Adam slots and iterations, momentum / wd, the dropout RNG state and the data
    epoch counter all come back, and the next epoch's data order is the one it would have been
    without the sweep."""
    learn = Learner(_dropout_mlp(), blob_data, opt="adam", quiet=True)
    learn.fit(1, lr=0.01)
    learn.hypers.set(mom=0.91, wd=0.001)
    counter = learn.data.rng_state[0]
    e0 = int(counter.numpy())
    expected_order = _first_batch(learn.data)
    counter.assign(e0)
    before = _state_copy(learn)
    learn.lr_find(num_it=12, stop_div=False, snapshot=where)
    assert learn._snapshot.where == where
    assert int(learn.opt.iterations.numpy()) == int(before["opt"][0])  # back after 12 updates
    _assert_same_state(learn, before)
    np.testing.assert_array_equal(_first_batch(learn.data), expected_order)


def test_host_snapshot_changes_during_the_sweep_are_undone(blob_data):
    """The sweep really moves the state (so the restore is tested), and a host snapshot is not
    a view of the variables: their updates do not leak into it."""
    learn = Learner(_dropout_mlp(), blob_data, opt="adam", quiet=True)
    learn.fit(1, lr=0.01)
    before = _state_copy(learn)
    moved = {}

    class Look(Callback):
        def after_fit(self, state):
            moved.update(_state_copy(learn))

    learn.callbacks.append(Look())
    learn.lr_find(num_it=12, stop_div=False, snapshot="host")
    learn.callbacks.pop()
    for group in ("model", "opt", "data"):
        assert any(not np.array_equal(a, b) for a, b in zip(before[group], moved[group],
                                                            strict=True)), group
    _assert_same_state(learn, before)


def test_snapshot_auto_is_device_on_cpu_and_places_are_traced_once(trained):
    trace_before = dict(trained.loop.trace_counts)
    trained.lr_find(num_it=10, stop_div=False)  # default "auto": a CPU -> device
    assert trained._snapshot.where == "device"
    for _ in range(2):
        trained.lr_find(num_it=10, stop_div=False, snapshot="host")
    snap = trained._snapshot
    assert snap.where == "host"
    assert snap._save_fn.experimental_get_tracing_count() == 1
    assert snap._restore_fn.experimental_get_tracing_count() == 1
    assert dict(trained.loop.trace_counts) == trace_before


@pytest.mark.parametrize("value,err,words", [
    ("gpu", ValueError, "snapshot must be one of 'auto', 'device', 'host', got 'gpu';"),
    (None, TypeError, "snapshot must be one of 'auto', 'device', 'host', got None"),
])
def test_bad_snapshot_place_is_refused_before_the_sweep(blob_data, value, err, words):
    learn = Learner(mlp(), blob_data, quiet=True)
    with pytest.raises(err) as info:
        learn.lr_find(num_it=10, snapshot=value)
    assert words in str(info.value) and "'host' in host memory" in str(info.value)
    assert learn.recorder.lrs == []  # nothing ran
