"""Holiday stages (intensive courses), their reservations and the Telegram outbox."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.clock import utcnow
from nexus.extensions import db
from nexus.models.assessments import Assessment
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
from nexus.models.notifications import OutboxStatus


class Stage(db.Model):
    """A holiday stage: dates, level, subjects, price (millimes) and a number of seats."""

    __tablename__ = "stages"
    __table_args__ = (
        CheckConstraint(subjects_check("subjects"), name="known_subjects"),
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("price_millimes > 0", name="price_positive"),
        CheckConstraint("seats > 0", name="seats_positive"),
        Index("ix_stages_coming", "published", "starts_on"),
    )

    id: Mapped[intpk]
    title: Mapped[str] = mapped_column(String(160))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, server_default=text("''"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    subjects: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    price_millimes: Mapped[int] = mapped_column(BigInteger)
    seats: Mapped[int] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    @property
    def subject_labels(self) -> list[str]:
        return [Subject(s).label for s in self.subjects]


class ReservationStatus(LabelledEnum):
    PENDING = "PENDING", "En attente de confirmation"
    CONFIRMED = "CONFIRMED", "Confirmée"
    PAID = "PAID", "Payée"
    CANCELLED = "CANCELLED", "Annulée"
    WAITING = "WAITING", "Liste d'attente"

    @property
    def holds_seat(self) -> bool:
        return self in HOLDING

    @property
    def is_pending(self) -> bool:
        return self is ReservationStatus.PENDING

    @property
    def is_cancelled(self) -> bool:
        return self is ReservationStatus.CANCELLED

    @property
    def is_waiting(self) -> bool:
        return self is ReservationStatus.WAITING


# The statuses that take one of the stage's seats.
HOLDING = (ReservationStatus.PENDING, ReservationStatus.CONFIRMED, ReservationStatus.PAID)

# Staff follow-up: pending → confirmed → paid; pending or confirmed → cancelled (the seat is
# freed); from the waiting list, a seat offered (pending, if one is free) or cancelled.
NEXT_STATUSES: dict[ReservationStatus, tuple[ReservationStatus, ...]] = {
    ReservationStatus.PENDING: (ReservationStatus.CONFIRMED, ReservationStatus.CANCELLED),
    ReservationStatus.CONFIRMED: (ReservationStatus.PAID, ReservationStatus.CANCELLED),
    ReservationStatus.PAID: (),
    ReservationStatus.CANCELLED: (),
    ReservationStatus.WAITING: (ReservationStatus.PENDING, ReservationStatus.CANCELLED),
}


class StageReservation(db.Model):
    """One family's reservation for one stage (one per e-mail and stage: a resend updates it)."""

    __tablename__ = "stage_reservations"
    __table_args__ = (
        UniqueConstraint("stage_id", "email", name="uq_stage_reservations_stage_email"),
        Index("ix_stage_reservations_stage_status", "stage_id", "status"),
    )

    id: Mapped[intpk]
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="RESTRICT"))
    parent_name: Mapped[str] = mapped_column(String(160))
    student_name: Mapped[str] = mapped_column(String(160))
    email: Mapped[str] = mapped_column(email_type())
    phone: Mapped[str] = mapped_column(String(32))
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    status: Mapped[ReservationStatus] = mapped_column(enum_type(ReservationStatus))
    # The bank-transfer reference the family writes on its transfer (staff match it, then mark PAID).
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    # The positioning test sent with the confirmation (the stage's fixed form).
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id", ondelete="SET NULL"))
    # The PAID invoice made when staff mark the reservation paid (its receipt for the family).
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    telegram_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    stage: Mapped[Stage] = relationship()
    assessment: Mapped[Assessment | None] = relationship()

    @property
    def next_statuses(self) -> tuple[ReservationStatus, ...]:
        return NEXT_STATUSES[self.status]

    @property
    def holds_seat(self) -> bool:
        return self.status.holds_seat


class TelegramMessage(db.Model):
    """A message for the staff's Telegram chat, written in the transaction of its cause and
    delivered by a job with retries (nexus.jobs.telegram), as the e-mail outbox is."""

    __tablename__ = "telegram_outbox"
    __table_args__ = (
        Index("ix_telegram_outbox_due", "next_attempt_at", postgresql_where=text("status = 'PENDING'")),
    )

    id: Mapped[intpk]
    body: Mapped[str] = mapped_column(Text)
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("stage_reservations.id", ondelete="SET NULL")
    )
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=text("now()")
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]
