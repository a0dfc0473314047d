"""The months of coach pay: "YYYY-MM" strings, read in Tunis time."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from nexus import fr
from nexus.services import ServiceError, utcnow

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
MONTH_MESSAGE = "Mois invalide : écrivez-le AAAA-MM, par exemple 2030-03."


def parse_month(raw: str | None) -> str:
    """A month typed in a query string ("2030-03"), or a French refusal."""
    found = _MONTH.fullmatch((raw or "").strip())
    if found is None or not 1 <= int(found[2]) <= 12 or not 2000 <= int(found[1]) <= 2100:
        raise ServiceError(MONTH_MESSAGE, "mois")
    return found[0]


def _parts(month: str) -> tuple[int, int]:
    year, number = parse_month(month).split("-")
    return int(year), int(number)


def month_label(month: str) -> str:
    """ "2030-03" → "mars 2030"."""
    year, number = _parts(month)
    return f"{fr.MONTHS[number - 1]} {year}"


def first_day(month: str) -> date:
    year, number = _parts(month)
    return date(year, number, 1)


def last_day(month: str) -> date:
    return first_day(shift(month, 1)) - timedelta(days=1)


def shift(month: str, months: int) -> str:
    """The month `months` later (earlier when negative)."""
    year, number = _parts(month)
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def bounds(month: str) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in Tunis time (aware datetimes)."""
    start = datetime.combine(first_day(month), datetime.min.time(), fr.TUNIS)
    end = datetime.combine(first_day(shift(month, 1)), datetime.min.time(), fr.TUNIS)
    return start, end


def month_of(at: datetime) -> str:
    """The month (Tunis time) of an instant."""
    return at.astimezone(fr.TUNIS).strftime("%Y-%m")


def current_month(now: datetime | None = None) -> str:
    return month_of(now or utcnow())


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included (empty when last is before first)."""
    months, month = [], parse_month(first)
    last = parse_month(last)
    while month <= last:
        months.append(month)
        month = shift(month, 1)
    return months


def sequence_key(month: str) -> int:
    """ "2030-03" → 203003 (the statement numbers' sequence of the month)."""
    year, number = _parts(month)
    return year * 100 + number
