"""Running the battery: one :class:`Unit` per (problem, seed) trains what the cache lacks.

Every run of a unit starts from the same state: the seed's initial weights (Keras seeded, then
the model built), optimizer, hyper-parameters and data-order counter, restored bit for bit from
one snapshot before each fit and each method (``model.fit`` peers get a fresh model with the
same initial weights and the same data order). Stages run in the order of :data:`STAGES`
for a group of problems before the next group; a numerics variant runs in a child process
with its environment set before TensorFlow is imported.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
import warnings
from typing import Any

import keras
import numpy as np

from tflearner import Callback, DataBundle, Learner, Snapshot

from .cache import Cache, choose_key, fit_key
from .methods import Budget, MethodSpec, ladder_epochs
from .problems import Problem, learner_opt

__all__ = ["Setup", "Unit", "Missing", "STAGES", "run", "run_stage", "pending", "groups",
           "oracle_lr"]

#: grid (oracle and noise floor), the ladder at the oracle's LR, then the methods by stage.
STAGES = ("grid", "oracle-ladder", "1", "2", "3")


class StepCounter(Callback):
    """Counts every trained batch of every fit and sweep of the Learner it is given to."""

    def __init__(self) -> None:
        self.batches = 0

    def after_batch(self, state) -> None:
        self.batches += 1


class Setup:
    """A problem at one seed: its data, the seed's initial weights, and what the peers need
    (a fresh model with those weights, the Keras loss and metrics, the test score)."""

    def __init__(self, problem: Problem, seed: int, args: Any) -> None:
        if problem.prepare is not None:
            problem.prepare(args)
        self.problem, self.seed, self.args = problem, seed, args
        self.splits = problem.data(args)
        ys = [s[1] for s in (self.splits.train, self.splits.valid, self.splits.test)]
        self.n_classes = 1 if problem.regression else int(max(int(y.max()) for y in ys)) + 1
        self.data = DataBundle.from_arrays(
            *self.splits.train, valid=self.splits.valid, batch_size=problem.batch_size,
            seed=seed, task="regression" if problem.regression else None)
        self._data_start = [int(v.numpy()) for v in self.data.rng_state]
        keras.utils.set_random_seed(seed)
        self.model = problem.model(args)
        self.init_weights = [np.array(w) for w in self.model.get_weights()]

    def fresh_model(self) -> keras.Model:
        """A new model with the seed's initial weights (uncompiled)."""
        keras.utils.set_random_seed(self.seed)
        model = self.problem.model(self.args)
        model.set_weights(self.init_weights)
        return model

    def reset_data_order(self) -> None:
        for v, start in zip(self.data.rng_state, self._data_start, strict=True):
            v.assign(start)

    def keras_loss(self) -> Any:
        loss = self.problem.loss_fn(self.n_classes)
        return keras.losses.SparseCategoricalCrossentropy() if loss is None else loss

    def keras_metrics(self) -> list:
        return [] if self.problem.regression else [
            keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def score(self, model: keras.Model) -> float:
        """Test accuracy in percent (a regression: R² × 100, floored at 0; 0 if not finite)."""
        x, y = self.splits.test_x, self.splits.test[1]
        pred = np.concatenate([np.asarray(model(x[i:i + 1000], training=False))
                               for i in range(0, len(x), 1000)])
        if not np.all(np.isfinite(pred)):
            return 0.0
        if not self.problem.regression:
            return 100.0 * float(np.mean(pred.argmax(-1) == y))
        y, pred = y.astype(float).ravel(), pred.astype(float).ravel()
        r2 = 1.0 - float(np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))
        return 100.0 * max(r2, 0.0)


def _values(learn: Learner) -> list[dict]:
    """Per-epoch history of the last fit (both phases of a fine_tune), JSON-able."""
    phases = getattr(learn.recorder, "phases", None) or (learn.recorder.history_state(),)
    return [{k: (float(v) if isinstance(v, (int, float, np.floating)) else v)
             for k, v in row.items()} for ph in phases for row in ph["values"]]


class Missing(Exception):
    """A dry :class:`Unit` met a run that the cache lacks."""


class Unit:
    """One (problem, seed): builds the Setup and Learner only when a run is missing
    (``dry``: raises :class:`Missing` instead of training)."""

    def __init__(self, problem: Problem, seed: int, args: Any, cache: Cache,
                 dry: bool = False) -> None:
        self.problem, self.seed, self.args, self.cache = problem, seed, args, cache
        self.dry = dry
        self._built: tuple | None = None
        self.trained = 0  # runs trained (not from the cache) by this unit

    def built(self) -> tuple[Setup, Learner, Snapshot, StepCounter]:
        if self._built is None:
            setup = Setup(self.problem, self.seed, self.args)
            counter = StepCounter()
            learn = Learner(setup.model, setup.data, opt=learner_opt(self.problem.opt),
                            loss_fn=self.problem.loss_fn(setup.n_classes), quiet=True,
                            callbacks=[counter])
            snap = Snapshot(learn.state_variables(), scope=learn.scope).save()
            self._built = (setup, learn, snap, counter)
        return self._built

    def budget(self) -> Budget:
        setup, learn, *_ = self.built()
        return Budget(self.problem.epochs, self.problem.batch_size,
                      learn.data.n_train_batches, self.problem.fine_tune)

    def restore(self) -> Learner:
        """The Learner at the seed's initial state, frozen for a fine-tuning problem."""
        setup, learn, snap, _ = self.built()
        snap.restore()
        if self.problem.fine_tune:  # a user sweeps the frozen model; fine_tune freezes itself
            learn.freeze()
        learn.suggested_lr = None
        return learn

    def fit(self, lr: float, epochs: int) -> dict:
        """The user's final fit at ``lr`` for ``epochs`` (cached)."""
        key = fit_key(self.problem.name, self.seed, self.problem.variant, lr, epochs)
        if key in self.cache:
            return self.cache[key]
        if self.dry:
            raise Missing(key)
        setup, *_ = self.built()
        learn, counter = self.restore(), self.built()[3]
        c0, t0 = counter.batches, time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.problem.fine_tune:
                learn.fine_tune(epochs - 1, base_lr=lr, freeze_epochs=1)
            else:
                learn.fit_one_cycle(epochs, lr)
        rec = {"score": setup.score(learn.model), "seconds": time.perf_counter() - t0,
               "batches": counter.batches - c0, "curve": _values(learn),
               "n_test": len(setup.splits.test[1])}
        self.cache[key] = rec
        self.trained += 1
        return rec

    def choose(self, spec: MethodSpec) -> dict:
        """``spec``'s choice (cached), with its cost in full-fit units."""
        key = choose_key(self.problem.name, self.seed, self.problem.variant, spec.key)
        if key in self.cache:
            return self.cache[key]
        if self.dry:
            raise Missing(key)
        setup, _, _, counter = self.built()
        budget, learn = self.budget(), self.restore()
        c0, t0 = counter.batches, time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            choice = spec.fn(learn, setup, budget)
        seconds = time.perf_counter() - t0
        cost = choice.cost if choice.cost is not None else (counter.batches - c0) / budget.steps
        rec = {"lr": None if choice.lr is None else float(choice.lr), "cost": float(cost),
               "scores": choice.scores, "final_cost": choice.final_cost, "seconds": seconds,
               "info": choice.info, "warnings": sorted({str(w.message)[:200] for w in caught})}
        self.cache[key] = rec
        self.trained += 1
        return rec

    def close(self) -> None:
        self._built = None
        keras.backend.clear_session()
        gc.collect()


def oracle_lr(unit: Unit) -> float:
    """The grid LR with the best score at this seed (the first of ties)."""
    scores = [(unit.fit(lr, unit.problem.epochs)["score"], -i, lr)
              for i, lr in enumerate(unit.problem.lrs())]
    return max(scores)[2]


def _ladder(unit: Unit, lr: float) -> None:
    for e in ladder_epochs(unit.problem.epochs, unit.problem.fine_tune):
        unit.fit(lr, e)


def run_stage(unit: Unit, stage: str, methods: list[MethodSpec]) -> None:
    p = unit.problem
    if stage == "grid":
        for lr in p.lrs():
            unit.fit(lr, p.epochs)
        return
    if stage == "oracle-ladder":
        _ladder(unit, oracle_lr(unit))
        return
    for spec in methods:
        if str(spec.stage) != stage:
            continue
        rec = unit.choose(spec)
        if rec["lr"] is None:
            continue
        if rec["scores"] is None:
            unit.fit(rec["lr"], p.epochs)
            if spec.ladder:
                _ladder(unit, rec["lr"])
        elif spec.onecycle and p.extras:
            unit.fit(rec["lr"], p.epochs)


def groups(problems: list[Problem]) -> list[list[Problem]]:
    """Run order: the cheap problems, then the demo's variants, then full CIFAR-10."""
    def rank(p: Problem) -> int:
        return 2 if p.name == "cifar10-lenet-sgd" else 1 if p.env else 0

    return [g for r in range(3) if (g := [p for p in problems if rank(p) == r])]


def pending(p: Problem, stage: str, seeds: list[int], methods: list[MethodSpec], args: Any,
            cache: Cache) -> bool:
    """Whether ``stage`` of ``p`` has a run the cache lacks (checked without training)."""
    for seed in seeds:
        try:
            run_stage(Unit(p, seed, args, cache, dry=True), stage, methods)
        except Missing:
            return True
    return False


def _child(p: Problem, stage: str, seeds: list[int], methods: list[MethodSpec], args: Any,
           cache: Cache) -> int:
    """Run ``stage`` of ``p`` in a child process (with ``p.env`` set before TensorFlow is
    imported); returns the runs it added to the cache."""
    cmd = [sys.executable, "-m", "benchmarks.lr_battery", "--only", p.name, "--stages", stage,
           "--seeds", ",".join(map(str, seeds)), "--cache", str(cache.path), "--child",
           "--no-report", "--methods", ",".join(m.name for m in methods),
           "--kt-budget", str(args.kt_budget)]
    if args.cifar:
        cmd += ["--cifar", args.cifar]
    if getattr(args, "plugin", None):
        cmd += ["--plugin", args.plugin]
    cache.save()
    before = len(cache.runs)
    subprocess.run(cmd, env={**os.environ, **p.env}, check=True)
    cache.reload()
    return len(cache.runs) - before


def _in_env(p: Problem) -> bool:
    return all(os.environ.get(k) == v for k, v in p.env.items())


def run(problems: list[Problem], seeds: list[int], stages: list[str], methods: list[MethodSpec],
        args: Any, cache: Cache, isolate: bool = False) -> int:
    """Every stage of every group of problems, each (problem, seed) once per stage; returns
    the number of runs trained (the rest came from the cache). ``isolate``: each (problem,
    stage) with missing runs trains in a child process, which keeps memory bounded; a
    numerics variant always does."""
    trained = 0
    for group in groups(problems):
        for stage in stages:
            for p in group:
                if isolate or not _in_env(p):
                    if pending(p, stage, seeds, methods, args, cache):
                        trained += _child(p, stage, seeds, methods, args, cache)
                    continue
                for seed in seeds:
                    unit, t0 = Unit(p, seed, args, cache), time.perf_counter()
                    run_stage(unit, stage, methods)
                    trained += unit.trained
                    if unit.trained:
                        cache.save()
                        print(f"# {p.name} seed {seed} stage {stage}: {unit.trained} new runs, "
                              f"{time.perf_counter() - t0:.0f} s, load "
                              f"{os.getloadavg()[0]:.1f}", flush=True)
                    unit.close()
    return trained
