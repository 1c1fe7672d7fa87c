"""How the race's rules and constants were chosen: replay them on recorded trials (tuning set only).

``benchmarks/results/race_lab-2026-12-05.json`` holds, for 36 (problem, seed) pairs of the LR
battery's tuning set (12 problems, 3 seeds) and 51 of 17 small problems of our own (87 in all;
digits, wine, breast cancer, diabetes, 1-D convolutions, embeddings; SGD, SGD with momentum, Adam,
AdamW, Adamax, Nadam, RMSprop, Adagrad, Lion, Muon), the sweep's cliff and, at eleven LRs 1/3 of a
decade apart below it (``cliff / 10**(k/3)``, ``k = 1..11``), a trial fit (the one-cycle fit
compressed to 1/9 and to 1/3 of its updates, scored by validation loss) and the full fit (scored by
test accuracy on the battery's problems, validation accuracy on ours). ``race_lab.py`` recorded
them. Because every candidate was trained at every budget, any rule built from these pieces can be
replayed without training: this script replays the shipped rule (:mod:`tflearner.lr_finder.race`)
and the alternatives that were tried, and prints each one's regret (best full-fit score of the
eleven minus the score at its answer, interpolated in log LR between the recorded LRs) and cost.

Three of our problems resemble held-out problems of the battery (the demo on the shipped sample,
``cancer-mlp-adamw``, ``digits-mlp-sgdmom``); they are excluded here, as every rule was chosen
without them. Rounds that would extend past the eleven recorded LRs stop at the last one.

The second block of :data:`RULES` (2026-12-05, third session) holds what might have fixed the
held-out demo's misses (round 2 placed lower or wider, a one-standard-error reading that takes
the lowest LR close to the best, reading by accuracy, a cheaper round 2) and :data:`SCREENS`
what might have cut the race's cost (successive halving from a rung at 1/27 of the fit). None
beats the shipped rule on the tuning set by more than its noise (the best, "round 2 wider,
lowest within 0.3", 0.59 mean against 0.61, differs on 2 of 9 round-2 pairs, one each way;
"screen 6 at 1/27, keep 2" saves a quarter of the trials at 0.63 against 0.66, but keeping 3
instead of 2 costs 74 points on one pair): the race stays as it is.

    python -m benchmarks.race_rules [benchmarks/results/race_lab-2026-12-05.json]
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tflearner.lr_finder import race as R

DATA = Path(__file__).parent / "results" / "race_lab-2026-12-05.json"
HELD_OUT_LIKE = ("sample-lenet", "cancer-mlp-adamw", "digits-mlp-sgdmom")
NORMALIZED = ("adam", "adamw", "adamax", "nadam", "lion", "muon", "rmsprop")
BUDGET = {"0.1111": 1 / 9, "0.3333": 1 / 3}
N = 11  # recorded LRs: index k is cliff / 10 ** ((k + 1) / 3)


@dataclass(frozen=True)
class Rule:
    """One way to run the race on the recorded trials."""

    name: str
    gamma_normalized: float = R.HORIZON_EXPONENT
    gamma_other: float = 0.0
    coarse: tuple[int, ...] = (0, 2, 4, 6, 8, 10)  # = race.candidate_lrs
    smooth: bool = True
    refine: bool = True
    second: bool = True
    gate: float = R.GATE
    first: str = "0.1111"
    second_at: tuple[int, ...] = (-1, 0, 1)  # round 2's LRs: offsets from round 1's winner
    second_tol: float | None = None  # round 2 answers its lowest LR within this x the gain
    score: str = "loss"  # what trials are read by: "loss", or "acc" (the metric)
    score_second: str | None = None  # round 2's reading (None: as round 1)
    screen: int | None = None  # successive halving: round 1 at 1/27 first, keep this many


def optimizer(problem: str) -> str:
    for name in ("adamw", "adamax", "adagrad", "adam", "nadam", "lion", "muon", "rmsprop",
                 "sgdmom", "sgd"):
        if name in problem:
            return name
    return "?"


def full_score(rec: dict, x: float) -> float:
    """The full fit's score at fractional index ``x`` (linear in log LR between records)."""
    full = [t.get("test", t.get("acc")) for t in rec["budgets"]["1.0000"]]
    x = min(max(x, 0.0), N - 1.0)
    i, f = int(math.floor(x)), x - math.floor(x)
    return full[i] if f == 0 or i + 1 >= N else (1 - f) * full[i] + f * full[i + 1]


def trials(rec: dict, key: str, idx: list[int], score: str = "loss") -> list[R.Trial]:
    """The recorded trials at ``idx``, their ``loss`` read as ``score`` ("acc": 1 - accuracy,
    so lower is better either way; a diverged trial's accuracy counts as 0)."""
    rows = rec["budgets"][key]
    score = score if any(r.get("acc") is not None for r in rows) else "loss"  # a regression
    out = []
    for i in idx:
        ok = rows[i]["loss"] < 1e8
        if score == "acc":
            value = 1.0 - (rows[i]["acc"] if ok and rows[i].get("acc") is not None else 0.0)
        else:
            value = rows[i]["loss"] if ok else math.inf
        out.append(R.Trial(rec["cands"][i], 0, value))
    return out


def read(rec: dict, key: str, idx: list[int], rule: Rule, baseline: float,
         score: str | None = None, tol: float | None = None) -> int:
    """The winner's index: the lowest (smoothed) score; with ``tol``, the lowest LR whose
    score is within ``tol`` x (baseline - best) of the best (a one-standard-error rule)."""
    score = score or rule.score
    t = trials(rec, key, idx, score)
    base = 1.0 if score == "acc" else baseline
    values = R.penalised([x.loss for x in t], base)
    if rule.smooth:
        values = R.smoothed(values)
    if tol is None:
        return idx[int(np.argmin(values))]
    ok = np.flatnonzero(values <= values.min() + tol * max(base - values.min(), 0.0))
    return idx[int(ok.max())]  # idx runs from the highest LR down


def screened(rec: dict, rule: Rule, baseline: float) -> tuple[list[int], float]:
    """Successive halving's first rung: ``rule.coarse`` at 1/27 of the fit, the best
    ``rule.screen`` kept (by smoothed loss) for round 1; ``(kept, cost)``."""
    idx = list(rule.coarse)
    values = R.smoothed(R.penalised([x.loss for x in trials(rec, "0.0370", idx)], baseline))
    return sorted(idx[j] for j in np.argsort(values, kind="stable")[:rule.screen]), len(idx) / 27


def replay(rec: dict, rule: Rule) -> tuple[float, float, bool]:
    """``(fractional index answered, cost in race fits, sure)`` of ``rule`` on ``rec``."""
    baseline = rec["baseline"]
    idx, cost = (list(rule.coarse), 0.0) if rule.screen is None else screened(rec, rule, baseline)
    cost += len(idx) * BUDGET[rule.first]
    w = read(rec, rule.first, idx, rule, baseline)
    informative = R.informative(trials(rec, rule.first, idx), baseline, rule.gate)
    rounds, shade_budget = 1, BUDGET[rule.first]
    if informative and rule.refine:
        more = [i for i in (w - 1, w + 1) if 0 <= i < N and i not in idx]
        idx, cost = sorted(idx + more), cost + len(more) * BUDGET[rule.first]
        w = read(rec, rule.first, idx, rule, baseline)
    elif not informative and rule.second:
        lo, hi = w + min(rule.second_at), w + max(rule.second_at)
        shift = max(0, -lo) - max(0, hi - (N - 1))  # kept inside the recorded LRs
        idx = sorted({min(max(w + o + shift, 0), N - 1) for o in rule.second_at})
        cost, rounds = cost + len(idx) * BUDGET["0.3333"], 2
        w = read(rec, "0.3333", idx, rule, baseline, rule.score_second, rule.second_tol)
    gamma = rule.gamma_normalized if optimizer(rec["problem"]) in NORMALIZED else rule.gamma_other
    shade = (math.log10(1 / shade_budget) * gamma * 3) if rounds == 1 else 0.0
    edge = w in (idx[0], idx[-1])
    steps = round(rec["T"] * (BUDGET[rule.first] if rounds == 1 else BUDGET["0.3333"]))
    return w + shade, cost, informative and not edge and steps >= R.MIN_SURE_STEPS


def regrets(records: list[dict], rule: Rule) -> dict:
    out = {"regret": [], "cost": [], "sure": []}
    for rec in records:
        x, cost, sure = replay(rec, rule)
        best = max(t.get("test", t.get("acc")) for t in rec["budgets"]["1.0000"])
        out["regret"].append(best - full_score(rec, x))
        out["cost"].append(cost)
        out["sure"].append(sure)
    return {k: np.asarray(v) for k, v in out.items()}


RULES = [
    Rule("shipped (race.py)"),
    Rule("no horizon shade", gamma_normalized=0.0),
    Rule("shade 0.35 for every optimizer", gamma_other=0.35),
    Rule("shade 0.2 normalized", gamma_normalized=0.2),
    Rule("shade 0.5 normalized", gamma_normalized=0.5),
    Rule("no neighbour smoothing", smooth=False),
    Rule("no refinement", refine=False),
    Rule("no round 2", second=False),
    Rule("gate 0.2", gate=0.2),
    Rule("gate 0.4", gate=0.4),
    Rule("round 1 at 1/3 of the fit", first="0.3333", second=False),
    Rule("other six candidates (odd k)", coarse=(1, 3, 5, 7, 9)),
    Rule("four candidates a decade apart", coarse=(0, 3, 6, 9)),
    # 2026-12-05, session 3: the demo's misses come from round 2; what might fix them, on tuning
    Rule("round 2 below the winner (0,1,2)", second_at=(0, 1, 2)),
    Rule("round 2 wider (-1,1,3)", second_at=(-1, 1, 3)),
    Rule("round 2 2/3 decade apart (-2,0,2)", second_at=(-2, 0, 2)),
    Rule("round 2 lowest within 0.2 of gain", second_tol=0.2),
    Rule("round 2 lowest within 0.5 of gain", second_tol=0.5),
    Rule("round 2 wider, lowest within 0.3", second_at=(-1, 1, 3), second_tol=0.3),
    Rule("round 2 cheaper: winner and above", second_at=(-1, 0)),
    Rule("round 2 cheaper: both neighbours", second_at=(-1, 1)),
    Rule("round 2 read by accuracy", score_second="acc"),
    Rule("both rounds read by accuracy", score="acc"),
]
#: Successive halving from a first rung at 1/27 of the fit: only 42 of the tuning pairs (our own
#: problems) recorded that budget, so these are read on those, beside the shipped rule.
SCREENS = [
    Rule("shipped (race.py)"),
    Rule("screen 6 at 1/27, keep 2", screen=2),
    Rule("screen 6 at 1/27, keep 3", screen=3),
    Rule("screen 6 at 1/27, keep 4", screen=4),
]


def summary(records: list[dict], rule: Rule) -> dict:
    """``rule``'s regret summary (points) and mean cost (fits) on ``records``."""
    r = regrets(records, rule)
    sure = r["sure"]
    return {"mean": float(r["regret"].mean()), "worst": float(r["regret"].max()),
            "median": float(np.median(r["regret"])), "over_3": int((r["regret"] > 3).sum()),
            "cost": float(r["cost"].mean()), "sure": int(sure.sum()),
            "sure_worst": float(r["regret"][sure].max()) if sure.any() else None}


def print_table(title: str, records: list[dict], rules: list[Rule]) -> dict:
    print(f"{title}\n{'rule':34s} {'mean':>5s} {'median':>6s} {'worst':>6s} {'>3':>3s} "
          f"{'cost':>5s} {'sure':>5s} {'sure, worst':>11s}")
    table = {}
    for rule in rules:
        t = table[rule.name] = summary(records, rule)
        worst_sure = t["sure_worst"] if t["sure_worst"] is not None else float("nan")
        print(f"{rule.name:34s} {t['mean']:5.2f} {t['median']:6.2f} {t['worst']:6.1f} "
              f"{t['over_3']:3d} {t['cost']:5.2f} {t['sure']:5d} {worst_sure:11.1f}")
    return table


def main(path: str | Path = DATA) -> dict:
    records = [r for r in json.loads(Path(path).read_text())
               if not r["problem"].startswith(HELD_OUT_LIKE)]
    for r in records:  # our own problems' baseline: a uniform prediction's loss, ln(classes)
        if r.get("baseline") is None:
            c = 3 if r["problem"].startswith("wine") else 2 if "cancer" in r["problem"] else 10
            r["baseline"] = math.log(c)
    table = print_table(f"{len(records)} (problem, seed) pairs of the tuning set; regret in "
                        "points, cost in fits (trials only; the sweep comes on top)",
                        records, RULES)
    screened_records = [r for r in records if "0.0370" in r["budgets"]]
    table["screens"] = print_table(f"\n{len(screened_records)} pairs with trials at 1/27 of the "
                                   "fit (our own problems)", screened_records, SCREENS)
    return table


if __name__ == "__main__":
    main(*sys.argv[1:])
