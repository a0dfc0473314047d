"""The cost of coaching per month, for the admin analytics (beside the revenue): validated
statements' totals, and the drafts' totals apart (provisional: they may still change)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.coach_pay import CoachStatement, StatementStatus
from nexus.services.coach_pay import months


@dataclass(frozen=True)
class MonthCost:
    month: str  # "YYYY-MM"
    validated: int  # millimes, frozen statements
    provisional: int  # millimes, drafts not validated yet

    @property
    def total(self) -> int:
        return self.validated + self.provisional

    @property
    def is_provisional(self) -> bool:
        return self.provisional != 0

    @property
    def label(self) -> str:
        return months.month_label(self.month)


def coaching_cost_by_month(first_month: str, last_month: str) -> dict[str, MonthCost]:
    """Every month from first to last (both included, zeros where nothing was computed)."""
    wanted = months.months_between(first_month, last_month)
    if not wanted:
        return {}
    stmt = (
        select(CoachStatement.month, CoachStatement.status, func.sum(CoachStatement.total_millimes))
        .where(CoachStatement.month >= wanted[0], CoachStatement.month <= wanted[-1])
        .group_by(CoachStatement.month, CoachStatement.status)
    )
    sums: dict[tuple[str, StatementStatus], int] = {
        (month, status): int(total or 0) for month, status, total in db.session.execute(stmt)
    }
    return {
        month: MonthCost(
            month,
            sums.get((month, StatementStatus.VALIDATED), 0),
            sums.get((month, StatementStatus.DRAFT), 0),
        )
        for month in wanted
    }
