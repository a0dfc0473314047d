"""Reminders 24 h and 2 h before: e-mail + in-app, once per session and kind, never for a cancelled one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import select, text, update

from nexus.extensions import db
from nexus.jobs.schedule import JOBS, PERIODIC
from nexus.jobs.scheduling import send_session_reminders
from nexus.models.catalog import ServiceType
from nexus.models.common import Subject
from nexus.models.notifications import OutboxEmail
from nexus.models.scheduling import ReminderKind, SessionReminder, SessionStatus
from nexus.services import scheduling, utcnow
from nexus.services.scheduling import BookingChoice
from nexus.services.scheduling.reminders import REMINDER_OFFSETS
from tests import factories
from tests.helpers import notifications_of
from tests.integration.scheduling_support import free_slot, reminders_of
from tests.people import HELIOS, PARENT2, SAMI


def book_for_sami():
    sami = factories.student(SAMI)
    coach = factories.coach("Hélios")
    slot = free_slot(coach)
    choice = BookingChoice(coach, Subject.MATHEMATIQUES, ServiceType.COURS_ONLINE, 60, slot.starts_at)
    return scheduling.book(sami.user, sami, choice)


def make_due(booking_id: int) -> None:
    """Time passes: both reminders are now due (the session itself is still ahead)."""
    db.session.execute(
        update(SessionReminder)
        .where(SessionReminder.booking_id == booking_id)
        .values(due_at=text("now() - interval '1 minute'"))
    )
    db.session.commit()


def reminder_emails() -> list[OutboxEmail]:
    stmt = select(OutboxEmail).where(OutboxEmail.template == "session_reminder").order_by(OutboxEmail.id)
    return list(db.session.scalars(stmt))


def test_the_job_is_scheduled():
    assert JOBS["send_session_reminders"] is send_session_reminders
    assert {f.__name__: s for f, s in PERIODIC}["send_session_reminders"] <= 300


def test_running_the_job_twice_sends_one_reminder_per_kind(run_jobs, smtp):
    booking = book_for_sami()
    db.session.commit()
    assert send_session_reminders() == 0  # nothing due yet
    make_due(booking.id)

    assert send_session_reminders() == 2
    assert send_session_reminders() == 0
    assert all(r.sent_at is not None for r in reminders_of(booking.id))
    emails = reminder_emails()
    assert sorted(e.to_email for e in emails) == sorted([HELIOS, SAMI, PARENT2] * 2)

    run_jobs()
    run_jobs()
    for address in (HELIOS, SAMI, PARENT2):
        smtp.wait_for(address)
        subjects = sorted(str(m["Subject"]) for m in smtp.to(address) if "Rappel" in str(m["Subject"]))
        assert subjects == [
            "Rappel : séance de Mathématiques dans 2 heures",
            "Rappel : séance de Mathématiques demain",
        ]
        assert len(notifications_of(address, "SESSION_REMINDER")) == 2


def test_a_cancelled_session_gets_no_reminder(run_jobs, smtp):
    booking = book_for_sami()
    scheduling.cancel(booking.student.user, booking.id)
    db.session.commit()
    make_due(booking.id)
    assert send_session_reminders() == 0
    assert reminder_emails() == []
    assert all(r.sent_at is None for r in reminders_of(booking.id))


def test_a_reminder_whose_session_closed_otherwise_is_dropped():
    booking = book_for_sami()
    booking.status = SessionStatus.CANCELLED  # e.g. changed by hand, reminders left pending
    db.session.commit()
    make_due(booking.id)
    assert send_session_reminders() == 0
    assert all(r.cancelled_at is not None for r in reminders_of(booking.id))
    assert reminder_emails() == []


def test_no_reminder_is_planned_for_a_moment_already_past():
    sami = factories.student(SAMI)
    coach = factories.coach("Hélios")
    slot = free_slot(coach, days_ahead=0)
    choice = BookingChoice(coach, Subject.MATHEMATIQUES, ServiceType.COURS_ONLINE, 60, slot.starts_at)
    booking = scheduling.book(sami.user, sami, choice)
    kinds = {r.kind.value for r in reminders_of(booking.id)}
    if slot.starts_at - utcnow() < REMINDER_OFFSETS[ReminderKind.DAY_BEFORE]:
        assert "DAY_BEFORE" not in kinds
    assert "TWO_HOURS_BEFORE" in kinds


@pytest.mark.committed
def test_concurrent_runs_still_send_each_reminder_once(app):
    with app.app_context():
        booking = book_for_sami()
        db.session.commit()
        make_due(booking.id)

    barrier = Barrier(8)

    def run_once() -> int:
        with app.app_context():
            try:
                barrier.wait()
                return send_session_reminders()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=8) as pool:
        sent = sum(pool.map(lambda _: run_once(), range(8)))

    assert sent == 2
    with app.app_context():
        assert len(reminder_emails()) == 6
