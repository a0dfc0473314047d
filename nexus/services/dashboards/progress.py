"""The progress panel: the stored Nexus Index with what it is made of, badges, the trajectory,
and the chart's series (index and SSN over time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from nexus import fr
from nexus.charts.progress import Series
from nexus.extensions import db
from nexus.models.assessments import Score
from nexus.models.common import Subject
from nexus.models.family import Student
from nexus.models.progress import IndexSnapshot, Trajectory
from nexus.services import utcnow
from nexus.services.progress import badges, index, trajectory


@dataclass(frozen=True)
class PartView:
    """One of the index's four parts: its label, weight (%), value (None: nothing to measure)."""

    label: str
    weight: int
    value: Decimal | None
    detail: str


def _part_detail(attr: str, d: dict[str, Any]) -> str:
    """What a part counted, in French ("4 séances suivies sur 5 …")."""
    if attr == "attendance":
        text = f"{d.get('attended', 0)} sur {fr.plural(d.get('sessions', 0), 'séance')} suivies"
        missed = d.get("absent", 0) + d.get("no_show", 0)
        if missed:
            text += f", {fr.plural(missed, 'absence')}"
        if d.get("late_cancel"):
            text += f", {fr.plural(d['late_cancel'], 'annulation tardive', 'annulations tardives')}"
        return text
    if attr == "progression":
        bits = [fr.plural(d.get("ratings", 0), "note de coach", "notes de coach")]
        if d.get("mean_rating") is not None:
            bits[0] += f" (moyenne {fr.score(d['mean_rating'])}/5)"
        if d.get("tests_compared"):
            gain = d.get("mastery_gain") or 0
            sign = "+" if gain >= 0 else "−"
            bits.append(f"{sign}{fr.score(abs(gain))} points de maîtrise entre deux tests")
        return ", ".join(bits)
    if attr == "engagement":
        return (
            f"{fr.plural(d.get('aria_questions', 0), 'question')} à ARIA, "
            f"{fr.plural(d.get('aria_feedback', 0), 'avis', 'avis')} donnés, "
            f"{d.get('reports_read', 0)} sur "
            f"{fr.plural(d.get('reports', 0), 'compte rendu', 'comptes rendus')} lus"
        )
    return f"{d.get('active_weeks', 0)} sur {fr.plural(d.get('weeks', 0), 'semaine')} avec une activité"


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


def ssn_series(student_id: int, since: date) -> list[Series]:
    """The SSN of each subject test after test, one series per subject, in one query."""
    stmt = (
        select(Score.subject, Score.measured_at, Score.ssn)
        .where(Score.student_id == student_id, Score.measured_at >= since)
        .order_by(Score.subject, Score.measured_at)
    )
    points: dict[Subject, list[tuple[date, float]]] = {}
    for subject, at, ssn in db.session.execute(stmt):
        points.setdefault(subject, []).append((at, ssn))
    return [Series(f"SSN {s.label}", SHORT.get(s, s.label), p) for s, p in points.items()]


SHORT = {
    Subject.MATHEMATIQUES: "Maths",
    Subject.PHYSIQUE_CHIMIE: "Physique",
    Subject.HISTOIRE_GEO: "Histoire",
}


def progress_of(student: Student) -> ProgressView:
    """What the progress panel shows for one student (the stored index, never computed here)."""
    since = utcnow().date() - timedelta(days=HISTORY_DAYS)
    snapshot = index.latest([student.id])[student.id]
    history = [
        (s.computed_at, float(s.score)) for s in index.history(student.id, since) if s.score is not None
    ]
    series = [Series("Indice Nexus", "Indice", history)] if history else []
    series += ssn_series(student.id, datetime.combine(since, time(), tzinfo=UTC))
    shown_badges = badge_views(student.id)
    return ProgressView(
        student,
        snapshot,
        index_parts(snapshot),
        trend_text(snapshot),
        shown_badges,
        sum(1 for b in shown_badges if getattr(b, "earned", False)),
        trajectory.live_of(student.id),
        series,
    )


def badge_views(student_id: int) -> list[Any]:
    """All 15 badges, the earned ones with their date."""
    return list(badges.of_student(student_id))
