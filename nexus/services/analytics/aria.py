"""ARIA over a period: questions asked, conversations and students behind them, and satisfaction
(the 👍 and 👎 given in the period), per subject with a total row (ROLLUP: the total's distinct
students are not the sum of each subject's)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.aria import AriaConversation, AriaFeedback, AriaMessage, MessageRole
from nexus.models.common import Subject
from nexus.services.analytics.periods import Period


@dataclass
class Usage:
    label: str
    questions: int = 0
    conversations: int = 0
    students: int = 0
    up: int = 0
    down: int = 0

    @property
    def satisfaction(self) -> int | None:
        """👍 ÷ (👍 + 👎), in whole percent; None without an opinion."""
        rated = self.up + self.down
        return round(100 * self.up / rated) if rated else None


@dataclass
class AriaFigures:
    total: Usage
    by_subject: list[Usage]


def _label(subject: str | None) -> str:
    return "Total" if subject is None else Subject(subject).label


def usage(period: Period) -> AriaFigures:
    """Questions, conversations, students and opinions in the period (two statements)."""
    # Questions per conversation first (an index-only scan of the period's messages, grouped by
    # conversation), then one row per conversation to join and roll up: no DISTINCT over messages.
    per_conversation = (
        select(AriaMessage.conversation_id, func.count().label("questions"))
        .where(AriaMessage.role == MessageRole.USER, period.holds(AriaMessage.created_at))
        .group_by(AriaMessage.conversation_id)
        .subquery("asked")
    )
    asked = (
        select(
            AriaConversation.subject,
            func.sum(per_conversation.c.questions),
            func.count(),
            func.count(func.distinct(AriaConversation.student_id)),
        )
        .join(per_conversation, per_conversation.c.conversation_id == AriaConversation.id)
        .group_by(func.rollup(AriaConversation.subject))
    )
    rated = (
        select(
            AriaConversation.subject,
            func.count().filter(AriaFeedback.rating == 1),
            func.count().filter(AriaFeedback.rating == -1),
        )
        .join(AriaMessage, AriaMessage.id == AriaFeedback.message_id)
        .join(AriaConversation, AriaConversation.id == AriaMessage.conversation_id)
        .where(period.holds(AriaFeedback.created_at))
        .group_by(func.rollup(AriaConversation.subject))
    )
    lines: dict[str | None, Usage] = {None: Usage("Total")}
    for subject, questions, conversations, students in db.session.execute(asked):
        key = None if subject is None else str(subject)
        line = lines.setdefault(key, Usage(_label(key)))
        line.questions, line.conversations, line.students = int(questions or 0), conversations, students
    for subject, up, down in db.session.execute(rated):
        key = None if subject is None else str(subject)
        line = lines.setdefault(key, Usage(_label(key)))
        line.up, line.down = up, down
    total = lines.pop(None)
    return AriaFigures(total, sorted(lines.values(), key=lambda u: (-u.questions, u.label)))
