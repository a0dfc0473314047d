"""One writer per answer: a question's answer is claimed with a conditional UPDATE … RETURNING
(a lease, renewed while a slow model writes, released when the writer gives up), so that many
streams or clicks on one question run retrieval and the model once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, update
from sqlalchemy.orm import Session, aliased

from nexus.extensions import db
from nexus.models.aria import AriaMessage, MessageRole
from nexus.services import utcnow

log = logging.getLogger(__name__)

# A writer that died frees the question after this long.
CLAIM_LEASE = timedelta(minutes=3)


# -- one writer per answer ------------------------------------------------------------------------


def claim_answer(question_id: int) -> datetime | None:
    """Take on writing this question's answer (committed); None when it is answered or another
    writer holds it. Its timestamp is the claim: only its holder releases it."""
    now = utcnow()
    answer = aliased(AriaMessage)
    stmt = (
        update(AriaMessage)
        .where(
            AriaMessage.id == question_id,
            AriaMessage.role == MessageRole.USER,
            or_(AriaMessage.answer_claimed_at.is_(None), AriaMessage.answer_claimed_at < now - CLAIM_LEASE),
            ~exists().where(answer.reply_to_id == question_id),
        )
        .values(answer_claimed_at=now)
        .returning(AriaMessage.id)
    )
    return now if _commit_alone(stmt) is not None else None


def _commit_alone(stmt: Any) -> Any:
    """One statement in its own transaction, outside the request's session: committing that one
    would expire what it loaded (the signed-in user included, which the stream's templates read
    after the session is closed)."""
    with Session(db.engine, join_transaction_mode="create_savepoint") as session:
        result = session.execute(stmt).scalar_one_or_none()
        session.commit()
        return result


def release_claim(question_id: int, claimed_at: datetime | None) -> None:
    """Give the question back (the student left, or the writer failed) so a new stream answers it."""
    if claimed_at is None:
        return
    try:
        _commit_alone(
            update(AriaMessage)
            .where(and_(AriaMessage.id == question_id, AriaMessage.answer_claimed_at == claimed_at))
            .values(answer_claimed_at=None)
            .returning(AriaMessage.id)
        )
    except Exception:  # the lease frees it anyway
        log.warning("aria: could not release the claim on question %d", question_id, exc_info=True)


def renew_claim(question_id: int, claimed_at: datetime | None) -> datetime | None:
    """Keep the claim of a long answer alive (a slow model may write for minutes): renewed once a
    third of the lease has passed, so that no other stream takes the question over meanwhile.
    Returns the claim now held."""
    now = utcnow()
    if claimed_at is None or now - claimed_at < CLAIM_LEASE / 3:
        return claimed_at
    renewed = _commit_alone(
        update(AriaMessage)
        .where(AriaMessage.id == question_id, AriaMessage.answer_claimed_at == claimed_at)
        .values(answer_claimed_at=now)
        .returning(AriaMessage.id)
    )
    return now if renewed is not None else claimed_at
