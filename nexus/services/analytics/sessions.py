"""Sessions over a period (by their start): booked, held, cancelled, no-show, by coach and subject.

The counts per coach, subject and status (aggregates.sessions: a few hundred rows at most,
whatever the number of sessions; closed months from their rollups) fold into both tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.common import Subject
from nexus.models.identity import CoachProfile
from nexus.models.scheduling import HOLDING, SessionStatus
from nexus.services.analytics import aggregates, periods, rollups
from nexus.services.analytics.periods import Period

GONE = "(coach supprimé)"  # a rollup may outlive a coach profile


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
    totals = rollups.over("sessions", period.start, period.end, (aggregates.SESSIONS,))
    coach_ids = {int(coach) for (_m, coach, _k) in totals}
    names: dict[int, str] = {}
    if coach_ids:
        stmt = select(CoachProfile.id, CoachProfile.pseudonym).where(CoachProfile.id.in_(coach_ids))
        names = dict(db.session.execute(stmt).all())  # type: ignore[arg-type]
    rows = []
    for (_metric, coach, key), count in totals.items():
        subject, status = key.split(":")
        rows.append((names.get(int(coach), GONE), Subject(subject), SessionStatus(status), int(count)))
    return _fold(rows)


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
    found = rollups.by_month("sessions", months, (aggregates.SESSIONS_DUE,))
    return [Month(first, int(rollups.total(found[first], aggregates.SESSIONS_DUE))) for first in months]
