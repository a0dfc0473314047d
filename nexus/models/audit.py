"""Who did what, when: staff actions, sign-ins, and runs of periodic jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import LabelledEnum, created_at, enum_type, intpk
from nexus.models.identity import User


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_created", "created_at"),
    )

    id: Mapped[intpk]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))  # "payment.approve", "auth.signin" …
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(BigInteger)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ip: Mapped[str | None] = mapped_column(INET)
    created_at: Mapped[created_at]

    actor: Mapped[User | None] = relationship(lazy="joined")


class JobRunStatus(LabelledEnum):
    RUNNING = "RUNNING", "En cours"
    COMPLETED = "COMPLETED", "Terminé"
    FAILED = "FAILED", "Échec"


class JobRun(db.Model):
    """Makes a periodic job idempotent per key (e.g. monthly allocation for "2026-11")."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("uq_job_runs_name_key", "job_name", "run_key", unique=True),)

    id: Mapped[intpk]
    job_name: Mapped[str] = mapped_column(String(60))
    run_key: Mapped[str] = mapped_column(String(60))
    status: Mapped[JobRunStatus] = mapped_column(enum_type(JobRunStatus))
    started_at: Mapped[created_at]
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
