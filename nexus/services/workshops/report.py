"""The coach's report of a group workshop: one shared text, and each participant's part.

It is written once, after the workshop has started: each seat still held gets its own
`SessionReport` (the shared text, plus that child's attendance, rating and note as the progress
notes), so each family reads its own child's report on its own session page, and only that one.
The workshop row is locked first: a second submit finds it completed ("déjà rédigé").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from nexus import queue
from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.scheduling import SessionBooking, SessionReport, SessionStatus
from nexus.models.workshops import WaitStatus, Workshop, WorkshopStatus, WorkshopWaitlist
from nexus.services import ServiceError, command, utcnow
from nexus.services.progress import events as progress_events
from nexus.services.scheduling import notices
from nexus.services.scheduling.reminders import cancel_reminders

ALREADY_WRITTEN = "Le compte rendu de cet atelier est déjà rédigé."
NO_NOTE = "Pas de remarque individuelle."
NOTE_MAX = 2000


@dataclass(frozen=True)
class SharedReport:
    """What every participant's report shares (the one-to-one report's fields)."""

    summary: str
    topics: str
    recommendations: str
    homework: str | None = None
    next_focus: str | None = None


def _locked_workshop(coach_user: User, workshop_id: int) -> Workshop:
    """The coach's own workshop, locked; someone else's is not found (LookupError → 404)."""
    stmt = (
        select(Workshop)
        .where(Workshop.id == workshop_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    workshop = db.session.scalar(stmt)
    if workshop is None or coach_user.role is not Role.COACH or workshop.coach.user_id != coach_user.id:
        raise LookupError(workshop_id)
    return workshop


def check_open(workshop: Workshop, now: datetime) -> None:
    """Whether the report may be written now (the page asks the same before showing the form)."""
    if workshop.status is WorkshopStatus.COMPLETED:
        raise ServiceError(ALREADY_WRITTEN)
    if workshop.status is WorkshopStatus.CANCELLED:
        raise ServiceError("Cet atelier est annulé : il n'a pas de compte rendu.")
    if workshop.starts_at > now:
        raise ServiceError("L'atelier n'a pas encore commencé.")


def holding_seats(workshop_id: int, *, lock: bool = False) -> list[SessionBooking]:
    """The seats still held (the participants the report covers), in booking order."""
    stmt = (
        select(SessionBooking)
        .where(SessionBooking.workshop_id == workshop_id, SessionBooking.is_holding)
        .options(joinedload(SessionBooking.student).joinedload(Student.user))
        .order_by(SessionBooking.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=SessionBooking).execution_options(populate_existing=True)
    return list(db.session.scalars(stmt).unique())


def _check_shared(shared: SharedReport) -> None:
    for name, text, minimum in (
        ("summary", shared.summary, 20),
        ("topics", shared.topics, 10),
        ("recommendations", shared.recommendations, 10),
    ):
        if not minimum <= len(text.strip()) <= 4000:
            raise ServiceError(f"Entre {minimum} et 4000 caractères.", name)


def _participant(seat: SessionBooking, attendance: dict[int, bool], ratings: dict[int, int],
                 notes: dict[int, str]) -> tuple[bool, int, str]:  # fmt: skip
    rating = ratings.get(seat.id)
    if rating is None or not 1 <= rating <= 5:
        name = seat.student.user.first_name
        raise ServiceError(f"Choisissez une appréciation de 1 à 5 pour {name}.", f"rating_{seat.id}")
    note = (notes.get(seat.id) or "").strip()
    if len(note) > NOTE_MAX:
        raise ServiceError(f"{NOTE_MAX} caractères au plus.", f"note_{seat.id}")
    return bool(attendance.get(seat.id, False)), rating, note or NO_NOTE


@command
def write_group_report(
    coach_user: User,
    workshop_id: int,
    shared: SharedReport,
    attendance: dict[int, bool],
    notes: dict[int, str],
    ratings: dict[int, int],
    *,
    now: datetime | None = None,
) -> list[SessionReport]:
    """Close the workshop with one report per participant (keys: the seat's booking id); each
    family is told and receives its own child's report by e-mail."""
    now = now or utcnow()
    workshop = _locked_workshop(coach_user, workshop_id)
    check_open(workshop, now)
    _check_shared(shared)
    seats = holding_seats(workshop.id, lock=True)
    parts = [_participant(seat, attendance, ratings, notes) for seat in seats]
    reports = []
    for seat, (attended, rating, note) in zip(seats, parts, strict=True):
        report = SessionReport(
            booking_id=seat.id,
            summary=shared.summary.strip(),
            topics=shared.topics.strip(),
            rating=rating,
            progress_notes=note,
            recommendations=shared.recommendations.strip(),
            attended=attended,
            homework=(shared.homework or "").strip() or None,
            next_focus=(shared.next_focus or "").strip() or None,
        )
        db.session.add(report)
        seat.status = SessionStatus.COMPLETED
        seat.completed_at = now
        reports.append(report)
    workshop.status = WorkshopStatus.COMPLETED
    workshop.completed_at = now
    _close_waitlist(workshop.id, now)
    db.session.flush()
    for seat, report in zip(seats, reports, strict=True):
        cancel_reminders(seat.id, now)
        notices.reported(seat, report)
        queue.enqueue_after_commit("default", "nexus.jobs.vault.file_session_report", report.id)
        progress_events.changed(seat.student_id, "report")
    return reports


def _close_waitlist(workshop_id: int, now: datetime) -> None:
    """Nobody waits any longer for a workshop that is over."""
    db.session.execute(
        update(WorkshopWaitlist)
        .where(WorkshopWaitlist.workshop_id == workshop_id, WorkshopWaitlist.status == WaitStatus.WAITING)
        .values(status=WaitStatus.CLOSED, resolved_at=now)
    )
