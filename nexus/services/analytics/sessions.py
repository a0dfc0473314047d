"""Sessions over a period (by their start): booked, held, cancelled, no-show, by coach and subject.

One grouped statement gives the counts per coach, subject and status (a few hundred rows at
most, whatever the number of sessions); both tables are folded from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.common import Subject
from nexus.models.identity import CoachProfile
from nexus.models.scheduling import HOLDING, SessionBooking, SessionStatus
from nexus.services.analytics import periods
from nexus.services.analytics.periods import Period


@dataclass
class Counts:
    """The sessions of one coach or one subject, by outcome."""

    label: str
    booked: int = 0
    held: int = 0
    cancelled: int = 0
    no_show: int = 0
    upcoming: int = 0  # still holding their slot (scheduled, confirmed, in progress)

    def add(self, status: SessionStatus, count: int) -> None:
        self.booked += count
        if status is SessionStatus.COMPLETED:
            self.held += count
        elif status is SessionStatus.CANCELLED:
            self.cancelled += count
        elif status is SessionStatus.NO_SHOW:
            self.no_show += count
        elif status in HOLDING:
            self.upcoming += count

    @property
    def no_show_rate(self) -> int | None:
        """No-shows ÷ (held + no-shows), in whole percent: of the sessions that were due, the
        share the student missed."""
        due = self.held + self.no_show
        return round(100 * self.no_show / due) if due else None


@dataclass
class Breakdown:
    total: Counts
    by_coach: list[Counts] = field(default_factory=list)
    by_subject: list[Counts] = field(default_factory=list)


def _fold(rows: Iterable[tuple[str, Subject, SessionStatus, int]]) -> Breakdown:
    total = Counts("Total")
    coaches: dict[str, Counts] = {}
    subjects: dict[Subject, Counts] = {}
    for coach, subject, status, count in rows:
        total.add(status, count)
        coaches.setdefault(coach, Counts(coach)).add(status, count)
        subjects.setdefault(subject, Counts(subject.label)).add(status, count)
    ordered = sorted(coaches.values(), key=lambda c: (-c.booked, c.label))
    return Breakdown(total, ordered, sorted(subjects.values(), key=lambda c: (-c.booked, c.label)))


def breakdown(period: Period) -> Breakdown:
    """The period's sessions by coach and by subject."""
    stmt = (
        select(CoachProfile.pseudonym, SessionBooking.subject, SessionBooking.status, func.count())
        .join(CoachProfile, CoachProfile.id == SessionBooking.coach_id)
        .where(period.holds(SessionBooking.starts_at))
        .group_by(CoachProfile.id, CoachProfile.pseudonym, SessionBooking.subject, SessionBooking.status)
    )
    return _fold(
        (coach, Subject(subject), SessionStatus(status), n)
        for coach, subject, status, n in db.session.execute(stmt)
    )


@dataclass(frozen=True)
class Month:
    first: date
    count: int

    @property
    def label(self) -> str:
        return periods.month_label(self.first)

    @property
    def short(self) -> str:
        return periods.month_label(self.first, short=True)


def monthly(count: int = 12, now: datetime | None = None) -> list[Month]:
    """The sessions not cancelled that start in each of the last `count` months (current last)."""
    months = periods.last_months(count, now)
    start, end = periods.midnight(months[0]), periods.midnight(periods.next_month(months[-1]))
    bucket = periods.bucket_of(SessionBooking.starts_at, months)
    stmt = (
        select(bucket, func.count())
        .where(
            SessionBooking.starts_at >= start,
            SessionBooking.starts_at < end,
            SessionBooking.status != SessionStatus.CANCELLED,
        )
        .group_by(bucket)
    )
    found = dict(db.session.execute(stmt).all())
    return [Month(first, found.get(i, 0)) for i, first in enumerate(months, start=1)]
