"""Writing a bilan's three texts, on the `default` queue."""

from __future__ import annotations

from nexus.queue import job
from nexus.services import bilans


@job
def generate(bilan_id: int) -> str:
    """Score, write and check the three texts, then e-mail the links; a READY bilan is left as it
    is, and a crash marks it FAILED with an error code (staff may retry)."""
    return bilans.generate(bilan_id)


@job
def sweep_bilans() -> dict[str, int]:
    """Periodic (every 10 minutes): a run lost with its worker is marked FAILED for staff to
    retry; a bilan whose job never came (Redis emptied) is enqueued again."""
    return bilans.sweep()
