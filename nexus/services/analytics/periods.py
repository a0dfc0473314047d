"""The periods the figures are read over: calendar month, quarter or year, in Tunis time.

A period is the current calendar one (to date) and the one before it, for comparisons. Bounds
are aware datetimes at Tunis midnight, so a payment validated at 00:30 on the 1st in Tunis
counts in the new month whatever the server's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, DateTime, func
from sqlalchemy.dialects.postgresql import array

from nexus import fr

DEFAULT = "mois"
MONTHS = {"mois": 1, "trimestre": 3, "annee": 12}
CHOICES = (("mois", "Mois"), ("trimestre", "Trimestre"), ("annee", "Année"))
BAD_PERIOD = "Période inconnue : les chiffres du mois en cours sont affichés (mois, trimestre ou année)."


@dataclass(frozen=True)
class Period:
    """[start, end) of the current period, and [previous_start, start) of the one before."""

    key: str
    title: str  # "mars 2030", "1er trimestre 2030", "année 2030"
    previous_title: str
    start: datetime
    end: datetime
    previous_start: datetime

    @property
    def last_day(self) -> date:
        """The period's last day (its end is the next day's midnight)."""
        return (self.end - timedelta(days=1)).date()

    def holds(self, column: ColumnElement[datetime]) -> ColumnElement[bool]:
        """A timestamp within the period (a range the column's index can use)."""
        return (column >= self.start) & (column < self.end)


def midnight(day: date) -> datetime:
    """Tunis midnight of a day, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=fr.TUNIS)


def first_of_month(now: datetime | None = None) -> date:
    return fr.local_today(now).replace(day=1)


def _title(key: str, first: date) -> str:
    if key == "mois":
        return f"{fr.MONTHS[first.month - 1]} {first.year}"
    if key == "trimestre":
        number = (first.month - 1) // 3 + 1
        return f"{'1er' if number == 1 else f'{number}e'} trimestre {first.year}"
    return f"année {first.year}"


def period(key: str, now: datetime | None = None) -> Period:
    """The calendar period named `key` that holds `now` (Tunis time)."""
    months = MONTHS[key]
    month = first_of_month(now)
    first = month.replace(month=(month.month - 1) // months * months + 1)
    previous = first - relativedelta(months=months)
    return Period(
        key,
        _title(key, first),
        _title(key, previous),
        midnight(first),
        midnight(first + relativedelta(months=months)),
        midnight(previous),
    )


def parse(raw: str | None) -> tuple[Period, str | None]:
    """The period asked for in `?periode=`, or the month and a French message when unknown."""
    key = (raw or DEFAULT).strip().lower()[:20]
    if key in MONTHS:
        return period(key), None
    return period(DEFAULT), BAD_PERIOD


def last_months(count: int, now: datetime | None = None) -> list[date]:
    """The first days of the last `count` months, the current one last."""
    current = first_of_month(now)
    return [current - relativedelta(months=back) for back in range(count - 1, -1, -1)]


def next_month(first: date) -> date:
    return first + relativedelta(months=1)


def bucket_of(column: ColumnElement[datetime], months: list[date]) -> ColumnElement[int]:
    """The 1-based index in `months` (first days, in order) of the Tunis month holding a
    timestamp (0 before the first, len+1 after the last): a binary search over the bounds per row,
    several times cheaper than converting each row to Tunis time to truncate it."""
    bounds = [midnight(first) for first in months] + [midnight(next_month(months[-1]))]
    return func.width_bucket(column, array(bounds, type_=DateTime(timezone=True)))


SHORT_MONTHS = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)  # fmt: skip


def month_label(first: date, short: bool = False) -> str:
    """'septembre 2030', or 'sept. 2030' when short (a chart's row on a phone)."""
    names = SHORT_MONTHS if short else fr.MONTHS
    return f"{names[first.month - 1]} {first.year}"
