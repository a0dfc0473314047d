"""The family's document vault ("coffre-fort"): invoices, receipts, reports, uploads."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from nexus.extensions import db
from nexus.models.common import LabelledEnum, created_at, enum_type, intpk


class DocumentKind(LabelledEnum):
    INVOICE = "INVOICE", "Facture"
    RECEIPT = "RECEIPT", "Reçu"
    REPORT = "REPORT", "Compte rendu"
    OTHER = "OTHER", "Document"


class UserDocument(db.Model):
    __tablename__ = "user_documents"

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
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
