"""The document vault's jobs: a session report filed as a PDF for its student and parents."""

from __future__ import annotations

from nexus.queue import job
from nexus.services import report_pdf


@job
def file_session_report(report_id: int) -> int:
    """File the report's PDF in each reader's vault (idempotent: a rerun files nothing)."""
    return report_pdf.file_report(report_id)
