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
