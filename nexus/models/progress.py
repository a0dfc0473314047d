"""What a family reads as progress: the Nexus Index history, badges, and the trajectory."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import LabelledEnum, Subject, created_at, enum_type, intpk, updated_at


class IndexLevel(LabelledEnum):
    EXCELLENT = "EXCELLENT", "Excellent"
    GOOD = "GOOD", "Bon"
    PROGRESSING = "PROGRESSING", "En progression"
    TO_STRENGTHEN = "TO_STRENGTHEN", "À renforcer"
    BEGINNER = "BEGINNER", "Débutant"


class IndexSnapshot(db.Model):
    """One computation of a student's Nexus Index (0–100), kept as a history.

    `score` is None when there is not enough data: the page then says so instead of a number.
    The four parts are on 0–100 too, each None when it had nothing to measure.
    """

    __tablename__ = "index_snapshots"
    __table_args__ = (
        Index("ix_index_snapshots_student_computed", "student_id", "computed_at"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
    )

    id: Mapped[intpk]
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    score: Mapped[int | None] = mapped_column(SmallInteger)
    level: Mapped[IndexLevel | None] = mapped_column(enum_type(IndexLevel))
    attendance: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    progression: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    engagement: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    regularity: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    # Score of the last 30 days minus the score of the 30 before (None without both).
    trend: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    # What it is made of, shown beside it: counts per part ({"attended": 4, "sessions": 5, …}).
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # What caused this computation: "nightly", "report", "test", "aria", "session".
    cause: Mapped[str] = mapped_column(String(20))


class BadgeAward(db.Model):
    """A badge a student earned (definitions live in code); the constraint awards each once."""

    __tablename__ = "badge_awards"
    __table_args__ = (UniqueConstraint("student_id", "badge", name="uq_badge_awards_student_badge"),)

    id: Mapped[intpk]
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    badge: Mapped[str] = mapped_column(String(40))
    awarded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TrajectoryStatus(LabelledEnum):
    ACTIVE = "ACTIVE", "En cours"
    PAUSED = "PAUSED", "En pause"
    COMPLETED = "COMPLETED", "Atteinte"
    ABANDONED = "ABANDONED", "Abandonnée"


# A student has at most one trajectory in one of these states.
LIVE_TRAJECTORY = (TrajectoryStatus.ACTIVE, TrajectoryStatus.PAUSED)
_live = "status IN ({})".format(", ".join(f"'{s.value}'" for s in LIVE_TRAJECTORY))


class Trajectory(db.Model):
    """An objective agreed with the family (a target level or SSN within 3, 6 or 12 months)."""

    __tablename__ = "trajectories"
    __table_args__ = (
        CheckConstraint("horizon_months IN (3, 6, 12)", name="horizon_values"),
        CheckConstraint("target_ssn IS NULL OR target_ssn BETWEEN 0 AND 100", name="target_ssn_range"),
        CheckConstraint("starts_on <= ends_on", name="starts_before_ends"),
        Index(
            "uq_trajectories_one_live",
            "student_id",
            unique=True,
            postgresql_where=text(_live),
        ),
    )

    id: Mapped[intpk]
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(160))
    subject: Mapped[Subject | None] = mapped_column(enum_type(Subject))
    target_level: Mapped[str | None] = mapped_column(String(80))
    target_ssn: Mapped[int | None] = mapped_column(SmallInteger)
    horizon_months: Mapped[int] = mapped_column(SmallInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[TrajectoryStatus] = mapped_column(enum_type(TrajectoryStatus))
    # The positioning test whose bilan priorities it was proposed from.
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    agreed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    milestones: Mapped[list[Milestone]] = relationship(
        order_by="Milestone.position", back_populates="trajectory", cascade="all, delete-orphan"
    )

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_TRAJECTORY


class Milestone(db.Model):
    """A step of a trajectory, ticked by the coach or by a test result (domain mastery reached)."""

    __tablename__ = "trajectory_milestones"
    __table_args__ = (
        UniqueConstraint("trajectory_id", "position", name="uq_milestones_position"),
        CheckConstraint(
            "target_mastery IS NULL OR target_mastery BETWEEN 0 AND 1", name="target_mastery_range"
        ),
    )

    id: Mapped[intpk]
    trajectory_id: Mapped[int] = mapped_column(ForeignKey("trajectories.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date)
    # Ticked automatically when a completed test shows this domain at this mastery or above.
    subject: Mapped[Subject | None] = mapped_column(enum_type(Subject))
    domain: Mapped[str | None] = mapped_column(String(80))
    target_mastery: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    done_by_assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL")
    )

    trajectory: Mapped[Trajectory] = relationship(back_populates="milestones")

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
