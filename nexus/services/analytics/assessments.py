"""Positioning-test results, the original's "directeur" page: the SSN of each student's latest
test per subject, distributed by level within each cohort (subject and grade), and the students
whose latest SSN is in the priority level, to follow up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import aliased

from nexus.extensions import db
from nexus.models.assessments import Score
from nexus.models.common import Grade, Subject
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.services.analytics import aggregates, rollups
from nexus.services.analytics.periods import Period
from nexus.services.assessments.scoring import LEVELS

# (key, label) from the best level to the priority one, as the results pages name them.
LEVEL_NAMES = tuple((key, label) for _threshold, key, label in LEVELS)
ATTENTION_BELOW = 40  # below "Fragile": the priority level
ATTENTION_LIMIT = 50


@dataclass
class Cohort:
    subject: Subject
    grade: Grade
    counts: dict[str, int] = field(default_factory=dict)  # level key → students
    mean: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.subject.label} — {self.grade.label}"

    @property
    def students(self) -> int:
        return sum(self.counts.values())

    def count(self, level: str) -> int:
        return self.counts.get(level, 0)


@dataclass(frozen=True)
class Attention:
    student_id: int
    name: str
    subject: Subject
    grade: Grade
    ssn: float
    measured_at: datetime


@dataclass
class Results:
    cohorts: list[Cohort]
    attention: list[Attention]
    completed_in_period: int

    def total(self, level: str) -> int:
        return sum(c.count(level) for c in self.cohorts)

    @property
    def students(self) -> int:
        return sum(c.students for c in self.cohorts)


def _latest() -> type[Score]:
    """Each student's latest score per subject (DISTINCT ON), as an aliased subquery."""
    stmt = (
        select(Score.student_id, Score.subject, Score.grade, Score.ssn, Score.measured_at)
        .where(Score.student_id.is_not(None))
        .ext(distinct_on(Score.student_id, Score.subject))
        .order_by(Score.student_id, Score.subject, Score.measured_at.desc(), Score.id.desc())
        .subquery("latest")
    )
    return aliased(Score, stmt)


def _level(ssn: object) -> object:
    whens = [(ssn >= threshold, key) for threshold, key, _label in LEVELS if threshold >= 0]  # type: ignore[operator]
    return case(*whens, else_=LEVEL_NAMES[-1][0])


def results(period: Period) -> Results:
    """The distribution by cohort and level, the students to follow up, the period's tests."""
    latest = _latest()
    level = _level(latest.ssn)
    stmt = (
        select(latest.subject, latest.grade, level, func.count(), func.avg(latest.ssn))
        .group_by(latest.subject, latest.grade, level)
        .order_by(latest.subject, latest.grade)
    )
    cohorts: dict[tuple[str, str], Cohort] = {}
    sums: dict[tuple[str, str], float] = {}
    for subject, grade, key, count, mean in db.session.execute(stmt):
        cohort = cohorts.setdefault((subject, grade), Cohort(Subject(subject), Grade(grade)))
        cohort.counts[key] = count
        sums[(subject, grade)] = sums.get((subject, grade), 0.0) + float(mean) * count
    for ident, cohort in cohorts.items():
        cohort.mean = sums[ident] / cohort.students if cohort.students else 0.0
    completed = rollups.over("assessments", period.start, period.end).get(
        (aggregates.TESTS_COMPLETED, "", ""), 0
    )
    return Results(list(cohorts.values()), attention(), int(completed))


def attention(limit: int = ATTENTION_LIMIT) -> list[Attention]:
    """The students whose latest SSN in a subject is below ATTENTION_BELOW, the lowest first."""
    latest = _latest()
    stmt = (
        select(latest.student_id, User.first_name, User.last_name, latest.subject, latest.grade,
               latest.ssn, latest.measured_at)
        .join(Student, Student.id == latest.student_id)
        .join(User, User.id == Student.user_id)
        .where(latest.ssn < ATTENTION_BELOW)
        .order_by(latest.ssn, latest.student_id)
        .limit(limit)
    )  # fmt: skip
    return [
        Attention(sid, f"{first} {last}", Subject(subject), Grade(grade), float(ssn), at)
        for sid, first, last, subject, grade, ssn, at in db.session.execute(stmt)
    ]
