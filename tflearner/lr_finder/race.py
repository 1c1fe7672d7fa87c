"""The verified LR finder's pure parts: where the race's candidates sit, how long each round
trains, how trial results are read, and how sure the answer is.

``lr_find(verify=...)`` sweeps, then *races* a few candidate learning rates with short trial fits
of the schedule the user will run (``tflearner.lr_finder.verify`` runs them); everything here
is plain numpy on the numbers those runs produce:

1. :func:`cliff_lr`: the LR where the sweep's smoothed loss first rises :data:`CLIFF_RISE`
   (30 %) above its lowest value, past that lowest point; the sweep's last LR when it never
   does. The one landmark every sweep has, even one that is flat until it blows up.
2. :func:`candidate_lrs`: :data:`N_CANDIDATES` LRs from ``cliff / 10**(1/3)`` down, spaced by
   :data:`SPACING` (2/3 of a decade): 3.3 decades below the cliff, where the right LR of every
   problem we measured lay (``docs/lr_finder.md``, "The race").
3. Round 1 trains every candidate for :data:`FIRST_BUDGET` of the planned fit's steps. Each trial
   is scored by its validation loss (lower is better). :func:`smoothed` averages each
   candidate's loss with its neighbours' (at either end of the LRs tried, the missing neighbour
   counts as the round's worst loss), so a candidate that trained well between two that failed
   does not win: an LR at the edge of a cliff is a coin flip over a longer fit. When the winner
   is the highest or lowest LR tried, :func:`beyond` adds two more past it (at most
   :data:`MAX_EXTENSIONS` times), since the best LR may lie outside the first six.
4. :func:`informative`: the round said something only if its best trial's loss is at most
   ``1 - GATE`` times the untrained model's (``baseline``). Then :func:`refine` adds the
   winner's two neighbours 1/3 of a decade away (same budget) and the race is read again. A
   round where nothing learned yet (a net that needs an epoch to wake up) eliminates nothing:
   :func:`second_round` trains the three LRs around round 1's winner, 1/3 of a decade apart,
   :data:`SECOND_FACTOR` times longer.
5. :func:`horizon_lr`: trials are shorter than the fit, and for an optimizer whose step does
   not scale with the gradient (Adam and its family, RMSprop, Lion, Muon: *normalized*), the
   best LR falls as training gets longer; the answer is the winner times ``(trial_steps /
   total_steps) ** HORIZON_EXPONENT``. SGD's step shrinks with the gradient and Adagrad's with
   its accumulator, so their winner stands as it is (exponent 0).
6. :func:`assess`: how sure the answer is, from what the race saw (``docs/lr_finder.md`` has the
   calibration).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.checks import check_int, check_real

__all__ = ["CLIFF_RISE", "N_CANDIDATES", "SPACING", "TOP", "FIRST_BUDGET", "GATE",
           "SECOND_FACTOR", "FINE_SPACING", "HORIZON_EXPONENT", "MAX_EXTENSIONS",
           "MIN_TRIAL_STEPS", "MIN_SURE_STEPS", "FAILED", "Trial", "Verdict", "assess", "beyond",
           "candidate_lrs", "cliff_lr", "failed", "horizon_lr", "informative", "penalised",
           "pick", "refine", "second_round", "smoothed", "trial_steps"]

#: The cliff: the smoothed loss is 30 % above its lowest value.
CLIFF_RISE = 0.3
#: Round 1's candidates, 2/3 of a decade apart, the first 1/3 of a decade below the cliff.
N_CANDIDATES = 6
SPACING = 10 ** (2 / 3)
TOP = 10 ** (-1 / 3)
#: Round 1 trains each candidate for this share of the planned fit's steps.
FIRST_BUDGET = 1 / 9
#: A round is informative when its best validation loss is at most (1 - GATE) x the baseline.
GATE = 0.3
#: Round 2 (after an uninformative round 1): 3 candidates 1/3 of a decade apart, 3x longer.
SECOND_FACTOR = 3
#: Refinement and round 2 space their LRs 1/3 of a decade apart.
FINE_SPACING = 10 ** (1 / 3)
#: For a normalized optimizer the best LR scales as steps ** -HORIZON_EXPONENT.
HORIZON_EXPONENT = 0.35
#: How many times the race adds two candidates past a winner at the end of the LRs tried.
MAX_EXTENSIONS = 2
#: No trial is shorter than this many steps.
MIN_TRIAL_STEPS = 8
#: A trial that ends at this many times the untrained model's loss, or diverges, has failed.
FAILED = 2.0
#: A race whose last trials were shorter than this many updates is never sure.
MIN_SURE_STEPS = 20


@dataclass(frozen=True)
class Trial:
    """One trial fit: its peak ``lr`` (the last layer group's), ``steps``, the validation
    ``loss`` it ended with (``inf`` when it diverged), its ``metrics`` and ``curve``: the
    smoothed training loss of every batch."""

    lr: float
    steps: int
    loss: float
    metrics: dict[str, float] = field(default_factory=dict)
    curve: tuple[float, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """How sure the race is: ``sure`` and the ``reasons`` behind it (what to do when not)."""

    sure: bool
    reasons: tuple[str, ...] = ()


def cliff_lr(lrs: Sequence[float], smooth_losses: Sequence[float],
             rise: float = CLIFF_RISE) -> tuple[float, bool]:
    """``(lr, found)``: the first LR past the lowest smoothed loss where the loss exceeds
    ``lowest + rise * |lowest|``; ``(last finite LR, False)`` when it never does.

    >>> cliff_lr([1, 2, 3, 4], [2.0, 1.0, 1.2, 1.5])
    (4.0, True)
    """
    lrs_a = np.asarray(lrs, dtype=np.float64)
    s = np.asarray(smooth_losses, dtype=np.float64)
    if lrs_a.shape != s.shape or lrs_a.ndim != 1:
        raise ValueError(f"lrs and smooth_losses must be 1-D of one length, got shapes "
                         f"{lrs_a.shape} and {s.shape}.")
    ok = np.isfinite(lrs_a) & np.isfinite(s)
    if not ok.any():
        raise ValueError("smooth_losses has no finite value; the sweep recorded nothing usable.")
    lrs_a, s = lrs_a[ok], s[ok]
    low = int(np.argmin(s))
    above = np.flatnonzero(s[low + 1:] > s[low] + rise * abs(s[low]))
    if len(above):
        return float(lrs_a[low + 1 + above[0]]), True
    return float(lrs_a[-1]), False


def candidate_lrs(cliff: float, n: int = N_CANDIDATES, spacing: float = SPACING,
                  top: float = TOP) -> np.ndarray:
    """``n`` LRs from ``cliff * top`` down by factors of ``spacing`` (highest first).

    >>> candidate_lrs(10.0, 3, 10.0, 1.0).tolist()
    [10.0, 1.0, 0.1]
    """
    check_real("cliff", cliff, 0.0, low_open=True, fix="the sweep's cliff LR (cliff_lr).")
    n = check_int("n", n, 1, fix="e.g. 6 candidates.")
    check_real("spacing", spacing, 1.0, low_open=True, fix="e.g. 10 ** (2 / 3).")
    return cliff * top / spacing ** np.arange(n, dtype=np.float64)


def trial_steps(total_steps: int, fraction: float, min_steps: int = MIN_TRIAL_STEPS) -> int:
    """Steps of one trial: ``round(fraction * total_steps)``, at least ``min_steps`` and at
    most ``total_steps``."""
    total_steps = check_int("total_steps", total_steps, 1)
    return int(min(total_steps, max(min_steps, round(fraction * total_steps))))


def penalised(losses: Sequence[float], baseline: float) -> np.ndarray:
    """The trials' losses, each capped at :data:`FAILED` x ``baseline`` (the untrained model's
    loss; a non-finite loss, a diverged trial, counts as that cap), so one blown-up trial
    cannot outweigh its neighbours in :func:`smoothed`. Without a finite baseline: the worst
    finite loss stands in for the cap."""
    a = np.asarray(losses, dtype=np.float64)
    finite = a[np.isfinite(a)]
    if math.isfinite(baseline):
        cap = FAILED * baseline if baseline > 0 else baseline
    else:
        cap = float(finite.max()) if len(finite) else 0.0
    return np.where(np.isfinite(a), np.minimum(a, cap), cap)


def failed(trials: Sequence[Trial], baseline: float) -> bool:
    """Whether every trial diverged or ended at :data:`FAILED` x ``baseline`` or worse."""
    return bool(np.all(penalised([t.loss for t in trials], baseline) >= FAILED * baseline))


def smoothed(losses: Sequence[float]) -> np.ndarray:
    """Each loss averaged with its neighbours' (in LR order). At either end the missing
    neighbour counts as the worst loss of all, so an end wins only by being clearly best
    with a good neighbour. Fewer than four losses (round 2's bracket of three): as given,
    since three points have no inside to smooth toward.

    >>> smoothed([1.0, 2.0, 4.0, 3.0]).tolist()
    [2.3333333333333335, 2.3333333333333335, 3.0, 3.6666666666666665]
    """
    a = np.asarray(losses, dtype=np.float64)
    if len(a) < 4:
        return a.copy()
    padded = np.concatenate([[a.max()], a, [a.max()]])
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0


def pick(trials: Sequence[Trial], baseline: float) -> int:
    """Index of the winning trial: the lowest :func:`smoothed` loss of ``trials`` (given in LR
    order), non-finite losses :func:`penalised`."""
    if not trials:
        raise ValueError("pick needs at least one trial.")
    return int(np.argmin(smoothed(penalised([t.loss for t in trials], baseline))))


def informative(trials: Sequence[Trial], baseline: float, gate: float = GATE) -> bool:
    """Whether a round says something: its best finite loss is at most ``(1 - gate) *
    baseline`` (False when the baseline is not a positive finite number)."""
    if not (math.isfinite(baseline) and baseline > 0):
        return False
    finite = [t.loss for t in trials if math.isfinite(t.loss)]
    return bool(finite) and min(finite) <= (1.0 - gate) * baseline


def second_round(winner_lr: float, spacing: float = FINE_SPACING) -> np.ndarray:
    """Round 2's LRs (highest first): the winner and its neighbours ``spacing`` apart."""
    return winner_lr * np.array([spacing, 1.0, 1.0 / spacing])


def refine(winner_lr: float, tried: Sequence[float], spacing: float = FINE_SPACING) -> list[float]:
    """The winner's neighbours ``spacing`` above and below it (highest first), except any
    within 1 % of an LR already ``tried``."""
    near = [winner_lr * spacing, winner_lr / spacing]
    return [lr for lr in near if not any(abs(math.log(lr / t)) < 0.01 for t in tried)]


def beyond(lrs: Sequence[float], winner: int, spacing: float = SPACING) -> list[float]:
    """Two more LRs past the end ``winner`` sits at (``lrs`` highest first): above the highest
    for ``winner == 0``, below the lowest for the last; none for a winner inside."""
    if winner == 0:
        return [lrs[0] * spacing ** 2, lrs[0] * spacing]
    if winner == len(lrs) - 1:
        return [lrs[-1] / spacing, lrs[-1] / spacing ** 2]
    return []


def horizon_lr(lr: float, trial_steps_: int, total_steps: int,
               exponent: float = HORIZON_EXPONENT) -> float:
    """The fit's LR from a trial winner's: ``lr * (trial_steps / total_steps) ** exponent``
    (``lr`` itself when the trial was as long as the fit; pass ``exponent=0`` for an optimizer
    that is not normalized).

    >>> round(horizon_lr(1.0, 10, 1000, 0.5), 6)
    0.1
    """
    return float(lr * (min(trial_steps_, total_steps) / total_steps) ** exponent)


def assess(rounds: Sequence[Sequence[Trial]], baseline: float, winner: int,
           edge_ok: bool = False) -> Verdict:
    """How sure the race is about the trial at index ``winner`` of its last round.

    Not sure when no round was :func:`informative` (no trial learned enough to compare), when
    the last round's trials were shorter than :data:`MIN_SURE_STEPS` updates (a fit that
    short leaves its trials too few steps to tell a good LR from a lucky one), when the winner
    is the lowest or highest candidate of its round (the best LR may lie beyond the
    candidates; ``edge_ok`` skips that test), or when every trial of the last round diverged.
    Each reason says what to do.
    """
    reasons = []
    last = rounds[-1]
    if last and last[0].steps < MIN_SURE_STEPS:
        reasons.append(
            f"its trials were only {last[0].steps} updates long (the fit's share for them), too "
            "short to tell a good LR from a lucky one; train more epochs, or compare fits at half "
            "and twice the LR")
    if not any(informative(r, baseline) for r in rounds):
        reasons.append(
            "no trial learned enough to tell the candidates apart (the best validation loss "
            "stayed above 70 % of the untrained model's); train longer (more epochs: the race "
            "grows with the fit), or check the data and the model")
    if all(not math.isfinite(t.loss) for t in last):
        reasons.append("every trial of the last round diverged; lower start_lr / check the data")
    elif not edge_ok and len(last) > 2 and winner in (0, len(last) - 1):
        side, other = ("highest", "twice") if winner == 0 else ("lowest", "half")
        reasons.append(
            f"the winner is the {side} LR the race tried, so the best may lie beyond it; "
            f"compare with a fit at {other} it (learn.recorder.plot_race() shows the trials)")
    return Verdict(sure=not reasons, reasons=tuple(reasons))
