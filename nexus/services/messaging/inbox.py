"""The staff inbox: every thread with families (addressed to the centre, or about a student),
its filters and search, assigning a thread to a colleague and marking it handled.

Each action locks the thread row and compares what the person saw (the assignee, the status)
with what is there now: a second click is "already done", a change by someone else meanwhile is
a conflict the view answers with 409 (nexus/rows.py). Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from nexus import links, policy
from nexus.extensions import db
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.messaging import Message, MessageReport, MessageThread, ThreadParticipant, ThreadStatus
from nexus.services import (
    ServiceError,
    audit,
    command,
    locked,
    notifications,
    utcnow,
)
from nexus.services.messaging import access, safeguarding, threads
from nexus.services.paging import Page, like_pattern, paginate

FILTERS = {
    "a-traiter": "À traiter",
    "a-moi": "Assignées à moi",
    "non-assignes": "Non assignées",
    "signales": "Signalées",
    "traites": "Traitées",
    "tous": "Toutes",
}
PER_PAGE = 30
UNKNOWN_COLLEAGUE = "Choisissez une personne de l'équipe dans la liste."


def in_inbox() -> object:
    """The threads staff follow: addressed to the centre, or about a student (safeguarding)."""
    return or_(MessageThread.with_staff, MessageThread.student_id.is_not(None))


def get_thread(thread_id: int) -> MessageThread | None:
    """A thread of the inbox, or None (the view answers 404)."""
    return db.session.scalar(select(MessageThread).where(MessageThread.id == thread_id, in_inbox()))


# -- the list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    thread: MessageThread
    family: str  # the family's people (or the address of a family without an account)
    student: str | None
    last_author: str
    last_text: str
    assignee: str | None
    unread: bool  # a message the staff member reading the inbox has not seen
    reports: int  # open reports on its messages


def _reported() -> object:
    return exists().where(
        Message.thread_id == MessageThread.id,
        MessageReport.message_id == Message.id,
        MessageReport.handled_at.is_(None),
    )


def _matching(query: str) -> object:
    """Subject, the family's names and e-mails, the student's name, or a message's text."""
    pattern = like_pattern(query)
    person = aliased(User)
    full_name = func.concat(person.first_name, " ", person.last_name)

    def like(column: object) -> object:
        return column.ilike(pattern, escape="\\")  # type: ignore[attr-defined]

    people = (
        select(ThreadParticipant.thread_id)
        .join(person, person.id == ThreadParticipant.user_id)
        .where(or_(like(full_name), like(person.email)))
    )
    students = (
        select(Student.id)
        .join(person, person.id == Student.user_id)
        .where(or_(like(full_name), like(person.email)))
    )
    texts = select(Message.thread_id).where(like(Message.body))
    return or_(
        like(MessageThread.subject),
        like(MessageThread.external_name),
        like(MessageThread.external_email),
        MessageThread.id.in_(people),
        MessageThread.student_id.in_(students),
        MessageThread.id.in_(texts),
    )


def search(viewer: User, filter_key: str, query: str, number: int) -> Page[InboxRow]:
    """The inbox by state and search, open threads first, then by last message (newest first)."""
    stmt = select(MessageThread).where(in_inbox())
    if filter_key == "a-traiter":
        stmt = stmt.where(MessageThread.status == ThreadStatus.OPEN)
    elif filter_key == "traites":
        stmt = stmt.where(MessageThread.status == ThreadStatus.HANDLED)
    elif filter_key == "a-moi":
        stmt = stmt.where(MessageThread.assignee_id == viewer.id, MessageThread.status == ThreadStatus.OPEN)
    elif filter_key == "non-assignes":
        stmt = stmt.where(MessageThread.assignee_id.is_(None), MessageThread.status == ThreadStatus.OPEN)
    elif filter_key == "signales":
        stmt = stmt.where(_reported())
    if query.strip():
        stmt = stmt.where(_matching(query))
    stmt = stmt.order_by(MessageThread.last_message_at.desc(), MessageThread.id.desc())
    page = paginate(stmt, number, PER_PAGE)
    return Page(rows_for(viewer, page.items), page.number, page.per_page, page.total)


def rows_for(viewer: User, found: list[MessageThread]) -> list[InboxRow]:
    """The inbox's columns for these threads, in a fixed number of queries."""
    ids = [t.id for t in found]
    if not ids:
        return []
    families = _families(ids)
    students = _students({t.student_id for t in found if t.student_id})
    last = _last_messages(ids)
    names = _names({t.assignee_id for t in found} | {m.author_id for m in last.values()})
    seen = dict(
        db.session.execute(
            select(ThreadParticipant.thread_id, ThreadParticipant.last_read_at).where(
                ThreadParticipant.thread_id.in_(ids), ThreadParticipant.user_id == viewer.id
            )
        ).all()
    )
    reports = safeguarding.reported_threads(ids)
    rows = []
    for t in found:
        message = last.get(t.id)
        read_at = seen.get(t.id)
        rows.append(
            InboxRow(
                thread=t,
                family=families.get(t.id) or t.external_name or t.external_email or "—",
                student=students.get(t.student_id or 0),
                last_author=(names.get(message.author_id or 0) or t.external_name or "—") if message else "—",
                last_text=threads.excerpt(message.body) if message else "",
                assignee=names.get(t.assignee_id or 0),
                unread=message is not None
                and message.author_id != viewer.id
                and (read_at is None or read_at < t.last_message_at),
                reports=reports.get(t.id, 0),
            )
        )
    return rows


def _families(ids: list[int]) -> dict[int, str]:
    """The parties of each thread who are not staff (the family, a coach), by name."""
    stmt = (
        select(ThreadParticipant.thread_id, User)
        .join(User, User.id == ThreadParticipant.user_id)
        .where(
            ThreadParticipant.thread_id.in_(ids),
            ThreadParticipant.observer.is_(False),
            User.role.not_in(list(policy.STAFF.roles or ())),
        )
        .order_by(ThreadParticipant.thread_id, User.id)
    )
    found: dict[int, list[str]] = {}
    for thread_id, person in db.session.execute(stmt):
        found.setdefault(thread_id, []).append(access.display_name(person))
    return {thread_id: ", ".join(people) for thread_id, people in found.items()}


def _students(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(Student.id, User.first_name, User.last_name).join(User, User.id == Student.user_id)
    return {
        sid: f"{first} {last}" for sid, first, last in db.session.execute(stmt.where(Student.id.in_(ids)))
    }


def _last_messages(ids: list[int]) -> dict[int, Message]:
    newest = select(func.max(Message.id)).where(Message.thread_id.in_(ids)).group_by(Message.thread_id)
    return {m.thread_id: m for m in db.session.scalars(select(Message).where(Message.id.in_(newest)))}


def _names(ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(wanted)))
    return {u.id: u.full_name if policy.is_staff(u) else access.display_name(u) for u in users}


def colleagues() -> list[User]:
    """The staff a thread may be assigned to (active admins and assistantes)."""
    stmt = (
        select(User)
        .where(User.role.in_(list(policy.STAFF.roles or ())), User.is_active)
        .order_by(User.first_name, User.last_name, User.id)
    )
    return list(db.session.scalars(stmt))


def open_count() -> int:
    stmt = (
        select(func.count())
        .select_from(MessageThread)
        .where(in_inbox(), MessageThread.status == ThreadStatus.OPEN)
    )
    return db.session.scalar(stmt) or 0


# -- actions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    thread: MessageThread
    changed: bool  # False: already so (a second click), or changed by someone else meanwhile


def _locked(thread_id: int) -> MessageThread | None:
    thread = locked(MessageThread, thread_id)
    if thread is None or not (thread.with_staff or thread.student_id is not None):
        return None
    return thread


@command
def assign(thread_id: int, actor: User, assignee_id: int | None, expected: int | None) -> Change | None:
    """Give the thread to a colleague (or to oneself: "Je m'en occupe") if its assignee is still
    the one the person saw (`expected`); None if it is not an inbox thread."""
    if assignee_id is None or assignee_id not in {u.id for u in colleagues()}:
        raise ServiceError(UNKNOWN_COLLEAGUE, field="assignee")
    thread = _locked(thread_id)
    if thread is None:
        return None
    if thread.assignee_id == assignee_id or thread.assignee_id != expected:
        return Change(thread, changed=False)
    before = thread.assignee_id
    thread.assignee_id = assignee_id
    audit.record(
        "messages.assigned",
        actor.id,
        thread,
        before={"assignee_id": before},
        after={"assignee_id": assignee_id},
    )
    if assignee_id != actor.id:
        notifications.notify(
            assignee_id,
            "message_assigned",
            f"Conversation attribuée : {thread.subject}"[:160],
            f"Par {actor.full_name}.",
            links.internal("messages.thread", thread_id=thread.id),
        )
    return Change(thread, changed=True)


@command
def set_status(thread_id: int, actor: User, expected: ThreadStatus, target: ThreadStatus) -> Change | None:
    """Mark handled (or reopen) if the status is still the one the person saw."""
    thread = _locked(thread_id)
    if thread is None:
        return None
    if thread.status is not expected or thread.status is target:
        return Change(thread, changed=False)
    thread.status = target
    if target is ThreadStatus.HANDLED:
        thread.handled_at, thread.handled_by_id = utcnow(), actor.id
        action = "messages.handled"
    else:
        thread.handled_at, thread.handled_by_id = None, None
        action = "messages.reopened"
    audit.record(action, actor.id, thread, before={"status": expected.value}, after={"status": target.value})
    return Change(thread, changed=True)


def assignee_name(thread: MessageThread) -> str | None:
    return _names({thread.assignee_id}).get(thread.assignee_id or 0)
