"""The question bank's weekly calibration: difficulties re-estimated from the real answers."""

from __future__ import annotations

from nexus.queue import job
from nexus.services.assessments import calibration


@job
def calibrate() -> str:
    """Re-estimate every item with enough answers (idempotent: a rerun changes nothing)."""
    reports = calibration.calibrate_bank()
    return "; ".join(map(str, reports)) or "no item"
