"""A coach's availability: a weekly grid (a few windows per weekday) and dated exceptions.

Times are local Africa/Tunis wall-clock times. The whole grid shares one validity period
(valid from / until), which the coach sets once; a day's windows are replaced as a whole, so
saving a row of the grid twice gives the same result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from sqlalchemy import delete, func, select, update

from nexus.extensions import db
from nexus.models.identity import CoachProfile
from nexus.models.scheduling import AvailabilityException, CoachAvailability, ExceptionKind, SessionBooking
from nexus.services import ServiceError, command
from nexus.services.scheduling.slots import local
from nexus.text import check_line, check_size

WEEKDAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
WEEKDAY_KEYS = tuple(str(d) for d in range(7))
WINDOWS_PER_DAY = 2
EARLIEST_DATE = date(2000, 1, 1)
SHORTEST = timedelta(hours=1)  # a window shorter than the shortest session holds no slot
NOTE_MAX = 200

TimeWindow = tuple[time, time]
CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class DayRow:
    weekday: int
    windows: list[TimeWindow]

    @property
    def name(self) -> str:
        return WEEKDAYS[self.weekday]


def parse_time(raw: str | None, field: str) -> time | None:
    """'14:00' (or '14:00:00', as some browsers send it) in ASCII digits; empty gives None."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        if not CLOCK.fullmatch(raw):
            raise ValueError(raw)
        return time.fromisoformat(raw)
    except ValueError:
        raise ServiceError("Indiquez une heure au format HH:MM, par exemple 14:00.", field) from None


def date_window(today: date) -> tuple[date, date]:
    """Dates a coach may type: a grid may be valid since long ago, nothing is planned beyond two
    years (and a date near 9999 would overflow once a day is added to it)."""
    return EARLIEST_DATE, today + timedelta(days=2 * 365)


def parse_date(raw: str | None, field: str, today: date) -> date | None:
    """'YYYY-MM-DD' in ASCII digits within date_window(today); empty gives None."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        if not ISO_DAY.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise ServiceError("Indiquez une date au format JJ/MM/AAAA.", field) from None
    return within_window(day, field, today)


def within_window(day: date, field: str, today: date) -> date:
    first, last = date_window(today)
    if not first <= day <= last:
        raise ServiceError(f"Indiquez une date entre le {first:%d/%m/%Y} et le {last:%d/%m/%Y}.", field)
    return day


def parse_windows(pairs: list[tuple[str | None, str | None]]) -> list[TimeWindow]:
    """Form pairs (start, end) → sorted windows; an empty pair is skipped, half a pair refused."""
    windows = []
    for index, (raw_start, raw_end) in enumerate(pairs):
        start = parse_time(raw_start, f"start_{index}")
        end = parse_time(raw_end, f"end_{index}")
        if start is None and end is None:
            continue
        if start is None or end is None:
            raise ServiceError("Indiquez le début et la fin du créneau.", f"start_{index}")
        if not start < end:
            raise ServiceError("La fin doit être après le début.", f"end_{index}")
        if datetime.combine(date.min, end) - datetime.combine(date.min, start) < SHORTEST:
            raise ServiceError("Un créneau dure au moins 1 heure.", f"end_{index}")
        windows.append((start, end))
    windows.sort()
    for (_, end), (next_start, _) in pairwise(windows):
        if next_start < end:
            raise ServiceError("Deux créneaux du même jour se chevauchent.", "start_0")
    return windows


def validity(coach_id: int, today: date) -> tuple[date, date | None]:
    """The grid's validity period (today and open-ended when there is no window yet)."""
    row = db.session.execute(
        select(CoachAvailability.valid_from, CoachAvailability.valid_until)
        .where(CoachAvailability.coach_id == coach_id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else (today, None)


def week_grid(coach_id: int) -> list[DayRow]:
    rows = db.session.scalars(
        select(CoachAvailability)
        .where(CoachAvailability.coach_id == coach_id)
        .order_by(CoachAvailability.weekday, CoachAvailability.start_time)
    )
    by_day: dict[int, list[TimeWindow]] = {d: [] for d in range(7)}
    for row in rows:
        by_day[row.weekday].append((row.start_time, row.end_time))
    return [DayRow(d, by_day[d]) for d in range(7)]


def day_row(coach_id: int, weekday: int) -> DayRow:
    return week_grid(coach_id)[weekday]


@command
def set_day(coach_id: int, weekday: int, windows: list[TimeWindow], today: date) -> DayRow:
    """Replace one weekday's windows (the grid's validity period applies)."""
    if not 0 <= weekday <= 6:
        raise LookupError(weekday)
    if len(windows) > WINDOWS_PER_DAY:
        raise ServiceError(f"{WINDOWS_PER_DAY} créneaux au plus par jour.", "start_0")
    _lock_grid(coach_id)
    valid_from, valid_until = validity(coach_id, today)
    db.session.execute(
        delete(CoachAvailability).where(
            CoachAvailability.coach_id == coach_id, CoachAvailability.weekday == weekday
        )
    )
    for start, end in windows:
        db.session.add(
            CoachAvailability(
                coach_id=coach_id,
                weekday=weekday,
                start_time=start,
                end_time=end,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        )
    db.session.flush()
    return DayRow(weekday, windows)


def _lock_grid(coach_id: int) -> None:
    """Serialise changes of one coach's grid (their profile row): two saves of a day at once would
    each delete the old windows, then both insert theirs."""
    db.session.execute(select(CoachProfile.id).where(CoachProfile.id == coach_id).with_for_update())


@command
def set_validity(coach_id: int, valid_from: date | None, valid_until: date | None, today: date) -> None:
    _lock_grid(coach_id)
    valid_from = within_window(valid_from or today, "valid_from", today)
    if valid_until is not None:
        within_window(valid_until, "valid_until", today)
    if valid_until is not None and valid_until < valid_from:
        raise ServiceError("La date de fin doit suivre la date de début.", "valid_until")
    db.session.execute(
        update(CoachAvailability)
        .where(CoachAvailability.coach_id == coach_id)
        .values(valid_from=valid_from, valid_until=valid_until)
    )


def upcoming_exceptions(coach_id: int, today: date) -> list[AvailabilityException]:
    stmt = (
        select(AvailabilityException)
        .where(AvailabilityException.coach_id == coach_id, AvailabilityException.on_date >= today)
        .order_by(AvailabilityException.on_date, AvailabilityException.start_time)
    )
    return list(db.session.scalars(stmt))


@command
def add_exception(
    coach_id: int,
    on_date: date | None,
    kind: ExceptionKind | None,
    start: time | None,
    end: time | None,
    note: str | None,
    today: date,
) -> AvailabilityException:
    """An extra window, or time off (a whole day when no times are given)."""
    if on_date is None:
        raise ServiceError("Indiquez la date.", "on_date")
    if on_date < today:
        raise ServiceError("Cette date est déjà passée.", "on_date")
    within_window(on_date, "on_date", today)
    if kind is None:
        raise ServiceError("Choisissez le type d'exception.", "kind")
    if (start is None) != (end is None):
        raise ServiceError("Indiquez le début et la fin, ou aucun des deux pour la journée.", "start")
    if kind is ExceptionKind.EXTRA and start is None:
        raise ServiceError("Un créneau supplémentaire a un début et une fin.", "start")
    if start is not None and end is not None and not start < end:
        raise ServiceError("La fin doit être après le début.", "end")
    check_line(note, "note")
    check_size((note or "").strip(), "note", NOTE_MAX)
    row = AvailabilityException(
        coach_id=coach_id,
        on_date=on_date,
        kind=kind,
        start_time=start,
        end_time=end,
        note=(note or "").strip() or None,
    )
    db.session.add(row)
    db.session.flush()
    return row


@command
def delete_exception(coach_id: int, exception_id: int) -> bool:
    result = db.session.execute(
        delete(AvailabilityException).where(
            AvailabilityException.id == exception_id, AvailabilityException.coach_id == coach_id
        )
    )
    return bool(result.rowcount)


def sessions_on(coach_id: int, day: date) -> int:
    """Sessions still booked on a date (the coach is warned before taking the day off)."""
    start = local(day, time.min)
    stmt = select(func.count()).where(
        SessionBooking.coach_id == coach_id,
        SessionBooking.is_holding,
        SessionBooking.starts_at >= start,
        SessionBooking.starts_at < start + timedelta(days=1),
    )
    return db.session.scalar(stmt) or 0
