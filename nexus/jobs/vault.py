"""The document vault's jobs: a session report filed as a PDF for its student and parents."""

from __future__ import annotations

from datetime import timedelta

from nexus.queue import job
from nexus.services import report_pdf, utcnow

# How far back the sweep looks for a report whose job was lost.
SWEEP_WINDOW = timedelta(days=2)


@job
def file_session_report(report_id: int) -> int:
    """File the report's PDF in each reader's vault (idempotent: a rerun files nothing)."""
    return report_pdf.file_report(report_id)


@job
def sweep_session_reports() -> int:
    """File the reports of the last two days that no reader has yet (periodic, idempotent)."""
    return sum(
        report_pdf.file_report(report_id) for report_id in report_pdf.unfiled_reports(utcnow() - SWEEP_WINDOW)
    )
