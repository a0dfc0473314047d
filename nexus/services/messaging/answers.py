"""Answering the contact form and bilan requests from the staff inbox.

"Répondre" makes the request's thread once (the source row locked, a unique foreign key on the
thread behind it) with the family's own words as its first message, then the staff reply. A
family with an account takes part in the thread and reads it in /messages; without one, each
reply is e-mailed to their address, which the thread keeps (external_email). Answering marks the
contact message handled and moves a new bilan request to "contacted".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from nexus import policy
from nexus.extensions import db
from nexus.models.common import Role, Subject
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.identity import User
from nexus.models.messaging import Message, MessageThread, ThreadParticipant, ThreadStatus
from nexus.models.notifications import ContactMessage
from nexus.services import (
    ServiceError,
    audit,
    command,
    diagnostics,
    family,
    locked,
    notifications,
    staff,
    utcnow,
)
from nexus.services.contact import TOPICS
from nexus.services.messaging import threads
from nexus.services.messaging.attachments import Upload


@dataclass(frozen=True)
class Source:
    """What staff answer: a contact message or a bilan request, as the family wrote it."""

    kind: str  # "contact" or "bilan"
    row: ContactMessage | BilanRequest
    name: str
    email: str
    subject: str  # the thread's subject offered by default
    text: str  # the family's own words: the thread's first message
    thread: MessageThread | None  # the thread it already has

    @property
    def account(self) -> User | None:
        """The family's account, if any (then they read the answer in-app): the parent whose
        space staff opened from this request, else the account with this address."""
        return family_account(self.email, self.row.parent_user_id)


def family_account(email: str, parent_user_id: int | None = None) -> User | None:
    family_roles = User.is_active, User.role.in_([Role.PARENT, Role.ELEVE])
    if parent_user_id is not None:
        opened = db.session.scalar(select(User).where(User.id == parent_user_id, *family_roles))
        if opened is not None:
            return opened
    return db.session.scalar(select(User).where(User.email == email.strip().lower(), *family_roles))


def contact_source(contact_id: int) -> Source | None:
    row = db.session.get(ContactMessage, contact_id)
    if row is None:
        return None
    thread = db.session.scalar(select(MessageThread).where(MessageThread.contact_message_id == row.id))
    subject = f"Votre message : {TOPICS.get(row.topic, row.topic)}"
    return Source("contact", row, row.name, row.email, subject, row.message, thread)


def bilan_source(bilan_id: int) -> Source | None:
    row = db.session.get(BilanRequest, bilan_id)
    if row is None:
        return None
    thread = db.session.scalar(select(MessageThread).where(MessageThread.bilan_request_id == row.id))
    subjects = ", ".join(Subject[s].label if s in Subject.__members__ else s for s in row.subjects)
    lines = [
        f"Demande de bilan gratuit pour {row.student_first_name} {row.student_last_name}"
        f" ({row.grade.label}).",
        f"Matières : {subjects}",
        *(f"{label} : {value}" for label, value in [
            ("Niveau actuel", row.current_level), ("Objectifs", row.objectives),
            ("Difficultés", row.difficulties), ("Modalité", row.modality.label if row.modality else None),
            ("Disponibilités", row.availability),
        ] if value),
    ]  # fmt: skip
    name = f"{row.parent_first_name} {row.parent_last_name}"
    return Source(
        "bilan",
        row,
        name,
        row.parent_email,
        f"Bilan gratuit de {row.student_first_name}",
        "\n".join(lines),
        thread,
    )


@dataclass(frozen=True)
class Answered:
    thread: MessageThread
    message: Message
    emailed: bool  # sent to the family's address (no account)


@command
def answer(kind: str, row_id: int, actor: User, subject: str | None, body: str | None) -> Answered | None:
    """Answer a contact message or a bilan request: its thread is made once (locked source row,
    unique foreign key) with the family's text first, then the reply. A family with an account
    takes part in the thread; without one, the reply is e-mailed to their address."""
    model = ContactMessage if kind == "contact" else BilanRequest
    if locked(model, row_id) is None:
        return None
    source = contact_source(row_id) if kind == "contact" else bilan_source(row_id)
    assert source is not None
    thread = source.thread or _open_thread(source, actor, subject)
    message = threads.reply(actor, thread.id, body)
    thread.assignee_id = thread.assignee_id or actor.id
    if thread.status is ThreadStatus.OPEN:
        thread.status, thread.handled_at, thread.handled_by_id = ThreadStatus.HANDLED, utcnow(), actor.id
    emailed = _email_family(thread, message, actor, source.text)
    if kind == "contact":
        staff.mark_contact_handled(row_id, actor)
    elif isinstance(source.row, BilanRequest) and source.row.status is BilanStatus.RECEIVED:
        diagnostics.change_bilan_status(row_id, BilanStatus.RECEIVED, BilanStatus.CONTACTED, actor)
    return Answered(thread, message, emailed)


def _open_thread(source: Source, actor: User, subject: str | None) -> MessageThread:
    subject = " ".join((subject or "").split()) or source.subject
    if len(subject) > threads.MAX_SUBJECT:
        raise ServiceError(
            f"L'objet dépasse {threads.MAX_SUBJECT} caractères : raccourcissez-le.", field="subject"
        )
    account = source.account
    student = family.student_of(account) if account is not None and account.role is Role.ELEVE else None
    now = utcnow()
    thread = MessageThread(
        subject=subject,
        student_id=student.id if student else None,
        with_staff=True,
        status=ThreadStatus.OPEN,
        assignee_id=actor.id,
        contact_message_id=source.row.id if source.kind == "contact" else None,
        bilan_request_id=source.row.id if source.kind == "bilan" else None,
        external_email=None if account else source.email,
        external_name=source.name,
        created_by_id=actor.id,
        last_message_at=now,
        created_at=now,
    )
    db.session.add(thread)
    db.session.flush()
    if account is not None:
        db.session.add(ThreadParticipant(thread_id=thread.id, user_id=account.id, observer=False))
    first = Message(
        thread_id=thread.id,
        author_id=account.id if account else None,
        body=source.text,
        created_at=source.row.created_at,
    )
    db.session.add(first)
    db.session.flush()
    audit.record(
        f"messages.{source.kind}_answered", actor.id, thread, after={f"{source.kind}_id": source.row.id}
    )
    return thread


def _email_family(thread: MessageThread, message: Message, actor: User, original: str | None) -> bool:
    """A staff reply to a family without an account, e-mailed in the reply's transaction."""
    if not thread.external_email or message.author_id != actor.id:
        return False
    queued = notifications.queue_email(
        thread.external_email,
        "message_reply_external",
        f"{thread.subject} — Nexus Réussite",
        {"name": thread.external_name or "", "subject": thread.subject, "reply": message.body,
         "author": actor.first_name, "original": original or "",
         "attachment": bool(message.attachments)},
        dedupe_key=f"inbox-reply:{message.id}",
    )  # fmt: skip
    return queued is not None


@command
def reply(actor: User, thread_id: int, body: str | None, upload: Upload | None = None) -> Message:
    """threads.reply, and the e-mail to a family without an account when staff write in its
    thread (from the thread's page as from the request's)."""
    message = threads.reply(actor, thread_id, body, upload)
    thread = db.session.get_one(MessageThread, message.thread_id)
    if thread.external_email and policy.is_staff(actor):
        first = db.session.scalar(
            select(Message.body).where(Message.thread_id == thread.id).order_by(Message.id)
        )
        _email_family(thread, message, actor, first)
    return message
