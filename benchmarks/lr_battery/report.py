"""The battery's results from its cache: per (problem, seed) rows of (LR, score, regret, cost),
the noise floors, the epochs-to-target column, the summary per split, and the text tables.

A row's **regret** on a seed is ``best grid score - its score`` (test accuracy points; R² × 100
for a regression), negative when it beats the whole grid; "no suggestion" is charged the seed's
worst grid score. **Cost** is what choosing spent, **total** adds the final fit, both in
full-fit units (one final fit's batches). The **floor** of a problem is the spread (max - min)
over seeds of the score at the grid LR with the best mean: a regret below it is not resolved.

The oracle's regret is 0 by construction: its score is the very run that made its LR the best
of its grid's 6-11 noisy runs. Every other row is scored on a fresh run. When the cache holds the
``oracle-rerun`` rows (``oracle_rerun.py``: the best grid LR moved by 1/48 of a decade, trained
again), each row also gets **fresh regret**: the mean of those re-runs' scores minus its score,
the price of its LR without the grid maximum's winner's curse; and for a problem run under
several numerics variants (the demo), :func:`cross_variant` charges each variant the best LR
of another variant at the same seed (an LR proven best on another machine).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from .cache import Cache, choose_key, fit_key
from .methods import MethodSpec, ladder_epochs
from .problems import HELD_OUT, TUNING, Problem

__all__ = ["collect", "summarize", "noise", "calibration", "cross_variant", "format_problem",
           "format_summary", "format_markdown", "RERUNS"]

#: The rows that re-train the grid's best LR (``oracle_rerun.py``): fresh regret's reference.
RERUNS = ("oracle-rerun", "oracle-rerun-low")


def _fit(cache: Cache, p: Problem, seed: int, lr: float, epochs: int) -> dict | None:
    key = fit_key(p.name, seed, p.variant, lr, epochs)
    return cache[key] if key in cache else None


def _grid(cache: Cache, p: Problem, seed: int) -> dict[float, float] | None:
    fits = {lr: _fit(cache, p, seed, lr, p.epochs) for lr in p.lrs()}
    return None if any(f is None for f in fits.values()) else {
        lr: f["score"] for lr, f in fits.items()}


def _method_rows(cache: Cache, p: Problem, seed: int, spec: MethodSpec,
                 worst: float) -> dict[str, dict]:
    key = choose_key(p.name, seed, p.variant, spec.key)
    if key not in cache:
        return {}
    rec = cache[key]
    lr, cost = rec["lr"], rec["cost"]
    base = {"lr": lr, "cost": cost, "info": rec["info"]}
    if rec["scores"] is not None:
        total = cost + (rec["final_cost"] or 0.0)
        rows = {spec.name if k == "" else f"{spec.name}@{k}": {**base, "score": v, "total": total}
                for k, v in rec["scores"].items()}
        fit = None if lr is None or not spec.onecycle else _fit(cache, p, seed, lr, p.epochs)
        if fit is not None:
            rows[f"{spec.name}@one-cycle"] = {**base, "score": fit["score"], "total": cost + 1}
        return rows
    if lr is None:
        return {spec.name: {**base, "score": worst, "total": cost, "none": True}}
    fit = _fit(cache, p, seed, lr, p.epochs)
    return {} if fit is None else {spec.name: {**base, "score": fit["score"], "total": cost + 1}}


def _fresh_regrets(rows: dict[str, dict]) -> None:
    """Each row's ``fresh`` regret: the mean score of the :data:`RERUNS` rows minus its own
    (nothing when the seed has none of them)."""
    again = [rows[n]["score"] for n in RERUNS if n in rows]
    if again:
        ref = statistics.mean(again)
        for row in rows.values():
            row["fresh"] = ref - row["score"]


def _ladder(cache: Cache, p: Problem, seed: int, lr: float) -> dict[int, float] | None:
    scores = {e: _fit(cache, p, seed, lr, e) for e in ladder_epochs(p.epochs, p.fine_tune)}
    if any(v is None for v in scores.values()):
        return None
    return {**{e: v["score"] for e, v in scores.items()},
            p.epochs: _fit(cache, p, seed, lr, p.epochs)["score"]}


#: "reaches" with this slack too (points): a budget's scores near the ceiling differ by noise
REACH_SLACK = 1.0


def _epochs_to(ladder: dict[int, float] | None, target: float | None,
               slack: float = 0.0) -> float | None:
    """The fewest one-cycle epochs (of the ladder) scoring at least ``target - slack``; inf if
    none does (None without a ladder or a target)."""
    if ladder is None or target is None:
        return None
    return next((float(e) for e in sorted(ladder) if ladder[e] >= target - slack), math.inf)


def collect_seed(cache: Cache, p: Problem, seed: int, methods: list[MethodSpec]) -> dict | None:
    """One (problem, seed): grid, rows with regrets, ladders and epochs-to-target."""
    grid = _grid(cache, p, seed)
    if grid is None:
        return None
    best_lr = max(grid, key=lambda lr: grid[lr])
    best, worst = grid[best_lr], min(grid.values())
    rows = {"oracle": {"lr": best_lr, "score": best, "cost": float(len(grid)),
                       "total": float(len(grid)), "info": {}}}
    for spec in methods:
        rows.update(_method_rows(cache, p, seed, spec, worst))
    for row in rows.values():
        row["regret"] = best - row["score"]
    _fresh_regrets(rows)
    target = rows.get("keras-default", {}).get("score")
    ladders = {"oracle": _ladder(cache, p, seed, best_lr)}
    ladders |= {s.name: _ladder(cache, p, seed, rows[s.name]["lr"]) for s in methods
                if s.ladder and rows.get(s.name, {}).get("lr") is not None}
    return {"grid": {f"{lr:.6g}": v for lr, v in grid.items()}, "rows": rows,
            "curves": {f"{lr:.6g}": _fit(cache, p, seed, lr, p.epochs)["curve"] for lr in grid},
            "ladders": {k: v for k, v in ladders.items() if v is not None},
            "epochs_to_keras_default": {k: _epochs_to(v, target) for k, v in ladders.items()
                                        if v is not None and target is not None},
            "epochs_to_keras_default_slack": {k: _epochs_to(v, target, REACH_SLACK)
                                              for k, v in ladders.items()
                                              if v is not None and target is not None}}


def noise(p: Problem, seeds: dict[int, dict], n_test: int | None) -> dict:
    """Noise floors: the seed range at the best-mean grid LR (``floor``), the median seed
    range over the good region (mean >= 80 % of the best mean, ``same_lr``), and the test
    score's binomial standard error at the best mean (``se``; None for a regression)."""
    lrs = list(next(iter(seeds.values()))["grid"])
    per_lr = {lr: [r["grid"][lr] for r in seeds.values()] for lr in lrs}
    means = {lr: statistics.mean(v) for lr, v in per_lr.items()}
    best = max(means, key=lambda lr: means[lr])
    good = [lr for lr in lrs if means[lr] >= 0.8 * means[best]]
    se = None
    if not p.regression and n_test:
        q = means[best] / 100
        se = 100 * math.sqrt(q * (1 - q) / n_test)
    return {"best_mean_lr": float(best), "best_mean": means[best],
            "floor": max(per_lr[best]) - min(per_lr[best]),
            "same_lr": statistics.median(max(per_lr[lr]) - min(per_lr[lr]) for lr in good),
            "se": se}


def collect(cache: Cache, problems: list[Problem], seeds: list[int],
            methods: list[MethodSpec]) -> dict:
    """Every complete (problem, seed) of the cache as a JSON-able dict."""
    out = {}
    for p in problems:
        per_seed = {s: r for s in seeds if (r := collect_seed(cache, p, s, methods))}
        if not per_seed:
            continue
        out[p.name] = {"split": p.split, "kind": p.kind, "epochs": p.epochs,
                       "batch_size": p.batch_size, "optimizer": p.opt[0],
                       "variant": p.variant, "fine_tune": p.fine_tune,
                       "noise": noise(p, per_seed, _fit(cache, p, next(iter(per_seed)),
                                                        p.lrs()[0], p.epochs).get("n_test")),
                       "seeds": {str(s): r for s, r in per_seed.items()}}
    return out


def _row_names(results: dict) -> list[str]:
    names: list[str] = []
    for prob in results.values():
        for r in prob["seeds"].values():
            names += [n for n in r["rows"] if n not in names]
    return names


def seeds_mean_regret(prob: dict, name: str) -> float | None:
    """Best mean grid score - mean score of ``name`` over the seeds (None if a seed lacks it)."""
    seeds = list(prob["seeds"].values())
    if any(name not in r["rows"] for r in seeds):
        return None
    best = max(statistics.mean(r["grid"][lr] for r in seeds) for lr in seeds[0]["grid"])
    return best - statistics.mean(r["rows"][name]["score"] for r in seeds)


def summarize(results: dict) -> dict:
    """Per split and row: regret mean / worst / median over (problem, seed), the mean of the
    seeds'-mean regrets, runs above the floor, mean cost and total; plus epochs-to-target."""
    out: dict[str, Any] = {}
    for split in (TUNING, HELD_OUT):
        probs = {k: v for k, v in results.items() if v["split"] == split}
        table = {}
        for name in _row_names(probs):
            runs = [(r["rows"][name], prob["noise"]["floor"], pname, s)
                    for pname, prob in probs.items() for s, r in prob["seeds"].items()
                    if name in r["rows"]]
            reg = [row["regret"] for row, *_ in runs]
            worst = max(runs, key=lambda t: t[0]["regret"])
            means = [m for prob in probs.values()
                     if (m := seeds_mean_regret(prob, name)) is not None]
            table[name] = {"runs": len(runs), "problems": len(means),
                           "mean": statistics.mean(reg), "worst": max(reg),
                           "median": statistics.median(reg),
                           "worst_at": f"{worst[2]} seed {worst[3]}",
                           "seeds_mean": statistics.mean(means) if means else None,
                           "above_floor": sum(row["regret"] > fl for row, fl, *_ in runs),
                           "above_3": sum(row["regret"] > 3.0 for row, *_ in runs),
                           "cost": statistics.mean(row["cost"] for row, *_ in runs),
                           "total": statistics.mean(row["total"] for row, *_ in runs),
                           "calibration": calibration([row for row, *_ in runs]),
                           "fresh": _fresh_summary([row for row, *_ in runs])}
        out[split] = {"problems": len(probs), "rows": table, "cross_variant": cross_variant(probs),
                      "floor_mean": statistics.mean(v["noise"]["floor"] for v in probs.values())
                      if probs else None,
                      "epochs_to_keras_default": _epochs_summary(probs),
                      "epochs_to_keras_default_slack": _epochs_summary(
                          probs, "epochs_to_keras_default_slack")}
    return out


def _fresh_summary(rows: list[dict]) -> dict | None:
    """Fresh regret over the runs that have it: runs, mean, worst, median, runs above 3."""
    reg = [r["fresh"] for r in rows if "fresh" in r]
    if not reg:
        return None
    return {"runs": len(reg), "mean": statistics.mean(reg), "worst": max(reg),
            "median": statistics.median(reg), "above_3": sum(x > 3.0 for x in reg)}


def cross_variant(results: dict) -> dict[str, dict]:
    """For problems run under several numerics variants (``name@variant``): the regret of
    training each variant at another variant's best grid LR of the same seed, over every
    ordered pair of variants and seed (runs, mean, worst, runs above 3)."""
    by_base: dict[str, list[dict]] = {}
    for name, prob in results.items():
        if "@" in name:
            by_base.setdefault(name.split("@")[0], []).append(prob)
    out = {}
    for base, probs in by_base.items():
        reg = []
        for a in probs:
            for b in probs:
                if a is b:
                    continue
                for s, ra in a["seeds"].items():
                    if (rb := b["seeds"].get(s)) is not None:
                        ga, gb = ra["grid"], rb["grid"]
                        reg.append(max(gb.values()) - gb[max(ga, key=ga.get)])
        if reg:
            out[base] = {"runs": len(reg), "mean": statistics.mean(reg), "worst": max(reg),
                         "above_3": sum(x > 3.0 for x in reg)}
    return out


def calibration(rows: list[dict]) -> dict | None:
    """For a method that says how sure it is (``info["sure"]``): how many runs it called sure,
    and the regret when sure and when not (None for a method that does not say)."""
    said = [r for r in rows if "sure" in (r.get("info") or {})]
    if not said:
        return None
    out: dict[str, Any] = {"runs": len(said)}
    for key, part in (("sure", [r for r in said if r["info"]["sure"]]),
                      ("unsure", [r for r in said if not r["info"]["sure"]])):
        reg = [r["regret"] for r in part]
        out[key] = {"runs": len(reg), "mean": statistics.mean(reg) if reg else None,
                    "worst": max(reg) if reg else None,
                    "within_3": sum(x <= 3.0 for x in reg)}
    return out


def _epochs_summary(probs: dict, key: str = "epochs_to_keras_default") -> dict:
    """Per ladder row: the median over runs of (epochs to reach the Keras default's score) /
    the budget, and how many runs never reach it within the budget."""
    out: dict[str, dict] = {}
    for prob in probs.values():
        for r in prob["seeds"].values():
            for name, e in r[key].items():
                d = out.setdefault(name, {"fractions": [], "never": 0})
                if e is None or math.isinf(e):
                    d["never"] += 1
                else:
                    d["fractions"].append(e / prob["epochs"])
    return {k: {"median_fraction": statistics.median(v["fractions"]) if v["fractions"] else None,
                "reached": len(v["fractions"]), "never": v["never"]} for k, v in out.items()}


def _cell(row: dict | None) -> str:
    if row is None:
        return "-"
    lr = "none" if row.get("none") else "-" if row["lr"] is None else f"{row['lr']:.2g}"
    return f"{lr}:{row['regret']:+.1f}"


def format_problem(name: str, prob: dict) -> str:
    """One problem's block: the grid per seed, each row's LR:regret per seed, noise, epochs."""
    seeds = prob["seeds"]
    lrs = list(next(iter(seeds.values()))["grid"])
    nz = prob["noise"]
    se = "" if nz["se"] is None else f"; test SE {nz['se']:.1f}"
    lines = [f"== {name} [{prob['split']}] {prob['kind']}; {prob['epochs']} epochs, batch "
             f"{prob['batch_size']}, {prob['optimizer']}"
             + (", fine_tune" if prob["fine_tune"] else ""),
             "   grid lr       " + " ".join(f"{float(lr):>7.2g}" for lr in lrs)]
    lines += [f"   seed {s:<8} " + " ".join(f"{r['grid'][lr]:7.1f}" for lr in lrs)
              for s, r in seeds.items()]
    lines.append(f"   noise: floor {nz['floor']:.1f} (seed range at {nz['best_mean_lr']:.2g}, "
                 f"mean {nz['best_mean']:.1f}); same-LR spread {nz['same_lr']:.1f}{se}")
    lines.append(f"   {'row':22s}" + "".join(f"{'seed ' + s:>14s}" for s in seeds)
                 + "   seeds' mean   cost  total")
    for row in _row_names({name: prob}):
        cells = [_cell(r["rows"].get(row)) for r in seeds.values()]
        m = seeds_mean_regret(prob, row)
        present = [r["rows"][row] for r in seeds.values() if row in r["rows"]]
        lines.append(f"   {row:22s}" + "".join(f"{c:>14s}" for c in cells)
                     + f"   {'-' if m is None else f'{m:+.1f}':>11s}"
                     + f" {statistics.mean(x['cost'] for x in present):6.2f}"
                     + f" {statistics.mean(x['total'] for x in present):6.2f}")
    for key, how in (("epochs_to_keras_default", "to reach"),
                     ("epochs_to_keras_default_slack", f"to come within {REACH_SLACK:g} of")):
        ep: dict[str, list[str]] = {}
        for r in seeds.values():
            for k, v in r[key].items():
                ep.setdefault(k, []).append("-" if v is None else "never" if math.isinf(v)
                                            else f"{v:g}")
        if ep:
            lines.append(f"   one-cycle epochs {how} keras-default's score (of "
                         f"{prob['epochs']}): " + "; ".join(f"{k} {'/'.join(v)}"
                                                            for k, v in ep.items()))
    return "\n".join(lines)


def format_summary(summary: dict) -> str:
    lines = []
    for split, s in summary.items():
        if not s["problems"]:
            continue
        lines.append(f"\n== overall [{split}]: {s['problems']} problems; regret in points over "
                     f"(problem, seed) runs; mean floor {s['floor_mean']:.1f}")
        lines.append(f"   {'row':24s} {'runs':>4s} {'mean':>6s} {'worst':>6s} {'median':>6s} "
                     f"{'seeds-mean':>10s} {'>floor':>6s} {'>3':>4s} {'cost':>6s} "
                     f"{'total':>6s}  worst at")
        for name, r in sorted(s["rows"].items(), key=lambda kv: kv[1]["mean"]):
            sm = "-" if r["seeds_mean"] is None else f"{r['seeds_mean']:.2f}"
            lines.append(f"   {name:24s} {r['runs']:4d} {r['mean']:6.2f} {r['worst']:6.2f} "
                         f"{r['median']:6.2f} {sm:>10s} {r['above_floor']:6d} "
                         f"{r['above_3']:4d} {r['cost']:6.2f} {r['total']:6.2f}  "
                         f"{r['worst_at']}")
        lines += _format_fresh(s)
        for name, r in s["rows"].items():
            if (c := r["calibration"]) is not None:
                lines.append(f"   {name} says sure in {c['sure']['runs']} of {c['runs']} runs: "
                             f"{_calib(c['sure'])}; not sure: {_calib(c['unsure'])}")
        for key, how in (("epochs_to_keras_default", "reaches"),
                         ("epochs_to_keras_default_slack", f"comes within {REACH_SLACK:g} of")):
            for name, e in s[key].items():
                frac = "-" if e["median_fraction"] is None else f"{e['median_fraction']:.2f}"
                lines.append(f"   one-cycle at {name}'s LR {how} keras-default's score in a "
                             f"median {frac} of the budget ({e['reached']} runs; never in "
                             f"{e['never']})")
    return "\n".join(lines)


def _fresh_rows(s: dict) -> list[tuple[str, dict]]:
    """One split's rows that have fresh regret, best mean first."""
    rows = {n: r["fresh"] for n, r in s["rows"].items() if r.get("fresh")}
    return sorted(rows.items(), key=lambda kv: kv[1]["mean"])


def _cross_variant_lines(s: dict) -> list[str]:
    return [f"{base} trained at another numerics variant's best grid LR (same seed): "
            f"{c['runs']} runs, mean {c['mean']:.2f}, worst {c['worst']:.1f}, above 3 in "
            f"{c['above_3']}" for base, c in s.get("cross_variant", {}).items()]


def _format_fresh(s: dict) -> list[str]:
    rows = _fresh_rows(s)
    if not rows:
        return []
    lines = ["   fresh regret (against the grid's best LR trained again, the mean of "
             f"{' and '.join(RERUNS)}):"]
    for name, f in rows:
        lines.append(f"     {name:24s} {f['runs']:4d} runs: mean {f['mean']:6.2f}, worst "
                     f"{f['worst']:6.2f}, median {f['median']:6.2f}, > 3 in {f['above_3']}")
    return lines + [f"   {line}" for line in _cross_variant_lines(s)]


def _calib(part: dict) -> str:
    if not part["runs"]:
        return "none"
    return (f"regret within 3 points in {part['within_3']} of {part['runs']}, mean "
            f"{part['mean']:.2f}, worst {part['worst']:.1f}")


def _markdown_fresh(s: dict) -> list[str]:
    """The fresh-regret table and the cross-variant line of one split (none without the
    :data:`RERUNS` rows)."""
    rows = _fresh_rows(s)
    if not rows:
        return []
    out = ["", f"Fresh regret (against the mean of {' and '.join(RERUNS)}: the grid's best LR "
           "trained again):", "", "| row | runs | mean | worst | median | runs > 3 |",
           "|---|---|---|---|---|---|"]
    for name, f in rows:
        out.append(f"| {name} | {f['runs']} | {f['mean']:.2f} | {f['worst']:.1f} | "
                   f"{f['median']:.2f} | {f['above_3']} |")
    for line in _cross_variant_lines(s):
        out += ["", line + "."]
    return out


def format_markdown(results: dict, summary: dict, rows: list[str]) -> str:
    """Markdown tables for the docs: per split, the overall row table, then each problem's
    seeds'-mean regret of ``rows`` beside its noise floor."""
    out = []
    for split, s in summary.items():
        if not s["problems"]:
            continue
        out += [f"**{split}** ({s['problems']} problems; regret in points over (problem, seed) "
                f"runs; mean noise floor {s['floor_mean']:.1f}):", "",
                "| row | runs | mean | worst | median | runs > 3 | cost | total |",
                "|---|---|---|---|---|---|---|---|"]
        for name, r in sorted(s["rows"].items(), key=lambda kv: kv[1]["mean"]):
            out.append(f"| {name} | {r['runs']} | {r['mean']:.2f} | {r['worst']:.1f} | "
                       f"{r['median']:.2f} | {r['above_3']} | {r['cost']:.2f} | "
                       f"{r['total']:.2f} |")
        out += _markdown_fresh(s)
        out += ["", "| problem | floor | " + " | ".join(rows) + " |",
                "|---|---|" + "---|" * len(rows)]
        for name, prob in results.items():
            if prob["split"] != split:
                continue
            cells = [seeds_mean_regret(prob, r) for r in rows]
            out.append(f"| {name} | {prob['noise']['floor']:.1f} | " + " | ".join(
                "-" if c is None else f"{c:+.1f}" for c in cells) + " |")
        out.append("")
    return "\n".join(out)
