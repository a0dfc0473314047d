"""Writing a bilan's three texts, on the `default` queue."""

from __future__ import annotations

from nexus.queue import job
from nexus.services import bilans


@job
def generate(bilan_id: int) -> str:
    """Score, write and check the three texts, then e-mail the links; a READY bilan is left as it
    is, and a crash marks it FAILED with an error code (staff may retry)."""
    return bilans.generate(bilan_id)
