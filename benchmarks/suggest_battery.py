"""The LR-suggestion battery: does lr_find's suggestion hold on problems nobody tuned it on?

For each combination below (architecture x optimizer x data x batch size x epoch budget) and
each seed, with the *same initial weights and data order* for every run of that seed:

1. ``lr_find(repeats=3)`` with the defaults (sweep 1 is exactly what ``lr_find()`` gives) and
   every suggester (robust, valley, slide, steep, minimum), plus one plain ``lr_find()`` timed
   against one full run (its cost);
2. ``fit_one_cycle(epochs, lr)`` (``fine_tune(epochs - 1, base_lr=lr)`` for the fine-tuned
   backbone) at every LR of a log grid (half-decade steps spanning the good region and both
   cliffs), then at each suggestion of sweep 1 and at the 3-sweep robust suggestion.

The score is validation accuracy in percent (R^2 x 100, floored at 0, for the regression). A
suggester's regret on a seed is ``best grid score - score at its suggestion`` (negative when it
beats the grid); no suggestion is charged the worst grid score. Prints one block per
combination and the overall table: mean and worst regret per suggester over every
(combination, seed), lr_find's cost as a fraction of one run, and how well the 3-sweep spread
and a bootstrap of one curve flag high regret.

    python benchmarks/suggest_battery.py --cifar ../shared/datasets/cifar-10-python.tar.gz \\
        --json benchmarks/results/suggest_battery-2026-12-01.json

``--cache FILE`` keeps every finished run (combination, seed, LR) -> score, so a rerun after a
change of the *suggestion rule* re-runs only the sweeps and the fits at the new suggestions (the
grid does not depend on the rule). ``--only a,b`` runs some combinations; ``--seeds 0,1,2``.
Without ``--cifar`` the CIFAR combinations are skipped (the scikit-learn ones need no download).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from benchmarks.lr_battery.models import backbone, small_resnet  # noqa: E402  (the same)
from tflearner import SGD, DataBundle, Learner, LeNet, load_cifar10  # noqa: E402
from tflearner.core.snapshot import Snapshot  # noqa: E402
from tflearner.lr_finder.finder import compute_suggestions, resolve_suggesters  # noqa: E402
from tflearner.lr_finder.suggest import SUGGESTERS  # noqa: E402

METHODS = tuple(SUGGESTERS)  # robust, valley, slide, steep, minimum
REPEATS = 3
BN_MOMENTUM = 0.9  # short runs: Keras' 0.99 leaves the moving statistics near their init
CACHE_DIR = Path(os.environ.get("TFLEARNER_BATTERY_DIR", "/tmp/tflearner-battery"))


# ---- data ---------------------------------------------------------------------------------
def _sk(name: str):
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")()


def digits(shape: tuple[int, ...]):
    d = _sk("digits")
    return (d.data / 16.0).astype("float32").reshape((-1, *shape)), d.target.astype("int64")


def standardized(name: str, regression: bool = False):
    d = _sk(name)
    x = d.data.astype("float64")
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")
    y = d.target
    if regression:
        y = ((y - y.mean()) / y.std()).astype("float32")[:, None]
    return x, y.astype("float32") if regression else y.astype("int64")


_CIFAR: dict = {}


def cifar(path: str, n_train: int, n_valid: int, classes: tuple[int, ...] | None = None):
    if "data" not in _CIFAR:
        _CIFAR["data"] = load_cifar10(path, download=False)
    (x, y), (xt, yt) = _CIFAR["data"]
    if classes is not None:
        keep, keep_t = np.isin(y, classes), np.isin(yt, classes)
        x, y, xt, yt = x[keep], y[keep] - min(classes), xt[keep_t], yt[keep_t] - min(classes)
    rng = np.random.default_rng(0)  # one fixed subset for every seed and run
    tr = np.sort(rng.choice(len(x), n_train, replace=False))
    va = np.sort(rng.choice(len(xt), n_valid, replace=False))
    return (x[tr], y[tr]), (xt[va], yt[va])


# ---- models -------------------------------------------------------------------------------
L = keras.layers


def mlp(n_in: int, hidden: tuple[int, ...], n_out: int, activation: str | None = "softmax"):
    inputs = keras.Input((n_in,))
    x = inputs
    for h in hidden:
        x = L.Dense(h, activation="relu")(x)
    return keras.Model(inputs, L.Dense(n_out, activation=activation)(x), name="mlp")


def digits_cnn():
    return keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(32, 3, padding="same",
                             activation="relu"), L.Conv2D(64, 3, activation="relu"),
                             L.MaxPooling2D(), L.Flatten(), L.Dense(64, activation="relu"),
                             L.Dense(10, activation="softmax")], name="digits_cnn")


def bn_cnn():
    inputs = keras.Input((32, 32, 3))
    x = inputs
    for filters in (16, 32, 64):
        x = L.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = L.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = L.ReLU()(x)
        x = L.MaxPooling2D(2)(x)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, L.Dense(10, activation="softmax")(x), name="bn_cnn")


def pretrained_backbone(cifar_path: str) -> str:
    """Pretrain the backbone on CIFAR-10 classes 0-4 (10,000 images, 3 epochs), cached."""
    path = CACHE_DIR / "backbone-0to4-10k-3ep.weights.h5"
    if path.exists():
        return str(path)
    (x, y), (xv, yv) = cifar(cifar_path, 10000, 1000, classes=(0, 1, 2, 3, 4))
    keras.utils.set_random_seed(0)
    body = backbone()
    model = keras.Sequential([keras.Input((32, 32, 3)), body, L.Dense(5, activation="softmax")])
    learn = Learner(model, DataBundle.from_arrays(x, y, valid=(xv, yv), batch_size=128, seed=0),
                    opt="adam", quiet=True)
    learn.fit_one_cycle(3, 3e-3)
    print(f"# pretrained backbone on classes 0-4: valid accuracy "
          f"{learn.validate()['accuracy']:.1%}", flush=True)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    body.save_weights(str(path))
    return str(path)


# ---- the battery --------------------------------------------------------------------------
@dataclass
class Combo:
    name: str
    data: Callable[[argparse.Namespace], tuple]  # -> ((x, y), (xv, yv))
    model: Callable[[argparse.Namespace], keras.Model]
    opt: Callable[[], object]
    batch_size: int
    epochs: int
    grid: tuple[float, float]  # log10 of the first and last grid LR (half-decade steps)
    regression: bool = False
    fine_tune: bool = False
    needs_cifar: bool = False

    def lrs(self) -> list[float]:
        lo, hi = self.grid
        return [float(10 ** e) for e in np.arange(lo, hi + 1e-9, 0.5)]


def _split(x, y, valid_pct: float = 0.3):
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))
    n_valid = int(round(valid_pct * len(x)))
    va, tr = np.sort(idx[:n_valid]), np.sort(idx[n_valid:])
    return (x[tr], y[tr]), (x[va], y[va])


def _finetune_model(a):
    body = backbone()
    body.load_weights(pretrained_backbone(a.cifar))
    return keras.Sequential([keras.Input((32, 32, 3)), body, L.Dense(5, activation="softmax")],
                            name="transfer")


def _few_labels(a):
    (x, y), (xv, yv) = cifar(a.cifar, 25000, 1000, classes=(5, 6, 7, 8, 9))
    rng = np.random.default_rng(0)
    keep = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), 100, replace=False)
                                   for c in range(5)]))
    return (x[keep], y[keep]), (xv, yv)


def sgd_mom():
    return SGD(momentum=0.9)


COMBOS = [
    Combo("digits-mlp-sgd", lambda a: _split(*digits((64,))), lambda a: mlp(64, (128,), 10),
          lambda: "sgd", 32, 8, (-3.0, 1.0)),
    Combo("digits-mlp-sgdmom", lambda a: _split(*digits((64,))), lambda a: mlp(64, (128,), 10),
          sgd_mom, 32, 8, (-4.0, 0.5)),
    Combo("digits-mlp-adam-b128-30ep", lambda a: _split(*digits((64,))),
          lambda a: mlp(64, (256, 128), 10), lambda: "adam", 128, 30, (-4.5, 0.0)),
    Combo("digits-cnn-adamw", lambda a: _split(*digits((8, 8, 1))), lambda a: digits_cnn(),
          lambda: keras.optimizers.AdamW(weight_decay=0.05), 64, 6, (-4.5, 0.0)),
    Combo("cancer-mlp-adamw", lambda a: _split(*standardized("breast_cancer")),
          lambda a: mlp(30, (64,), 2), lambda: keras.optimizers.AdamW(weight_decay=0.01),
          16, 15, (-4.5, 0.0)),
    Combo("wine-mlp-sgdmom", lambda a: _split(*standardized("wine"), 0.4),
          lambda a: mlp(13, (32,), 3), sgd_mom, 8, 15, (-4.0, 0.5)),
    Combo("diabetes-mlp-adam-regression", lambda a: _split(*standardized("diabetes", True)),
          lambda a: mlp(10, (64,), 1, activation=None), lambda: "adam", 32, 30, (-4.5, 0.0),
          regression=True),
    Combo("cifar3k-lenet-sgdmom", lambda a: cifar(a.cifar, 3000, 1000), lambda a: LeNet(),
          sgd_mom, 64, 3, (-3.5, 0.0), needs_cifar=True),
    Combo("cifar3k-bncnn-sgdmom", lambda a: cifar(a.cifar, 3000, 1000), lambda a: bn_cnn(),
          sgd_mom, 128, 4, (-2.5, 1.0), needs_cifar=True),
    Combo("cifar3k-resnet-adamw", lambda a: cifar(a.cifar, 3000, 1000),
          lambda a: small_resnet(), lambda: keras.optimizers.AdamW(weight_decay=5e-4), 128, 3,
          (-3.5, 0.0), needs_cifar=True),
    Combo("cifar-finetune-adam", _few_labels, _finetune_model, lambda: "adam", 32, 4,
          (-4.0, -0.5), fine_tune=True, needs_cifar=True),
]


def score_of(learn: Learner, combo: Combo) -> float:
    if not combo.regression:
        return 100.0 * float(learn.validate()["accuracy"])
    probs, targets = learn.get_preds()
    pred, y = np.asarray(probs, dtype=float).ravel(), np.asarray(targets, dtype=float).ravel()
    if not np.all(np.isfinite(pred)):
        return 0.0
    r2 = 1.0 - float(np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))
    return 100.0 * max(r2, 0.0)


def train(learn: Learner, snap: Snapshot, combo: Combo, lr: float) -> tuple[float, float]:
    """Score of one full run at ``lr`` from the seed's initial state, and its time."""
    snap.restore()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if combo.fine_tune:
            learn.freeze()
            learn.fine_tune(combo.epochs - 1, base_lr=lr, freeze_epochs=1)
        else:
            learn.fit_one_cycle(combo.epochs, lr)
    seconds = time.perf_counter() - t0
    return score_of(learn, combo), seconds


def _learner(combo: Combo, seed: int, args) -> tuple[Learner, Snapshot]:
    """The seed's Learner and a snapshot of its initial state (every run starts from it)."""
    (x, y), (xv, yv) = combo.data(args)
    data = DataBundle.from_arrays(x, y, valid=(xv, yv), batch_size=combo.batch_size, seed=seed,
                                  task="regression" if combo.regression else None)
    keras.utils.set_random_seed(seed)
    model = combo.model(args)
    learn = Learner(model, data, opt=combo.opt(), quiet=True,
                    loss_fn="mse" if combo.regression else None)
    if combo.fine_tune:
        learn.freeze()
    return learn, Snapshot(learn.state_variables(), scope=learn.scope).save()


def _sweep(combo: Combo, seed: int, args, learn: Learner) -> dict:
    """lr_find() (timed) and lr_find(repeats=3) with every method, as recorded results."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        learn.lr_find()
        find_seconds = time.perf_counter() - t0
        one = dict(learn.recorder.suggestions)
        learn.lr_find(repeats=REPEATS, suggest_funcs=METHODS)
    rec = learn.recorder
    sweeps = rec.sweeps
    assert one["robust"].lr == sweeps[0]["suggestions"]["robust"].lr, "sweep 1 != lr_find()"
    return {"combo": combo.name, "seed": seed, "lr_find_seconds": find_seconds,
            "sweep_warnings": sorted({str(w.message)[:160] for w in caught}),
            "sweeps": [{"lrs": _r(s["lrs"]), "losses": _r(s["losses"]),
                        "smooth_losses": _r(s["smooth_losses"]),
                        "stop_reason": s["stop_reason"]} for s in sweeps],
            "beta": rec.lr_find_info["beta"], "num_it": rec.lr_find_info["num_it"]}


def suggest_recorded(out: dict) -> None:
    """(Re)compute every suggestion of a recorded result with the library's current rules,
    exactly as lr_find does (``compute_suggestions`` on the recorded curves): sweep 1's per
    method, the 3-sweep robust and its spread, and the one-sweep bootstrap spread."""
    def curve(values):
        return [math.nan if v is None else v for v in values]

    sweeps = [{"lrs": s["lrs"], "losses": curve(s["losses"]),
               "smooth_losses": curve(s["smooth_losses"]), "stop_reason": s["stop_reason"]}
              for s in out["sweeps"]]
    names, funcs = resolve_suggesters(METHODS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in sweeps:
            rec = SimpleNamespace(**{k: s[k] for k in ("lrs", "losses", "smooth_losses")},
                                  lr_find_info={"beta": out["beta"],
                                                "stop_reason": s["stop_reason"]})
            compute_suggestions(rec, names, funcs, out["num_it"])
            s["found"] = {m: rec.suggestions[m].lr for m in METHODS}
            s["spread"] = rec.suggestions["robust"].spread  # lr_find()'s bootstrap spread
        rec = SimpleNamespace(**{k: sweeps[0][k] for k in ("lrs", "losses", "smooth_losses")},
                              lr_find_info={"beta": out["beta"],
                                            "stop_reason": sweeps[0]["stop_reason"]})
        res = compute_suggestions(rec, names, funcs, out["num_it"], [dict(s) for s in sweeps])
    for recorded, s in zip(out["sweeps"], sweeps, strict=True):
        recorded["suggestions"] = s["found"]
    out["repeat_robust"], out["repeat_spread"] = res.robust, res.spread["robust"]
    # sweep 1's bootstrap spread of robust, as lr_find() reports it (inf: robust gave none)
    out["bootstrap_spread"] = math.inf if sweeps[0]["spread"] is None else sweeps[0]["spread"]


def run_seed(combo: Combo, seed: int, args, cache: dict, recorded: dict | None = None) -> dict:
    """One (combination, seed): the sweeps (or ``recorded`` ones, with their timings), the grid
    and a run at each suggestion; runs already in ``cache`` are not trained again."""
    built: list = []

    def learner() -> tuple[Learner, Snapshot]:
        if not built:
            built.extend(_learner(combo, seed, args))
        return built[0], built[1]

    if recorded is None:
        out = _sweep(combo, seed, args, learner()[0])
    else:
        keep = ("combo", "seed", "lr_find_seconds", "sweep_warnings", "sweeps", "beta",
                "num_it", "run_seconds")
        out = {k: recorded[k] for k in keep if k in recorded}
    suggest_recorded(out)
    out["grid"], out["at"] = {}, {}
    sweeps = out["sweeps"]

    def scored(lr: float) -> tuple[float, float]:
        key = f"{combo.name}|{seed}|{lr:.6g}"
        if key not in cache:
            learn, snap = learner()
            n_vars = len(snap.variables)
            cache[key] = train(learn, snap, combo, lr)
            if len(flatten := Snapshot(learn.state_variables()).variables) != n_vars:
                raise RuntimeError(f"{combo.name}: the state grew during a run "
                                   f"({n_vars} -> {len(flatten)} variables)")
        return tuple(cache[key])

    times = []
    for lr in combo.lrs():
        s, t = scored(lr)
        out["grid"][f"{lr:.6g}"] = s
        times.append(t)
    out["run_seconds"] = statistics.median(times)
    targets = {m: sweeps[0]["suggestions"][m] for m in METHODS}
    targets["robust x3"] = out["repeat_robust"]
    for name, lr in targets.items():
        out["at"][name] = None if lr is None else {"lr": lr, "score": scored(lr)[0]}
    return out


def _r(values) -> list:
    return [float(f"{v:.9g}") if math.isfinite(v) else None for v in map(float, values)]


def _at(result: dict, name: str) -> dict | None:
    """The run at ``name``'s suggestion; ``"default"`` is what ``learn.suggested_lr`` holds
    (robust's, else valley's), so it is one of those two runs."""
    if name == "default":
        return result["at"]["robust"] or result["at"]["valley"]
    return result["at"].get(name)


def regret(result: dict, name: str) -> float:
    grid = list(result["grid"].values())
    at = _at(result, name)
    return max(grid) - (min(grid) if at is None else at["score"])


def noise_floor(rs: list[dict]) -> float:
    """How far apart runs at one and the same LR land: the median, over the grid LRs whose mean
    score is at least 80 % of the best mean (the good region), of the spread (max - min) of
    their scores over seeds. Regrets below it are not resolved by this combination."""
    lrs = list(rs[0]["grid"])
    means = {lr: statistics.mean(r["grid"][lr] for r in rs) for lr in lrs}
    top = max(means.values())
    good = [lr for lr in lrs if means[lr] >= 0.8 * top]
    return statistics.median(max(r["grid"][lr] for r in rs) - min(r["grid"][lr] for r in rs)
                             for lr in good)


def mean_regret(rs: list[dict], name: str) -> float:
    """Regret of the seeds' mean: best mean grid score - mean score at the suggestions."""
    lrs = list(rs[0]["grid"])
    best = max(statistics.mean(r["grid"][lr] for r in rs) for lr in lrs)
    return best - statistics.mean(max(r["grid"].values()) - regret(r, name) for r in rs)


def report(results: list[dict]) -> None:
    names = ["default", *METHODS, "robust x3"]
    by_combo: dict[str, list[dict]] = {}
    for r in results:
        by_combo.setdefault(r["combo"], []).append(r)
    for combo, rs in by_combo.items():
        print(f"\n== {combo} (seeds {[r['seed'] for r in rs]})")
        lrs = list(rs[0]["grid"])
        print("   grid lr  " + " ".join(f"{float(lr):>8.2g}" for lr in lrs))
        for r in rs:
            print(f"   seed {r['seed']}   " + " ".join(f"{r['grid'][lr]:8.1f}" for lr in lrs))
        for name in names:
            cells = []
            for r in rs:
                at = _at(r, name)
                cells.append("    none" if at is None else f"{at['lr']:.2g}:{regret(r, name):+.1f}")
            print(f"   {name:10s} " + "  ".join(f"{c:>12s}" for c in cells)
                  + f"   seeds' mean {mean_regret(rs, name):+.1f}")
        spreads = ", ".join(f"{r['repeat_spread']:.2f}" for r in rs)
        boots = ", ".join(f"{r['bootstrap_spread']:.2f}" for r in rs)
        cost = statistics.median(r["lr_find_seconds"] / r["run_seconds"] for r in rs)
        print(f"   robust spread x3: {spreads}; bootstrap: {boots}; lr_find / run: {cost:.2f}; "
              f"same-LR spread over seeds {noise_floor(rs):.1f} points")
    print("\n== overall: regret in points (best grid - at suggestion), over every (combo, seed)")
    print(f"   {'method':10s} {'mean':>6s} {'worst':>6s} {'median':>7s}  worst at")
    for name in names:
        reg = [(regret(r, name), r["combo"], r["seed"]) for r in results]
        worst = max(reg)
        combo_means = [mean_regret(rs, name) for rs in by_combo.values()]
        print(f"   {name:10s} {statistics.mean(v for v, *_ in reg):6.2f} {worst[0]:6.2f} "
              f"{statistics.median(v for v, *_ in reg):7.2f}  {worst[1]} seed {worst[2]};"
              f" seeds' mean: mean {statistics.mean(combo_means):.2f}, worst "
              f"{max(combo_means):.2f}")
    costs = [r["lr_find_seconds"] / r["run_seconds"] for r in results]
    print(f"   lr_find cost / one full run: median {statistics.median(costs):.2f}, "
          f"range {min(costs):.2f}-{max(costs):.2f}")
    high = [regret(r, "default") > 2.0 for r in results]
    for label, key in (("3-sweep spread", "repeat_spread"), ("bootstrap", "bootstrap_spread")):
        vals = [math.inf if r[key] is None else r[key] for r in results]
        for thr in (2.0, 3.0):
            flagged = [v > thr for v in vals]
            tp = sum(f and h for f, h in zip(flagged, high, strict=True))
            print(f"   {label} > x{thr:g}: flags {sum(flagged)} of {len(vals)} runs; of the "
                  f"{sum(high)} with default regret > 2 points it flags {tp}")
        print(f"   {label}: Spearman rank correlation with the default's regret "
              f"{_spearman(vals, [regret(r, 'default') for r in results]):+.2f}")


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    a = [1e9 if not math.isfinite(v) else v for v in a]
    return float(spearmanr(a, b).statistic)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cifar", default=None, help="CIFAR-10 archive (skip CIFAR combos if unset)")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--only", default=None, help="comma-separated combination names")
    p.add_argument("--json", default=None, help="write every result (curves included) here")
    p.add_argument("--cache", default=None, help="JSON cache of finished runs")
    p.add_argument("--report", default=None, help="only print the report of a --json file")
    p.add_argument("--reuse", default=None,
                   help="a --json file: take its recorded sweeps (and their timings) instead of "
                        "sweeping again, recompute the suggestions with the current rules, and "
                        "train only runs missing from --cache")
    p.add_argument("--recorded-only", action="store_true",
                   help="with --reuse: skip the (combination, seed) pairs it does not hold")
    args = p.parse_args()
    if args.report:
        report(json.loads(Path(args.report).read_text())["results"])
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    combos = [c for c in COMBOS if (args.only is None or c.name in args.only.split(","))
              and (args.cifar or not c.needs_cifar)]
    reuse = {}
    if args.reuse:
        for path in args.reuse.split(","):
            for r in json.loads(Path(path).read_text())["results"]:
                reuse[(r["combo"], r["seed"])] = r
    cache: dict = {}
    if args.cache and Path(args.cache).exists():
        cache = json.loads(Path(args.cache).read_text())
    print(f"# suggest_battery: {len(combos)} combinations x seeds {seeds}; python "
          f"{sys.version.split()[0]}, keras {keras.__version__}; load {os.getloadavg()[0]:.1f}",
          flush=True)
    t_start = time.perf_counter()
    results = []
    for combo in combos:
        for seed in seeds:
            if args.recorded_only and (combo.name, seed) not in reuse:
                continue
            t0 = time.perf_counter()
            results.append(run_seed(combo, seed, args, cache, reuse.get((combo.name, seed))))
            r = results[-1]
            lr = r["at"]["robust"] and r["at"]["robust"]["lr"]
            print(f"# {combo.name} seed {seed}: {time.perf_counter() - t0:.0f} s, robust "
                  f"{'none' if lr is None else f'{lr:.3g}'} regret "
                  f"{regret(r, 'robust'):+.1f}, valley regret {regret(r, 'valley'):+.1f}, "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
            if args.cache:
                Path(args.cache).write_text(json.dumps(cache))
            if args.json:
                Path(args.json).write_text(json.dumps({"results": results}))
    report(results)
    print(f"\n# total {time.perf_counter() - t_start:.0f} s on this machine "
          f"(2 cores; load {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
