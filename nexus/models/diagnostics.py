"""Free bilan requests from families, and assessments (QCM + generated bilans)."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from nexus.extensions import db
from nexus.models.common import (
    Grade,
    LabelledEnum,
    created_at,
    email_type,
    enum_type,
    intpk,
    subjects_check,
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
