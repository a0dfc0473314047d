"""The Telegram outbox: a message for the staff's chat, written in the transaction of its cause
(rule 6) and delivered by a job with retries (nexus.jobs.telegram), as e-mails are.

Off unless TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID are both set: then nothing is written.
Delivery is three steps, so that no transaction stays open while Telegram is called:
`claim_message`, the call (by the job), then `message_sent` or `message_failed`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert

from nexus.extensions import db
from nexus.models.notifications import OutboxStatus
from nexus.models.stages import StageReservation, TelegramMessage
from nexus.queue import enqueue_after_commit
from nexus.services import command, utcnow
from nexus.services.notifications import CLAIM_FOR, due_rows, record_failure

MAX_LENGTH = 4000  # Telegram refuses more than 4096 characters


def enabled() -> bool:
    config = current_app.config
    return bool(config.get("TELEGRAM_BOT_TOKEN") and config.get("TELEGRAM_CHAT_ID"))


def queue_message(
    body: str, *, reservation_id: int | None = None, dedupe_key: str | None = None
) -> int | None:
    """Write a message to the outbox (None when Telegram is off, or the key was queued before)."""
    if not enabled():
        return None
    message_id = db.session.execute(
        insert(TelegramMessage)
        .values(
            body=body[:MAX_LENGTH],
            reservation_id=reservation_id,
            dedupe_key=dedupe_key,
            status=OutboxStatus.PENDING,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(TelegramMessage.id)
    ).scalar_one_or_none()
    if message_id is not None:
        enqueue_after_commit("default", "nexus.jobs.telegram.deliver_message", message_id)
    return message_id


@dataclass(frozen=True)
class Claimed:
    attempts: int
    body: str


@command
def claim_message(message_id: int) -> Claimed | None:
    """Take a pending message for one attempt (held CLAIM_FOR); None if sent, given up, or
    taken by another worker."""
    now = utcnow()
    row = db.session.scalar(
        select(TelegramMessage)
        .where(
            TelegramMessage.id == message_id,
            TelegramMessage.status == OutboxStatus.PENDING,
            or_(TelegramMessage.attempts == 0, TelegramMessage.next_attempt_at <= now),
        )
        .with_for_update(skip_locked=True)
    )
    if row is None:
        return None
    row.attempts += 1
    row.next_attempt_at = now + CLAIM_FOR
    return Claimed(row.attempts, row.body)


@command
def message_sent(message_id: int) -> None:
    now = utcnow()
    reservation_id = db.session.scalar(
        update(TelegramMessage)
        .where(TelegramMessage.id == message_id, TelegramMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENT, sent_at=now, last_error=None)
        .returning(TelegramMessage.reservation_id)
    )
    if reservation_id is not None:
        db.session.execute(
            update(StageReservation).where(StageReservation.id == reservation_id).values(telegram_sent_at=now)
        )


@command
def message_failed(message_id: int, error: str) -> None:
    record_failure(TelegramMessage, message_id, error)


def due_messages(limit: int) -> list[int]:
    return due_rows(TelegramMessage, limit)
