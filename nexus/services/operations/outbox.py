"""The e-mail outbox as the admin sees it: counts, the e-mails given up on, and what to do with
them (retry, discard), plus a test e-mail to oneself.

Retry and discard are conditional UPDATE … RETURNING on a FAILED row: of two clicks (or fifty),
one changes it, the others find it already handled. A discarded e-mail is DISCARDED, which the
sweep never sends and the "e-mails non remis" step no longer counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import ColumnElement, func, select

from nexus import fr
from nexus.extensions import db
from nexus.models.identity import User
from nexus.models.notifications import OutboxEmail, OutboxStatus
from nexus.queue import enqueue_after_commit
from nexus.services import ServiceError, audit, claim, command, notifications, utcnow

FAILED_SHOWN = 50
TEST_TEMPLATE = "operations_test"
TEST_SUBJECT = "E-mail de test — Nexus Réussite"


def _awaiting_decision() -> ColumnElement[bool]:
    """Given up on by the sender, and neither retried nor discarded since."""
    return OutboxEmail.status == OutboxStatus.FAILED


def is_discarded(row: OutboxEmail) -> bool:
    return row.status is OutboxStatus.DISCARDED


@dataclass(frozen=True)
class Counts:
    pending: int
    failed: int
    discarded: int
    sent_today: int


def _start_of_today() -> datetime:
    """Midnight in Tunis (the centre's day), as an instant."""
    return datetime.combine(fr.local_today(), time(0), tzinfo=fr.TUNIS)


def counts() -> Counts:
    """The outbox in four numbers, in one query."""
    status = OutboxEmail.status
    row = db.session.execute(
        select(
            func.count().filter(status == OutboxStatus.PENDING),
            func.count().filter(_awaiting_decision()),
            func.count().filter(status == OutboxStatus.DISCARDED),
            func.count().filter(status == OutboxStatus.SENT, OutboxEmail.sent_at >= _start_of_today()),
        ).select_from(OutboxEmail)
    ).one()
    return Counts(*row)


def failed(limit: int = FAILED_SHOWN) -> list[OutboxEmail]:
    """The e-mails awaiting a decision, the newest first."""
    stmt = select(OutboxEmail).where(_awaiting_decision()).order_by(OutboxEmail.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def get(outbox_id: int) -> OutboxEmail | None:
    return db.session.get(OutboxEmail, outbox_id)


@command
def retry(outbox_id: int, actor: User) -> tuple[OutboxEmail | None, bool]:
    """Back to PENDING, due now, and its delivery enqueued; (row, whether this call did it).
    The attempt count is kept: a retry is one more try, given up again if it fails."""
    row, won = claim(
        OutboxEmail,
        outbox_id,
        _awaiting_decision(),
        status=OutboxStatus.PENDING,
        next_attempt_at=utcnow(),
    )
    if row is not None and won:
        before = {"status": OutboxStatus.FAILED.value}
        audit.record("outbox.retried", actor.id, row, before=before, after={"status": row.status.value})
        enqueue_after_commit("emails", "nexus.jobs.mail.deliver_email", row.id)
    return row, won


@command
def discard(outbox_id: int, actor: User) -> tuple[OutboxEmail | None, bool]:
    """Never send it (DISCARDED, its last error kept); (row, whether this call did it)."""
    row, won = claim(OutboxEmail, outbox_id, _awaiting_decision(), status=OutboxStatus.DISCARDED)
    if row is not None and won:
        audit.record(
            "outbox.discarded", actor.id, row, after={"to": row.to_email, "email_subject": row.subject}
        )
    return row, won


@command
def send_test(actor: User) -> OutboxEmail:
    """Queue a test e-mail to the signed-in admin (audited); it goes the way every e-mail goes."""
    if not actor.email:
        raise ServiceError("Votre compte n'a pas d'adresse e-mail.")
    now = utcnow()
    outbox_id = notifications.queue_email(
        actor.email,
        TEST_TEMPLATE,
        TEST_SUBJECT,
        {"first_name": actor.first_name, "asked_at": fr.date_time(now)},
        user_id=actor.id,
    )
    row = db.session.get(OutboxEmail, outbox_id)
    assert row is not None  # no dedupe key: always queued
    audit.record("outbox.test_sent", actor.id, row, after={"to": row.to_email})
    return row
