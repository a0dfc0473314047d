"""Revenue: the completed payments (in millimes), by the Tunis month of their validation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from nexus.models.catalog import OfferCode
from nexus.services import catalog
from nexus.services.analytics import aggregates, periods, rollups
from nexus.services.analytics.periods import Period


@dataclass(frozen=True)
class Month:
    first: date
    total: int  # millimes
    count: int

    @property
    def label(self) -> str:
        return periods.month_label(self.first)

    @property
    def short(self) -> str:
        return periods.month_label(self.first, short=True)


@dataclass(frozen=True)
class OfferLine:
    offer: OfferCode
    kind: str
    count: int
    total: int  # millimes


def growth(current: int, previous: int) -> int | None:
    """Growth in whole percent from the previous figure (None without a previous figure)."""
    if previous <= 0:
        return None
    return round(100 * (current - previous) / previous)


def _amount(totals: rollups.Totals) -> int:
    return int(rollups.total(totals, aggregates.REVENUE_AMOUNT))


def monthly(count: int = 12, now: datetime | None = None) -> list[Month]:
    """The last `count` months' revenue, the current month last (zero for a month without any)."""
    months = periods.last_months(count, now)
    found = rollups.by_month("revenue", months, (aggregates.REVENUE_AMOUNT, aggregates.REVENUE_COUNT))
    return [
        Month(first, _amount(found[first]), int(rollups.total(found[first], aggregates.REVENUE_COUNT)))
        for first in months
    ]


def by_offer(period: Period) -> list[OfferLine]:
    """The period's revenue per offer, the largest first."""
    totals = rollups.over("revenue", period.start, period.end)
    codes = sorted({code for (_metric, code, _k2) in totals})
    lines = [
        (
            code,
            int(totals.get((aggregates.REVENUE_COUNT, code, ""), 0)),
            int(totals.get((aggregates.REVENUE_AMOUNT, code, ""), 0)),
        )
        for code in codes
    ]
    lines.sort(key=lambda line: (-line[2], line[0]))
    return [
        OfferLine(OfferCode(code), catalog.offer(OfferCode(code)).kind.label, count, amount)
        for code, count, amount in lines
    ]


def totals(period: Period) -> tuple[int, int]:
    """(the period's revenue, the previous period's)."""
    metric = (aggregates.REVENUE_AMOUNT,)
    current = rollups.over("revenue", period.start, period.end, metric)
    previous = rollups.over("revenue", period.previous_start, period.start, metric)
    return _amount(current), _amount(previous)
