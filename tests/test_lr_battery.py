"""Smoke test of benchmarks/lr_battery on one tiny problem, one seed, two grid LRs.

The battery takes hours; this checks that its machinery runs end to end in seconds: the stages,
the cache (a warm re-run trains nothing; a new method trains only its own runs; a fit at an LR
already trained is shared), the cost count, the regret and the report, the plot, and the claim
that a ``model.fit`` peer sees the Learner's initial weights and batches.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lb():
    sys.path.insert(0, str(ROOT))
    try:
        import benchmarks.lr_battery.peers  # noqa: F401  (registers the peers)
        import benchmarks.lr_battery.verified  # noqa: F401  (registers lr_find(verify=True))
        from benchmarks.lr_battery import cache, methods, plot, problems, report, runner

        yield SimpleNamespace(cache=cache, methods=methods, plot=plot, problems=problems,
                              report=report, runner=runner)
    finally:
        sys.path.remove(str(ROOT))


def _tiny(lb, opt=("adam", {}), name="tiny"):
    from benchmarks.lr_battery.datasets import three_way
    from benchmarks.lr_battery.models import mlp

    def data(_):
        rng = np.random.default_rng(0)
        centers = rng.normal(0, 2, (3, 6))
        y = rng.integers(0, 3, 200)
        return three_way((centers[y] + rng.normal(0, 1, (200, 6))).astype("float32"), y)

    return lb.problems.Problem(name, lb.problems.TUNING, "smoke", data,
                               lambda _: mlp(6, (8,), 3), opt, 32, 2, (-2.5, -2.0),
                               sweep={"num_it": 20, "extend": False})


def test_ladder_and_trial_budgets_are_hand_computed(lb):
    assert lb.methods.ladder_epochs(8) == [1, 2, 4]
    assert lb.methods.ladder_epochs(3) == [1, 2]
    assert lb.methods.ladder_epochs(20) == [2, 5, 10]
    assert lb.methods.ladder_epochs(4, fine_tune=True) == [2]
    assert lb.methods.ladder_epochs(1) == []
    kt = sys.modules["benchmarks.lr_battery.peers"].kt_trials
    budget = lb.methods.Budget
    assert kt(budget(10, 32, 5), 1.0) == (5, 2)  # five trials of a fifth of the budget
    assert kt(budget(3, 32, 5), 1.0) == (3, 1)
    assert kt(budget(8, 32, 5, fine_tune=True), 1.0) == (4, 2)
    assert kt(budget(30, 32, 5), 0.5) == (2, 6)


def test_the_split_is_fixed_and_the_grids_are_half_decades(lb):
    probs = lb.problems.PROBLEMS
    split = {p.name: p.split for p in probs}
    assert len(split) == len(probs) == 31  # unique names
    tuning = [n for n, s in split.items() if s == lb.problems.TUNING]
    assert 0.4 <= len(tuning) / len(probs) <= 0.5
    assert split["cifar10-lenet-sgd"] == split["demo@onednn0-t1"] == lb.problems.HELD_OUT
    p = lb.problems.by_name("digits-mlp-sgd")[0]
    assert p.lrs() == [0.001, 0.00316228, 0.01, 0.0316228, 0.1, 0.316228, 1.0, 3.16228, 10.0]
    with pytest.raises(ValueError, match="unknown problem"):
        lb.problems.by_name("digits-mlp-sgd,nope")


def test_the_battery_runs_caches_and_reports(lb, tmp_path, capsys):
    prob = _tiny(lb)
    specs = [lb.methods.METHODS[n] for n in ("default", "verified", "keras-default",
                                             "schedule-free", "kerastuner-equal")]
    args = SimpleNamespace(cifar=None, seeds="0", methods=None, kt_budget=1.0)
    cache = lb.cache.Cache(tmp_path / "cache.json")
    trained = lb.runner.run([prob], [0], list(lb.runner.STAGES), specs, args, cache)
    # 2 grid fits, 1 ladder fit at the oracle's LR (2 epochs -> [1]), default: choice + fit +
    # ladder, 3 peers' choices, the one-cycle fits at keras-default's and the tuner's LRs
    grid = [k for k in cache.runs if k.startswith("fit|") and k.endswith("|ep=2")]
    assert len(grid) >= 2 and trained == len(cache.runs)
    assert (tmp_path / "cache.json").exists()

    warm = lb.cache.Cache(tmp_path / "cache.json")
    assert lb.runner.run([prob], [0], list(lb.runner.STAGES), specs, args, warm) == 0
    assert not any(lb.runner.pending(prob, st, [0], specs, args, warm)
                   for st in lb.runner.STAGES)

    @lb.methods.register("smoke-fixed")
    def fixed(learn, setup, budget):
        return lb.methods.Choice(10 ** -2.5)  # a grid LR: its fit is already cached

    try:
        spec = lb.methods.METHODS["smoke-fixed"]
        assert lb.runner.pending(prob, "1", [0], [spec], args, warm)
        assert lb.runner.run([prob], [0], ["1"], [spec], args, warm) == 1  # the choice only
        results = lb.report.collect(warm, [prob], [0], [*specs, spec])
    finally:
        del lb.methods.METHODS["smoke-fixed"]
    rows = results["tiny"]["seeds"]["0"]["rows"]
    grid_scores = results["tiny"]["seeds"]["0"]["grid"]
    assert rows["oracle"]["regret"] == 0.0 and rows["oracle"]["score"] == max(grid_scores.values())
    assert rows["smoke-fixed"]["score"] == grid_scores["0.00316228"]
    assert rows["smoke-fixed"]["cost"] == 0.0 and rows["smoke-fixed"]["total"] == 1.0
    # the default sweeps 20 batches; the final fit is 2 epochs of ceil(120 / 32) = 4 batches
    assert rows["default"]["cost"] == pytest.approx(20 / 8)
    # the verified sweep is the default's plus its race's trials, each counted in batches
    race = cache.runs[next(k for k in cache.runs if k.endswith("|verified@1"))]["info"]
    trial_batches = sum(t["steps"] for r in race["rounds"] for t in r)
    assert race["rounds"] and rows["verified"]["cost"] >= 20 / 8 + trial_batches / 8 - 1e-9
    assert set(rows) >= {"keras-default", "schedule-free", "schedule-free@y",
                         "kerastuner-equal", "keras-default@one-cycle"}
    for row in rows.values():
        assert math.isclose(row["regret"], max(grid_scores.values()) - row["score"])
    assert rows["kerastuner-equal"]["cost"] == 1.0 and rows["kerastuner-equal"]["total"] == 2.0
    summary = lb.report.summarize(results)
    assert summary["tuning"]["rows"]["oracle"]["mean"] == 0.0
    text = lb.report.format_problem("tiny", results["tiny"]) + lb.report.format_summary(summary)
    assert "== overall [tuning]" in text and "schedule-free@y" in text and "noise: floor" in text
    calib = summary["tuning"]["rows"]["verified"]["calibration"]
    said = calib["sure"]["runs"] + calib["unsure"]["runs"]
    assert said == calib["runs"] == 1
    assert summary["tuning"]["rows"]["default"]["calibration"] is None
    assert "verified says sure in" in text
    md = lb.report.format_markdown(results, summary, ["verified", "default"])
    assert "| tiny | " in md and "| verified | 1 |" in md
    axes = lb.plot.plot_battery(results, summary, str(tmp_path / "battery.png"))
    assert axes.shape[1] >= 2 and (tmp_path / "battery.png").stat().st_size > 0
    assert axes.flat[0].get_xscale() == "log"


def test_a_keras_peer_trains_on_the_learners_weights_and_batches(lb):
    """Plain SGD at a constant LR: ``model.fit`` on a fresh model and ``Learner.fit`` on the
    battery's Learner end with the same weights, bit for bit."""
    import warnings

    from benchmarks.lr_battery.peers import keras_recipe

    prob = _tiny(lb, opt=("sgd", {}), name="tiny-sgd")
    unit = lb.runner.Unit(prob, 1, SimpleNamespace(cifar=None), lb.cache.Cache(None))
    setup = unit.built()[0]
    learn = unit.restore()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learn.fit(prob.epochs, lr=0.05)
    model = setup.fresh_model()
    keras_recipe(setup, model, lambda lr: lb.problems.keras_opt(prob.opt, lr), 0.05,
                 prob.epochs)
    for a, b in zip(learn.model.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert setup.score(model) == setup.score(learn.model)
    unit.close()


def _seed(grid: dict, **scores) -> dict:
    rows = {n: {"score": v, "regret": max(grid.values()) - v} for n, v in scores.items()}
    return {"grid": grid, "rows": rows}


def test_fresh_regret_and_cross_variant_are_hand_computed(lb):
    rep = lb.report
    rows = {"oracle": {"score": 40.0}, "oracle-rerun": {"score": 36.0},
            "oracle-rerun-low": {"score": 34.0}, "verified": {"score": 31.0}}
    rep._fresh_regrets(rows)
    assert rows["verified"]["fresh"] == pytest.approx(4.0)  # mean(36, 34) - 31
    assert rows["oracle"]["fresh"] == pytest.approx(-5.0)  # the grid max: the winner's curse
    summary = rep._fresh_summary([rows["verified"], rows["oracle"], {"regret": 1.0}])
    assert summary["runs"] == 2 and summary["worst"] == pytest.approx(4.0)
    assert summary["above_3"] == 1
    # variant a's best LR is 0.1, b's is 0.3; each seed charges the other variant's best
    a = {"seeds": {"0": _seed({"0.1": 40.0, "0.3": 30.0})}}
    b = {"seeds": {"0": _seed({"0.1": 33.0, "0.3": 35.0})}}
    c = rep.cross_variant({"demo@a": a, "demo@b": b, "other": a})
    assert list(c) == ["demo"]
    assert c["demo"]["runs"] == 2
    assert c["demo"]["mean"] == pytest.approx((2.0 + 10.0) / 2)  # b at 0.1: 35-33; a at 0.3
    assert c["demo"]["worst"] == pytest.approx(10.0) and c["demo"]["above_3"] == 1
