"""How an LR is chosen: the method interface, the registry, and the LR-finder methods.

A method is ``fn(learn, setup, budget) -> Choice``. It gets the problem's ``Learner`` at the
seed's initial state (frozen for a fine-tuning problem, as a user would sweep it), may train
anything (the battery restores the state afterwards), and returns the LR the user's final fit
would use. The battery then trains that fit (``fit_one_cycle(epochs, lr)``, or ``fine_tune``)
from the same initial state and scores it on the test split, which no method ever sees.
The compute a method spends on the Learner is counted in trained batches (sweeps, races,
trial fits) and reported in full-fit units (batches / the final fit's batches); a method that
trains outside the Learner (a ``model.fit`` peer) states its own ``cost``.

Plugging in a method (``verified.py`` is the verified LR finder's, in full)::

    from benchmarks.lr_battery.methods import Choice, register

    @register("my-rule", ladder=True)
    def my_rule(learn, setup, budget):
        res = learn.lr_find(quiet=True, **setup.problem.sweep)
        return Choice(res.valley / 2, info={"sure": False})  # info["sure"]: calibration rows

``version`` is part of the cache key: bump it when the rule changes and the battery re-runs
only that method's choices and fits (fits at an LR already trained are reused). A method whose
last act is the final model itself (a race that trains its winner to the end) returns
``Choice(lr, scores={"": setup.score(learn.model)}, final_cost=...)`` and no final fit is run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Budget", "Choice", "MethodSpec", "METHODS", "Method", "register", "ladder_epochs",
           "sweep_info"]


@dataclass(frozen=True)
class Budget:
    """The final fit a method chooses for: ``epochs`` (for a fine-tuning problem: 1 frozen +
    ``epochs - 1`` unfrozen), ``batches`` per epoch, ``steps`` = their product (one full-fit
    unit of compute), ``fine_tune`` whether the final fit is ``fine_tune``."""

    epochs: int
    batch_size: int
    batches: int
    fine_tune: bool = False

    @property
    def steps(self) -> int:
        return self.epochs * self.batches


@dataclass
class Choice:
    """What a method chose.

    ``lr``: the final fit's (max / base) LR; None with no ``scores`` means "no suggestion"
    (charged the seed's worst grid score, as a user would be stuck).
    ``cost``: compute spent choosing, in full-fit units; None: the battery's count of the
    batches the method trained on the Learner.
    ``scores``: a method that trains its own final model (a ``model.fit`` peer) reports its
    test scores here, ``{"": primary, "y": ...}``; every key but ``""`` becomes a row
    ``name@key``. ``final_cost``: that final model's compute (full-fit units).
    ``info``: anything JSON-able worth keeping (curves, confidence, trials).
    """

    lr: float | None
    cost: float | None = None
    scores: dict[str, float] | None = None
    final_cost: float | None = None
    info: dict[str, Any] = field(default_factory=dict)


Method = Callable[[Any, Any, Budget], Choice]


@dataclass(frozen=True)
class MethodSpec:
    """A registered method. ``ladder``: also fit one-cycle at its LR for the shorter budgets
    of :func:`ladder_epochs` (the "epochs to the Keras default's accuracy" column).
    ``onecycle``: for a peer that returns ``scores`` and an ``lr`` for the problem's own
    optimizer, also fit one-cycle at that LR (a row ``name@one-cycle``). ``stage``: run order
    (1 LR finders, 2 cheap peers, 3 the 8-trial tuner); ``version``: part of the cache key."""

    name: str
    fn: Method
    version: str = "1"
    ladder: bool = False
    onecycle: bool = False
    stage: int = 1

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"


METHODS: dict[str, MethodSpec] = {}


def register(name: str, *, version: str = "1", ladder: bool = False, onecycle: bool = False,
             stage: int = 1) -> Callable[[Method], Method]:
    """Decorator: add ``fn`` to :data:`METHODS` under ``name`` (replacing one of that name)."""
    if not name or "|" in name or "@" in name:
        raise ValueError(f"name must be non-empty without '|' or '@', got {name!r}")

    def deco(fn: Method) -> Method:
        METHODS[name] = MethodSpec(name, fn, version, ladder, onecycle, stage)
        return fn

    return deco


def ladder_epochs(epochs: int, fine_tune: bool = False) -> list[int]:
    """The shorter one-cycle budgets: about 1/8, 1/4 and 1/2 of ``epochs`` (rounded, at least
    1, or 2 for ``fine_tune``: one frozen epoch plus one), each below ``epochs``."""
    low = 2 if fine_tune else 1
    return sorted({e for e in (max(low, round(epochs * f)) for f in (0.125, 0.25, 0.5))
                   if e < epochs})


def _r(values) -> list:
    return [float(f"{v:.6g}") if math.isfinite(v) else None for v in map(float, values)]


def sweep_info(learn) -> dict:
    """The last sweep's curve and suggestions, JSON-able."""
    rec = learn.recorder
    return {"lrs": _r(rec.lrs), "losses": _r(rec.losses),
            "smooth_losses": _r(rec.smooth_losses),
            "stop_reason": rec.lr_find_info.get("stop_reason"),
            "suggestions": {k: s.lr for k, s in rec.suggestions.items()}}


def _finder(suggest_funcs: tuple[str, ...] | None) -> Method:
    def choose(learn, setup, budget: Budget) -> Choice:
        kwargs = dict(setup.problem.sweep)
        if suggest_funcs is not None:
            kwargs["suggest_funcs"] = suggest_funcs
        learn.lr_find(**kwargs)
        return Choice(learn.suggested_lr, info={"sweep": sweep_info(learn)})

    return choose


register("default", ladder=True)(_finder(None))
register("valley")(_finder(("valley",)))
