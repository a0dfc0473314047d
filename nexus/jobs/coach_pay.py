"""Coach pay drafts kept current: this month's and last month's drafts recomputed every few hours,
so a coach reads a provisional statement and the analytics a provisional cost without waiting for
staff to press « Calculer ». Validated statements are never touched."""

from __future__ import annotations

from nexus.queue import job
from nexus.services import coach_pay


@job
def refresh_pay_drafts() -> int:
    """Recompute last month's and this month's drafts (one transaction each); how many drafts."""
    month = coach_pay.current_month()
    return sum(len(coach_pay.refresh_month(None, m)) for m in (coach_pay.shift(month, -1), month))
