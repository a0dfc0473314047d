"""Revenue: the completed payments (in millimes), by the Tunis month of their validation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select

from nexus.extensions import db
from nexus.models.billing import Payment, PaymentStatus
from nexus.models.catalog import OfferCode
from nexus.services import catalog
from nexus.services.analytics import periods
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


def _completed_between(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [
        Payment.status == PaymentStatus.COMPLETED,
        Payment.processed_at >= start,
        Payment.processed_at < end,
    ]


def monthly(count: int = 12, now: datetime | None = None) -> list[Month]:
    """The last `count` months' revenue, the current month last (zero for a month without any)."""
    months = periods.last_months(count, now)
    start, end = periods.midnight(months[0]), periods.midnight(periods.next_month(months[-1]))
    bucket = periods.bucket_of(Payment.processed_at, months)
    stmt = (
        select(bucket, func.sum(Payment.amount_millimes), func.count())
        .where(*_completed_between(start, end))
        .group_by(bucket)
    )
    found = {row[0]: (int(row[1]), row[2]) for row in db.session.execute(stmt)}
    return [Month(first, *found.get(i, (0, 0))) for i, first in enumerate(months, start=1)]


def by_offer(period: Period) -> list[OfferLine]:
    """The period's revenue per offer, the largest first."""
    total = func.sum(Payment.amount_millimes)
    stmt = (
        select(Payment.offer_code, func.count(), total)
        .where(*_completed_between(period.start, period.end))
        .group_by(Payment.offer_code)
        .order_by(total.desc(), Payment.offer_code)
    )
    return [
        OfferLine(OfferCode(code), catalog.offer(code).kind.label, count, int(amount))
        for code, count, amount in db.session.execute(stmt)
    ]


def totals(period: Period) -> tuple[int, int]:
    """(the period's revenue, the previous period's), in one statement."""
    stmt = select(
        func.coalesce(func.sum(Payment.amount_millimes).filter(Payment.processed_at >= period.start), 0),
        func.coalesce(func.sum(Payment.amount_millimes).filter(Payment.processed_at < period.start), 0),
    ).where(*_completed_between(period.previous_start, period.end))
    current, previous = db.session.execute(stmt).one()
    return int(current), int(previous)
