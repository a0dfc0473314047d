"""ARIA statistics for the staff: questions, answers, opinions and tokens per subject."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from nexus.extensions import db
from nexus.models.aria import (
    FALLBACK_MODES,
    AriaConversation,
    AriaFeedback,
    AriaMessage,
    MessageRole,
)
from nexus.models.common import Subject

# -- staff statistics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectStats:
    subject: Subject
    questions: int
    answers: int
    up: int
    down: int
    offline: int
    prompt_tokens: int = 0  # of the model's answers (counted by the server, else estimated)
    completion_tokens: int = 0

    @property
    def satisfaction(self) -> int | None:
        rated = self.up + self.down
        return round(100 * self.up / rated) if rated else None


def stats_by_subject() -> list[SubjectStats]:
    stmt = (
        select(
            AriaConversation.subject,
            func.count(AriaMessage.id).filter(AriaMessage.role == MessageRole.USER),
            func.count(AriaMessage.id).filter(AriaMessage.role == MessageRole.ASSISTANT),
            func.count(AriaFeedback.id).filter(AriaFeedback.rating == 1),
            func.count(AriaFeedback.id).filter(AriaFeedback.rating == -1),
            func.count(AriaMessage.id).filter(AriaMessage.mode.in_(FALLBACK_MODES)),  # not the caring ones
            func.coalesce(func.sum(AriaMessage.prompt_tokens), 0),
            func.coalesce(func.sum(AriaMessage.completion_tokens), 0),
        )
        .join(AriaMessage, AriaMessage.conversation_id == AriaConversation.id)
        .outerjoin(AriaFeedback, AriaFeedback.message_id == AriaMessage.id)
        .group_by(AriaConversation.subject)
        .order_by(AriaConversation.subject)
    )
    return [SubjectStats(Subject(row[0]), *row[1:]) for row in db.session.execute(stmt)]


def disliked(limit: int = 50) -> list[tuple[AriaFeedback, AriaMessage, AriaMessage | None]]:
    """The latest 👎 with the answer and the question it answered (comments first)."""
    stmt = (
        select(AriaFeedback)
        .options(joinedload(AriaFeedback.message).joinedload(AriaMessage.conversation))
        .where(AriaFeedback.rating == -1)
        .order_by(case((AriaFeedback.comment.is_(None), 1), else_=0), AriaFeedback.updated_at.desc())
        .limit(limit)
    )
    rows = list(db.session.scalars(stmt))
    question_ids = [f.message.reply_to_id for f in rows if f.message.reply_to_id]
    questions = {
        m.id: m for m in db.session.scalars(select(AriaMessage).where(AriaMessage.id.in_(question_ids)))
    }
    return [(f, f.message, questions.get(f.message.reply_to_id or 0)) for f in rows]
