"""Shared helpers of the workshop tests: a workshop created by staff, Première students with
credits, the ledger and the waiting list read back."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from nexus import fr
from nexus.extensions import db
from nexus.models.common import Grade, Subject
from nexus.models.credits import CreditEntry, EntryKind
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking
from nexus.models.workshops import Workshop, WorkshopWaitlist
from nexus.services import credits, utcnow, workshops
from tests import factories
from tests.helpers import user
from tests.people import ASSISTANTE, PARENT2


def staff() -> User:
    return user(ASSISTANTE)


def local_start(days: int = 7, at: str = "15:00") -> datetime:
    """A start `days` days from today (Tunis date), at a Tunis wall-clock time (aware)."""
    day = fr.local_today(utcnow()) + timedelta(days=days)
    return datetime.combine(day, time.fromisoformat(at), tzinfo=fr.TUNIS)


def pupil(
    email: str,
    amount: Decimal | int | str = 6,
    *,
    parent_email: str = PARENT2,
    first: str = "Élève",
    grade: Grade = Grade.PREMIERE,
    entitled: bool = True,
) -> Student:
    """A new student (Première by default), entitled with `amount` credits."""
    student = factories.family_student(email, parent_email, first)
    student.grade = grade
    if entitled:
        factories.entitle(student.id, amount)
    db.session.commit()  # into the test's transaction: a refused command rolls back to here
    return student


def workshop_input(
    coach: CoachProfile | None = None,
    *,
    starts_at: datetime | None = None,
    minutes: int = 60,
    seats: int = 3,
    weeks: int = 1,
    online: bool = True,
    subject: Subject = Subject.MATHEMATIQUES,
    grade: Grade = Grade.PREMIERE,
    title: str = "Suites et récurrence",
) -> workshops.WorkshopInput:
    return workshops.WorkshopInput(
        coach=coach or factories.coach("Hélios"),
        subject=subject,
        grade=grade,
        title=title,
        description="Méthodes et exercices types.",
        starts_at=starts_at or local_start(),
        minutes=minutes,
        online=online,
        seats=seats,
        weeks=weeks,
    )


def workshop(**kwargs: object) -> Workshop:
    """One workshop created by the assistante (the first sitting when weeks > 1)."""
    return workshops.create(staff(), workshop_input(**kwargs))[0]  # type: ignore[arg-type]


def seats_held(workshop_id: int) -> int:
    stmt = select(func.count()).where(SessionBooking.workshop_id == workshop_id, SessionBooking.is_holding)
    return db.session.scalar(stmt) or 0


def entries(workshop_id: int) -> list[WorkshopWaitlist]:
    stmt = (
        select(WorkshopWaitlist)
        .where(WorkshopWaitlist.workshop_id == workshop_id)
        .order_by(WorkshopWaitlist.created_at, WorkshopWaitlist.id)
    )
    return list(db.session.scalars(stmt.execution_options(populate_existing=True)))


def balance(student_id: int) -> Decimal:
    db.session.expire_all()
    return credits.balance(student_id)


def consumed(booking_id: int) -> Decimal:
    stmt = select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
        CreditEntry.booking_id == booking_id, CreditEntry.kind == EntryKind.CONSUME
    )
    return -Decimal(db.session.scalar(stmt))


def ledger_entries(kind: EntryKind) -> int:
    return db.session.scalar(select(func.count()).where(CreditEntry.kind == kind)) or 0
