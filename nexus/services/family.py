"""Families: parents, co-parents and their children; scoped loaders (someone else's child is
simply not found) and the one way a family is created."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from nexus.extensions import db
from nexus.models.common import Grade, Role
from nexus.models.family import CoParent, ParentProfile, Student
from nexus.models.identity import User
from nexus.services import ServiceError, audit, identity, utcnow


def family_ids(user_id: int) -> Select[tuple[int]]:
    """The family (parent profile) a parent belongs to: the one they opened or co-parent."""
    own = select(ParentProfile.id).where(ParentProfile.user_id == user_id)
    return own.union(select(CoParent.profile_id).where(CoParent.user_id == user_id))


def parent_profile(user: User) -> ParentProfile | None:
    return db.session.scalar(select(ParentProfile).where(ParentProfile.id.in_(family_ids(user.id))))


def children(user: User) -> list[Student]:
    stmt = (
        select(Student)
        .where(Student.parent_id.in_(family_ids(user.id)))
        .options(joinedload(Student.user))
        .order_by(Student.id)
    )
    return list(db.session.scalars(stmt))


def child_of(user: User, student_id: int) -> Student | None:
    """The student if it is one of this parent's children, else None (answer 404)."""
    stmt = select(Student).where(Student.id == student_id, Student.parent_id.in_(family_ids(user.id)))
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
    actor: User | None = None,
) -> Student:
    """A student account for the parent's child; the activation link goes out if an e-mail is given.

    `actor` is who does it (staff opening a family), the parent by default.
    """
    actor = actor or parent
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
    audit.record("family.child_added", actor.id, student, after={"grade": grade.value})
    if email:
        identity.send_activation(student, email, actor)
    return student


# -- creating a family --------------------------------------------------------------------------


@dataclass(frozen=True)
class ParentDraft:
    first_name: str
    last_name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class ChildDraft:
    first_name: str
    last_name: str
    grade: Grade
    email: str | None = None
    school: str | None = None


class EmailTaken(ServiceError):
    """The address already belongs to an account (`owner`)."""

    def __init__(self, owner: User) -> None:
        super().__init__("Cette adresse e-mail est déjà utilisée par un autre compte.", field="email")
        self.owner = owner


def lock_address(email: str) -> User | None:
    """Serialise account creations for one address (transaction-scoped); its owner, if any."""
    email = identity.normalize_email(email)
    db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext("account:" + email))))
    return db.session.scalar(select(User).where(User.email == email))


def open_family(
    draft: ParentDraft,
    kids: Sequence[ChildDraft],
    actor: User | None,
    *,
    password_hash: str | None = None,
) -> User:
    """Create a parent account, its family and its children, in the caller's transaction.

    With `password_hash` (a sign-up whose link was opened) the parent may sign in at once;
    without, the parent is e-mailed an activation link to choose a password. `actor` is the staff
    member who opens the family, or None when the parent does. Raises EmailTaken.
    """
    owner = lock_address(draft.email)
    if owner is not None:
        raise EmailTaken(owner)
    parent = User(
        email=identity.normalize_email(draft.email),
        role=Role.PARENT,
        first_name=draft.first_name.strip(),
        last_name=draft.last_name.strip(),
        phone=(draft.phone or "").strip() or None,
        password_hash=password_hash,
        activated_at=utcnow() if password_hash else None,
    )
    db.session.add(parent)
    db.session.flush()
    db.session.add(ParentProfile(user_id=parent.id))
    db.session.flush()
    audit.record(
        "family.opened",
        actor.id if actor else parent.id,
        parent,
        after={"children": len(kids), "by": "staff" if actor else "sign-up"},
    )
    for kid in kids:
        add_child(parent, kid.first_name, kid.last_name, kid.grade, kid.school, kid.email, actor or parent)
    if password_hash is None:
        identity.send_account_activation(parent, actor)
    return parent
