"""Families: parents, co-parents and their children; scoped loaders (someone else's child is
simply not found), the one way a family is created, and a child's details and removal by its
parents. The second parent's invitation is in co_parents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import joinedload

from nexus.extensions import db
from nexus.memo import per_request
from nexus.models.aria import AriaConversation
from nexus.models.assessments import Assessment, Score
from nexus.models.audit import AuditLog
from nexus.models.billing import Entitlement, Invoice, Payment, Subscription
from nexus.models.common import Grade, Role
from nexus.models.credits import CreditEntry, CreditLot, CreditRequest
from nexus.models.family import CoParent, ParentProfile, Student
from nexus.models.identity import User
from nexus.models.messaging import MessageThread, ThreadParticipant
from nexus.models.progress import Trajectory
from nexus.models.scheduling import SessionBooking
from nexus.models.vault import UserDocument
from nexus.models.workshops import WorkshopWaitlist
from nexus.services import ServiceError, audit, command, identity, utcnow


def family_ids(user_id: int) -> Select[tuple[int]]:
    """The family (parent profile) a parent belongs to: the one they opened or co-parent."""
    own = select(ParentProfile.id).where(ParentProfile.user_id == user_id)
    return own.union(select(CoParent.profile_id).where(CoParent.user_id == user_id))


def children_ids(user_id: int) -> Select[tuple[int]]:
    """The students of a parent's family."""
    return select(Student.id).where(Student.parent_id.in_(family_ids(user_id)))


def guardian_ids(user_id: int) -> Select[tuple[int]]:
    """Every parent of a parent's family, this one included (what one pays, both see)."""
    opener = select(ParentProfile.user_id).where(ParentProfile.id.in_(family_ids(user_id)))
    return opener.union(select(CoParent.user_id).where(CoParent.profile_id.in_(family_ids(user_id))))


def parent_profile(user: User) -> ParentProfile | None:
    return db.session.scalar(select(ParentProfile).where(ParentProfile.id.in_(family_ids(user.id))))


@per_request  # the home page's cards and its next step both read them
def children(user: User) -> list[Student]:
    stmt = (
        select(Student)
        .where(Student.parent_id.in_(family_ids(user.id)))
        .options(joinedload(Student.user))
        .order_by(Student.id)
    )
    return list(db.session.scalars(stmt))


def child_of(user: User, student_id: int | None) -> Student | None:
    """The student if it is one of this parent's children, else None (answer 404); None for no
    id (an id typed in a form that `parse_id` refused).

    With its account in the same query: a child removed by another request meanwhile is then
    either found whole or not at all (a later lazy load could find the account gone).
    """
    if student_id is None:
        return None
    stmt = (
        select(Student)
        .where(Student.id == student_id, Student.parent_id.in_(family_ids(user.id)))
        .options(joinedload(Student.user))
    )
    return db.session.scalar(stmt)


@per_request  # the student's home and its next step both read it
def student_of(user: User) -> Student | None:
    """The student record of a signed-in student."""
    return db.session.scalar(select(Student).where(Student.user_id == user.id))


@command
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


def new_account(person: ParentDraft, role: Role, password_hash: str | None = None) -> User:
    """A user row for a person with an address (the caller holds `lock_address`): with a password
    hash they may sign in at once, else they wait for their activation link."""
    user = User(
        email=identity.normalize_email(person.email),
        role=role,
        first_name=person.first_name.strip(),
        last_name=person.last_name.strip(),
        phone=(person.phone or "").strip() or None,
        password_hash=password_hash,
        activated_at=utcnow() if password_hash else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


@command
def open_family(
    draft: ParentDraft,
    kids: Sequence[ChildDraft],
    actor: User | None,
    *,
    password_hash: str | None = None,
) -> User:
    """Create a parent account, its family and its children, in one transaction (or the caller's).

    With `password_hash` (a sign-up whose link was opened) the parent may sign in at once;
    without, the parent is e-mailed an activation link to choose a password. `actor` is the staff
    member who opens the family, or None when the parent does. Raises EmailTaken.
    """
    owner = lock_address(draft.email)
    if owner is not None:
        raise EmailTaken(owner)
    parent = new_account(draft, Role.PARENT, password_hash)
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


# -- family care: a child's details, removing a child, the second parent -------------------------


def _locked_child(parent: User, student_id: int) -> Student | None:
    """The parent's child, its row locked and re-read; None if not theirs (or already removed)."""
    stmt = (
        select(Student)
        .where(Student.id == student_id, Student.parent_id.in_(family_ids(parent.id)))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(stmt)


@command
def update_child(parent: User, student_id: int, first_name: str, last_name: str, grade: Grade) -> Student:
    """Change a child's name and class (row locked); audited with before/after. LookupError if
    the child is not in the parent's family."""
    student = _locked_child(parent, student_id)
    if student is None:
        raise LookupError(student_id)
    user = student.user
    before = {"first_name": user.first_name, "last_name": user.last_name, "grade": student.grade.value}
    user.first_name, user.last_name, student.grade = first_name.strip(), last_name.strip(), grade
    after = {"first_name": user.first_name, "last_name": user.last_name, "grade": grade.value}
    if after != before:  # a second click with the same values writes nothing
        audit.record("family.child_updated", parent.id, student, before=before, after=after)
    return student


def child_history(student: Student) -> list[str]:
    """What ties a child to the centre's records (French labels); empty: the child may be removed.

    Every table that references the student (or the student's account) is looked at, so that
    removing the account never erases, nor fails on, a payment, a session, credits or a document.
    """
    checks = [
        ("paiements", select(Payment.id).where(Payment.student_id == student.id)),
        ("factures", select(Invoice.id).where(Invoice.student_id == student.id)),
        ("factures", select(Invoice.id).where(Invoice.beneficiary_id == student.user_id)),
        ("formules", select(Subscription.id).where(Subscription.student_id == student.id)),
        ("formules", select(Entitlement.id).where(Entitlement.student_id == student.id)),
        ("séances", select(SessionBooking.id).where(SessionBooking.student_id == student.id)),
        ("crédits", select(CreditLot.id).where(CreditLot.student_id == student.id)),
        ("crédits", select(CreditEntry.id).where(CreditEntry.student_id == student.id)),
        ("crédits", select(CreditRequest.id).where(CreditRequest.student_id == student.id)),
        ("ARIA", select(AriaConversation.id).where(AriaConversation.student_id == student.id)),
        ("tests", select(Assessment.id).where(Assessment.student_id == student.id)),
        ("tests", select(Score.id).where(Score.student_id == student.id)),
        ("documents", select(UserDocument.id).where(UserDocument.owner_id == student.user_id)),
        ("messages", select(MessageThread.id).where(MessageThread.student_id == student.id)),
        ("messages", select(ThreadParticipant.thread_id).where(ThreadParticipant.user_id == student.user_id)),
        ("trajectoire", select(Trajectory.id).where(Trajectory.student_id == student.id)),
        ("ateliers", select(WorkshopWaitlist.id).where(WorkshopWaitlist.student_id == student.id)),
    ]
    found: list[str] = []
    for label, stmt in checks:
        if label not in found and db.session.scalar(select(stmt.exists())):
            found.append(label)
    return found


class HasHistory(ServiceError):
    """The child has records the centre keeps: the account cannot be removed by the family."""

    def __init__(self, first_name: str) -> None:
        super().__init__(
            f"{first_name} a déjà un historique (séances, paiements ou crédits) : il ne peut pas "
            "être retiré. Écrivez-nous si vous souhaitez fermer son compte."
        )


@command
def remove_child(parent: User, student_id: int) -> str:
    """Remove a child without history: the student record and its account, in one transaction.

    The student row is locked first: a booking, payment or credit being written for this child at
    the same moment waits for it (their foreign key locks the row), then finds it gone; and the
    history is read after the lock, so what was committed before is seen. Returns the first name.
    LookupError if the child is not (or no longer) in the family; HasHistory if it has records.
    """
    student = _locked_child(parent, student_id)
    if student is None:
        raise LookupError(student_id)
    first_name = student.user.first_name
    if child_history(student):
        raise HasHistory(first_name)
    user_id = student.user_id
    # The audit line names no one beyond the first name (the account itself is erased).
    audit.record("family.child_removed", parent.id, student, after={"first_name": first_name})
    db.session.execute(delete(Student).where(Student.id == student.id))
    db.session.execute(delete(User).where(User.id == user_id))  # tokens, sessions… cascade
    return first_name


def removed_child_name(parent: User, student_id: int) -> str | None:
    """The first name of a child this family removed (a second click), else None (→ 404)."""
    after = db.session.scalar(
        select(AuditLog.after)
        .where(
            AuditLog.action == "family.child_removed",
            AuditLog.object_type == "students",
            AuditLog.object_id == student_id,
            AuditLog.actor_id.in_(guardian_ids(parent.id)),
        )
        .limit(1)
    )
    return (after or {}).get("first_name") if after is not None else None
