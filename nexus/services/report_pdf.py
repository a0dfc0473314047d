"""A coach's session report as an A4 PDF in French, filed in the vault of each reader.

The readers are the student and each of their parents: one document per report and reader,
backed by the unique (owner, report) constraint, so a job run twice, or fifty times at once,
files it once (INSERT … ON CONFLICT DO NOTHING; the loser's file is removed at once).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fpdf import FPDF
from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert

from nexus import fr, links
from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.identity import User
from nexus.models.scheduling import SessionReport
from nexus.models.vault import DocumentKind, UserDocument
from nexus.services import command, notifications, vault

NOTICE_KIND = "DOCUMENT"
SECTIONS = (
    ("Résumé de la séance", "summary"),
    ("Notions travaillées", "topics"),
    ("Progrès constatés", "progress_notes"),
    ("Recommandations", "recommendations"),
    ("Travail à faire", "homework"),
    ("Prochain objectif", "next_focus"),
)
TEXT_MAX = 6000  # a section longer than this is cut: the report stays a few pages


def _latin1(text: str) -> str:
    """The PDF core fonts speak Latin-1: keep accents, replace what it lacks."""
    replacements = {"’": "'", "‘": "'", "“": '"', "”": '"', "—": "-", "–": "-", "…": "...", "œ": "oe"}
    replacements |= {"Œ": "OE", "\u202f": " ", "\u00a0": " ", "\t": "    "}
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text.encode("latin-1", "replace").decode("latin-1")


def render(report: SessionReport) -> bytes:
    """The report as a PDF: who, when, attendance and rating, then each section the coach wrote."""
    booking = report.booking
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    line = _writer(pdf)
    pdf.set_font("Helvetica", "B", 16)
    line("Nexus Réussite", 9)
    pdf.set_font("Helvetica", "B", 13)
    line(f"Compte rendu de séance — {booking.subject.label}", 8)
    pdf.set_font("Helvetica", "", 10)
    line(f"Élève : {booking.student.user.full_name}", 6)
    line(f"Coach : {booking.coach.pseudonym}", 6)
    line(f"Séance du {fr.when(booking.starts_at)} ({booking.service.label})", 6)
    presence = "présent(e)" if report.attended else "absent(e)"
    engagement = f" — engagement : {report.engagement.label.lower()}" if report.engagement else ""
    line(f"Élève {presence} — appréciation : {report.rating}/5{engagement}", 6)
    for heading, name in SECTIONS:
        text = getattr(report, name)
        if not text:
            continue
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 11)
        line(heading, 7)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5, _latin1(text[:TEXT_MAX]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "I", 8)
    written = fr.date_time(report.created_at)
    line(f"Rédigé le {written} — Nexus Réussite, soutien scolaire lycée et bac, Tunis.", 4)
    return bytes(pdf.output())


def _writer(pdf: FPDF) -> Any:
    def line(text: str, height: float) -> None:
        pdf.multi_cell(0, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    return line


def title_of(report: SessionReport) -> str:
    booking = report.booking
    return f"Compte rendu — {booking.subject.label}, séance du {fr.short_date(booking.starts_at)}"


def filename_of(report: SessionReport) -> str:
    booking = report.booking
    day = booking.starts_at.astimezone(fr.TUNIS).date().isoformat()
    return f"compte-rendu-{day}-{booking.subject.value.lower()}.pdf"


def readers(report: SessionReport) -> list[User]:
    """The student, then each of their parents."""
    student = report.booking.student
    return [student.user, *student.parent.guardians]


@command
def file_report(report_id: int) -> int:
    """File the report's PDF in each reader's vault, once; tell each new reader in the bell.
    How many documents this call filed (0 when they all were already)."""
    report = db.session.get(SessionReport, report_id)
    if report is None:
        return 0
    missing = [user for user in readers(report) if not _filed(user.id, report.id)]
    if not missing:
        return 0
    data, title, name = render(report), title_of(report), filename_of(report)
    filed = 0
    for user in missing:
        if _file_once(user, report, data, title, name):
            _tell(user, title, report)
            filed += 1
    return filed


def unfiled_reports(since: datetime, limit: int = 200) -> list[int]:
    """Reports written since then of which no reader has a copy: their job was lost (Redis down
    when it was enqueued). A copy staff removed is not filed again, as long as one is left."""
    filed = select(UserDocument.id).where(UserDocument.session_report_id == SessionReport.id)
    stmt = (
        select(SessionReport.id)
        .where(SessionReport.created_at >= since, ~exists(filed))
        .order_by(SessionReport.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def _filed(owner_id: int, report_id: int) -> bool:
    stmt = select(UserDocument.id).where(
        UserDocument.owner_id == owner_id, UserDocument.session_report_id == report_id
    )
    return db.session.scalar(stmt) is not None


def _file_once(user: User, report: SessionReport, data: bytes, title: str, name: str) -> bool:
    """Insert the reader's copy unless they have one; a concurrent run's copy wins the same way
    (the unique constraint waits for it), and this run's file is then removed."""
    stored = vault.store(data, ".pdf")
    inserted = db.session.scalar(
        insert(UserDocument)
        .values(
            owner_id=user.id,
            kind=DocumentKind.REPORT,
            title=title[:200],
            original_name=name,
            mime_type="application/pdf",
            size_bytes=len(data),
            storage_path=stored,
            session_report_id=report.id,
        )
        .on_conflict_do_nothing(constraint="uq_user_documents_owner_report")
        .returning(UserDocument.id)
    )
    if inserted is None:
        db.session.info.get(vault.NEW_FILES, []).remove(stored)
        vault.discard(stored)
    return inserted is not None


def _tell(user: User, title: str, report: SessionReport) -> None:
    page = "documents.parent_documents" if user.role is Role.PARENT else "documents.student_documents"
    body = f"Par {report.booking.coach.pseudonym}, en PDF dans vos documents."
    notifications.notify(
        user.id, NOTICE_KIND, f"Nouveau document : {title}"[:160], body, links.internal(page)
    )
