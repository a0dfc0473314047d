"""What a parent or a coach reads of a student's ARIA conversations.

A question the safety check flagged, and ARIA's caring answer to it, stay between the student,
ARIA and the centre's staff, who read it on the alerts page and call the family: the parents are
told the category when that is right, never the words, and nothing at all when the child spoke
of harm at home. So readers get the conversations without those exchanges: a conversation left
with nothing else is not listed (404 if asked for), and one holding such an exchange gets a
neutral title, since a conversation is titled with the student's first question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.aria import AriaAlert, AriaConversation, AriaMessage
from nexus.models.common import Subject


@dataclass(frozen=True)
class Readable:
    """A conversation as a parent or a coach sees it."""

    conversation: AriaConversation
    title: str
    messages: list[AriaMessage]

    @property
    def id(self) -> int:
        return self.conversation.id

    @property
    def subject(self) -> Subject:
        return self.conversation.subject

    @property
    def created_at(self) -> datetime:
        return self.conversation.created_at

    @property
    def updated_at(self) -> datetime:
        return self.conversation.updated_at


def _title(conversation: AriaConversation, flagged: bool) -> str:
    return f"Conversation en {conversation.subject.label}" if flagged else conversation.title


def listed(conversations: list[AriaConversation]) -> list[Readable]:
    """The conversations a reader may see (messages not loaded), in one query."""
    if not conversations:
        return []
    counts = db.session.execute(
        select(AriaMessage.conversation_id, func.count(), func.count(AriaAlert.id))
        .outerjoin(AriaAlert, AriaAlert.message_id == AriaMessage.id)
        .where(AriaMessage.conversation_id.in_([c.id for c in conversations]), AriaMessage.is_question)
        .group_by(AriaMessage.conversation_id)
    )
    questions = {conversation_id: (total, flagged) for conversation_id, total, flagged in counts}
    shown = []
    for c in conversations:
        total, flagged = questions.get(c.id, (0, 0))
        if not flagged or total > flagged:
            shown.append(Readable(c, _title(c, flagged > 0), []))
    return shown


def transcript(conversation: AriaConversation | None) -> Readable | None:
    """The conversation without its flagged exchanges; None when nothing is left (404)."""
    if conversation is None:
        return None
    flagged = set(
        db.session.scalars(
            select(AriaAlert.message_id)
            .join(AriaMessage, AriaMessage.id == AriaAlert.message_id)
            .where(AriaMessage.conversation_id == conversation.id)
        )
    )
    kept = [m for m in conversation.messages if m.id not in flagged and m.reply_to_id not in flagged]
    if flagged and not any(m.is_question for m in kept):
        return None
    return Readable(conversation, _title(conversation, bool(flagged)), kept)
