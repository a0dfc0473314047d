"""Threads between a family and the centre (staff or a coach), their messages and reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import LabelledEnum, created_at, email_type, enum_type, intpk


class ThreadStatus(LabelledEnum):
    OPEN = "OPEN", "À traiter"
    HANDLED = "HANDLED", "Traitée"


class MessageThread(db.Model):
    """A conversation. Its people are its participants; `with_staff` puts it in the staff inbox
    as addressed to the centre (staff can still read every thread involving a student)."""

    __tablename__ = "message_threads"
    __table_args__ = (
        Index("ix_message_threads_last", "last_message_at"),
        Index("ix_message_threads_status", "status", "last_message_at"),
    )

    id: Mapped[intpk]
    subject: Mapped[str] = mapped_column(String(160))
    # The student the conversation is about (safeguarding: staff may read it).
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"), index=True)
    with_staff: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    status: Mapped[ThreadStatus] = mapped_column(enum_type(ThreadStatus))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Answering the contact form or a bilan request: the family may have no account yet, so the
    # replies also go to this address.
    contact_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_messages.id", ondelete="SET NULL"), unique=True
    )
    bilan_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("bilan_requests.id", ondelete="SET NULL"), unique=True
    )
    external_email: Mapped[str | None] = mapped_column(email_type())
    external_name: Mapped[str | None] = mapped_column(String(160))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_message_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]

    participants: Mapped[list[ThreadParticipant]] = relationship(back_populates="thread")
    messages: Mapped[list[Message]] = relationship(order_by="Message.id", back_populates="thread")


class ThreadParticipant(db.Model):
    """Someone in a thread, with where they stopped reading and when they were last e-mailed.

    A staff member who only read a thread (safeguarding, the inbox) is an observer: it keeps their
    read marker without making them a party that is written to."""

    __tablename__ = "thread_participants"
    __table_args__ = (Index("ix_thread_participants_user", "user_id"),)

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("message_threads.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    observer: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    last_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last e-mail about this thread (a digest at most once an hour per thread and person).
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]

    thread: Mapped[MessageThread] = relationship(back_populates="participants")


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread", "thread_id", "id"),
        CheckConstraint("char_length(body) > 0", name="body_not_empty"),
    )

    id: Mapped[intpk]
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]

    thread: Mapped[MessageThread] = relationship(back_populates="messages")
    attachments: Mapped[list[MessageAttachment]] = relationship(order_by="MessageAttachment.id")


class MessageAttachment(db.Model):
    """A PDF or image sent with a message, stored like the vault (random name, outside static)."""

    __tablename__ = "message_attachments"

    id: Mapped[intpk]
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    storage_path: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[created_at]


class MessageReport(db.Model):
    """A message reported to the staff (safeguarding); one report per message and person."""

    __tablename__ = "message_reports"
    __table_args__ = (UniqueConstraint("message_id", "reporter_id", name="uq_message_reports_once"),)

    id: Mapped[intpk]
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
