"""Closing a session that has started: the coach's report (e-mailed to the parents) or a no-show
(the credits are not refunded). Both lock the booking row, so a second click finds it closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nexus import queue
from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.identity import User
from nexus.models.scheduling import EngagementLevel, SessionBooking, SessionReport, SessionStatus
from nexus.services import ServiceError, claim, command, utcnow
from nexus.services.progress import events as progress_events
from nexus.services.scheduling import notices
from nexus.services.scheduling.changes import AlreadyClosed
from nexus.services.scheduling.queries import booking_for
from nexus.services.scheduling.reminders import cancel_reminders


@dataclass(frozen=True)
class ReportInput:
    summary: str
    topics: str
    rating: int
    progress_notes: str
    recommendations: str
    attended: bool
    engagement: EngagementLevel | None = None
    homework: str | None = None
    next_focus: str | None = None


def _closable(coach_user: User, booking_id: int, now: datetime) -> SessionBooking:
    booking = booking_for(coach_user, booking_id, lock=True)
    if booking is None or coach_user.role is not Role.COACH:
        raise LookupError(booking_id)
    if not booking.is_holding:
        raise AlreadyClosed("Cette séance est déjà close.")
    if booking.workshop_id is not None:
        raise ServiceError("Une place d'atelier se clôt avec le compte rendu de l'atelier, pour le groupe.")
    if booking.starts_at > now:
        raise ServiceError("La séance n'a pas encore commencé.")
    return booking


@command
def write_report(
    coach_user: User, booking_id: int, data: ReportInput, *, now: datetime | None = None
) -> SessionReport:
    """Close a session with its report; the parent receives it by e-mail."""
    now = now or utcnow()
    booking = _closable(coach_user, booking_id, now)
    if not 1 <= data.rating <= 5:
        raise ServiceError("La note va de 1 à 5.", "rating")
    report = SessionReport(
        booking_id=booking.id,
        summary=data.summary.strip(),
        topics=data.topics.strip(),
        rating=data.rating,
        progress_notes=data.progress_notes.strip(),
        recommendations=data.recommendations.strip(),
        attended=data.attended,
        engagement=data.engagement,
        homework=(data.homework or "").strip() or None,
        next_focus=(data.next_focus or "").strip() or None,
    )
    db.session.add(report)
    booking.status = SessionStatus.COMPLETED
    booking.completed_at = now
    db.session.flush()
    cancel_reminders(booking.id, now)
    notices.reported(booking, report)
    queue.enqueue_after_commit("default", "nexus.jobs.vault.file_session_report", report.id)  # its PDF
    progress_events.changed(booking.student_id, "report")
    return report


@command
def mark_no_show(coach_user: User, booking_id: int, *, now: datetime | None = None) -> SessionBooking:
    """The student did not come: the session is closed and its credits are not refunded."""
    now = now or utcnow()
    booking = _closable(coach_user, booking_id, now)
    booking.status = SessionStatus.NO_SHOW
    booking.completed_at = now
    cancel_reminders(booking.id, now)
    notices.no_show(booking)
    progress_events.changed(booking.student_id, "session")
    return booking


@command
def mark_read_by_family(reader: User, booking: SessionBooking) -> bool:
    """The first time the student or a parent opens the session's report, note when (the Nexus
    Index counts reports the family read). True when this call noted it."""
    report = booking.report
    if report is None or report.family_read_at is not None or reader.role not in (Role.PARENT, Role.ELEVE):
        return False
    _, won = claim(SessionReport, report.id, SessionReport.family_read_at.is_(None), family_read_at=utcnow())
    if won:
        progress_events.changed(booking.student_id, "report_read")
    return won
