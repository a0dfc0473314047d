"""Parents and students: scoped loaders (someone else's child is simply not found)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from nexus.extensions import db
from nexus.models.common import Grade, Role
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


def add_child(
    parent: User,
    first_name: str,
    last_name: str,
    grade: Grade,
    school: str | None,
    email: str | None,
) -> Student:
    """A student account for the parent's child; the activation link goes out if an e-mail is given."""
    from nexus.services import audit, identity

    profile = parent_profile(parent)
    if profile is None:
        raise LookupError("parent profile")
    # The address is given by send_activation, which answers alike whether it has an account or not.
    user = User(email=None, role=Role.ELEVE, first_name=first_name.strip(), last_name=last_name.strip())
    db.session.add(user)
    db.session.flush()
    student = Student(
        user_id=user.id, parent_id=profile.id, grade=grade, school=(school or "").strip() or None
    )
    db.session.add(student)
    db.session.flush()
    audit.record("family.child_added", parent.id, student, after={"grade": grade.value})
    if email:
        identity.send_activation(student, email, parent)
    return student
