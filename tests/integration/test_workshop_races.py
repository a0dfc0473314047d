"""Workshop races with real commits and 50 threads: the last seat, and a freed seat with people
booking, joining, leaving and cancelling around it (never more seats than exist, never two
promotions for one seat, the ledger consistent)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.common import Subject
from nexus.models.credits import CreditEntry, EntryKind
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking
from nexus.models.workshops import WaitStatus, Workshop, WorkshopWaitlist
from nexus.services import ServiceError, credits, scheduling, workshops
from nexus.services.scheduling import AlreadyClosed, BookingChoice
from tests import factories
from tests.helpers import FIFTY, at_once
from tests.integration.scheduling_support import free_slot
from tests.integration.workshop_support import (
    entries,
    local_start,
    pupil,
    seats_held,
    staff,
    workshop,
    workshop_input,
)


def _student(student_id: int) -> Student:
    return db.session.get_one(Student, student_id)


def _ledger_ok(student_ids: list[int]) -> None:
    """Every student's balance is what their lots hold minus what their held seats cost."""
    for student_id in student_ids:
        held = db.session.scalar(
            select(func.coalesce(func.sum(SessionBooking.credits_cost), 0)).where(
                SessionBooking.student_id == student_id, SessionBooking.is_holding
            )
        )
        granted = db.session.scalar(
            select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
                CreditEntry.student_id == student_id, CreditEntry.kind == EntryKind.GRANT
            )
        )
        assert credits.balance(student_id) == Decimal(granted) - Decimal(held), student_id


@pytest.mark.committed
def test_fifty_families_on_the_last_seat_give_one_seat(app):
    with app.app_context():
        w = workshop(seats=2)
        first = pupil("first@example.tn", 3)
        workshops.book_seat(first.user, first, w.id)
        ids = [pupil(f"race{n}@example.tn", 3, first=f"R{n}").id for n in range(FIFTY)]
        workshop_id = w.id
        db.session.commit()

    def attempt(i: int) -> SessionBooking:
        student = _student(ids[i])
        return workshops.book_seat(student.user, student, workshop_id)

    results = at_once(app, attempt)

    refused = [r for r in results if isinstance(r, ServiceError)]
    assert len(refused) == FIFTY - 1
    assert all(isinstance(r, workshops.WorkshopFull) for r in refused), Counter(type(r) for r in refused)
    with app.app_context():
        assert seats_held(workshop_id) == 2
        consumes = db.session.scalar(select(func.count()).where(CreditEntry.kind == EntryKind.CONSUME))
        assert consumes == 2
        assert sum(credits.balances(ids).values()) == 3 * FIFTY - Decimal("1.50")
        _ledger_ok(ids)


@pytest.mark.committed
def test_a_freed_seat_under_fifty_concurrent_attempts_is_given_once(app):
    """Three seats taken, five waiting. At once: the seat's owner cancels (twice), the first in
    line leaves, newcomers book (full) or join the line, the seated book again."""
    with app.app_context():
        w = workshop(seats=3, starts_at=local_start(7))
        seated = [pupil(f"seat{n}@example.tn", 3, first=f"Seat{n}") for n in range(3)]
        seats = [workshops.book_seat(s.user, s, w.id) for s in seated]
        waiting = [pupil(f"wait{n}@example.tn", 3, first=f"Wait{n}") for n in range(5)]
        for s in waiting:
            workshops.join_waitlist(s.user, s, w.id)
        newcomers = [pupil(f"new{n}@example.tn", 3, first=f"New{n}").id for n in range(FIFTY)]
        workshop_id, seat_id, owner_user = w.id, seats[0].id, seated[0].user_id
        first_in_line, second_in_line = waiting[0].id, waiting[1].id
        everyone = [s.id for s in seated] + [s.id for s in waiting] + newcomers
        db.session.commit()

    def attempt(i: int) -> object:
        if i in (0, 1):
            return workshops.cancel_seat(db.session.get_one(User, owner_user), seat_id)
        if i == 2:
            student = _student(first_in_line)
            return workshops.leave_waitlist(student.user, student, workshop_id)
        student = _student(newcomers[i])
        if i % 2:
            return workshops.book_seat(student.user, student, workshop_id)
        return workshops.join_waitlist(student.user, student, workshop_id)

    results = at_once(app, attempt)

    outcomes = Counter(type(r).__name__ for r in results)
    cancels = results[:2]
    assert sum(isinstance(r, AlreadyClosed) for r in cancels) == 1, outcomes
    assert all(
        isinstance(r, workshops.WorkshopFull | AlreadyClosed) or not isinstance(r, ServiceError)
        for r in results[3:]
    ), outcomes
    with app.app_context():
        assert seats_held(workshop_id) == 3
        line = entries(workshop_id)
        promoted = [e for e in line if e.status is WaitStatus.PROMOTED]
        assert len(promoted) == 1
        # The first in line got it, unless they left before the seat was freed.
        left = isinstance(results[2], type(None))
        assert promoted[0].student_id == (second_in_line if left else first_in_line)
        if not left:
            assert "n'est pas sur la liste" in results[2].message  # type: ignore[union-attr]
        assert credits.balance(promoted[0].student_id) == Decimal("1.50")
        holders = db.session.scalars(
            select(SessionBooking.student_id).where(
                SessionBooking.workshop_id == workshop_id, SessionBooking.is_holding
            )
        ).all()
        assert promoted[0].student_id in holders and len(set(holders)) == 3
        waiting_now = db.session.scalar(
            select(func.count()).where(
                WorkshopWaitlist.workshop_id == workshop_id, WorkshopWaitlist.status == WaitStatus.WAITING
            )
        )
        joined = sum(
            1 for i, r in enumerate(results) if i > 2 and i % 2 == 0 and not isinstance(r, ServiceError)
        )
        assert waiting_now == 5 - 1 - (1 if left else 0) + joined
        _ledger_ok(everyone)


@pytest.mark.committed
def test_one_to_one_bookings_and_workshops_racing_for_the_coachs_hour_give_one(app):
    """Half the threads book Hélios one-to-one at a slot, half create a workshop over it: the
    coach's lock lets exactly one of them have the hour."""
    with app.app_context():
        helios = factories.coach("Hélios")
        slot = free_slot(helios, days_ahead=4)
        ids = [pupil(f"solo{n}@example.tn", 3, first=f"Solo{n}").id for n in range(FIFTY // 2)]
        coach_id, staff_id = helios.id, staff().id
        db.session.commit()

    def attempt(i: int) -> object:
        coach = db.session.get_one(CoachProfile, coach_id)
        if i % 2:
            student = _student(ids[i // 2])
            choice = BookingChoice(coach, Subject.MATHEMATIQUES, ServiceType.COURS_ONLINE, 60, slot.starts_at)
            return scheduling.book(student.user, student, choice)
        data = workshop_input(coach, starts_at=slot.starts_at, title=f"Atelier {i}")
        return workshops.create(db.session.get_one(User, staff_id), data)

    results = at_once(app, attempt)

    won = [r for r in results if not isinstance(r, ServiceError)]
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert all(
        isinstance(r, scheduling.SlotTaken) or "a déjà une séance ou un atelier le" in r.message
        for r in refused
    ), Counter(r.message for r in refused)
    assert len(won) == 1, Counter(type(r).__name__ for r in results)
    with app.app_context():
        one_to_one = db.session.scalar(
            select(func.count()).where(SessionBooking.coach_id == coach_id, SessionBooking.is_holding)
        )
        created = db.session.scalar(select(func.count()).select_from(Workshop))
        assert one_to_one + created == 1
