"""50 concurrent clicks on one booking, through the real pages, on committed data.

The views load the booking (access check) before the service locks it: without a re-read after
the lock, every request saw the status it loaded and went on. Here each of the 50 requests has its
own signed-in client; exactly one does the change, the 49 others get a clear French refusal, and
the credits, the bookings, the reports and the announcements are there once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from threading import Barrier
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import delete, func, select, update

from nexus import fr
from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.catalog import ServiceType
from nexus.models.common import Subject
from nexus.models.credits import CreditEntry, EntryKind
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User, UserToken
from nexus.models.notifications import Notification, OutboxEmail
from nexus.models.scheduling import CoachAvailability, SessionBooking, SessionReport, SessionStatus
from nexus.services import coaching, credits, scheduling
from nexus.services.scheduling import BookingChoice, slots
from tests import factories
from tests.helpers import html
from tests.people import ASSISTANTE, DEMO_PASSWORD, HELIOS, HX, PARENT2

THREADS = 50
NOW = "2030-03-04 08:00:00"  # a Monday, 09:00 in Tunis
STUDENT = "course@example.tn"
REPORT = {
    "summary": "Suites arithmétiques et géométriques, exercices du manuel.",
    "topics": "Suites, récurrence, limites",
    "rating": "4",
    "progress_notes": "Sami pose maintenant la récurrence seul.",
    "recommendations": "Refaire les exercices 3 à 7.",
    "attended": "y",
}


@pytest.fixture
def frozen() -> Iterator[None]:
    """A fixed Monday morning; the clock ticks from there (pool and barrier timeouts keep working)."""
    with freeze_time(NOW, tick=True):
        yield


def tunis(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=fr.TUNIS)


def prepare(credit: int = 60) -> tuple[int, int]:
    """Hélios on weekday afternoons (14:00–19:00) and a new student with credits: (student, coach)."""
    coach = factories.coach("Hélios")
    db.session.execute(delete(CoachAvailability).where(CoachAvailability.coach_id == coach.id))
    for weekday in range(5):
        factories.weekly(coach.id, weekday, "14:00", "19:00")
    student = factories.family_student(STUDENT, PARENT2, first="Sami", password=True)
    factories.entitle(student.id, credit, days=120)
    return student.id, coach.id


def book(student_id: int, coach_id: int, starts_at: datetime) -> int:
    """A session paid from the ledger, as the booking page makes it."""
    student = db.session.get_one(Student, student_id)
    coach = db.session.get_one(CoachProfile, coach_id)
    choice = BookingChoice(coach, Subject.MATHEMATIQUES, ServiceType.COURS_ONLINE, 60, starts_at)
    return scheduling.book(student.user, student, choice).id


def past_session(student_id: int, coach_id: int) -> int:
    """A session that started 30 minutes ago (its credit taken), waiting for its report."""
    booking = factories.booking(student_id, coach_id, datetime(2030, 3, 4, 7, 30, tzinfo=UTC))
    credits.consume(student_id, booking.credits_cost, booking.id)
    return booking.id


def clients(app: Flask, email: str) -> list[FlaskClient]:
    """One signed-in browser per concurrent request."""
    signed_in = []
    for _ in range(THREADS):
        client = app.test_client()
        response = client.post("/auth/signin", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 303
        signed_in.append(client)
    return signed_in


def race(browsers: list[FlaskClient], request: Callable[[FlaskClient, int], Any]) -> list[Any]:
    """Run request(client, index) for every client at the same moment; the responses, in order."""
    barrier = Barrier(len(browsers))

    def one(index: int) -> Any:
        barrier.wait()
        return request(browsers[index], index)

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        return list(pool.map(one, range(len(browsers))))


def count(stmt: Any) -> int:
    return db.session.scalar(stmt) or 0


def notified(kind: str) -> int:
    return count(select(func.count()).where(Notification.kind == kind))


def mails(template: str) -> int:
    return count(select(func.count()).where(OutboxEmail.template == template))


# -- reschedule -------------------------------------------------------------------------------


@pytest.mark.committed
def test_fifty_reschedules_of_one_booking_move_it_once(app, frozen):
    with app.app_context():
        student_id, coach_id = prepare(credit=60)
        old_id = book(student_id, coach_id, tunis(date(2030, 3, 11), 14))
        # 50 different free slots, so that nothing but the booking's own lock can refuse a move.
        days = slots.free_slots(coach_id, 60, date(2030, 3, 12), 21)
        targets = [s.param for d in days for s in d.slots][:THREADS]
        assert len(targets) == THREADS
        db.session.commit()
    browsers = clients(app, STUDENT)

    responses = race(
        browsers,
        lambda client, i: client.post(f"/dashboard/sessions/{old_id}/deplacer", data={"debut": targets[i]}),
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == Counter({303: 1, 409: THREADS - 1}), statuses
    refusals = {html(r).count("Cette séance a déjà été déplacée") for r in responses if r.status_code == 409}
    assert refusals == {1}
    with app.app_context():
        rows = db.session.scalars(select(SessionBooking).where(SessionBooking.student_id == student_id)).all()
        holding = [b for b in rows if b.status is SessionStatus.SCHEDULED]
        assert len(rows) == 2 and len(holding) == 1 and holding[0].rescheduled_from_id == old_id
        entries = Counter(
            db.session.scalars(select(CreditEntry.kind).where(CreditEntry.student_id == student_id))
        )
        assert entries[EntryKind.CONSUME] == 2 and entries[EntryKind.REFUND] == 1
        assert credits.balance(student_id) == 59
        assert notified("SESSION_RESCHEDULED") == 2  # the coach and the parent, once each


# -- cancel -----------------------------------------------------------------------------------


@pytest.mark.committed
def test_fifty_cancels_of_one_booking_are_done_and_announced_once(app, frozen):
    with app.app_context():
        student_id, coach_id = prepare(credit=1)
        booking_id = book(student_id, coach_id, tunis(date(2030, 3, 11), 15))
        db.session.commit()
        assert credits.balance(student_id) == 0
    browsers = clients(app, STUDENT)

    responses = race(
        browsers,
        lambda client, _: client.post(
            f"/dashboard/sessions/{booking_id}/annuler", data={"reason": "Malade", "confirm": "1"}
        ),
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == Counter({303: 1, 409: THREADS - 1}), statuses
    assert all("Cette séance est déjà annulée." in html(r) for r in responses if r.status_code == 409)
    with app.app_context():
        booking = db.session.get_one(SessionBooking, booking_id)
        assert booking.status is SessionStatus.CANCELLED
        refunds = count(
            select(func.count()).where(
                CreditEntry.booking_id == booking_id, CreditEntry.kind == EntryKind.REFUND
            )
        )
        assert refunds == 1 and credits.balance(student_id) == 1
        assert notified("SESSION_CANCELLED") == 2  # the coach and the parent
        assert mails("session_cancelled") == 2


# -- the coach closes a session ---------------------------------------------------------------


@pytest.mark.committed
def test_fifty_reports_on_one_session_give_one_report(app, frozen):
    with app.app_context():
        student_id, coach_id = prepare(credit=1)
        booking_id = past_session(student_id, coach_id)
        db.session.commit()
    browsers = clients(app, HELIOS)

    url = f"/dashboard/coach/sessions/{booking_id}/rapport"
    responses = race(browsers, lambda client, _: client.post(url, data=REPORT))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == Counter({303: 1, 422: THREADS - 1}), statuses
    assert all("Cette séance est déjà close." in html(r) for r in responses if r.status_code == 422)
    with app.app_context():
        assert count(select(func.count()).select_from(SessionReport)) == 1
        assert db.session.get_one(SessionBooking, booking_id).status is SessionStatus.COMPLETED
        assert notified("SESSION_REPORT") == 2  # the student and the parent
        assert mails("session_report") == 1  # the parent


@pytest.mark.committed
def test_fifty_no_shows_on_one_session_are_recorded_once(app, frozen):
    with app.app_context():
        student_id, coach_id = prepare(credit=1)
        booking_id = past_session(student_id, coach_id)
        db.session.commit()
    browsers = clients(app, HELIOS)

    responses = race(
        browsers,
        lambda client, _: client.post(
            f"/dashboard/coach/sessions/{booking_id}/absence", data={"confirm": "1"}
        ),
    )

    assert Counter(r.status_code for r in responses) == Counter({303: THREADS})
    pages = [html(client.get("/dashboard/coach/sessions")) for client in browsers]
    assert sum("Absence de Sami enregistrée." in page for page in pages) == 1
    assert sum("Cette séance est déjà close." in page for page in pages) == THREADS - 1
    with app.app_context():
        booking = db.session.get_one(SessionBooking, booking_id)
        assert booking.status is SessionStatus.NO_SHOW
        assert notified("SESSION_NO_SHOW") == 2  # the student and the parent
        assert credits.balance(student_id) == 0


# -- the coach's account ----------------------------------------------------------------------


@pytest.mark.committed
def test_fifty_deactivations_of_a_coach_change_and_audit_it_once(app, frozen):
    with app.app_context():
        coach = factories.coach("Zénon")
        coach_id, user_id, version = coach.id, coach.user_id, coach.user.session_version
    browsers = clients(app, ASSISTANTE)

    url = f"/dashboard/assistante/coachs/{coach_id}/desactiver"
    responses = race(browsers, lambda client, _: client.post(url, data={"confirm": "1"}))

    assert Counter(r.status_code for r in responses) == Counter({303: THREADS})
    with app.app_context():
        user = db.session.get_one(User, user_id)
        assert not user.is_active and user.session_version == version + 1
        lines = db.session.scalar(
            select(func.count()).where(
                AuditLog.action == "account.deactivated", AuditLog.object_id == user_id
            )
        )
        assert lines == 1


# -- the coach's weekly grid ------------------------------------------------------------------


@pytest.mark.committed
def test_fifty_saves_of_one_day_leave_one_of_them(app, frozen):
    """A day's windows are replaced as a whole: 50 saves at once never add up to 50 windows."""
    with app.app_context():
        coach_id = factories.coach("Hélios").id
    browsers = clients(app, HELIOS)
    starts = [f"06:{i:02d}" for i in range(THREADS)]

    responses = race(
        browsers,
        lambda client, i: client.post(
            "/dashboard/coach/availability/jour/5", data={"start_0": starts[i], "end_0": "12:00"}
        ),
    )

    assert Counter(r.status_code for r in responses) == Counter({303: THREADS})
    with app.app_context():
        saturday = db.session.scalars(
            select(CoachAvailability.start_time).where(
                CoachAvailability.coach_id == coach_id, CoachAvailability.weekday == 5
            )
        ).all()
        assert len(saturday) == 1 and f"{saturday[0]:%H:%M}" in starts


@pytest.mark.committed
def test_fifty_invitation_resends_send_one_link(app, frozen):
    """A double click (or 50) on "Renvoyer l'invitation" sends one e-mail and leaves one valid link."""
    with app.app_context():
        staff = db.session.scalar(select(User).where(User.email == ASSISTANTE))
        fields = coaching.CoachFields("Nour", "Jlassi", "Orion", [Subject.MATHEMATIQUES])
        coach = coaching.create_coach("nour.jlassi@example.tn", fields, staff)
        coach_id, user_id = coach.id, coach.user_id
        # The invitation of the creation was sent an hour ago.
        db.session.execute(update(UserToken).values(created_at=datetime(2030, 3, 4, 7, 0, tzinfo=UTC)))
        db.session.commit()
    browsers = clients(app, ASSISTANTE)

    url = f"/dashboard/assistante/coachs/{coach_id}/invitation"
    responses = race(browsers, lambda client, _: client.post(url, headers=HX))

    assert Counter(r.status_code for r in responses) == Counter({200: 1, 422: THREADS - 1})
    refusals = {
        html(r).count("Une invitation vient d'être envoyée") for r in responses if r.status_code == 422
    }
    assert refusals == {1}
    with app.app_context():
        valid = db.session.scalar(
            select(func.count()).where(UserToken.user_id == user_id, UserToken.used_at.is_(None))
        )
        assert valid == 1
        assert mails("coach_invitation") == 2  # the creation's, and one resend
