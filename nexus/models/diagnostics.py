"""Free bilan requests from families, and assessments (QCM + generated bilans)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from nexus.extensions import db
from nexus.models.common import (
    Grade,
    LabelledEnum,
    Subject,
    created_at,
    email_type,
    enum_type,
    intpk,
    subjects_check,
    updated_at,
)


class Modality(LabelledEnum):
    ONLINE = "ONLINE", "En ligne"
    IN_PERSON = "IN_PERSON", "Au centre"
    HYBRID = "HYBRID", "Hybride"


class BilanStatus(LabelledEnum):
    RECEIVED = "RECEIVED", "Reçue"
    CONTACTED = "CONTACTED", "Famille contactée"
    CONVERTED = "CONVERTED", "Inscrite"
    CLOSED = "CLOSED", "Close"

    @property
    def is_closed(self) -> bool:
        return self is BilanStatus.CLOSED


# Staff follow-up: received → family contacted → enrolled or closed.
NEXT_STATUSES: dict[BilanStatus, tuple[BilanStatus, ...]] = {
    BilanStatus.RECEIVED: (BilanStatus.CONTACTED, BilanStatus.CLOSED),
    BilanStatus.CONTACTED: (BilanStatus.CONVERTED, BilanStatus.CLOSED),
    BilanStatus.CONVERTED: (),
    BilanStatus.CLOSED: (),
}


class BilanRequest(db.Model):
    """The public "bilan gratuit" form, kept whole (the original discarded the answers)."""

    __tablename__ = "bilan_requests"
    __table_args__ = (
        CheckConstraint(subjects_check("subjects"), name="known_subjects"),
        Index("ix_bilan_requests_status", "status", "created_at"),
    )

    id: Mapped[intpk]
    parent_first_name: Mapped[str] = mapped_column(String(80))
    parent_last_name: Mapped[str] = mapped_column(String(80))
    parent_email: Mapped[str] = mapped_column(email_type())
    parent_phone: Mapped[str] = mapped_column(String(32))
    student_first_name: Mapped[str] = mapped_column(String(80))
    student_last_name: Mapped[str] = mapped_column(String(80))
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    school: Mapped[str | None] = mapped_column(String(120))
    subjects: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    current_level: Mapped[str | None] = mapped_column(String(200))
    objectives: Mapped[str | None] = mapped_column(Text)
    difficulties: Mapped[str | None] = mapped_column(Text)
    modality: Mapped[Modality | None] = mapped_column(enum_type(Modality))
    availability: Mapped[str | None] = mapped_column(String(300))
    accept_newsletter: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    status: Mapped[BilanStatus] = mapped_column(enum_type(BilanStatus))
    parent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    @property
    def next_statuses(self) -> tuple[BilanStatus, ...]:
        """Where staff can move the request from here (in this order)."""
        return NEXT_STATUSES[self.status]

    @property
    def is_closed(self) -> bool:
        return self.status.is_closed


class AssessmentStatus(LabelledEnum):
    PENDING = "PENDING", "En attente"
    SCORING = "SCORING", "Correction"
    GENERATING = "GENERATING", "Rédaction du bilan"
    COMPLETED = "COMPLETED", "Terminé"
    FAILED = "FAILED", "Échec"


class Assessment(db.Model):
    """A positioning test and its bilans; generation runs as a job with a progress figure."""

    __tablename__ = "assessments"
    __table_args__ = (CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),)

    id: Mapped[intpk]
    share_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"))
    bilan_request_id: Mapped[int | None] = mapped_column(ForeignKey("bilan_requests.id", ondelete="SET NULL"))
    subject: Mapped[Subject] = mapped_column(enum_type(Subject))
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    definition_key: Mapped[str] = mapped_column(String(60))
    status: Mapped[AssessmentStatus] = mapped_column(enum_type(AssessmentStatus))
    progress: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # per domain and skill
    global_score: Mapped[float | None] = mapped_column(Numeric(5, 2))
    student_markdown: Mapped[str | None] = mapped_column(Text)
    parents_markdown: Mapped[str | None] = mapped_column(Text)
    staff_markdown: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(40))
    retry_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
