"""ARIA conversations, messages and feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import LabelledEnum, Subject, created_at, enum_type, intpk, updated_at


class AriaConversation(db.Model):
    __tablename__ = "aria_conversations"
    __table_args__ = (Index("ix_aria_conversations_student_updated", "student_id", "updated_at"),)

    id: Mapped[intpk]
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    subject: Mapped[Subject] = mapped_column(enum_type(Subject))
    title: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    messages: Mapped[list[AriaMessage]] = relationship(
        order_by="AriaMessage.id", back_populates="conversation"
    )


class MessageRole(LabelledEnum):
    USER = "USER", "Élève"
    ASSISTANT = "ASSISTANT", "ARIA"


class AnswerMode(LabelledEnum):
    LLM = "LLM", "Réponse générée"
    OFFLINE = "OFFLINE", "Passages du cours (hors ligne)"
    DEGRADED = "DEGRADED", "ARIA indisponible : passages du cours"
    TOO_LONG = "TOO_LONG", "Conversation trop longue : passages du cours"
    # A question the safety check flagged: a fixed caring text, not the model's words.
    SAFETY = "SAFETY", "Message de bienveillance"


# Answers made of course passages instead of the model's words: they cost no daily question.
FALLBACK_MODES = (AnswerMode.OFFLINE, AnswerMode.DEGRADED, AnswerMode.TOO_LONG)
# Answers that cost no daily question: the fallbacks, and the caring answer to a flagged question.
FREE_MODES = (*FALLBACK_MODES, AnswerMode.SAFETY)


class AriaMessage(db.Model):
    __tablename__ = "aria_messages"
    __table_args__ = (
        Index("ix_aria_messages_conversation", "conversation_id", "id"),
        # ARIA use over a period (analytics) read from the index alone.
        Index("ix_aria_messages_created", "created_at", postgresql_include=["role", "conversation_id"]),
        CheckConstraint("char_length(content) > 0", name="content_not_empty"),
        # An answer points at its question; a question has at most one answer (unique), so a
        # reconnecting stream or a retry never stores a second one.
        CheckConstraint("(role = 'ASSISTANT') = (reply_to_id IS NOT NULL)", name="answer_has_question"),
    )

    id: Mapped[intpk]
    conversation_id: Mapped[int] = mapped_column(ForeignKey("aria_conversations.id", ondelete="CASCADE"))
    role: Mapped[MessageRole] = mapped_column(enum_type(MessageRole))
    reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("aria_messages.id", ondelete="CASCADE"), unique=True
    )
    content: Mapped[str] = mapped_column(Text)
    # [{"n": 1, "chunk_id": 12, "document_id": 3, "title": "…", "section": "…", "page": 4}]
    citations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    mode: Mapped[AnswerMode | None] = mapped_column(enum_type(AnswerMode))
    model: Mapped[str | None] = mapped_column(String(80))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    # On a question: when a stream or request took on writing its answer (one writer at a time;
    # a lease, so a writer that died frees the question after a while).
    answer_claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]

    conversation: Mapped[AriaConversation] = relationship(back_populates="messages")
    feedback: Mapped[AriaFeedback | None] = relationship(back_populates="message")

    @hybrid_property
    def is_question(self) -> bool:
        """The student's question (the other role is ARIA's answer); in SQL too."""
        return self.role == MessageRole.USER

    @property
    def is_fallback(self) -> bool:
        """An answer made of course passages instead of the model's words."""
        return self.mode in FALLBACK_MODES

    @property
    def is_caring(self) -> bool:
        """The fixed caring answer to a question the safety check flagged."""
        return self.mode is AnswerMode.SAFETY

    @property
    def is_too_long(self) -> bool:
        """A fallback because the conversation grew too long: a new one is the way on."""
        return self.mode is AnswerMode.TOO_LONG


class AriaFeedback(db.Model):
    """👍 (+1) or 👎 (-1) on an answer, with an optional comment; one per message."""

    __tablename__ = "aria_feedback"
    __table_args__ = (CheckConstraint("rating IN (-1, 1)", name="rating_values"),)

    id: Mapped[intpk]
    message_id: Mapped[int] = mapped_column(ForeignKey("aria_messages.id", ondelete="CASCADE"), unique=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    message: Mapped[AriaMessage] = relationship(back_populates="feedback")


class SafetyCategory(LabelledEnum):
    DISTRESS = "DISTRESS", "Détresse"
    SELF_HARM = "SELF_HARM", "Idées d'auto-agression"
    HARASSMENT = "HARASSMENT", "Harcèlement"
    CHEATING = "CHEATING", "Pression pour obtenir les réponses d'une évaluation"


class AriaAlert(db.Model):
    """A question flagged by the safety check: the parents and staff were alerted."""

    __tablename__ = "aria_alerts"
    __table_args__ = (Index("ix_aria_alerts_created", "created_at"),)

    id: Mapped[intpk]
    message_id: Mapped[int] = mapped_column(ForeignKey("aria_messages.id", ondelete="CASCADE"), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    category: Mapped[SafetyCategory] = mapped_column(enum_type(SafetyCategory))
    source: Mapped[str] = mapped_column(String(20))  # "lexicon" or "moderation"
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
