"""Record what the race's rules are chosen on: every candidate LR trained at every budget.

For each (problem, seed): the sweep (``lr_find``, run again to 100x ``end_lr`` while it ended
without a turn), its cliff (:func:`tflearner.lr_finder.race.cliff_lr`), then at the eleven LRs
``cliff / 10**(k/3)``, ``k = 1..11``: a trial fit at 1/9 and at 1/3 of the planned fit's
updates (:func:`tflearner.lr_finder.verify.run_trial`: the one-cycle fit compressed, scored by
validation loss) and the full ``fit_one_cycle`` (scored on the battery's test split for its
problems, on the validation split for ours). ``race_rules.py`` replays rules on the records.

    python -m benchmarks.race_lab OUT.json --problems digits-mlp-sgd,wine-mlp-sgdmom --seeds 0,1,2

``--problems`` takes the LR battery's tuning problems (``benchmarks/lr_battery/problems.py``);
held-out problems are refused. The committed records
(``benchmarks/results/race_lab-2026-12-05.json``) also hold 17 small problems of our own
(digits, wine and breast-cancer MLPs and conv nets with ten optimizers), recorded the same way
before the battery existed; three of them resemble held-out problems and ``race_rules.py`` leaves
them out. About 20-100 s of CPU per (problem, seed) on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.lr_battery.problems import TUNING, by_name, learner_opt  # noqa: E402
from benchmarks.lr_battery.runner import Setup  # noqa: E402
from tflearner import Learner, Snapshot  # noqa: E402
from tflearner.lr_finder import race as R  # noqa: E402
from tflearner.lr_finder.verify import planned_fit, run_trial  # noqa: E402

BUDGETS = (1 / 9, 1 / 3)


def sweep(learn: Learner, kwargs: dict) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        learn.lr_find(**kwargs)
    rec = learn.recorder
    return {"lrs": [float(v) for v in rec.lrs], "smooth": [float(v) for v in rec.smooth_losses],
            "stop": str(rec.lr_find_info["stop_reason"]), "end": rec.lr_find_info["end_lr"]}


def record(problem, seed: int, args) -> dict:
    setup = Setup(problem, seed, args)
    learn = Learner(setup.model, setup.data, opt=learner_opt(problem.opt),
                    loss_fn=problem.loss_fn(setup.n_classes), quiet=True)
    snap = Snapshot(learn.state_variables(), scope=learn.scope).save()
    planned = planned_fit(learn, "one_cycle", problem.epochs)
    out = {"problem": problem.name, "seed": seed, "T": planned.updates, "source": "battery-tuning",
           "baseline": float(learn.validate()["loss"]), "budgets": {}}
    curve = sweep(learn, dict(problem.sweep))
    out["cliff"], _ = R.cliff_lr(curve["lrs"], curve["smooth"])
    out["sweep_stop"] = curve["stop"]
    out["cands"] = [out["cliff"] * 10 ** (-k / 3) for k in range(1, 12)]
    for fraction in BUDGETS:
        steps = max(1, round(fraction * planned.updates))
        rows = []
        for lr in out["cands"]:
            snap.restore()
            t = run_trial(learn, planned, lr, steps)
            rows.append({"loss": t.loss, **{k: v for k, v in t.metrics.items()}})
        out["budgets"][f"{fraction:.4f}"] = rows
    full = []
    for lr in out["cands"]:
        snap.restore()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            learn.fit_one_cycle(problem.epochs, lr)
        full.append({"test": setup.score(learn.model),
                     "valid_loss": float(learn.validate()["loss"])})
    out["budgets"]["1.0000"] = full
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--problems", required=True)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--cifar", default=None)
    a = p.parse_args(argv)
    done = json.loads(Path(a.out).read_text()) if Path(a.out).exists() else []
    have = {(d["problem"], d["seed"]) for d in done}
    args = SimpleNamespace(cifar=a.cifar)
    for problem in by_name(a.problems):
        if problem.split != TUNING:
            raise SystemExit(f"{problem.name} is a held-out problem: rules are chosen on the "
                             "tuning set only.")
        for seed in map(int, a.seeds.split(",")):
            if (problem.name, seed) in have:
                continue
            t0 = time.perf_counter()
            done.append(record(problem, seed, args))
            Path(a.out).write_text(json.dumps(done))
            print(f"{problem.name} seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    return done


if __name__ == "__main__":
    main()
