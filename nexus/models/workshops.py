"""Group workshops: a coach's time with a few seats, and the waiting list for a full one.

A workshop holds its coach's time itself (its own exclusion constraint between workshops; the
coach's one-to-one sessions and its workshops are kept apart by the coach lock, see
services/workshops). Each seat taken is a `SessionBooking` with `workshop_id` set: the ledger,
the student's overlap constraint, reminders, .ics, the calendar feed and the report work per
participant exactly as for a one-to-one session.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import Grade, LabelledEnum, Subject, created_at, enum_type, intpk, updated_at
from nexus.models.identity import CoachProfile

MIN_SEATS = 2
MAX_SEATS = 12


class WorkshopStatus(LabelledEnum):
    SCHEDULED = "SCHEDULED", "Programmé"
    COMPLETED = "COMPLETED", "Terminé"
    CANCELLED = "CANCELLED", "Annulé"

    @property
    def is_scheduled(self) -> bool:
        return self is WorkshopStatus.SCHEDULED


class Workshop(db.Model):
    """One sitting of a group workshop (a weekly series is one row per week, sharing series_id)."""

    __tablename__ = "workshops"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="start_before_end"),
        CheckConstraint(f"seats BETWEEN {MIN_SEATS} AND {MAX_SEATS}", name="seats_range"),
        CheckConstraint("credits_cost > 0", name="cost_positive"),
        ExcludeConstraint(
            (text("int8range(coach_id, coach_id, '[]')"), "&&"),
            (text("tstzrange(starts_at, ends_at)"), "&&"),
            name="ex_workshops_coach_overlap",
            using="gist",
            where=text("status = 'SCHEDULED'"),
        ),
        Index("ix_workshops_grade_start", "grade", "starts_at"),
        Index("ix_workshops_coach_start", "coach_id", "starts_at"),
        Index("ix_workshops_series", "series_id"),
    )

    id: Mapped[intpk]
    # The weekly series it belongs to (the id of its first sitting); None for a single workshop.
    series_id: Mapped[int | None] = mapped_column(BigInteger)
    coach_id: Mapped[int] = mapped_column(ForeignKey("coach_profiles.id", ondelete="RESTRICT"))
    subject: Mapped[Subject] = mapped_column(enum_type(Subject))
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, server_default=text("''"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    online: Mapped[bool] = mapped_column(Boolean)
    location: Mapped[str | None] = mapped_column(String(200))
    seats: Mapped[int] = mapped_column(Integer)
    # Credits per seat: 1.5 per hour (the catalog's ATELIER_GROUPE price), fixed at creation.
    credits_cost: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    status: Mapped[WorkshopStatus] = mapped_column(enum_type(WorkshopStatus))
    # One video room for the whole group (the participants' bookings point here).
    room_name: Mapped[str] = mapped_column(String(80), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    coach: Mapped[CoachProfile] = relationship()


class WaitStatus(LabelledEnum):
    WAITING = "WAITING", "En liste d'attente"
    PROMOTED = "PROMOTED", "Place obtenue"
    SKIPPED = "SKIPPED", "Passé (solde insuffisant)"
    LEFT = "LEFT", "Sorti de la liste"
    CLOSED = "CLOSED", "Liste close"

    @property
    def is_waiting(self) -> bool:
        return self is WaitStatus.WAITING


class WorkshopWaitlist(db.Model):
    """One student in line for a full workshop; first come, first served (created_at, id)."""

    __tablename__ = "workshop_waitlist"
    __table_args__ = (
        Index(
            "uq_workshop_waitlist_waiting",
            "workshop_id",
            "student_id",
            unique=True,
            postgresql_where=text("status = 'WAITING'"),
        ),
        Index("ix_workshop_waitlist_line", "workshop_id", "status", "created_at"),
        Index("ix_workshop_waitlist_student", "student_id"),
    )

    id: Mapped[intpk]
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[WaitStatus] = mapped_column(enum_type(WaitStatus))
    # The seat it became, when promoted.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("session_bookings.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]

    workshop: Mapped[Workshop] = relationship()
