"""The assistante's desk: contact messages to handle and the students table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, contains_eager

from nexus.extensions import db
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import User
from nexus.models.notifications import ContactMessage
from nexus.services import audit, claim, command, identity, recent, utcnow
from nexus.services.contact import TOPICS
from nexus.services.paging import Page, matches, paginate

CONTACT_FILTERS = {"a-traiter": "À traiter", "traites": "Traités", "tous": "Tous"}
STUDENT_FILTERS = {"tous": "Tous", "a-activer": "À activer", "actives": "Activés"}


# -- contact messages -------------------------------------------------------------------------


def topic_label(topic: str) -> str:
    return TOPICS.get(topic, topic)


def contacts_stmt(filter_key: str, query: str) -> Select[tuple[ContactMessage]]:
    """Contact messages newest first, by state ("a-traiter", "traites", "tous") and name/e-mail:
    the table's rows, and its CSV export's."""
    stmt = select(ContactMessage).order_by(ContactMessage.id.desc())
    if filter_key == "a-traiter":
        stmt = stmt.where(ContactMessage.handled_at.is_(None))
    elif filter_key == "traites":
        stmt = stmt.where(ContactMessage.handled_at.is_not(None))
    if query.strip():
        stmt = stmt.where(matches(query, ContactMessage.name, ContactMessage.email))
    return stmt


def list_contacts(filter_key: str, query: str, number: int) -> Page[ContactMessage]:
    return paginate(contacts_stmt(filter_key, query), number)


def open_contacts_count() -> int:
    return db.session.scalar(select(func.count()).where(ContactMessage.handled_at.is_(None))) or 0


@dataclass(frozen=True)
class Handled:
    message: ContactMessage
    changed: bool  # False: it was already handled (by someone else, or a second click)


@command
def mark_contact_handled(message_id: int, actor: User) -> Handled | None:
    """Mark a message handled once (conditional UPDATE); None if it does not exist."""
    now = utcnow()
    message, changed = claim(ContactMessage, message_id, ContactMessage.handled_at.is_(None), handled_at=now)
    if message is None:
        return None
    if not changed:
        return Handled(message, changed=False)
    audit.record(
        "contact.handled",
        actor.id,
        message,
        before={"handled_at": None},
        after={"handled_at": now.isoformat()},
    )
    return Handled(message, changed=True)


def recently_handled_contacts() -> list[recent.Processed]:
    """The messages staff marked handled this week, newest first, with who did it."""
    return recent.from_audit(
        ("contact.handled",),
        ContactMessage,
        lambda m, line: (f"{m.name} · {topic_label(m.topic)}", "Traité", True),
    )


# -- students ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudentRow:
    student: Student
    link_expires_at: datetime | None  # an activation link is waiting to be used until then

    @property
    def user(self) -> User:
        return self.student.user


# The student's account and the parent's account, both rows of users.
_StudentUser = aliased(User, name="student_user")
_ParentUser = aliased(User, name="parent_user")
STUDENT_USER, PARENT_USER = _StudentUser, _ParentUser  # for the export's columns


def students_stmt(filter_key: str, query: str) -> Select[tuple[Student]]:
    """Students joined to their account (`STUDENT_USER`) and parent's (`PARENT_USER`), by state
    and by name or e-mail (student's or parent's): the table's rows, and its CSV export's."""
    stmt = (
        select(Student)
        .join(_StudentUser, Student.user_id == _StudentUser.id)
        .join(ParentProfile, Student.parent_id == ParentProfile.id)
        .join(_ParentUser, ParentProfile.user_id == _ParentUser.id)
        .order_by(_StudentUser.last_name, _StudentUser.first_name, Student.id)
    )
    if filter_key == "a-activer":
        stmt = stmt.where(_StudentUser.activated_at.is_(None))
    elif filter_key == "actives":
        stmt = stmt.where(_StudentUser.activated_at.is_not(None))
    if query.strip():
        stmt = stmt.where(
            matches(
                query,
                _StudentUser.first_name + " " + _StudentUser.last_name,
                _StudentUser.email,
                _ParentUser.first_name + " " + _ParentUser.last_name,
                _ParentUser.email,
            )
        )
    return stmt


def list_students(filter_key: str, query: str, number: int) -> Page[StudentRow]:
    """Students with their parent and account state, by name or e-mail (student's or parent's)."""
    stmt = students_stmt(filter_key, query).options(
        contains_eager(Student.user.of_type(_StudentUser)),
        contains_eager(Student.parent).contains_eager(ParentProfile.user.of_type(_ParentUser)),
    )
    page = paginate(stmt, number)
    links = identity.pending_activation_links([s.user_id for s in page.items])
    rows = [StudentRow(s, links.get(s.user_id)) for s in page.items]
    return Page(rows, page.number, page.per_page, page.total)


def get_student(student_id: int) -> Student | None:
    return db.session.get(Student, student_id)


def student_row(student: Student) -> StudentRow:
    return StudentRow(student, identity.pending_activation_links([student.user_id]).get(student.user_id))
