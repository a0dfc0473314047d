"""Parents and students: scoped loaders (someone else's child is simply not found)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from nexus.extensions import db
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import User


def parent_profile(user: User) -> ParentProfile | None:
    return db.session.scalar(select(ParentProfile).where(ParentProfile.user_id == user.id))


def children(user: User) -> list[Student]:
    stmt = (
        select(Student)
        .join(ParentProfile, Student.parent_id == ParentProfile.id)
        .where(ParentProfile.user_id == user.id)
        .options(joinedload(Student.user))
        .order_by(Student.id)
    )
    return list(db.session.scalars(stmt))


def child_of(user: User, student_id: int) -> Student | None:
    """The student if it is one of this parent's children, else None (answer 404)."""
    stmt = (
        select(Student)
        .join(ParentProfile, Student.parent_id == ParentProfile.id)
        .where(ParentProfile.user_id == user.id, Student.id == student_id)
    )
    return db.session.scalar(stmt)


def student_of(user: User) -> Student | None:
    """The student record of a signed-in student."""
    return db.session.scalar(select(Student).where(Student.user_id == user.id))
