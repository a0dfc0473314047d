"""Small builders for test data on top of the demo seed."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.common import Subject
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.services import utcnow
from tests.people import DEMO_PASSWORD, PARENT2


def student(email: str) -> Student:
    return db.session.scalar(
        select(Student).join(User, Student.user_id == User.id).where(User.email == email)
    )


def coach(pseudonym: str = "Hélios") -> CoachProfile:
    return db.session.scalar(select(CoachProfile).where(CoachProfile.pseudonym == pseudonym))


def booking(
    student_id: int,
    coach_id: int,
    starts_at: datetime | None = None,
    minutes: int = 60,
    status: SessionStatus = SessionStatus.SCHEDULED,
) -> SessionBooking:
    starts_at = starts_at or utcnow() + timedelta(days=3)
    row = SessionBooking(
        student_id=student_id,
        coach_id=coach_id,
        subject=Subject.MATHEMATIQUES,
        service=ServiceType.COURS_ONLINE,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        credits_cost=Decimal(minutes) / 60,
        status=status,
        room_name=f"nexus-{secrets.token_urlsafe(12)}",
    )
    db.session.add(row)
    db.session.flush()
    return row


# -- scheduling helpers ------------------------------------------------------------------------


def family_student(
    email: str,
    parent_email: str = PARENT2,
    first: str = "Élève",
    *,
    password: bool = False,
) -> Student:
    """A new activated student under an existing demo parent (demo password only if asked: argon2 is slow)."""
    from nexus.models.common import Grade, Role
    from nexus.models.family import ParentProfile
    from nexus.services import identity

    parent = db.session.scalar(
        select(ParentProfile).join(User, ParentProfile.user_id == User.id).where(User.email == parent_email)
    )
    user = User(
        email=email,
        role=Role.ELEVE,
        first_name=first,
        last_name="Test",
        password_hash=identity.hash_password(DEMO_PASSWORD) if password else None,
        activated_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    row = Student(user_id=user.id, parent_id=parent.id, grade=Grade.TERMINALE)
    db.session.add(row)
    db.session.flush()
    return row


def entitle(student_id: int, amount: Decimal | str | int = 0, days: int = 60) -> None:
    """Give a student the CREDITS_USE entitlement and, if asked, a lot of credits."""
    from nexus.models.billing import Entitlement, EntitlementStatus
    from nexus.models.catalog import Feature, OfferCode
    from nexus.models.credits import LotSource
    from nexus.services import credits

    db.session.add(
        Entitlement(
            student_id=student_id,
            feature=Feature.CREDITS_USE,
            offer_code=OfferCode.CREDITS_5,
            status=EntitlementStatus.ACTIVE,
            starts_at=utcnow() - timedelta(days=1),
            ends_at=utcnow() + timedelta(days=days),
        )
    )
    if Decimal(amount) > 0:
        credits.grant(student_id, Decimal(amount), LotSource.MANUAL, utcnow() + timedelta(days=days))
    db.session.flush()


def weekly(
    coach_id: int,
    weekday: int,
    start: str,
    end: str,
    valid_from: str = "2020-01-01",
    until: str | None = None,
) -> object:
    """A weekly availability window (local Tunis times 'HH:MM')."""
    from datetime import date, time

    from nexus.models.scheduling import CoachAvailability

    row = CoachAvailability(
        coach_id=coach_id,
        weekday=weekday,
        start_time=time.fromisoformat(start),
        end_time=time.fromisoformat(end),
        valid_from=date.fromisoformat(valid_from),
        valid_until=date.fromisoformat(until) if until else None,
    )
    db.session.add(row)
    db.session.flush()
    return row
