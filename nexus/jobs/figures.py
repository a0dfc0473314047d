"""The monthly figure rollups (nexus.services.analytics.rollups), refreshed hourly: the previous
month every run (a no-show marked or a payment refunded after the month closed), a missing
month when one is found, and the last 13 closed months once a day."""

from __future__ import annotations

from nexus.queue import job
from nexus.services.analytics import rollups


@job
def refresh_figure_rollups() -> int:
    """Refresh the closed months due (each its own transaction); returns how many months."""
    months = rollups.due()
    for month in months:
        rollups.refresh(month)
    return len(months)
