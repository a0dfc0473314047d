"""Threads and their messages: start one, reply, read (the read marker), the lists and counts.

A second click on "Envoyer" must not post twice: posting locks the thread (a new thread: the
author) and the same text by the same author within DUPLICATE_WINDOW is the message already
posted, returned again. Each recipient gets one bell notice per thread while it is unread (the
notice is updated, not repeated) and, by the digest job, at most one e-mail an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.orm import joinedload, selectinload

from nexus import links, policy
from nexus.extensions import db
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.messaging import Message, MessageThread, ThreadParticipant, ThreadStatus
from nexus.models.notifications import Notification
from nexus.queue import enqueue_after_commit
from nexus.services import ServiceError, command, locked, utcnow
from nexus.services.messaging import access, safeguarding
from nexus.services.messaging.attachments import Upload, attach, check
from nexus.services.paging import Page, paginate

NOTICE_KIND = "message"
DUPLICATE_WINDOW = timedelta(seconds=60)
MAX_BODY = 4000
MAX_SUBJECT = 160
PER_PAGE = 20
EXCERPT = 140
DIGEST_JOB = "nexus.jobs.messaging.send_thread_digests"


@dataclass(frozen=True)
class ThreadRow:
    """A line of "Mes messages": the thread, whether it has unread messages, who is in it, and
    the start of its last message."""

    thread: MessageThread
    unread: bool
    people: str
    last: str = ""


def _clean_body(body: str | None) -> str:
    text = (body or "").strip()
    if not text:
        raise ServiceError("Écrivez votre message.", field="body")
    if len(text) > MAX_BODY:
        raise ServiceError(f"Votre message dépasse {MAX_BODY} caractères : raccourcissez-le.", field="body")
    return text


def _clean_subject(subject: str | None) -> str:
    text = " ".join((subject or "").split())
    if not text:
        raise ServiceError("Donnez un objet à votre message.", field="subject")
    if len(text) > MAX_SUBJECT:
        raise ServiceError(f"L'objet dépasse {MAX_SUBJECT} caractères : raccourcissez-le.", field="subject")
    return text


def excerpt(body: str) -> str:
    one_line = " ".join(body.split())
    return one_line if len(one_line) <= EXCERPT else one_line[: EXCERPT - 1] + "…"


def _join(thread_id: int, user_id: int, *, observer: bool, read_at: datetime | None = None) -> None:
    """Make the user a participant (an observer, or a party: a party is never made an observer)."""
    stmt = insert(ThreadParticipant).values(
        thread_id=thread_id, user_id=user_id, observer=observer, last_read_at=read_at
    )
    if observer:
        stmt = stmt.on_conflict_do_nothing()
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=["thread_id", "user_id"],
            set_={
                "observer": False,
                "last_read_at": func.greatest(ThreadParticipant.last_read_at, stmt.excluded.last_read_at),
            },
        )
    db.session.execute(stmt)


@command
def start(
    author: User, to: str | None, subject: str | None, body: str | None, upload: Upload | None = None
) -> MessageThread:
    """A new thread with the chosen recipients and its first message."""
    recipient = access.resolve(author, to)
    subject, text = _clean_subject(subject), _clean_body(body)
    if upload is not None:
        check(upload)
    db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"messages:new:{author.id}"))))
    now = utcnow()
    same = db.session.scalar(
        select(MessageThread)
        .join(Message, Message.thread_id == MessageThread.id)
        .where(
            MessageThread.created_by_id == author.id,
            MessageThread.subject == subject,
            MessageThread.created_at >= now - DUPLICATE_WINDOW,
            Message.author_id == author.id,
            Message.body == text,
        )
        .order_by(MessageThread.id.desc())
        .limit(1)
    )
    if same is not None:  # the same form sent twice: one thread
        return same
    thread = MessageThread(
        subject=subject,
        student_id=recipient.student_id,
        with_staff=recipient.with_staff,
        status=ThreadStatus.OPEN,
        created_by_id=author.id,
        last_message_at=now,
        created_at=now,
    )
    db.session.add(thread)
    db.session.flush()
    _join(thread.id, author.id, observer=False, read_at=now)
    for user_id in recipient.user_ids:
        if user_id != author.id:
            _join(thread.id, user_id, observer=False)
    _post(thread, author, text, upload, now)
    return thread


@command
def reply(author: User, thread_id: int, body: str | None, upload: Upload | None = None) -> Message:
    """A message in a thread the author may write in (None-found → the caller's 404)."""
    text = _clean_body(body)
    if upload is not None:
        check(upload)
    thread = access.visible_thread(author, thread_id)
    if thread is None:
        raise LookupError(thread_id)
    thread = locked(MessageThread, thread.id)  # one post at a time per thread
    assert thread is not None
    if not access.can_reply(author, thread, access.participant(author.id, thread.id)):
        raise ServiceError("Vous pouvez lire cette conversation mais pas y répondre.", field="body")
    now = utcnow()
    previous = db.session.scalar(
        select(Message).where(Message.thread_id == thread.id).order_by(Message.id.desc()).limit(1)
    )
    if (
        previous is not None
        and previous.author_id == author.id
        and previous.body == text
        and previous.created_at >= now - DUPLICATE_WINDOW
    ):
        return previous  # the same form sent twice: one message
    _join(thread.id, author.id, observer=False, read_at=now)
    thread.last_message_at = now
    if thread.status is ThreadStatus.HANDLED and not policy.is_staff(author):
        thread.status, thread.handled_at, thread.handled_by_id = ThreadStatus.OPEN, None, None
    return _post(thread, author, text, upload, now)


def _post(thread: MessageThread, author: User, text: str, upload: Upload | None, now: datetime) -> Message:
    message = Message(thread_id=thread.id, author_id=author.id, body=text, created_at=now)
    db.session.add(message)
    db.session.flush()
    if upload is not None:
        attach(message, upload)
    _notify(thread, author, text)
    enqueue_after_commit("emails", DIGEST_JOB, thread.id)
    return message


def _notify(thread: MessageThread, author: User, text: str) -> None:
    """One bell notice per recipient and thread while unread: updated by each new message."""
    link = links.internal("messages.thread", thread_id=thread.id)
    recipients = list(
        db.session.scalars(
            select(ThreadParticipant.user_id).where(
                ThreadParticipant.thread_id == thread.id,
                ThreadParticipant.user_id != author.id,
                ThreadParticipant.observer.is_(False),
            )
        )
    )
    if thread.with_staff and not policy.is_staff(author):
        has_staff = db.session.scalar(
            select(func.count())
            .select_from(ThreadParticipant)
            .join(User, User.id == ThreadParticipant.user_id)
            .where(
                ThreadParticipant.thread_id == thread.id,
                ThreadParticipant.observer.is_(False),
                User.role.in_(list(policy.STAFF.roles or ())),
            )
        )
        # The colleague it is assigned to; with nobody of the centre in it yet and no one
        # assigned, every staff member.
        staff = select(User.id).where(User.role.in_(list(policy.STAFF.roles or ())), User.is_active)
        if thread.assignee_id:
            staff = staff.where(User.id == thread.assignee_id)
        if thread.assignee_id or not has_staff:
            recipients += [uid for uid in db.session.scalars(staff) if uid not in recipients]
    title = f"Nouveau message : {thread.subject}"[:160]
    body = f"{access.display_name(author)} : {excerpt(text)}"[:1000]
    for user_id in recipients:
        updated = db.session.execute(
            update(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.kind == NOTICE_KIND,
                Notification.link == link,
                Notification.read_at.is_(None),
            )
            .values(title=title, body=body, created_at=utcnow())
            .returning(Notification.id)
        ).first()
        if updated is None:
            db.session.add(Notification(user_id=user_id, kind=NOTICE_KIND, title=title, body=body, link=link))


@command
def mark_read(user: User, thread: MessageThread, up_to: datetime) -> None:
    """The user read the thread up to this moment (the last message shown); staff who only read
    join as observers (audited once: safeguarding)."""
    me = access.participant(user.id, thread.id)
    if me is None:
        if not policy.is_staff(user):
            return
        _join(thread.id, user.id, observer=True, read_at=up_to)
        safeguarding.record_staff_read(user, thread)
    else:
        db.session.execute(
            update(ThreadParticipant)
            .where(
                ThreadParticipant.thread_id == thread.id,
                ThreadParticipant.user_id == user.id,
                or_(ThreadParticipant.last_read_at.is_(None), ThreadParticipant.last_read_at < up_to),
            )
            .values(last_read_at=up_to)
        )
    db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.kind == NOTICE_KIND,
            Notification.link == links.internal("messages.thread", thread_id=thread.id),
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )


# -- reading -----------------------------------------------------------------------------------


def _unread_condition() -> object:
    return or_(
        ThreadParticipant.last_read_at.is_(None),
        MessageThread.last_message_at > ThreadParticipant.last_read_at,
    )


def unread_query(user: User) -> Select[tuple[int]]:
    """The count of threads with a message the user has not read (as a party, not an observer)."""
    return (
        select(func.count())
        .select_from(ThreadParticipant)
        .join(MessageThread, MessageThread.id == ThreadParticipant.thread_id)
        .where(
            ThreadParticipant.user_id == user.id, ThreadParticipant.observer.is_(False), _unread_condition()
        )
    )


def unread_count(user: User) -> int:
    """Threads with a message the user has not read (as a party, not an observer)."""
    return db.session.scalar(unread_query(user)) or 0


def threads_of(user: User, page: int = 1) -> Page[ThreadRow]:
    """The user's threads, unread first, then by last message, newest first."""
    unread = case((_unread_condition(), True), else_=False)
    stmt = (
        select(MessageThread)
        .join(ThreadParticipant, ThreadParticipant.thread_id == MessageThread.id)
        .where(ThreadParticipant.user_id == user.id, ThreadParticipant.observer.is_(False))
        .order_by(unread.desc(), MessageThread.last_message_at.desc(), MessageThread.id.desc())
    )
    found = paginate(stmt, page, PER_PAGE)
    ids = [t.id for t in found.items]
    unread_ids = (
        set(
            db.session.scalars(
                stmt.with_only_columns(MessageThread.id)
                .where(MessageThread.id.in_(ids), _unread_condition())
                .order_by(None)
            )
        )
        if ids
        else set()
    )
    people = people_of(ids, exclude=user.id)
    last = _last_lines(ids, user.id)
    rows = [ThreadRow(t, t.id in unread_ids, people.get(t.id, ""), last.get(t.id, "")) for t in found.items]
    return Page(rows, found.number, found.per_page, found.total)


def _last_lines(thread_ids: list[int], reader_id: int) -> dict[int, str]:
    """'Hélios : début du message' for the last message of each thread, in one query."""
    if not thread_ids:
        return {}
    stmt = (
        select(Message)
        .where(Message.thread_id.in_(thread_ids))
        .ext(distinct_on(Message.thread_id))
        .order_by(Message.thread_id, Message.id.desc())
    )
    messages = list(db.session.scalars(stmt))
    names = authors_of(messages)
    names[reader_id] = "Vous"
    return {
        m.thread_id: f"{names.get(m.author_id or 0, 'Compte supprimé')} : {excerpt(m.body)}" for m in messages
    }


def people_of(thread_ids: list[int], exclude: int | None = None) -> dict[int, str]:
    """The parties of each thread, by name, in one query (the centre for a thread with staff)."""
    if not thread_ids:
        return {}
    stmt = (
        select(ThreadParticipant.thread_id, User)
        .join(User, User.id == ThreadParticipant.user_id)
        .where(ThreadParticipant.thread_id.in_(thread_ids), ThreadParticipant.observer.is_(False))
        .options(joinedload(User.coach_profile))
        .order_by(ThreadParticipant.thread_id, User.id)
    )
    names: dict[int, list[str]] = {}
    for thread_id, person in db.session.execute(stmt):
        if person.id != exclude and not policy.is_staff(person):
            names.setdefault(thread_id, []).append(access.display_name(person))
    centre = set(
        db.session.scalars(
            select(MessageThread.id).where(MessageThread.id.in_(thread_ids), MessageThread.with_staff)
        )
    )
    return {
        tid: ", ".join(([access.CENTRE] if tid in centre else []) + names.get(tid, [])) for tid in thread_ids
    }


def student_name(student_id: int | None) -> str | None:
    """The full name of the student a thread is about (None when it is about no one)."""
    if student_id is None:
        return None
    row = db.session.execute(
        select(User.first_name, User.last_name)
        .join(Student, Student.user_id == User.id)
        .where(Student.id == student_id)
    ).first()
    return f"{row.first_name} {row.last_name}" if row else None


def messages_of(thread_id: int, after_id: int = 0) -> list[Message]:
    """The thread's messages oldest first (only those after `after_id`): one indexed query."""
    stmt = (
        select(Message)
        .where(Message.thread_id == thread_id, Message.id > after_id)
        .options(selectinload(Message.attachments))
        .order_by(Message.id)
    )
    return list(db.session.scalars(stmt))


def authors_of(messages: list[Message]) -> dict[int, str]:
    """Display names of the messages' authors, in one query."""
    ids = {m.author_id for m in messages if m.author_id}
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids)).options(joinedload(User.coach_profile)))
    return {u.id: access.display_name(u) for u in users}
