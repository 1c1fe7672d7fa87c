"""The one training loop: the Python event loop around the compiled train step.

``fit``, ``lr_find``, ``fit_one_cycle`` and ``fine_tune`` all run :meth:`TrainLoop.fit`; they
differ only by the callbacks, :class:`~tflearner.core.fit_state.StopLimits` and
:class:`~tflearner.core.fit_state.Resume` they pass. Per chunk of ``n`` batches the loop reads
the hyper-parameters of those batches from the planners (:class:`~tflearner.core.events.
Planner`, e.g. a schedule) into one plan, runs one compiled call, then calls ``after_batch`` for
each batch with the values that batch's update used. See ``docs/architecture.md`` for the event
order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from ..core import running_loss
from ..core.events import PLAN_KEYS, CallbackList
from ..core.fit_state import SMOOTH_BETA, FitState, LossEMA, Resume, StopLimits, StopReason
from ..optim.accumulate import UpdateClock
from .chunks import Chunker, deferred_interrupt
from .compiled import Compiled
from .runner import Runner
from .steps import batch_errors

__all__ = ["TrainLoop", "plan_table"]

_NO_LIMITS = StopLimits()


def plan_table(planners: list, state: FitState, n: int, n_groups: int, rows: int) -> np.ndarray:
    """The plan of the next ``n`` batches as the step takes it: float32 ``[rows, n_groups + 2]``
    (one LR per group, then mom, wd; NaN: keep), filled from each planner in turn (a later
    planner's values win); rows past ``n`` are NaN and never used."""
    table = np.full((rows, n_groups + 2), np.nan)
    for planner in planners:
        for name, values in planner.plan(state, n).items():
            if name not in PLAN_KEYS:
                raise ValueError(f"{type(planner).__name__}.plan returned {name!r}; a plan holds "
                                 f"{', '.join(PLAN_KEYS)}.")
            if name == "lr":
                table[:n, :n_groups] = np.reshape(values, (n, n_groups))
            else:
                table[:n, n_groups + PLAN_KEYS.index(name) - 1] = values
    return table.astype(np.float32)


class TrainLoop:
    """The event loop over the compiled train step of ``compiled``; validation runs through
    ``runner``. ``steps_per_execution``: the batches per compiled call (an int or ``"auto"``,
    :class:`~tflearner.loop.chunks.Chunker`)."""

    def __init__(self, compiled: Compiled, runner: Runner,
                 steps_per_execution: int | str) -> None:
        self.compiled, self.runner = compiled, runner
        self.chunker = Chunker(steps_per_execution)
        self.hypers = compiled.config.hypers

    @property
    def trace_counts(self):
        """Traces of each compiled step (``train``, ``eval``, ``predict``), over every rebuild."""
        return self.compiled.trace_counts

    @property
    def steps(self):
        """The compiled steps as last built."""
        return self.compiled.steps

    @property
    def placed(self):
        """Training arrays placed on a device (``DataBundle.placed``), or None."""
        return self.compiled.config.placed

    # ---- the event loop -----------------------------------------------------------------------
    def fit(self, train: tf.data.Dataset, epochs: int, valid: tf.data.Dataset | None,
            cbs: CallbackList, *, learner: object = None, limits: StopLimits = _NO_LIMITS,
            resume: Resume | None = None, smooth_beta: float = SMOOTH_BETA,
            with_train_metrics: bool = True,
            finalize: Callable[[], None] | None = None) -> FitState:
        """Run epochs ``resume.epoch`` (or 0) to ``epochs - 1`` over ``train``, calling ``cbs`` at
        each event, within ``limits``; returns the final :class:`FitState` (``stop_reason``: a
        :class:`~tflearner.core.fit_state.StopReason` or None). ``with_train_metrics=False``
        leaves the training metrics out (lr_find): not updated, not logged, same compiled step.

        ``finalize`` runs once the epochs are over (also after a stop, not after an exception),
        before ``after_fit``: where ``model.fit`` calls ``optimizer.finalize_variable_values``.
        """
        state = self._start(train, epochs, valid, learner, limits, resume, smooth_beta,
                            with_train_metrics)
        placed = self.placed is not None and train is self.placed.host_train
        source = self.placed.indices if placed else train  # same order, gathered in the step
        try:
            cbs("before_fit", state)
            resume = self._resumed(state, resume)
            for epoch in range(resume.epoch if resume else 0, epochs):
                skip = resume.iter if resume is not None and epoch == resume.epoch else 0
                state.epoch, state.iter, state.logs = epoch, skip, {}
                start = time.perf_counter()
                cbs("before_epoch", state)
                self._train_epoch(source, state, cbs, skip)
                if valid is not None:
                    self._validate(valid, state, cbs)
                state.logs["time"] = time.perf_counter() - start
                cbs("after_epoch", state)
                if state.stop_training:
                    break
            if finalize is not None:
                finalize()
        except BaseException as exc:
            state.exception = exc  # model.fit calls no on_train_end when an exception escapes
            raise
        finally:
            cbs("after_fit", state)
        return state

    def _resumed(self, state: FitState, given: Resume | None) -> Resume | None:
        """The fit's start: ``given``, or where a ``before_fit`` hook moved it
        (:meth:`FitState.start_at`), with the step and the update clock there."""
        if state.resume is given:
            return given
        state.step = state.resume.step
        state.clock = UpdateClock.of(self.compiled.config.optimizers[-1], state.step)
        return state.resume

    def check(self, train: tf.data.Dataset, valid: tf.data.Dataset | None) -> None:
        """Refuse, changing no training state, a fit these steps cannot run: a trainable
        variable no group's optimizer was built for, datasets that do not match (builds the
        steps for the current trainable variables when they changed)."""
        self.compiled.for_training()
        self.compiled.check_dataset("train", train)
        if valid is not None:
            self.compiled.check_dataset("valid", valid)

    def _start(self, train, epochs, valid, learner, limits, resume, smooth_beta,
               with_train_metrics) -> FitState:
        """Check the datasets and make the fit's state and the step's constant inputs."""
        self.check(train, valid)
        n = int(train.cardinality())
        train_metrics = list(self.compiled.config.train_metrics)
        metrics_on = bool(with_train_metrics) and bool(train_metrics)
        step = resume.step if resume is not None else 0
        state = FitState(learner=learner, hypers=self.hypers, epochs=epochs,
                         n_iter=n if n >= 0 else None, limits=limits, resume=resume,
                         clock=UpdateClock.of(self.compiled.config.optimizers[-1], step),
                         train_metrics=train_metrics if metrics_on else [], step=step)
        if resume is not None:
            state.ema = LossEMA(**resume.ema.as_dict())
        const = {"beta": smooth_beta, "div_limit": limits.div_limit,
                 "terminate": float(limits.terminate_on_nan), "metrics": float(metrics_on)}
        self._limits = {k: tf.constant(v, tf.float64) for k, v in const.items()}
        return state

    def _validate(self, valid: tf.data.Dataset, state: FitState, cbs: CallbackList) -> None:
        """``before_validate``, ``after_valid_batch`` per batch, ``after_validate`` (logs:
        ``valid_loss`` and the metrics)."""
        state.training = False

        def after_valid_batch(i: int, running_loss: float) -> None:
            state.valid_iter, state.valid_loss = i, running_loss
            cbs("after_valid_batch", state)

        cbs("before_validate", state)
        state.logs.update(self.runner.evaluate(valid, prefix_loss="valid_loss",
                                               on_batch=after_valid_batch))
        cbs("after_validate", state)

    def _train_epoch(self, train: tf.data.Dataset, state: FitState, cbs: CallbackList,
                     skip: int) -> None:
        """``before_train``, the epoch's chunks, ``after_train`` (logs: ``train_loss``)."""
        state.training, state.chunk_end = True, True
        self._begin_epoch_sums(state, resumed=state.resume is not None and skip)
        cbs("before_train", state)
        iterator = iter(self.compiled.distribute(train))
        for _ in range(skip):  # resuming mid-epoch: the same order, minus what ran
            next(iterator)
        planners, sync = cbs.planners, cbs.sync
        for n in self.chunker.sizes(state, sync, state.limits.max_steps):
            if self._run_chunk(iterator, n, state, cbs, planners, sync) < n and (
                    not state.stop_training):
                break  # the data ran out: the epoch has ended
        if state.iter == 0:
            raise ValueError("train yielded no batches in this epoch; it must yield at least "
                             "one batch per epoch.")
        if state.n_iter is None and not state.stop_training:
            state.n_iter = state.iter
        limit = state.limits.max_steps
        if limit is not None and state.step >= limit and not state.stop_training:
            state.stop(StopReason.MAX_STEPS)
        state.chunk_end = True
        state.logs["train_loss"] = state.loss_sum / state.seen if state.seen else math.nan
        for m in state.train_metrics:
            state.logs[f"train_{m.name}"] = float(m.result()) if state.seen else math.nan
        cbs("after_train", state)

    @staticmethod
    def _begin_epoch_sums(state: FitState, resumed: bool) -> None:
        """The epoch's loss sums and training metrics: zero, or the checkpoint's when resuming
        mid-epoch."""
        state.loss_sum, state.seen = ((state.resume.loss_sum, state.resume.seen) if resumed
                                      else (0.0, 0))
        for m in state.train_metrics:
            m.reset_state()
        if resumed:
            for m, values in zip(state.train_metrics, state.resume.train_metric_state,
                                 strict=False):
                for v, value in zip(m.variables, values, strict=True):
                    v.assign(np.asarray(value, dtype=v.dtype))

    def _run_chunk(self, iterator, n: int, state: FitState, cbs: CallbackList, planners: list,
                   sync: bool) -> int:
        """Plan, run and report one chunk of up to ``n`` batches; returns how many ran.

        At one batch per call (``sync``) the batch's planned row is assigned before
        ``before_batch``, so a callback acting there sees it and may change it; otherwise the
        compiled step applies each row itself, just before its batch."""
        steps = self.compiled.steps
        table = plan_table(planners, state, n, self.hypers.n_groups, self.chunker.max_chunk)
        if sync and planners:
            steps.apply_plan_row(tf.constant(table[0]))
            table[:] = np.nan
        cbs("before_batch", state)
        carry = {k: tf.constant(v, tf.float64) for k, v in state.ema.as_dict().items()}
        with deferred_interrupt():  # a Ctrl-C waits until this chunk is reported
            started = time.perf_counter()
            with batch_errors(self.compiled.config.n_classes):
                out = steps.train_steps(iterator, tf.constant(table), tf.constant(n), carry,
                                        self._limits)
            rows = {k: v.numpy().tolist() for k, v in out["rows"].items()}
            rows["group_lrs"] = out["group_lrs"].numpy().tolist()
            self.chunker.observe(time.perf_counter() - started, len(rows["loss"]))
            code = int(out["code"])
            state.ema = LossEMA(**{k: float(v) for k, v in out["carry"].items()})
            self._report(rows, code, state, cbs)
        ran = len(rows["loss"])
        if (code == running_loss.END_OF_DATA and state.n_iter is not None
                and state.iter < state.n_iter):
            raise ValueError(f"train yielded {state.iter} batches in epoch {state.epoch} but its "
                             f"cardinality says {state.n_iter}; fix the dataset's length.")
        return ran

    def _report(self, rows: dict[str, list], code: int, state: FitState,
                cbs: CallbackList) -> None:
        """``after_batch`` for each batch that ran, with the values its update used."""
        ran, reason = len(rows["loss"]), running_loss.reason_of(code)
        for j in range(ran):
            state.chunk_end = j == ran - 1
            state.loss, state.smooth_loss = rows["loss"][j], rows["smooth"][j]
            state.lr, state.wd, state.lrs = rows["lr"][j], rows["wd"][j], rows["group_lrs"][j]
            state.mom = None if self.hypers.mom_attr is None else rows["mom"][j]
            state.batch_size = int(rows["batch_size"][j])
            if rows["ok"][j] > 0.5:
                state.loss_sum += state.loss * state.batch_size
                state.seen += state.batch_size
            else:
                state.n_skipped += 1
            if state.chunk_end and reason is not None:
                state.stop(reason)
            stop_before = state.stop_training
            cbs("after_batch", state)
            if state.stop_training and not stop_before:
                state.stop(StopReason.CALLBACK)
            state.iter += 1
            state.step += 1
