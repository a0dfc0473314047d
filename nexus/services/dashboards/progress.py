"""The progress panel: the stored Nexus Index with what it is made of, badges, the trajectory,
and the chart's series (index and SSN over time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, null, select, union_all
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import selectinload

from nexus import fr
from nexus.charts.progress import Series
from nexus.extensions import db
from nexus.memo import per_request
from nexus.models.assessments import Score
from nexus.models.common import Subject
from nexus.models.family import Student
from nexus.models.progress import LIVE_TRAJECTORY, BadgeAward, IndexSnapshot, Trajectory
from nexus.services import utcnow
from nexus.services.progress import badges, index


@dataclass(frozen=True)
class PartView:
    """One of the index's four parts: its label, weight (%), value (None: nothing to measure)."""

    label: str
    weight: int
    value: Decimal | None
    detail: str


def _part_detail(attr: str, d: dict[str, Any]) -> str:
    """What a part counted, in French ("séances suivies : 4 sur 5 · absence : 1")."""
    if attr == "attendance":
        bits = [f"séances suivies : {d.get('attended', 0)} sur {d.get('sessions', 0)}"]
        missed = d.get("absent", 0) + d.get("no_show", 0)
        if missed:
            bits.append(f"{fr.agree(missed, 'absence')} : {missed}")
        if d.get("late_cancel"):
            bits.append(f"annulations tardives : {d['late_cancel']}")
        return " · ".join(bits)
    if attr == "progression":
        rating = d.get("mean_rating")
        bits = [f"notes des coachs : {d.get('ratings', 0)}"]
        if rating is not None:
            bits[0] += f" (moyenne {fr.score(rating)} sur 5)"
        if d.get("tests_compared"):
            gain = d.get("mastery_gain") or 0
            bits.append(
                f"maîtrise entre deux tests : {'+' if gain >= 0 else '−'}{fr.score(abs(gain))} points"
            )
        return " · ".join(bits)
    if attr == "engagement":
        return (
            f"questions à ARIA : {d.get('aria_questions', 0)} · avis donnés : {d.get('aria_feedback', 0)}"
            f" · comptes rendus lus : {d.get('reports_read', 0)} sur {d.get('reports', 0)}"
        )
    return f"semaines actives : {d.get('active_weeks', 0)} sur {d.get('weeks', 0)}"


def index_parts(snapshot: IndexSnapshot | None) -> list[PartView]:
    """The four parts with their weights; values None when there is no snapshot."""
    details = snapshot.details if snapshot is not None else {}
    return [
        PartView(
            label,
            weight,
            getattr(snapshot, attr) if snapshot is not None else None,
            _part_detail(attr, details.get(attr) or {}),
        )
        for attr, label, weight in index.PARTS
    ]


def trend_text(snapshot: IndexSnapshot | None) -> str | None:
    """'↗ +5 points', '↘ −3 points', 'stable'; None without both 30-day windows."""
    if snapshot is None or snapshot.trend is None or snapshot.score is None:
        return None
    points = round(snapshot.trend)
    if points == 0:
        return "stable"
    arrow, sign = ("↗", "+") if points > 0 else ("↘", "−")
    return f"{arrow} {sign}{fr.plural(abs(points), 'point')}"


HISTORY_DAYS = 365


@dataclass
class ProgressView:
    student: Student
    snapshot: IndexSnapshot | None
    parts: list[PartView]
    trend: str | None
    badges: list[badges.BadgeView]  # all 15
    earned: int
    trajectory: Trajectory | None
    series: list[Series]


SHORT = {
    Subject.MATHEMATIQUES: "Maths",
    Subject.PHYSIQUE_CHIMIE: "Physique",
    Subject.HISTOIRE_GEO: "Histoire",
}


def _points(ids: list[int], since: date) -> dict[int, list[Series]]:
    """The chart's series of each student in one statement of plain columns: each subject's SSN
    test after test (since `since`), then the stored index, the day's last point per day (Tunis)
    as index.history gives it (a day whose last point has no score is left out)."""
    day = func.date(func.timezone(fr.TUNIS.key, IndexSnapshot.computed_at))
    stored = (
        select(IndexSnapshot.student_id, IndexSnapshot.computed_at, IndexSnapshot.score)
        .where(IndexSnapshot.student_id.in_(ids), day >= since)
        .ext(distinct_on(IndexSnapshot.student_id, day))
        .order_by(IndexSnapshot.student_id, day, IndexSnapshot.computed_at.desc(), IndexSnapshot.id.desc())
        .subquery()
    )
    # The SSN first: the union's rows are read with its types (the subject back as a Subject).
    tests = select(Score.student_id, Score.subject, Score.measured_at.label("at"), Score.ssn.label("value"))
    start = datetime.combine(since, time(), tzinfo=UTC)
    both = union_all(
        tests.where(Score.student_id.in_(ids), Score.measured_at >= start),
        select(stored.c.student_id, null(), stored.c.computed_at, stored.c.score),
    ).subquery()
    stmt = select(both).order_by(both.c.student_id, both.c.subject.asc().nulls_last(), both.c.at)
    ssn: dict[int, dict[Subject, list[tuple[date, float]]]] = {i: {} for i in ids}
    index_points: dict[int, list[tuple[datetime, float]]] = {i: [] for i in ids}
    for student_id, subject, at, value in db.session.execute(stmt):
        if subject is not None:
            ssn[student_id].setdefault(subject, []).append((at, value))
        elif value is not None:
            index_points[student_id].append((at, float(value)))
    return {
        i: ([Series("Indice Nexus", "Indice", index_points[i])] if index_points[i] else [])
        + [Series(f"SSN {s.label}", SHORT.get(s, s.label), p) for s, p in ssn[i].items()]
        for i in ids
    }


def _badges(ids: list[int]) -> dict[int, list[badges.BadgeView]]:
    """All 15 badges of each student, the earned ones with their date (as badges.of_student)."""
    stmt = select(BadgeAward.student_id, BadgeAward.badge, BadgeAward.awarded_at).where(
        BadgeAward.student_id.in_(ids)
    )
    awarded: dict[int, dict[str, datetime]] = {i: {} for i in ids}
    for student_id, code, at in db.session.execute(stmt):
        awarded[student_id][code] = at
    return {
        i: [
            badges.BadgeView(b.code, b.family, b.title, b.description, won.get(b.code)) for b in badges.BADGES
        ]
        for i, won in awarded.items()
    }


@per_request  # the homes show them, their next step follows the first
def live_trajectories(ids: list[int]) -> dict[int, Trajectory]:
    """Each student's live trajectory (as trajectory.live_of: one at most) with its milestones."""
    stmt = (
        select(Trajectory)
        .where(Trajectory.student_id.in_(ids), Trajectory.status.in_(LIVE_TRAJECTORY))
        .options(selectinload(Trajectory.milestones))
    )
    return {t.student_id: t for t in db.session.scalars(stmt)}


def summaries(students: list[Student]) -> list[ProgressView]:
    """The index with its parts and trend, badges and trajectory of each student, without the
    chart's series (the home shows these inline: the stored snapshot, never computed here), in
    four queries whatever the number of students."""
    ids = [s.id for s in students]
    if not ids:
        return []
    latest, shown, live = index.latest(ids), _badges(ids), live_trajectories(ids)
    return [
        ProgressView(
            student,
            latest[student.id],
            index_parts(latest[student.id]),
            trend_text(latest[student.id]),
            shown[student.id],
            sum(1 for b in shown[student.id] if b.earned),
            live.get(student.id),
            [],
        )
        for student in students
    ]


def series_of(students: list[Student]) -> dict[int, list[Series]]:
    """The chart's series of each student: the index day by day and each subject's SSN (1 query)."""
    ids = [s.id for s in students]
    if not ids:
        return {}
    return _points(ids, utcnow().date() - timedelta(days=HISTORY_DAYS))


def progress_of(students: list[Student]) -> list[ProgressView]:
    """Everything the progress page shows for each student, the chart's series included."""
    views, series = summaries(students), series_of(students)
    for view in views:
        view.series = series[view.student.id]
    return views
