"""Session reminders, 24 h and 2 h before: planned at booking, cancelled when the session is
cancelled or closed, sent once by the periodic job."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from nexus.extensions import db
from nexus.models.scheduling import ReminderKind, SessionBooking, SessionReminder
from nexus.services import command, utcnow
from nexus.services.scheduling import notices

REMINDER_OFFSETS = {
    ReminderKind.DAY_BEFORE: timedelta(hours=24),
    ReminderKind.TWO_HOURS_BEFORE: timedelta(hours=2),
}


def plan_reminders(booking: SessionBooking, now: datetime) -> None:
    """One row per kind; a reminder whose moment has already passed is not planned."""
    for kind, offset in REMINDER_OFFSETS.items():
        due = booking.starts_at - offset
        if due > now:
            db.session.add(SessionReminder(booking_id=booking.id, kind=kind, due_at=due))


def cancel_reminders(booking_id: int, now: datetime) -> None:
    db.session.execute(
        update(SessionReminder)
        .where(
            SessionReminder.booking_id == booking_id,
            SessionReminder.sent_at.is_(None),
            SessionReminder.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
    )


def due_reminders(now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or utcnow()
    stmt = (
        select(SessionReminder.id)
        .where(
            SessionReminder.sent_at.is_(None),
            SessionReminder.cancelled_at.is_(None),
            SessionReminder.due_at <= now,
        )
        .order_by(SessionReminder.due_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


@command
def deliver_reminder(reminder_id: int, now: datetime | None = None) -> bool:
    """Send one reminder (e-mail + in-app) to the student, the parent and the coach, once.

    The row lock (SKIP LOCKED) keeps two runs from sending it together, sent_at keeps a later
    run from sending it again, and the outbox dedupe keys are a last guard.
    """
    now = now or utcnow()
    reminder = db.session.scalar(
        select(SessionReminder)
        .where(
            SessionReminder.id == reminder_id,
            SessionReminder.sent_at.is_(None),
            SessionReminder.cancelled_at.is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    if reminder is None:
        return False
    reminder.attempts += 1
    booking = db.session.get_one(SessionBooking, reminder.booking_id)
    if not booking.is_holding or booking.starts_at <= now:
        reminder.cancelled_at = now  # cancelled or already started: nothing to remind
        return False
    notices.reminder(booking, reminder.kind)
    reminder.sent_at = now
    return True
