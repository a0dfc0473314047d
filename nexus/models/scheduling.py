"""Coach availability, booked sessions, their reports and reminders."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    and_,
    or_,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.common import LabelledEnum, Subject, created_at, enum_type, intpk, updated_at
from nexus.models.family import Student
from nexus.models.identity import CoachProfile
from nexus.models.workshops import Workshop


class CoachAvailability(db.Model):
    """A weekly recurring window (weekday 0 = Monday, local Africa/Tunis time)."""

    __tablename__ = "coach_availabilities"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
        CheckConstraint("valid_until IS NULL OR valid_from <= valid_until", name="valid_range"),
        Index("ix_coach_availabilities_coach_day", "coach_id", "weekday"),
    )

    id: Mapped[intpk]
    coach_id: Mapped[int] = mapped_column(ForeignKey("coach_profiles.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[created_at]


class ExceptionKind(LabelledEnum):
    EXTRA = "EXTRA", "Créneau supplémentaire"
    UNAVAILABLE = "UNAVAILABLE", "Indisponible"


class AvailabilityException(db.Model):
    """A dated change: an extra window, or time off (whole day when no times are given)."""

    __tablename__ = "availability_exceptions"
    __table_args__ = (
        CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR start_time < end_time",
            name="times_consistent",
        ),
        CheckConstraint("kind = 'UNAVAILABLE' OR start_time IS NOT NULL", name="extra_has_times"),
        Index("ix_availability_exceptions_coach_date", "coach_id", "on_date"),
    )

    id: Mapped[intpk]
    coach_id: Mapped[int] = mapped_column(ForeignKey("coach_profiles.id", ondelete="CASCADE"))
    on_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[ExceptionKind] = mapped_column(enum_type(ExceptionKind))
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[created_at]

    @property
    def is_extra(self) -> bool:
        """An extra window (the other kind is time off)."""
        return self.kind is ExceptionKind.EXTRA


class SessionStatus(LabelledEnum):
    SCHEDULED = "SCHEDULED", "Programmée"
    CONFIRMED = "CONFIRMED", "Confirmée"
    IN_PROGRESS = "IN_PROGRESS", "En cours"
    COMPLETED = "COMPLETED", "Terminée"
    CANCELLED = "CANCELLED", "Annulée"
    NO_SHOW = "NO_SHOW", "Absence"

    @property
    def is_holding(self) -> bool:
        return self in HOLDING


# A session holds its slot (and its credits) while in one of these states: the one definition,
# used by the exclusion constraints, the services' queries and the templates.
HOLDING = (SessionStatus.SCHEDULED, SessionStatus.CONFIRMED, SessionStatus.IN_PROGRESS)
# "status IN ('SCHEDULED', 'CONFIRMED', 'IN_PROGRESS')": byte-identical to the migration's text.
_holding = "status IN ({})".format(", ".join(f"'{s.value}'" for s in HOLDING))


class SessionBooking(db.Model):
    """A booked session. Exclusion constraints forbid coach or student overlaps."""

    __tablename__ = "session_bookings"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="start_before_end"),
        CheckConstraint("credits_cost >= 0", name="cost_positive"),
        ExcludeConstraint(
            (text("int8range(coach_id, coach_id, '[]')"), "&&"),
            (text("tstzrange(starts_at, ends_at)"), "&&"),
            name="ex_session_bookings_coach_overlap",
            using="gist",
            # A workshop's seats share their coach's time: the workshop itself holds it.
            where=text(f"{_holding} AND workshop_id IS NULL"),
        ),
        ExcludeConstraint(
            (text("int8range(student_id, student_id, '[]')"), "&&"),
            (text("tstzrange(starts_at, ends_at)"), "&&"),
            name="ex_session_bookings_student_overlap",
            using="gist",
            where=text(_holding),
        ),
        Index("ix_session_bookings_student_start", "student_id", "starts_at"),
        Index("ix_session_bookings_coach_start", "coach_id", "starts_at"),
        Index("ix_session_bookings_status_start", "status", "starts_at"),
        Index(
            "ix_session_bookings_workshop", "workshop_id", postgresql_where=text("workshop_id IS NOT NULL")
        ),
    )

    id: Mapped[intpk]
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    coach_id: Mapped[int] = mapped_column(ForeignKey("coach_profiles.id", ondelete="RESTRICT"))
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject: Mapped[Subject] = mapped_column(enum_type(Subject))
    service: Mapped[ServiceType] = mapped_column(enum_type(ServiceType))
    title: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(500))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    credits_cost: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    status: Mapped[SessionStatus] = mapped_column(enum_type(SessionStatus))
    # Unguessable and stored, so coach and student land in the same video room.
    room_name: Mapped[str] = mapped_column(String(80), unique=True)
    location: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    rescheduled_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_bookings.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A seat in a group workshop (None for a one-to-one session).
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id", ondelete="RESTRICT"))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    student: Mapped[Student] = relationship()
    coach: Mapped[CoachProfile] = relationship()
    report: Mapped[SessionReport | None] = relationship(back_populates="booking")
    workshop: Mapped[Workshop | None] = relationship()

    @hybrid_property
    def is_holding(self) -> bool:
        """Scheduled, confirmed or in progress: the session holds its slot and its credits."""
        return self.status.is_holding

    @is_holding.inplace.expression
    @classmethod
    def _is_holding_expression(cls) -> ColumnElement[bool]:
        return cls.status.in_(HOLDING)

    @property
    def is_completed(self) -> bool:
        return self.status is SessionStatus.COMPLETED

    @property
    def is_no_show(self) -> bool:
        return self.status is SessionStatus.NO_SHOW

    @classmethod
    def opens_student_to_coach(cls, now: datetime) -> ColumnElement[bool]:
        """A session that lets its coach see the student (page, ARIA): held, or still to come.

        A booking cancelled at once, a no-show or a session that never took place opens nothing.
        """
        return or_(cls.status == SessionStatus.COMPLETED, and_(cls.is_holding, cls.ends_at > now))


class EngagementLevel(LabelledEnum):
    LOW = "LOW", "Faible"
    MEDIUM = "MEDIUM", "Moyen"
    HIGH = "HIGH", "Élevé"


class SessionReport(db.Model):
    __tablename__ = "session_reports"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    id: Mapped[intpk]
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("session_bookings.id", ondelete="CASCADE"), unique=True
    )
    summary: Mapped[str] = mapped_column(Text)
    topics: Mapped[str] = mapped_column(Text)
    rating: Mapped[int] = mapped_column(SmallInteger)
    progress_notes: Mapped[str] = mapped_column(Text)
    recommendations: Mapped[str] = mapped_column(Text)
    attended: Mapped[bool] = mapped_column(Boolean)
    engagement: Mapped[EngagementLevel | None] = mapped_column(enum_type(EngagementLevel))
    homework: Mapped[str | None] = mapped_column(Text)
    next_focus: Mapped[str | None] = mapped_column(Text)
    # When the student or a parent first opened it (the Nexus Index counts reports read).
    family_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]

    booking: Mapped[SessionBooking] = relationship(back_populates="report")


class ReminderKind(LabelledEnum):
    DAY_BEFORE = "DAY_BEFORE", "La veille (24 h)"
    TWO_HOURS_BEFORE = "TWO_HOURS_BEFORE", "2 heures avant"


class SessionReminder(db.Model):
    """One reminder per session and kind, however often the job runs."""

    __tablename__ = "session_reminders"
    __table_args__ = (
        Index("ix_session_reminders_due", "due_at"),
        Index("uq_session_reminders_booking_kind", "booking_id", "kind", unique=True),
    )

    id: Mapped[intpk]
    booking_id: Mapped[int] = mapped_column(ForeignKey("session_bookings.id", ondelete="CASCADE"))
    kind: Mapped[ReminderKind] = mapped_column(enum_type(ReminderKind))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class CalendarFeed(db.Model):
    """A user's private iCal feed. The secret URL is an HMAC of (user, version): nothing secret is
    stored, and regenerating the link bumps the version, which kills the old URL."""

    __tablename__ = "calendar_feeds"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
