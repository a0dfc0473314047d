"""What a student did, read once per computation: the facts the Nexus Index and the badges share.

Five small queries per student, whatever the history's length (no query per session or per
test): past sessions with their report and who cancelled them, completed tests with their
results, ARIA questions counted per hour and subject, feedback given counted per hour, and when
the student joined. Everything else is arithmetic in Python on these facts, so the index can be
computed for any window (the 90 days of the score, the two 30-day windows of the trend) without
going back to the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from nexus.extensions import db
from nexus.models.aria import AriaAlert, AriaConversation, AriaFeedback, AriaMessage, MessageRole
from nexus.models.assessments import Assessment, TestStatus
from nexus.models.common import Role
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.scheduling import SessionBooking, SessionReport, SessionStatus
from nexus.services.scheduling.changes import free_cancel_notice

FAMILY = (Role.PARENT, Role.ELEVE)


class Outcome(Enum):
    """How a past session counts for attendance."""

    ATTENDED = "attended"  # a report says the student came
    UNKNOWN = "unknown"  # it took place (or should have) but no report says the student came
    ABSENT = "absent"  # a report says the student did not come
    NO_SHOW = "no_show"  # closed as a no-show by the coach
    LATE_CANCEL = "late_cancel"  # cancelled by the family after the free-cancellation deadline

    @property
    def credit(self) -> float:
        """Its attendance credit: 1 attended, 0.8 unknown, 0 missed."""
        return {Outcome.ATTENDED: 1.0, Outcome.UNKNOWN: 0.8}.get(self, 0.0)


@dataclass(frozen=True)
class SessionFact:
    at: datetime  # when the session started
    outcome: Outcome
    rating: int | None = None  # the coach's rating, only for a session the student attended
    reported_at: datetime | None = None  # when the coach wrote the report (None: no report)
    read_at: datetime | None = None  # when the student or a parent first opened the report


@dataclass(frozen=True)
class TestFact:
    __test__ = False  # not a pytest class
    at: datetime  # completed_at
    subjects: list[dict[str, Any]]  # Assessment.results["subjects"]


@dataclass
class Facts:
    now: datetime
    joined_at: datetime
    sessions: list[SessionFact] = field(default_factory=list)
    tests: list[TestFact] = field(default_factory=list)
    # (hour, subject value, questions asked in that hour)
    questions: list[tuple[datetime, str, int]] = field(default_factory=list)
    # (hour, feedback given in that hour)
    feedback: list[tuple[datetime, int]] = field(default_factory=list)

    def activity_times(self) -> list[datetime]:
        """Every moment the student did something for their learning (for regularity): a session
        they came to (or that took place without a report), a question to ARIA, feedback on an
        answer, a finished test, a report opened by the family."""
        times = [s.at for s in self.sessions if s.outcome in (Outcome.ATTENDED, Outcome.UNKNOWN)]
        times += [s.read_at for s in self.sessions if s.read_at is not None]
        times += [t.at for t in self.tests]
        times += [at for at, _, _ in self.questions]
        times += [at for at, _ in self.feedback]
        return sorted(times)

    @property
    def started_at(self) -> datetime:
        """Since when the student can be expected to be active: joining, or their first session
        or activity when earlier (history brought from before the account)."""
        first = [s.at for s in self.sessions[:1]] + self.activity_times()[:1]
        return min([self.joined_at, *first])


def load(student_id: int, now: datetime) -> Facts:
    """Every fact about the student up to `now`, in five queries."""
    joined = db.session.scalar(select(Student.created_at).where(Student.id == student_id)) or now
    return Facts(
        now=now,
        joined_at=joined,
        sessions=list(_sessions(student_id, now)),
        tests=_tests(student_id, now),
        questions=_questions(student_id, now),
        feedback=_feedback(student_id, now),
    )


def _sessions(student_id: int, now: datetime) -> Iterable[SessionFact]:
    successor = aliased(SessionBooking)
    moved = exists().where(successor.rescheduled_from_id == SessionBooking.id)
    stmt = (
        select(SessionBooking, SessionReport, User.role, moved)
        .outerjoin(SessionReport, SessionReport.booking_id == SessionBooking.id)
        .outerjoin(User, User.id == SessionBooking.cancelled_by_id)
        .where(
            SessionBooking.student_id == student_id,
            SessionBooking.starts_at <= now,
            ~SessionBooking.is_holding | (SessionBooking.ends_at <= now),
        )
        .order_by(SessionBooking.starts_at, SessionBooking.id)
    )
    for booking, report, canceller, was_moved in db.session.execute(stmt):
        outcome = _outcome(booking, report, canceller, was_moved)
        if outcome is None:
            continue
        attended = outcome is Outcome.ATTENDED
        yield SessionFact(
            at=booking.starts_at,
            outcome=outcome,
            rating=report.rating if report is not None and attended else None,
            reported_at=report.created_at if report is not None else None,
            read_at=report.family_read_at if report is not None else None,
        )


def _outcome(
    booking: SessionBooking, report: SessionReport | None, canceller: Role | None, was_moved: bool
) -> Outcome | None:
    """How the session counts; None when it does not count at all.

    A cancellation counts against the family only when the family made it after the free
    deadline the cancellation rules set (24 h, 48 h for a group workshop: past it, the family
    loses the credits): a cancellation in time, or by the coach or the staff, is nobody's fault
    here. A session moved to another date is not counted: the new one is.
    """
    if booking.status is SessionStatus.CANCELLED:
        if was_moved or canceller not in FAMILY or booking.cancelled_at is None:
            return None
        late = booking.cancelled_at > booking.starts_at - free_cancel_notice(booking)
        return Outcome.LATE_CANCEL if late else None
    if booking.status is SessionStatus.NO_SHOW:
        return Outcome.NO_SHOW
    if report is not None:
        return Outcome.ATTENDED if report.attended else Outcome.ABSENT
    return Outcome.UNKNOWN  # completed without a report, or ended and waiting for its report


def _tests(student_id: int, now: datetime) -> list[TestFact]:
    stmt = (
        select(Assessment.completed_at, Assessment.results)
        .where(
            Assessment.student_id == student_id,
            Assessment.status == TestStatus.COMPLETED,
            Assessment.completed_at <= now,
            Assessment.results.is_not(None),
        )
        .order_by(Assessment.completed_at, Assessment.id)
    )
    return [
        TestFact(at, list((results or {}).get("subjects") or [])) for at, results in db.session.execute(stmt)
    ]


def _questions(student_id: int, now: datetime) -> list[tuple[datetime, str, int]]:
    """ARIA questions per hour and subject; a question the safety check flagged is not counted
    (a cry for help earns no badge and no engagement)."""
    hour = func.date_trunc("hour", AriaMessage.created_at)
    flagged = exists().where(AriaAlert.message_id == AriaMessage.id)
    stmt = (
        select(hour, AriaConversation.subject, func.count())
        .join(AriaConversation, AriaConversation.id == AriaMessage.conversation_id)
        .where(
            AriaConversation.student_id == student_id,
            AriaMessage.role == MessageRole.USER,
            AriaMessage.created_at <= now,
            ~flagged,
        )
        .group_by(hour, AriaConversation.subject)
        .order_by(hour)
    )
    return [(at, subject.value, count) for at, subject, count in db.session.execute(stmt)]


def _feedback(student_id: int, now: datetime) -> list[tuple[datetime, int]]:
    hour = func.date_trunc("hour", AriaFeedback.created_at)
    stmt = (
        select(hour, func.count())
        .join(AriaMessage, AriaMessage.id == AriaFeedback.message_id)
        .join(AriaConversation, AriaConversation.id == AriaMessage.conversation_id)
        .where(AriaConversation.student_id == student_id, AriaFeedback.created_at <= now)
        .group_by(hour)
        .order_by(hour)
    )
    return [(at, count) for at, count in db.session.execute(stmt)]
