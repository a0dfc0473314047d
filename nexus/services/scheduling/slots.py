"""Free slots of a coach, in Africa/Tunis wall-clock time, and French date labels.

Availability is stored as local times; slots are computed by placing the local windows on each
date with zoneinfo (so the server's own time zone never matters), minus the dated exceptions and
the sessions already booked, then split into bookable slots of the chosen length.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import or_, select, union_all

from nexus import fr
from nexus.extensions import db
from nexus.models.scheduling import (
    AvailabilityException,
    CoachAvailability,
    ExceptionKind,
    SessionBooking,
)
from nexus.models.workshops import Workshop, WorkshopStatus
from nexus.services import utcnow

DURATIONS = (60, 90)
MIN_NOTICE = timedelta(hours=2)
HORIZON = relativedelta(months=3)

Interval = tuple[datetime, datetime]


def minutes_of(booking: SessionBooking) -> int:
    return int((booking.ends_at - booking.starts_at).total_seconds() // 60)


# -- interval arithmetic ---------------------------------------------------------------------


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=fr.TUNIS)


def merge(spans: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(spans: list[Interval], blocks: Iterable[Interval]) -> list[Interval]:
    """What is left of spans once every block is taken out."""
    left = merge(spans)
    for b_start, b_end in merge(blocks):
        pieces: list[Interval] = []
        for start, end in left:
            if b_end <= start or end <= b_start:
                pieces.append((start, end))
                continue
            if start < b_start:
                pieces.append((start, b_start))
            if b_end < end:
                pieces.append((b_end, end))
        left = pieces
    return left


# -- availability and free slots ---------------------------------------------------------------


def windows_on(
    day: date, weekly: Iterable[CoachAvailability], exceptions: Iterable[AvailabilityException]
) -> list[Interval]:
    """The coach's open windows on a date: weekly windows valid that day, plus extras, minus time off."""
    todays = [e for e in exceptions if e.on_date == day]
    if any(e.kind is ExceptionKind.UNAVAILABLE and e.start_time is None for e in todays):
        return []
    spans = [
        (local(day, w.start_time), local(day, w.end_time))
        for w in weekly
        if w.weekday == day.weekday()
        and w.valid_from <= day
        and (w.valid_until is None or day <= w.valid_until)
    ]
    spans += [
        (local(day, e.start_time), local(day, e.end_time))
        for e in todays
        if e.kind is ExceptionKind.EXTRA and e.start_time and e.end_time
    ]
    blocks = [
        (local(day, e.start_time), local(day, e.end_time))
        for e in todays
        if e.kind is ExceptionKind.UNAVAILABLE and e.start_time and e.end_time
    ]
    return subtract(spans, blocks)


def weekly_windows(coach_id: int) -> list[CoachAvailability]:
    stmt = (
        select(CoachAvailability)
        .where(CoachAvailability.coach_id == coach_id)
        .order_by(CoachAvailability.weekday, CoachAvailability.start_time)
    )
    return list(db.session.scalars(stmt))


def exceptions_between(coach_id: int, first: date, last: date) -> list[AvailabilityException]:
    stmt = (
        select(AvailabilityException)
        .where(
            AvailabilityException.coach_id == coach_id,
            AvailabilityException.on_date.between(first, last),
        )
        .order_by(AvailabilityException.on_date, AvailabilityException.start_time)
    )
    return list(db.session.scalars(stmt))


def busy_intervals(
    coach_id: int | None,
    student_id: int | None,
    start: datetime,
    end: datetime,
    *,
    ignoring: int | None = None,
) -> list[Interval]:
    """Sessions holding a slot of the coach, or of the student, between start and end (the
    session `ignoring`, about to be moved, counts as free); a coach's scheduled group workshops
    hold their time too."""
    whose = [SessionBooking.coach_id == coach_id] if coach_id is not None else []
    if student_id is not None:
        whose.append(SessionBooking.student_id == student_id)
    if not whose:
        return []
    stmt = select(SessionBooking.starts_at, SessionBooking.ends_at).where(
        or_(*whose),
        SessionBooking.is_holding,
        SessionBooking.starts_at < end,
        SessionBooking.ends_at > start,
    )
    if ignoring is not None:
        stmt = stmt.where(SessionBooking.id != ignoring)
    if coach_id is not None:  # one round trip for both
        workshops = select(Workshop.starts_at, Workshop.ends_at).where(
            Workshop.coach_id == coach_id,
            Workshop.status == WorkshopStatus.SCHEDULED,
            Workshop.starts_at < end,
            Workshop.ends_at > start,
        )
        return [(s, e) for s, e in db.session.execute(union_all(stmt, workshops))]
    return [(s, e) for s, e in db.session.execute(stmt)]


def booking_bounds(now: datetime) -> Interval:
    """A session starts at least 2 hours from now and at most 3 months ahead."""
    return now + MIN_NOTICE, now + HORIZON


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(fr.TUNIS)

    @property
    def param(self) -> str:
        """The value sent back by the slot link (local time, minutes precision)."""
        return self.local_start.strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class DaySlots:
    day: date
    slots: list[Slot]

    @property
    def label(self) -> str:
        return fr.day(self.day)


def split(free: Interval, minutes: int, earliest: datetime, latest: datetime) -> list[Slot]:
    """Back-to-back slots from the start of a free interval; those too soon or too late dropped."""
    length = timedelta(minutes=minutes)
    slots = []
    start = free[0]
    while start + length <= free[1]:
        if earliest <= start <= latest:
            slots.append(Slot(start, start + length))
        start += length
    return slots


def free_slots(
    coach_id: int,
    minutes: int,
    first_day: date,
    days: int = 7,
    *,
    student_id: int | None = None,
    now: datetime | None = None,
    ignoring: int | None = None,
) -> list[DaySlots]:
    """Bookable slots of `minutes`, day by day, from first_day for `days` days (only days with slots).

    The grid is the coach's: their windows minus their sessions, cut into back-to-back slots. The
    student's own sessions only hide the slots they overlap; they never shift the grid, or one
    booking would cost the coach two slots. These starts are the only ones that may be booked.
    """
    now = now or utcnow()
    earliest, latest = booking_bounds(now)
    first = max(first_day, fr.local_today(now))
    last = min(first_day + timedelta(days=days - 1), latest.astimezone(fr.TUNIS).date())
    if last < first:
        return []
    weekly = weekly_windows(coach_id)
    exceptions = exceptions_between(coach_id, first, last)
    span = (local(first, time.min), local(last, time.max))
    busy = busy_intervals(coach_id, None, *span, ignoring=ignoring)
    student_busy = busy_intervals(None, student_id, *span, ignoring=ignoring)
    result = []
    day = first
    while day <= last:
        free = subtract(windows_on(day, weekly, exceptions), busy)
        slots = [
            slot
            for part in free
            for slot in split(part, minutes, earliest, latest)
            if not _overlaps(slot, student_busy)
        ]
        if slots:
            result.append(DaySlots(day, slots))
        day += timedelta(days=1)
    return result


def _overlaps(slot: Slot, spans: list[Interval]) -> bool:
    return any(start < slot.ends_at and slot.starts_at < end for start, end in spans)


def offered_starts(
    coach_id: int, minutes: int, day: date, *, now: datetime | None = None, ignoring: int | None = None
) -> list[datetime]:
    """The starts the booking pages offer on a (Tunis) date for this coach and length."""
    days = free_slots(coach_id, minutes, day, 1, now=now, ignoring=ignoring)
    return [slot.starts_at for d in days for slot in d.slots]


def within_availability(coach_id: int, start: datetime, end: datetime) -> bool:
    day = start.astimezone(fr.TUNIS).date()
    windows = windows_on(day, weekly_windows(coach_id), exceptions_between(coach_id, day, day))
    return any(w_start <= start and end <= w_end for w_start, w_end in windows)
