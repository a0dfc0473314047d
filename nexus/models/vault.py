"""The family's document vault ("coffre-fort"): invoices, receipts, reports, uploads."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nexus.extensions import db
from nexus.models.common import LabelledEnum, created_at, enum_type, intpk


class DocumentKind(LabelledEnum):
    INVOICE = "INVOICE", "Facture"
    RECEIPT = "RECEIPT", "Reçu"
    REPORT = "REPORT", "Compte rendu"
    SCHOOL_REPORT = "SCHOOL_REPORT", "Bulletin scolaire"
    CERTIFICATE = "CERTIFICATE", "Attestation"
    CONTRACT = "CONTRACT", "Contrat ou convention"
    OTHER = "OTHER", "Document"


# What staff may file by hand; invoices, receipts and session reports are filed by the app.
UPLOAD_KINDS = (
    DocumentKind.SCHOOL_REPORT,
    DocumentKind.CERTIFICATE,
    DocumentKind.CONTRACT,
    DocumentKind.OTHER,
)


class UserDocument(db.Model):
    __tablename__ = "user_documents"
    __table_args__ = (
        UniqueConstraint("owner_id", "session_report_id", name="uq_user_documents_owner_report"),
    )

    id: Mapped[intpk]
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_type(DocumentKind))
    title: Mapped[str] = mapped_column(String(200))
    original_name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # Relative to the storage root, random name; never a user-supplied path.
    storage_path: Mapped[str] = mapped_column(String(255), unique=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    # A session report filed as a PDF, once per report and reader (the student, each parent).
    session_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_reports.id", ondelete="CASCADE"), index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
