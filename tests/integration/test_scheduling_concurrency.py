"""Races with real commits and 50 threads: the last slot, the last credit, a double cancel (the
same through the pages, where the view loads the booking first: test_scheduling_races.py)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from threading import Barrier

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.common import Subject
from nexus.models.credits import CreditEntry, EntryKind
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking, SessionReminder, SessionStatus
from nexus.services import ServiceError, credits, scheduling
from nexus.services.scheduling import BookingChoice
from tests import factories
from tests.integration.scheduling_support import free_slot
from tests.people import SAMI

THREADS = 50


def attempt_booking(app, barrier: Barrier, student_id: int, coach_id: int, start: datetime) -> str:
    """One family booking, as the view does it: book, commit, or roll back on a refusal."""
    with app.app_context():
        try:
            student = db.session.get_one(Student, student_id)
            coach = db.session.get_one(CoachProfile, coach_id)
            choice = BookingChoice(coach, Subject.MATHEMATIQUES, ServiceType.COURS_ONLINE, 60, start)
            barrier.wait()
            scheduling.book(student.user, student, choice)
            db.session.commit()
            return "booked"
        except scheduling.SlotTaken:
            db.session.rollback()
            return "taken"
        except credits.InsufficientCredits:
            db.session.rollback()
            return "no credit"
        except Exception as err:  # anything else is a failure of the test
            db.session.rollback()
            return repr(err)
        finally:
            db.session.remove()


def run(app, jobs: list[tuple[int, datetime]], coach_id: int) -> Counter[str]:
    barrier = Barrier(len(jobs))
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(attempt_booking, app, barrier, sid, coach_id, start) for sid, start in jobs]
        return Counter(f.result() for f in futures)


@pytest.mark.committed
def test_fifty_people_on_the_same_slot_give_one_booking(app):
    with app.app_context():
        coach = factories.coach("Hélios")
        slot = free_slot(coach)
        ids = []
        for n in range(THREADS):
            student = factories.family_student(f"course{n}@example.tn", first=f"Élève{n}")
            factories.entitle(student.id, 1)
            ids.append(student.id)
        coach_id = coach.id
        db.session.commit()

    results = run(app, [(sid, slot.starts_at) for sid in ids], coach_id)

    assert results == Counter({"booked": 1, "taken": THREADS - 1}), results
    with app.app_context():
        (booking,) = db.session.scalars(select(SessionBooking)).all()
        assert booking.status is SessionStatus.SCHEDULED and booking.starts_at == slot.starts_at
        spent = db.session.scalar(select(func.count()).where(CreditEntry.kind == EntryKind.CONSUME))
        assert spent == 1
        assert db.session.scalar(select(func.count()).select_from(SessionReminder)) == 2
        assert sum(credits.balances(ids).values()) == THREADS - 1


@pytest.mark.committed
def test_fifty_slots_for_one_student_with_one_credit_give_one_booking(app):
    with app.app_context():
        coach = factories.coach("Hélios")
        student = factories.family_student("un.credit@example.tn")
        factories.entitle(student.id, 1)
        starts = [free_slot(coach, index=i).starts_at for i in range(THREADS)]
        student_id, coach_id = student.id, coach.id
        db.session.commit()

    results = run(app, [(student_id, start) for start in starts], coach_id)

    assert results == Counter({"booked": 1, "no credit": THREADS - 1}), results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SessionBooking)) == 1
        assert credits.balance(student_id) == 0
        entries = db.session.scalars(select(CreditEntry.amount).where(CreditEntry.student_id == student_id))
        assert sum(entries, Decimal(0)) == 0


@pytest.mark.committed
def test_fifty_concurrent_cancels_refund_once(app):
    with app.app_context():
        sami = factories.student(SAMI)
        coach = factories.coach("Hélios")
        slot = free_slot(coach)
        choice = BookingChoice(coach, Subject.MATHEMATIQUES, ServiceType.COURS_ONLINE, 60, slot.starts_at)
        booking = scheduling.book(sami.user, sami, choice)
        booking_id, sami_id, user_id = booking.id, sami.id, sami.user_id
        db.session.commit()
        assert credits.balance(sami_id) == 3

    barrier = Barrier(THREADS)

    def attempt() -> str:
        with app.app_context():
            try:
                actor = db.session.get_one(User, user_id)
                barrier.wait()
                scheduling.cancel(actor, booking_id)
                db.session.commit()
                return "cancelled"
            except ServiceError as err:
                db.session.rollback()
                return err.message
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = Counter(pool.map(lambda _: attempt(), range(THREADS)))

    assert results == Counter({"cancelled": 1, "Cette séance est déjà annulée.": THREADS - 1}), results
    with app.app_context():
        assert credits.balance(sami_id) == 4
        refunds = db.session.scalar(
            select(func.count()).where(
                CreditEntry.booking_id == booking_id, CreditEntry.kind == EntryKind.REFUND
            )
        )
        assert refunds == 1
