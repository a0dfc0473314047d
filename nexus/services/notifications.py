"""In-app notifications and the e-mail outbox (rule 6: written in the caller's transaction).

Delivering an outbox e-mail is three steps, so that no transaction stays open while the mail
server is talked to: `claim_email` (one worker takes the row for a while), the sending (by the
job, outside any transaction), then `email_sent` or `email_failed`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from nexus import policy
from nexus.extensions import db
from nexus.models.identity import User
from nexus.models.notifications import Notification, OutboxEmail, OutboxStatus
from nexus.queue import enqueue_after_commit
from nexus.services import command, preferences, utcnow

MAX_ATTEMPTS = 8
CLAIM_FOR = timedelta(minutes=10)  # a worker that died while sending: the sweep retries after this
T = TypeVar("T")
PAGE_SIZE = 20
_SPACES = re.compile(r"\s+")


def one_line(text: str) -> str:
    """A header value on one line: every control or separator becomes a space (a name typed with
    a line break must never make an e-mail undeliverable, nor add a header)."""
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    return _SPACES.sub(" ", cleaned).strip()


def notify(user_id: int, kind: str, title: str, body: str | None = None, link: str | None = None) -> None:
    db.session.add(Notification(user_id=user_id, kind=kind, title=title, body=body, link=link))


def notify_role_members(roles: list[Any], kind: str, title: str, body: str, link: str) -> None:
    """Notify every active user holding one of the roles (e.g. all staff)."""
    ids = db.session.scalars(select(User.id).where(User.role.in_(roles), User.is_active)).all()
    for user_id in ids:
        notify(user_id, kind, title, body, link)


def notify_staff(kind: str, title: str, body: str, link: str) -> None:
    """Notify every active admin and assistante (who counts as staff is policy.STAFF)."""
    notify_role_members(list(policy.STAFF.roles or ()), kind, title, body, link)


def queue_email(
    to: str,
    template: str,
    subject: str,
    context: dict[str, Any],
    *,
    user_id: int | None = None,
    dedupe_key: str | None = None,
    event: str | None = None,
) -> int | None:
    """Write an e-mail to the outbox; it is delivered after the transaction commits.

    With a dedupe_key, a second call with the same key queues nothing and returns None. With an
    event (nexus.services.preferences.EVENTS) and a user_id, nothing is queued (None) when the
    user chose not to get that kind of e-mail; in-app notices are the caller's and always stay.
    """
    if event is not None and user_id is not None and not preferences.wants_email(user_id, event):
        return None
    stmt = (
        insert(OutboxEmail)
        .values(
            to_email=one_line(to),
            to_user_id=user_id,
            template=template,
            subject=one_line(subject),
            context=context,
            dedupe_key=dedupe_key,
            status=OutboxStatus.PENDING,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxEmail.id)
    )
    outbox_id = db.session.execute(stmt).scalar_one_or_none()
    if outbox_id is not None:
        enqueue_after_commit("emails", "nexus.jobs.mail.deliver_email", outbox_id)
    return outbox_id


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes between tries, capped at 4 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))


@dataclass(frozen=True)
class Claim(Generic[T]):
    """An outbox e-mail taken by one worker: what `prepare` made of it, or why it could not."""

    attempts: int
    prepared: T | None
    error: str | None = None


@command
def claim_email(outbox_id: int, prepare: Callable[[OutboxEmail], T]) -> Claim[T] | None:
    """Take a pending e-mail for one delivery attempt, and `prepare` it (the message to send) in
    the same transaction; None if it is sent, given up, or taken by another worker.

    The claim counts the attempt and holds the row CLAIM_FOR: a second worker (the job and the
    sweep at once) finds it taken and skips it, without a lock held while the mail is sent.
    """
    now = utcnow()
    stmt = (
        select(OutboxEmail)
        .where(
            OutboxEmail.id == outbox_id,
            OutboxEmail.status == OutboxStatus.PENDING,
            or_(OutboxEmail.attempts == 0, OutboxEmail.next_attempt_at <= now),
        )
        .with_for_update(skip_locked=True)
    )
    row = db.session.scalar(stmt)
    if row is None:
        return None
    row.attempts += 1
    row.next_attempt_at = now + CLAIM_FOR
    try:
        prepared = prepare(row)
    except Exception as exc:  # a template error …: counted as a failed attempt
        return Claim(row.attempts, None, error_line(exc))
    return Claim(row.attempts, prepared)


def error_line(exc: BaseException) -> str:
    """An exception as the outbox row keeps it."""
    return f"{type(exc).__name__}: {exc}"[:500]


@command
def email_sent(outbox_id: int) -> None:
    db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == outbox_id, OutboxEmail.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENT, sent_at=utcnow(), last_error=None)
    )


def record_failure(model: type[Any], row_id: int, error: str) -> None:
    """A failed delivery of an outbox row (e-mail, Telegram message): retried later with backoff,
    given up after MAX_ATTEMPTS. Runs inside the caller's command."""
    row = db.session.scalar(
        select(model).where(model.id == row_id, model.status == OutboxStatus.PENDING).with_for_update()
    )
    if row is None:
        return
    row.last_error = error[:500]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = OutboxStatus.FAILED
    else:
        row.next_attempt_at = utcnow() + backoff(row.attempts)


def due_rows(model: type[Any], limit: int) -> list[int]:
    """Pending outbox rows whose first delivery was missed, or whose retry is due."""
    stmt = (
        select(model.id)
        .where(model.status == OutboxStatus.PENDING, model.next_attempt_at <= utcnow())
        .order_by(model.next_attempt_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


@command
def email_failed(outbox_id: int, error: str) -> None:
    record_failure(OutboxEmail, outbox_id, error)


def due_emails(limit: int) -> list[int]:
    return due_rows(OutboxEmail, limit)


def unread_query(user_id: int) -> Select[tuple[int]]:
    """The count of the user's unread notifications, as a statement (the bell reads it with another)."""
    return select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))


def unread_count(user_id: int) -> int:
    return db.session.scalar(unread_query(user_id)) or 0


def recent(user_id: int, limit: int = PAGE_SIZE) -> list[Notification]:
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def get_own(user_id: int, notification_id: int) -> Notification | None:
    """The notification if it belongs to the user, else None (the caller answers 404)."""
    stmt = select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
    return db.session.scalar(stmt)


@command
def mark_read(user_id: int, notification_id: int) -> Notification | None:
    note = get_own(user_id, notification_id)
    if note is not None and note.read_at is None:
        note.read_at = utcnow()
    return note


@command
def mark_all_read(user_id: int) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0
