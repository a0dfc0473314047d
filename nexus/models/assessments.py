"""Positioning tests: the question bank's items, a test taken by a student, its answers and scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import Grade, LabelledEnum, Subject, created_at, email_type, enum_type, intpk
from nexus.models.family import Student
from nexus.models.identity import User


class Item(db.Model):
    """One question of the bank, loaded from nexus/question_bank (its `key` ties the two)."""

    __tablename__ = "question_items"
    __table_args__ = (
        CheckConstraint("answer BETWEEN 0 AND 3", name="answer_letter"),
        CheckConstraint("cardinality(choices) = 4", name="four_choices"),
        Index("ix_question_items_bank", "subject", "grade", "active"),
    )

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(40), unique=True)
    subject: Mapped[Subject] = mapped_column(enum_type(Subject))
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    domain: Mapped[str] = mapped_column(String(40))
    skill: Mapped[str] = mapped_column(String(60))
    stem: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[str]] = mapped_column(ARRAY(Text))
    answer: Mapped[int] = mapped_column(SmallInteger)
    explanation: Mapped[str] = mapped_column(Text)
    # The authors' a-priori difficulty, and the one the tests use (re-estimated by calibration).
    prior_difficulty: Mapped[float] = mapped_column(Float)
    difficulty: Mapped[float] = mapped_column(Float)
    calibrated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    calibration_answers: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # An item removed from the files stays (answers refer to it) but is no longer asked.
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class TestMode(LabelledEnum):
    __test__ = False  # not a pytest class
    ADAPTIVE = "ADAPTIVE", "Adaptatif"
    FIXED = "FIXED", "Forme fixe"


class TestStatus(LabelledEnum):
    __test__ = False  # not a pytest class
    ASSIGNED = "ASSIGNED", "À passer"
    IN_PROGRESS = "IN_PROGRESS", "En cours"
    COMPLETED = "COMPLETED", "Terminé"
    CANCELLED = "CANCELLED", "Annulé"


class Assessment(db.Model):
    """A positioning test: adaptive on one subject, or the stage's fixed form (subject is None)."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint("student_id IS NOT NULL OR participant_email IS NOT NULL", name="someone_takes_it"),
        # One open test per student and subject: a second click resumes the first.
        Index(
            "uq_assessments_open",
            "student_id",
            "mode",
            text("coalesce(subject, '')"),
            unique=True,
            postgresql_where=text("status IN ('ASSIGNED', 'IN_PROGRESS') AND student_id IS NOT NULL"),
        ),
        Index("ix_assessments_student", "student_id", "completed_at"),
        Index("ix_assessments_cohort", "subject", "grade", "status"),
    )

    id: Mapped[intpk]
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"))
    # A stage participant without an account: reached by a signed link sent to this address.
    participant_email: Mapped[str | None] = mapped_column(email_type())
    participant_name: Mapped[str | None] = mapped_column(String(160))
    mode: Mapped[TestMode] = mapped_column(enum_type(TestMode))
    subject: Mapped[Subject | None] = mapped_column(enum_type(Subject))
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    status: Mapped[TestStatus] = mapped_column(enum_type(TestStatus))
    # The fixed form's item ids in order (None for an adaptive test).
    form: Mapped[list[int] | None] = mapped_column(JSONB)
    # The question on screen: an answer must name it, so a resent form cannot answer twice.
    current_item_id: Mapped[int | None] = mapped_column(ForeignKey("question_items.id"))
    current_shown_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Time spent on the questions (each capped, so a night with the tab open does not count).
    duration_ms: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    results: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Bumped to revoke the participant's link.
    link_version: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    created_at: Mapped[created_at]

    student: Mapped[Student | None] = relationship()
    assigned_by: Mapped[User | None] = relationship()
    current_item: Mapped[Item | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status in (TestStatus.ASSIGNED, TestStatus.IN_PROGRESS)

    @property
    def is_completed(self) -> bool:
        return self.status is TestStatus.COMPLETED

    @property
    def title(self) -> str:
        subject = self.subject.label if self.subject else "Mathématiques et NSI"
        return f"{subject} — {self.grade.label}"


class Response(db.Model):
    """One answer; `choice` None is "je ne sais pas" (never counted against the student)."""

    __tablename__ = "assessment_responses"
    __table_args__ = (
        UniqueConstraint("assessment_id", "item_id"),
        UniqueConstraint("assessment_id", "position", name="uq_assessment_responses_position"),
        CheckConstraint("choice BETWEEN 0 AND 3", name="choice_letter"),
    )

    id: Mapped[intpk]
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("question_items.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    choice: Mapped[int | None] = mapped_column(SmallInteger)
    correct: Mapped[bool] = mapped_column(Boolean)
    elapsed_ms: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[created_at]

    item: Mapped[Item] = relationship(lazy="joined")

    @property
    def skipped(self) -> bool:
        return self.choice is None


class Score(db.Model):
    """A completed test's measure in one subject: ability, its error, and the SSN at the time."""

    __tablename__ = "assessment_scores"
    __table_args__ = (
        UniqueConstraint("assessment_id", "subject"),
        Index("ix_assessment_scores_cohort", "subject", "grade"),
    )

    id: Mapped[intpk]
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"))
    subject: Mapped[Subject] = mapped_column(enum_type(Subject))
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    theta: Mapped[float] = mapped_column(Float)
    standard_error: Mapped[float] = mapped_column(Float)
    ssn: Mapped[float] = mapped_column(Float)
    cohort_size: Mapped[int] = mapped_column(Integer)
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
