"""The cost of coaching against revenue, month by month over the last twelve months.

Revenue is the analytics' own (validated payments, services/analytics/revenue.py); the cost is
the coaches' monthly statements (services/coach_pay): validated ones are final, drafts are
counted apart as provisional (they change until staff validate them). The share is the whole
cost (validated and provisional) over the month's revenue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from nexus.csv_export import Millimes
from nexus.services import coach_pay
from nexus.services.analytics import periods, revenue

MONTHS = 12
SECTION = "cout-coaching"
CSV_NAME = "cout-du-coaching"
CSV_HEADER = (
    "Mois",
    "Chiffre d'affaires (TND)",
    "Coût validé (TND)",
    "Coût provisoire (TND)",
    "Coût total (TND)",
    "Part du chiffre d'affaires (%)",
)


@dataclass(frozen=True)
class CoachingMonth:
    first: date
    revenue: int  # millimes
    validated: int  # millimes, validated statements
    provisional: int  # millimes, drafts

    @property
    def cost(self) -> int:
        return self.validated + self.provisional

    @property
    def is_provisional(self) -> bool:
        return self.provisional != 0

    @property
    def share(self) -> float | None:
        """The cost as a percentage of the revenue (None without revenue)."""
        return None if self.revenue <= 0 else 100 * self.cost / self.revenue

    @property
    def label(self) -> str:
        return periods.month_label(self.first)

    @property
    def short(self) -> str:
        return periods.month_label(self.first, short=True)


@dataclass(frozen=True)
class CoachingFigures:
    months: list[CoachingMonth]

    @property
    def revenue(self) -> int:
        return sum(m.revenue for m in self.months)

    @property
    def validated(self) -> int:
        return sum(m.validated for m in self.months)

    @property
    def provisional(self) -> int:
        return sum(m.provisional for m in self.months)

    @property
    def cost(self) -> int:
        return self.validated + self.provisional

    @property
    def share(self) -> float | None:
        return None if self.revenue <= 0 else 100 * self.cost / self.revenue

    @property
    def any_cost(self) -> bool:
        return any(m.cost for m in self.months)


def _key(first: date) -> str:
    return first.strftime("%Y-%m")


def by_month(count: int = MONTHS, now: datetime | None = None) -> CoachingFigures:
    """The last `count` months (the current one last): revenue, cost validated and provisional."""
    incomes = revenue.monthly(count, now)
    costs = coach_pay.coaching_cost_by_month(_key(incomes[0].first), _key(incomes[-1].first))
    found = []
    for month in incomes:
        cost = costs.get(_key(month.first))
        validated, provisional = (cost.validated, cost.provisional) if cost else (0, 0)
        found.append(CoachingMonth(month.first, month.total, validated, provisional))
    return CoachingFigures(found)


def csv_rows(figures: CoachingFigures) -> Iterable[Sequence[Any]]:
    """The section's table as CSV rows, the total last."""
    for m in [*figures.months, figures]:
        share = None if m.share is None else round(m.share, 1)
        label = m.label if isinstance(m, CoachingMonth) else "Total"
        yield (
            label,
            Millimes(m.revenue),
            Millimes(m.validated),
            Millimes(m.provisional),
            Millimes(m.cost),
            share,
        )


def filename(now: datetime | None = None) -> str:
    """'cout-du-coaching-12-mois-2030-03.csv' (the last month of the twelve)."""
    return f"{CSV_NAME}-{MONTHS}-mois-{_key(periods.first_of_month(now))}.csv"
