"""An invoice's PDF e-mailed as a 72-hour link: a random token, only its hash stored, at most three
sends per invoice in 24 hours (revoked with the invoice: invoices.revoke_tokens)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select

from nexus import links
from nexus.extensions import db
from nexus.models.billing import Invoice, InvoiceAccessToken, InvoiceEvent, InvoiceStatus
from nexus.models.identity import User
from nexus.services import ServiceError, command, locked, notifications, utcnow
from nexus.services.invoices import event

TOKEN_TTL = timedelta(hours=72)
MAX_SENDS_PER_DAY = 3


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def by_token(invoice_id: int, raw: str) -> Invoice | None:
    if not raw or len(raw) > 200:
        return None
    token = db.session.scalar(
        select(InvoiceAccessToken).where(
            InvoiceAccessToken.invoice_id == invoice_id,
            InvoiceAccessToken.token_hash == _hash(raw),
            InvoiceAccessToken.revoked_at.is_(None),
            InvoiceAccessToken.expires_at > utcnow(),
        )
    )
    return db.session.get(Invoice, invoice_id) if token else None


@command
def send_link(invoice_id: int, actor: User) -> Invoice:
    """E-mail a 72-hour link to the PDF; at most 3 sends per invoice in 24 hours."""
    invoice = locked(Invoice, invoice_id)
    if invoice is None:
        raise LookupError(invoice_id)
    if invoice.status not in (InvoiceStatus.SENT, InvoiceStatus.PAID):
        raise ServiceError("Seule une facture envoyée ou payée peut être transmise par e-mail.")
    if not invoice.customer_email:
        raise ServiceError("Cette facture n'a pas d'adresse e-mail client.")
    sends = db.session.scalar(
        select(func.count()).where(
            InvoiceEvent.invoice_id == invoice.id,
            InvoiceEvent.kind == "INVOICE_SENT_EMAIL",
            InvoiceEvent.created_at > utcnow() - timedelta(hours=24),
        )
    )
    if sends >= MAX_SENDS_PER_DAY:
        raise ServiceError("Cette facture a déjà été envoyée 3 fois en 24 heures. Réessayez demain.")
    raw = secrets.token_urlsafe(32)
    db.session.add(
        InvoiceAccessToken(
            invoice_id=invoice.id,
            token_hash=_hash(raw),
            expires_at=utcnow() + TOKEN_TTL,
            created_by_id=actor.id,
        )
    )
    notifications.queue_email(
        invoice.customer_email,
        "invoice_link",
        f"Votre facture Nexus Réussite — {invoice.number}",
        {
            "name": invoice.customer_name,
            "number": invoice.number,
            "total": invoice.total_millimes,
            "url": links.external("documents.invoice_pdf", invoice_id=invoice.id, token=raw),
            "hours": 72,
        },
        user_id=invoice.beneficiary_id,
    )
    event(invoice, "INVOICE_SENT_EMAIL", actor.id, to=invoice.customer_email)
    return invoice
