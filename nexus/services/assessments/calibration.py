"""Item calibration: the bank's difficulties re-estimated from real answers (Rasch model).

`fit()` is the psychometrics, on plain arrays: marginal maximum likelihood over a normal ability
distribution N(0, σ²) (σ estimated, Gauss-Hermite quadrature), every item's difficulty free, by
L-BFGS-B with the exact gradient. Marginal ML uses every answer of every test, so it stays
unbiased under the adaptive test's design (a hard item is only shown to strong students: what
decided which item came next is in the data). Then:

- "je ne sais pas" is left out (as the engine leaves it out of the ability's likelihood);
- only items with at least MIN_ANSWERS answers are re-estimated, the others keep their prior;
- the scale is anchored: the mean difficulty of the re-estimated items is the mean of their
  priors (items answered right, or wrong, by everyone aside: they have no finite estimate), so
  the abilities (and the SSN computed from them) stay on the scale the bank was written on;
- estimates are clipped to [-4, 4] like the engine's abilities.

`calibrate_bank()` reads the completed tests' answers, fits each bank (subject × grade) and
writes Item.difficulty, calibrated_at and calibration_answers. Idempotent: a second run on the
same answers changes nothing.

Why not `girth` (0.8.0, checked on numpy 2.4 / scipy 1.17: it installs and runs): its
`rasch_mml` is a moment match that assumes every item is answered by the whole population
(N(0, 1)), and its `rasch_jml` rescales the abilities to a standard deviation of 1 while the
discrimination stays 1. On a simulated complete 600 × 40 matrix (abilities N(0, 1.5²)) both
shrink the difficulties by 12 % (slope 0.88, errors up to 0.48); on a two-stage adaptive design
`rasch_mml` gives a slope of 0.53 and errors up to 1.25. This fit: slope 1.00 on both.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logsumexp
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.assessments import Assessment, Item, Response, TestStatus
from nexus.services import command, utcnow

log = logging.getLogger(__name__)

MIN_ANSWERS = 30  # answers (not "je ne sais pas") before an item's difficulty is re-estimated
LIMIT = 4.0  # estimates are clipped to [-LIMIT, LIMIT]
QUADRATURE = 41  # Gauss-Hermite points
BOUND = 8.0  # the optimiser's box for a difficulty (an item everyone got right has no finite ML)
DECIMALS = 3  # difficulties are stored rounded: a rerun on the same answers writes nothing


@dataclass(frozen=True)
class Calibration:
    """The outcome for each item, in the order of the priors given to `fit`."""

    difficulty: numpy.ndarray  # re-estimated (anchored, clipped) or the prior
    answers: numpy.ndarray  # answers in the fit per item ("je ne sais pas" excluded)
    calibrated: numpy.ndarray  # bool: re-estimated (answers ≥ min_answers)
    standard_error: numpy.ndarray  # of a re-estimated difficulty; NaN for the others
    ability_sd: float = float("nan")  # σ of the examinees' abilities
    shift: float = 0.0  # added to the raw estimates by the anchoring
    converged: bool = True
    notes: list[str] = field(default_factory=list)


def _as_correct(correct: Sequence[Any]) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(kept, right): kept is False for "je ne sais pas" (None or NaN)."""
    raw = numpy.asarray(correct, dtype=object)
    kept = numpy.array([c is not None and not (isinstance(c, float) and numpy.isnan(c)) for c in raw], bool)
    right = numpy.zeros(len(raw), dtype=float)
    right[kept] = [1.0 if bool(c) else 0.0 for c in raw[kept]]
    return kept, right


def fit(
    persons: Sequence[Any],
    items: Sequence[int],
    correct: Sequence[bool | None],
    priors: Sequence[float],
    *,
    min_answers: int = MIN_ANSWERS,
) -> Calibration:
    """Rasch difficulties from answers given as three parallel sequences.

    persons: who answered (any hashable label, e.g. a test id); items: the item's index in
    `priors`; correct: True / False, or None for "je ne sais pas" (left out).
    """
    priors = numpy.asarray(priors, dtype=float)
    n_items = len(priors)
    item_idx = numpy.asarray(items, dtype=int)
    if not len(persons) == len(item_idx) == len(correct):
        raise ValueError("persons, items and correct must have the same length")
    if len(item_idx) and (item_idx.min() < 0 or item_idx.max() >= n_items):
        raise ValueError("an item index is outside the priors")
    kept, right = _as_correct(correct)
    item_idx, right = item_idx[kept], right[kept]
    person_keys = numpy.asarray(persons, dtype=object)[kept]
    answers = numpy.bincount(item_idx, minlength=n_items)
    calibrated = answers >= max(min_answers, 1)
    result = Calibration(priors.copy(), answers, calibrated, numpy.full(n_items, numpy.nan))
    if not calibrated.any():
        return result

    # Persons as 0..P-1; every answered item is a free parameter (the rarely answered ones too:
    # their answers inform the abilities, and dropping them would bias the others).
    _, person_idx = numpy.unique(person_keys.astype(str), return_inverse=True)
    n_persons = int(person_idx.max()) + 1
    used = numpy.flatnonzero(answers > 0)
    column = numpy.full(n_items, -1)
    column[used] = numpy.arange(len(used))
    col = column[item_idx]

    nodes, weights = numpy.polynomial.hermite_e.hermegauss(QUADRATURE)  # ∫ f(z) e^{-z²/2}
    log_w = numpy.log(weights / weights.sum())

    def objective(params: numpy.ndarray) -> tuple[float, numpy.ndarray]:
        b, log_sd = params[:-1], params[-1]
        theta = numpy.exp(log_sd) * nodes  # (Q,)
        eta = theta[None, :] - b[col][:, None]  # (R, Q)
        loglik = numpy.where(right[:, None] == 1.0, log_expit(eta), log_expit(-eta))
        per_person = numpy.zeros((n_persons, QUADRATURE))
        numpy.add.at(per_person, person_idx, loglik)
        joint = per_person + log_w
        marginal = logsumexp(joint, axis=1)
        posterior = numpy.exp(joint - marginal[:, None])  # (P, Q)
        residual = right[:, None] - expit(eta)  # d loglik / d theta, per answer and node
        weighted = posterior[person_idx] * residual  # (R, Q)
        grad_b = -numpy.bincount(col, weights=weighted.sum(axis=1), minlength=len(used))
        grad_sd = float((weighted * theta[None, :]).sum())  # d/d log σ (θ = σ z)
        return -float(marginal.sum()), -numpy.append(grad_b, grad_sd)

    start = numpy.append(numpy.clip(priors[used], -BOUND, BOUND), 0.0)
    bounds = [(-BOUND, BOUND)] * len(used) + [(numpy.log(0.1), numpy.log(10.0))]
    solution = minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000, "gtol": 1e-6}
    )
    raw = numpy.full(n_items, numpy.nan)
    raw[used] = solution.x[:-1]
    sd = float(numpy.exp(solution.x[-1]))

    # Approximate standard errors: each item's information over the abilities' posteriors (the
    # abilities taken as known, so a little optimistic).
    errors = numpy.full(n_items, numpy.nan)
    theta = sd * nodes
    eta = theta[None, :] - raw[item_idx][:, None]
    loglik = numpy.where(right[:, None] == 1.0, log_expit(eta), log_expit(-eta))
    per_person = numpy.zeros((n_persons, QUADRATURE))
    numpy.add.at(per_person, person_idx, loglik)
    joint = per_person + log_w
    posterior = numpy.exp(joint - logsumexp(joint, axis=1)[:, None])
    p = expit(eta)
    info = numpy.bincount(
        item_idx, weights=(posterior[person_idx] * p * (1 - p)).sum(axis=1), minlength=n_items
    )
    errors[calibrated] = 1.0 / numpy.sqrt(numpy.maximum(info[calibrated], 1e-12))

    # Anchor on the items with a finite estimate: one everybody got right sits at the optimiser's
    # bound, which says "very easy", not how easy; it must not drag the others.
    interior = calibrated & (numpy.abs(raw) < BOUND - 0.01)
    anchors = interior if interior.any() else calibrated
    shift = float(priors[anchors].mean() - raw[anchors].mean())
    difficulty = priors.copy()
    difficulty[calibrated] = numpy.clip(raw[calibrated] + shift, -LIMIT, LIMIT)
    notes = [] if solution.success else [f"optimiseur : {solution.message}"]
    return Calibration(difficulty, answers, calibrated, errors, sd, shift, bool(solution.success), notes)


# ---- the database side ----


@dataclass
class BankReport:
    subject: str
    grade: str
    items: int = 0
    tests: int = 0
    answers: int = 0
    calibrated: int = 0
    updated: int = 0

    def __str__(self) -> str:
        return (
            f"{self.subject}/{self.grade}: {self.items} items, {self.tests} tests, {self.answers} réponses, "
            f"{self.calibrated} calibrés, {self.updated} mis à jour"
        )


@command
def calibrate_bank(min_answers: int = MIN_ANSWERS) -> list[BankReport]:
    """Re-estimate every bank's difficulties from the completed tests' answers (idempotent).

    One fit per subject × grade (their scales are separate); in the stage's fixed form, a test's
    Maths and NSI answers fall into their own banks. An item below the threshold keeps (or gets
    back) its prior difficulty; calibrated_at changes only when the stored values do.
    """
    # One calibration at a time (each worker's scheduler may start one): the others skip.
    if not db.session.scalar(select(func.pg_try_advisory_xact_lock(func.hashtext("calibration")))):
        log.info("calibration already running: skipped")
        return []
    now = utcnow()
    rows = db.session.execute(
        select(Response.assessment_id, Response.item_id, Response.choice, Response.correct)
        .join(Assessment, Assessment.id == Response.assessment_id)
        .where(Assessment.status == TestStatus.COMPLETED)
    ).all()
    by_item: dict[int, list[tuple[int, bool | None]]] = {}
    for assessment_id, item_id, choice, correct in rows:
        by_item.setdefault(item_id, []).append((assessment_id, None if choice is None else bool(correct)))

    items = db.session.scalars(select(Item).order_by(Item.subject, Item.grade, Item.id)).all()
    banks: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        banks.setdefault((item.subject.value, item.grade.value), []).append(item)

    reports = []
    for (subject, grade), bank in banks.items():
        report = BankReport(subject, grade, items=len(bank))
        persons: list[int] = []
        indices: list[int] = []
        correct: list[bool | None] = []
        for index, item in enumerate(bank):
            for assessment_id, outcome in by_item.get(item.id, ()):
                persons.append(assessment_id)
                indices.append(index)
                correct.append(outcome)
        result = fit(persons, indices, correct, [i.prior_difficulty for i in bank], min_answers=min_answers)
        report.tests = len(set(persons))
        report.answers = int(result.answers.sum())
        report.calibrated = int(result.calibrated.sum())
        if not result.converged:
            log.warning("calibration %s/%s: %s", subject, grade, "; ".join(result.notes))
        for index, item in enumerate(bank):
            count = int(result.answers[index])
            if result.calibrated[index]:
                value = round(float(result.difficulty[index]), DECIMALS)
                changed = (
                    item.calibrated_at is None
                    or item.difficulty != value
                    or item.calibration_answers != count
                )
                if changed:
                    item.difficulty, item.calibration_answers, item.calibrated_at = value, count, now
                    report.updated += 1
            elif item.calibrated_at is not None or item.difficulty != item.prior_difficulty:
                # Fewer answers than before (tests erased): back to the authors' value.
                item.difficulty, item.calibration_answers, item.calibrated_at = (
                    item.prior_difficulty,
                    count,
                    None,
                )
                report.updated += 1
            elif item.calibration_answers != count:
                item.calibration_answers = count
        reports.append(report)
        log.info("calibration %s", report)
    return reports
