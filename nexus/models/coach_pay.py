"""Coach pay: hourly rates per modality (with their history) and the monthly statements.

A statement is a draft, recomputed from the sessions of its month until staff validate it; then
it is frozen (its lines and total never change again) and numbered.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import LabelledEnum, created_at, enum_type, intpk, updated_at
from nexus.models.identity import CoachProfile


class PayModality(LabelledEnum):
    ONLINE = "ONLINE", "Cours en ligne"
    CENTRE = "CENTRE", "Cours au centre"
    WORKSHOP = "WORKSHOP", "Atelier (par heure)"


class CoachRate(db.Model):
    """An hourly rate from a date on; a change adds a row, so the history stays."""

    __tablename__ = "coach_rates"
    __table_args__ = (
        CheckConstraint("hourly_millimes >= 0", name="rate_positive"),
        UniqueConstraint("coach_id", "modality", "effective_from", name="uq_coach_rates_from"),
    )

    id: Mapped[intpk]
    coach_id: Mapped[int] = mapped_column(ForeignKey("coach_profiles.id", ondelete="CASCADE"))
    modality: Mapped[PayModality] = mapped_column(enum_type(PayModality))
    hourly_millimes: Mapped[int] = mapped_column(BigInteger)
    effective_from: Mapped[date] = mapped_column(Date)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]


class StatementStatus(LabelledEnum):
    DRAFT = "DRAFT", "À valider"
    VALIDATED = "VALIDATED", "Validé"

    @property
    def is_validated(self) -> bool:
        return self is StatementStatus.VALIDATED


class CoachStatement(db.Model):
    """One coach's pay for one month (Tunis time). Validated → frozen, numbered REM-YYYYMM-####."""

    __tablename__ = "coach_statements"
    __table_args__ = (
        UniqueConstraint("coach_id", "month", name="uq_coach_statements_month"),
        CheckConstraint("status = 'DRAFT' OR number IS NOT NULL", name="validated_numbered"),
        CheckConstraint("late_cancel_share BETWEEN 0 AND 100", name="share_range"),
        Index("ix_coach_statements_month", "month"),
    )

    id: Mapped[intpk]
    coach_id: Mapped[int] = mapped_column(ForeignKey("coach_profiles.id", ondelete="RESTRICT"))
    month: Mapped[str] = mapped_column(String(7))  # "YYYY-MM"
    status: Mapped[StatementStatus] = mapped_column(enum_type(StatementStatus))
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    total_millimes: Mapped[int] = mapped_column(BigInteger)
    # The settings the lines were computed with (kept, so a frozen statement explains itself).
    pay_no_show: Mapped[bool] = mapped_column(Boolean)
    late_cancel_share: Mapped[int] = mapped_column(SmallInteger)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    coach: Mapped[CoachProfile] = relationship()
    lines: Mapped[list[StatementLine]] = relationship(
        back_populates="statement", order_by="StatementLine.position", cascade="all, delete-orphan"
    )


class LineKind(LabelledEnum):
    SESSION = "SESSION", "Séance assurée"
    WORKSHOP = "WORKSHOP", "Atelier"
    NO_SHOW = "NO_SHOW", "Absence de l'élève"
    LATE_CANCEL = "LATE_CANCEL", "Annulation tardive par la famille"
    COACH_CANCEL = "COACH_CANCEL", "Annulée par le coach"
    MISSING_REPORT = "MISSING_REPORT", "Rapport non rédigé"
    ADJUSTMENT = "ADJUSTMENT", "Ajustement"


class StatementLine(db.Model):
    """One line of a statement; amount = rate × minutes ÷ 60 × share ÷ 100, rounded to the millime
    (an adjustment carries its signed amount and its reason instead)."""

    __tablename__ = "coach_statement_lines"
    __table_args__ = (
        CheckConstraint("share_percent BETWEEN 0 AND 100", name="share_range"),
        CheckConstraint("kind <> 'ADJUSTMENT' OR reason IS NOT NULL", name="adjustment_reason"),
        Index("ix_coach_statement_lines_statement", "statement_id", "position"),
    )

    id: Mapped[intpk]
    statement_id: Mapped[int] = mapped_column(ForeignKey("coach_statements.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[LineKind] = mapped_column(enum_type(LineKind))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("session_bookings.id", ondelete="SET NULL"))
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    label: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer)
    rate_millimes: Mapped[int] = mapped_column(BigInteger)
    share_percent: Mapped[int] = mapped_column(SmallInteger)
    amount_millimes: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    statement: Mapped[CoachStatement] = relationship(back_populates="lines")


class StatementSequence(db.Model):
    """The last statement number of each month (REM-YYYYMM-####), bumped by an upsert."""

    __tablename__ = "coach_statement_sequences"

    year_month: Mapped[int] = mapped_column(Integer, primary_key=True)
    current: Mapped[int] = mapped_column(Integer)
