"""A completed test's results: ability and SSN per subject, mastery per domain and skill.

SSN (score standardisé Nexus) = 50 + 15·z against the cohort of the same subject and grade; under
SMALL_COHORT completed tests the reference scale of the bank (mean 0, deviation 1) stands in for
the cohort, and the results say so. Mastery is the expected success rate on a domain's items at
the ability its own answers show, drawn toward the subject's ability when they are few.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, pstdev
from typing import Any

from scipy.optimize import minimize_scalar

from nexus.models.common import Grade, Subject
from nexus.question_bank import load_bank
from nexus.services.assessments.engine import Answer, Candidate, replay

SMALL_COHORT = 30
UAI_WEIGHTS = {Subject.MATHEMATIQUES: 0.6, Subject.NSI: 0.4}
LEVELS = (
    (85, "excellence", "Excellence"),
    (70, "tres-solide", "Très solide"),
    (55, "stable", "Stable"),
    (40, "fragile", "Fragile"),
    (-1, "prioritaire", "Prioritaire"),
)
PRIORITY_BELOW, STRENGTH_FROM = 55, 70


@dataclass(frozen=True)
class Scored:
    """One answer with what scoring needs of its item."""

    subject: Subject
    domain: str
    skill: str
    difficulty: float
    choice: int | None
    correct: bool


def level(ssn: float) -> tuple[str, str]:
    return next((key, label) for floor, key, label in LEVELS if ssn >= floor)


def ssn(theta: float, cohort: Sequence[float]) -> tuple[float, bool]:
    """(SSN, small cohort?) for an ability against the cohort's abilities."""
    small = len(cohort) < SMALL_COHORT
    mean, deviation = (0.0, 1.0) if small else (fmean(cohort), pstdev(cohort))
    z = 0.0 if deviation == 0 else (theta - mean) / deviation
    return round(min(100.0, max(0.0, 50 + 15 * z)), 1), small


def uai(latest: dict[Subject, float]) -> float | None:
    """Weighted SSN across subjects, once both Maths and NSI have been measured."""
    if not all(subject in latest for subject in UAI_WEIGHTS):
        return None
    return round(sum(latest[s] * w for s, w in UAI_WEIGHTS.items()), 1)


def _p(theta: float, difficulty: float) -> float:
    return 1.0 / (1.0 + math.exp(difficulty - theta))


def local_ability(answers: Sequence[Scored], around: float) -> float:
    """MAP ability from a few answers, with a N(around, 1) prior (so 2 answers do not say ±∞)."""

    def cost(theta: float) -> float:
        prior = 0.5 * (theta - around) ** 2
        likelihood = sum(
            math.log(_p(theta, a.difficulty) if a.correct else 1 - _p(theta, a.difficulty)) for a in answers
        )
        return prior - likelihood

    return float(minimize_scalar(cost, bounds=(-5, 5), method="bounded").x)


def mastery(
    answers: Sequence[Scored], around: float, difficulties: Sequence[float]
) -> tuple[int | None, float]:
    """(Expected % of success on these items, the local ability); None when nothing was attempted."""
    attempted = [a for a in answers if a.choice is not None]
    if not attempted:
        return None, around
    theta = local_ability(attempted, around)
    return round(100 * fmean(_p(theta, b) for b in difficulties)), theta


def _counts(answers: Sequence[Scored]) -> dict[str, int]:
    attempted = [a for a in answers if a.choice is not None]
    return {"shown": len(answers), "attempted": len(attempted), "correct": sum(a.correct for a in attempted)}


def subject_results(
    subject: Subject,
    grade: Grade,
    answers: Sequence[Scored],
    pool: dict[str, dict[str, list[float]]],
    cohort: Sequence[float],
) -> dict[str, Any]:
    """The results for one subject; `pool` is the bank's difficulties per domain and skill."""
    as_engine = [
        Answer(Candidate(i, a.difficulty, a.domain), None if a.choice is None else a.correct)
        for i, a in enumerate(answers)
    ]
    estimate = replay(as_engine)
    score, small = ssn(estimate.theta, cohort)
    key, label = level(score)
    counts = _counts(answers)
    bank = load_bank()
    domains = []
    for domain_key, skills in pool.items():
        domain = bank.domain(subject.value, grade.value, domain_key)
        mine = [a for a in answers if a.domain == domain_key]
        every = [b for bs in skills.values() for b in bs]
        domain_mastery, domain_theta = mastery(mine, estimate.theta, every)
        skill_rows = []
        for skill_key, difficulties in skills.items():
            theirs = [a for a in mine if a.skill == skill_key]
            skill_mastery, _ = mastery(theirs, domain_theta, difficulties)
            skill_label = domain.skills.get(skill_key, skill_key) if domain else skill_key
            skill_rows.append(
                {"key": skill_key, "label": skill_label, "mastery": skill_mastery, **_counts(theirs)}
            )
        domains.append(
            {
                "key": domain_key,
                "label": domain.label if domain else domain_key,
                "mastery": domain_mastery,
                **_counts(mine),
                "skills": skill_rows,
            }
        )
    return {
        "subject": subject.value,
        "label": subject.label,
        "grade": grade.value,
        "theta": round(estimate.theta, 3),
        "standard_error": round(estimate.standard_error, 3) if estimate.answered else None,
        "ssn": score,
        "level": key,
        "level_label": label,
        "cohort_size": len(cohort),
        "small_cohort": small,
        **counts,
        "confidence": round(100 * counts["attempted"] / counts["shown"]) if counts["shown"] else 0,
        "domains": domains,
    }


def highlights(subjects: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(Priorities: the three weakest domains under 55; strengths: the three strongest from 70)."""
    rows = [
        {"subject": s["subject"], "domain": d["key"], "label": d["label"], "mastery": d["mastery"]}
        for s in subjects
        for d in s["domains"]
        if d["mastery"] is not None
    ]
    weakest = sorted((r for r in rows if r["mastery"] < PRIORITY_BELOW), key=lambda r: r["mastery"])
    strongest = sorted((r for r in rows if r["mastery"] >= STRENGTH_FROM), key=lambda r: -r["mastery"])
    return weakest[:3], strongest[:3]
