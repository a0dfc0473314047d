"""In-app notifications, the e-mail outbox and messages from the public contact form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from nexus.clock import utcnow
from nexus.extensions import db
from nexus.models.common import LabelledEnum, created_at, email_type, enum_type, intpk


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at", "id"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(160))
    body: Mapped[str | None] = mapped_column(String(1000))
    link: Mapped[str | None] = mapped_column(String(255))  # a path inside the app
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]


class OutboxStatus(LabelledEnum):
    PENDING = "PENDING", "À envoyer"
    SENT = "SENT", "Envoyé"
    FAILED = "FAILED", "Échec définitif"
    DISCARDED = "DISCARDED", "Abandonné"  # given up on by staff after a failure: never sent


class OutboxEmail(db.Model):
    """An e-mail written in the same transaction as its cause, delivered later by a job."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        Index(
            "ix_outbox_emails_due",
            "next_attempt_at",
            postgresql_where=text("status = 'PENDING'"),
        ),
    )

    id: Mapped[intpk]
    to_email: Mapped[str] = mapped_column(email_type())
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    template: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(200))
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # Optional idempotence key ("reminder:42:DAY_BEFORE"): the same e-mail is never queued twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=text("now()")
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]


class ContactMessage(db.Model):
    __tablename__ = "contact_messages"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(email_type())
    phone: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The family space staff opened from this message, if any.
    parent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]


class NotificationPreference(db.Model):
    """Whether one kind of event reaches a user by e-mail (in the app it always does).

    No row: the event's default (see nexus.services.preferences)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)
