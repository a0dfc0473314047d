"""Monthly rollups: the closed months' aggregates stored by `refresh` (a periodic job), read by
the figures; the current month is always computed live, and so is a closed month whose rollup is
missing (not stored then: a read never writes), so a fresh install shows the same figures.

Each family (aggregates.FAMILIES) is stored with a marker row `<family>.computed` per month, so
a month without any payment is told from a month never computed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert

from nexus.extensions import db
from nexus.models.figures import FigureRollup
from nexus.services import command, utcnow
from nexus.services.analytics import aggregates, periods

Totals = dict[tuple[str, str, str], int | Decimal]
DECIMALS = {aggregates.CREDIT_ENTRIES, aggregates.LOTS_AMOUNT}
LOCK = 0x4E5852  # pg_advisory_xact_lock(LOCK, month): one refresh of a month at a time
KEPT = 13  # closed months the job keeps


def marker(family: str) -> str:
    return f"{family}.computed"


def bounds(month: date) -> tuple[datetime, datetime]:
    """[Tunis midnight of the 1st, the next month's) of a month."""
    return periods.midnight(month), periods.midnight(periods.next_month(month))


def closed_months(count: int = KEPT, now: datetime | None = None) -> list[date]:
    """The last `count` closed months, the oldest first (the current month is never closed)."""
    return periods.last_months(count + 1, now)[:-1]


def _months(start: datetime, end: datetime) -> list[date]:
    """The first days of the months in [start, end) (bounds at Tunis midnights of a 1st)."""
    first, last = start.date().replace(day=1), end.date()
    months = []
    while first < last:
        months.append(first)
        first = periods.next_month(first)
    return months


@command
def refresh(month: date) -> int:
    """Recompute a closed month's rows of every family (replaced in one transaction, one refresh
    of the month at a time); returns how many rows were stored (0 for a month not closed)."""
    if month >= periods.first_of_month():
        return 0
    db.session.execute(select(func.pg_advisory_xact_lock(LOCK, month.toordinal())))
    start, end = bounds(month)
    rows: list[aggregates.Row] = []
    for family, compute in aggregates.FAMILIES.items():
        rows += compute(start, end)
        rows.append((marker(family), "", "", 0))
    db.session.execute(delete(FigureRollup).where(FigureRollup.month == month))
    now = utcnow()
    values = [
        {"month": month, "metric": m, "key1": k1, "key2": k2, "value": v, "computed_at": now}
        for m, k1, k2, v in rows
    ]
    stmt = insert(FigureRollup).values(values)
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["month", "metric", "key1", "key2"],
            set_={"value": stmt.excluded.value, "computed_at": stmt.excluded.computed_at},
        )
    )
    return len(values)


def _value(metric: str, value: Decimal) -> int | Decimal:
    return value if metric in DECIMALS else int(value)


def _stored(family: str, months: list[date], metrics: Iterable[str] | None) -> dict[date, Totals]:
    """The stored rows of the family per month, for the months that have its marker."""
    if not months:
        return {}
    mark = marker(family)
    if metrics is None:
        which = (FigureRollup.metric == family) | FigureRollup.metric.startswith(f"{family}.")
    else:
        which = FigureRollup.metric.in_([*metrics, mark])
    stmt = select(
        FigureRollup.month, FigureRollup.metric, FigureRollup.key1, FigureRollup.key2, FigureRollup.value
    )
    found: dict[date, Totals] = {}
    for month, metric, key1, key2, value in db.session.execute(
        stmt.where(FigureRollup.month.in_(months), which)
    ):
        rows = found.setdefault(month, {})
        if metric != mark:
            rows[(metric, key1, key2)] = _value(metric, value)
    return found


def _add(totals: Totals, rows: Iterable[aggregates.Row], metrics: Iterable[str] | None) -> None:
    wanted = None if metrics is None else set(metrics)
    for metric, key1, key2, value in rows:
        if wanted is None or metric in wanted:
            totals[(metric, key1, key2)] = totals.get((metric, key1, key2), 0) + value


def over(family: str, start: datetime, end: datetime, metrics: Iterable[str] | None = None) -> Totals:
    """The family's rows summed over [start, end): the closed months from their rollups (live
    for a missing one, a run of missing months in one statement), the rest live."""
    compute = aggregates.FAMILIES[family]
    current = periods.midnight(periods.first_of_month())
    closed = _months(start, min(end, current)) if start < current else []
    stored = _stored(family, closed, metrics)
    totals: Totals = {}
    run: list[date] = []  # consecutive months without a rollup
    for month in [*closed, None]:
        if month is not None and month not in stored:
            run.append(month)
            continue
        if run:
            _add(totals, compute(bounds(run[0])[0], bounds(run[-1])[1]), metrics)
            run = []
        if month is not None:
            _add(totals, ((m, k1, k2, v) for (m, k1, k2), v in stored[month].items()), metrics)
    if end > current:
        _add(totals, compute(max(start, current), end), metrics)
    return totals


def by_month(family: str, months: list[date], metrics: Iterable[str] | None = None) -> dict[date, Totals]:
    """The family's rows of each month (first days): closed ones from their rollups, the rest live."""
    current = periods.first_of_month()
    stored = _stored(family, [m for m in months if m < current], metrics)
    found: dict[date, Totals] = {}
    for month in months:
        if month in stored:
            found[month] = stored[month]
        else:
            found[month] = {}
            _add(found[month], aggregates.FAMILIES[family](*bounds(month)), metrics)
    return found


def total(totals: Totals, metric: str) -> int | Decimal:
    """The sum of one metric's rows."""
    return sum((v for (m, _k1, _k2), v in totals.items() if m == metric), 0)


def computed_at(start: datetime) -> datetime | None:
    """When the oldest rollup of the closed months since `start` was computed (None without any)."""
    current = periods.first_of_month()
    return db.session.scalar(
        select(func.min(FigureRollup.computed_at)).where(
            FigureRollup.month >= start.date(),
            FigureRollup.month < current,
            FigureRollup.metric.endswith(".computed"),
        )
    )


def due(now: datetime | None = None, stale_after: relativedelta = relativedelta(hours=24)) -> list[date]:
    """The closed months to refresh: the previous one always; all KEPT when the previous one's
    rollup is older than a day (a full pass daily), else those without a rollup."""
    months = closed_months(KEPT, now)
    stamps = dict(
        db.session.execute(
            select(FigureRollup.month, func.min(FigureRollup.computed_at))
            .where(FigureRollup.month.in_(months), FigureRollup.metric.endswith(".computed"))
            .group_by(FigureRollup.month)
        ).all()
    )
    previous = stamps.get(months[-1])
    if previous is None or previous < (now or utcnow()) - stale_after:
        return months
    return [m for m in months[:-1] if m not in stamps] + [months[-1]]
