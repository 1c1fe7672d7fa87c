"""Fit policies: ``fit_one_cycle``, ``fit_flat_cos`` and ``fit_sgdr`` as one path.

:func:`fit_policy` resolves the peak LRs (``None``: the last ``lr_find`` suggestion, every group
at its current ratio to the last), warns when the peak is far above where the last sweep
diverged (the guard rail), counts the fit's optimizer updates, lays the schedule out with
:func:`tflearner.schedules.fit_plan` (which checks every argument, ``max_lr`` included, once) and
hands it to :func:`~tflearner.training.fitting.run_fit` as a ``ParamScheduler``.

``max_lr``'s path to the optimizer: ``Learner.fit_one_cycle`` -> :func:`fit_policy` ->
:func:`~tflearner.schedules.fit_plan` (a ``[steps, groups]`` array) ->
:class:`~tflearner.callbacks.ParamScheduler` (a plan) -> ``TrainLoop`` (one chunk's rows) ->
the compiled step (assigns each row to the LR variables).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from ..callbacks.scheduler import ParamScheduler
from ..core.caller import warn_at_caller
from ..core.fit_state import FitState
from ..core.state_io import schedule_hash
from ..lr_finder.driver import verified_lr
from ..lr_finder.finder import above_divergence
from ..lr_finder.verify import Planned, planned_fit
from ..optim.accumulate import UpdateClock
from ..schedules import fit_plan, sgdr_epochs, spread_lr
from .fitting import FitArgs, FitHandle, HyperSettings, check_epochs, check_fit, check_wd, run_fit

__all__ = ["fit_policy", "peak_lrs", "total_updates", "auto_lr"]

log = logging.getLogger(__name__)


class PolicyHandle(FitHandle, Protocol):
    """What :func:`fit_policy` needs of a Learner besides :class:`FitHandle`'s."""

    opt: Any
    hypers: Any
    suggested_lr: float | None
    last_sweep: dict | None
    lr_ratios: tuple | None


def total_updates(learn: PolicyHandle, epochs: int) -> int:
    """The optimizer updates ``epochs`` epochs apply: the schedule's length (batches without
    gradient accumulation); warns when the last update would only be applied by the next fit."""
    n_iter = learn.data.n_train_batches
    if not n_iter:
        raise ValueError("data.train has an unknown number of batches, so a schedule cannot "
                         "be laid out; give it a length with "
                         "ds.apply(tf.data.experimental.assert_cardinality(n_batches)).")
    clock = UpdateClock.of(learn.opt)
    if clock.k == 1:
        return epochs * n_iter
    updates, left = clock.updates_in(epochs * n_iter), (clock.r0 + epochs * n_iter) % clock.k
    if left:
        warn_at_caller(
            f"with gradient_accumulation_steps={clock.k}, the last {left} batch(es) of this fit "
            f"({epochs} epochs × {n_iter} batches) start an update that is applied only by "
            "the next fit; make epochs × batches per epoch a multiple of "
            f"{clock.k} to avoid it.")
    if updates < 1:
        raise ValueError(f"this fit of {epochs * n_iter} batches applies no optimizer update "
                         f"(gradient_accumulation_steps={clock.k}); train for more epochs.")
    return updates


def auto_lr(learn: PolicyHandle, value: str, name: str, quiet: bool | None,
            planned: Planned) -> float:
    """``name="auto"``: the verified LR of ``lr_find``'s sweep and a race sized to ``planned``
    (:func:`~tflearner.lr_finder.driver.verified_lr`); ``planned`` is built, and with it every
    argument of the fit checked, before the sweep."""
    if value != "auto":
        raise TypeError(f"{name}={value!r} is not a learning rate; pass a number, a slice, None "
                        "(the last lr_find suggestion) or 'auto' (lr_find verified by trial "
                        "fits of this fit).")
    return verified_lr(learn, planned, quiet)


def peak_lrs(learn: PolicyHandle, max_lr: Any, name: str = "max_lr") -> Any:
    """``max_lr`` as :func:`~tflearner.schedules.fit_plan` takes it (a number times a
    ``MultiOptimizer``'s ``lr_ratios``); None: the last lr_find suggestion for the last group
    and every other group at its current ratio to it."""
    if max_lr is not None:
        return spread_lr(max_lr, learn.lr_ratios)
    if learn.suggested_lr is None:
        raise ValueError(f"{name}=None uses the last lr_find suggestion, but there is "
                         f"none: run learn.lr_find() first or pass {name} (e.g. 3e-1).")
    return learn.suggested_lr * learn.hypers.ratios


def _guard(learn: PolicyHandle, peak: float) -> None:
    """The guard rail: warn (once per lr_find) when the schedule's peak LR, the last group's,
    is far above the LR at which the last lr_find diverged
    (:func:`~tflearner.lr_finder.finder.above_divergence`)."""
    message = above_divergence(peak, learn.last_sweep or {}, learn.suggested_lr)
    if message is not None:
        learn.last_sweep = None  # said once; fine_tune's second phase does not repeat it
        warn_at_caller(message)


def _momentum(learn: PolicyHandle, plan: Any) -> Any:
    """``plan`` without momentum for an optimizer that has none to cycle (a warning names the
    fix when it has one that cannot be)."""
    if plan.mom is None or learn.hypers.mom_attr is not None:
        return plan
    if learn.hypers.mom_problem is not None:
        warn_at_caller(learn.hypers.mom_problem)
    else:
        log.info("fit_one_cycle: %s has no momentum term; cycling the LR only.",
                 type(learn.opt).__name__)
    return plan.without_mom()


def fit_policy(learn: PolicyHandle, policy: str, epochs: int | None, max_lr: Any,
               args: FitArgs, wd: float | None = None, name: str = "max_lr",
               **options: Any) -> FitState:
    """Fit ``policy`` (``"one_cycle"``, ``"flat_cos"``, ``"sgdr"``) for ``epochs`` epochs
    (``None`` for ``"sgdr"``: its cycles' epochs) from peak ``max_lr`` (``name`` in errors;
    ``"auto"``: :func:`auto_lr`); ``options`` are the policy's
    (:func:`~tflearner.schedules.fit_plan`). Every argument is checked before the sweep of
    ``"auto"`` and before anything changes."""
    epochs = sgdr_epochs(**options) if policy == "sgdr" else check_epochs(epochs)
    wd = check_wd(wd)
    check_fit(learn, args, f"fit_{policy}")
    if isinstance(max_lr, str):  # the race sets learn.suggested_lr; None then keeps the
        auto_lr(learn, max_lr, name, args.quiet,  # groups' ratios, as the trials did
                planned_fit(learn, policy, epochs, wd, **options))
        max_lr = None
    max_lr = peak_lrs(learn, max_lr, name)
    plan = fit_plan(policy, total_updates(learn, epochs), max_lr, len(learn.groups), name,
                    **options)
    plan = _momentum(learn, plan)
    settings = HyperSettings(wd=wd)
    head = {name: values[:, -1] if name == "lr" else values  # the shape; "peaks" the spread
            for name, values in plan.arrays().items()}
    signature = {"method": f"fit_{policy}", "schedule": schedule_hash(head),
                 "peaks": plan.peaks.tolist(), "wd": settings.signed(learn.hypers)["wd"]}
    return run_fit(learn, epochs, args, signature, ParamScheduler(plan), settings,
                   on_start=lambda: _guard(learn, float(plan.peaks[-1])))
