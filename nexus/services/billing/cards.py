"""Card payments as staff see them beside the transfers: those still pending and those that
failed, with the gateway's last word (nexus.services.clictopay settles them)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, select

from nexus.extensions import db
from nexus.models.billing import Payment, PaymentMethod, PaymentStatus
from nexus.models.identity import User
from nexus.services import utcnow
from nexus.services.billing.orders import WITH_PEOPLE, by_payer_or_reference

PENDING, FAILED = "en-attente", "refuses"
CARD_FILTERS = [(PENDING, "Cartes en attente"), (FAILED, "Cartes refusées (30 derniers jours)")]
FAILED_SHOWN_FOR = timedelta(days=30)


def card_filter(raw: str | None) -> str:
    """The filter asked for, or the pending cards."""
    return raw if raw in dict(CARD_FILTERS) else PENDING


def card_payments_stmt(state: str, search: str = "") -> Select[tuple[Payment]]:
    """Pending card payments (oldest first), or those that failed lately (newest first), joined
    to their payer: the staff's card table, and its CSV export."""
    stmt = (
        select(Payment)
        .join(User, Payment.payer_id == User.id)
        .where(Payment.method == PaymentMethod.CLICTOPAY)
    )
    if state == FAILED:
        stmt = stmt.where(
            Payment.status == PaymentStatus.FAILED, Payment.created_at >= utcnow() - FAILED_SHOWN_FOR
        ).order_by(Payment.created_at.desc())
    else:
        stmt = stmt.where(Payment.status == PaymentStatus.PENDING).order_by(Payment.created_at)
    return by_payer_or_reference(stmt, search)


def card_payments(state: str, search: str = "", limit: int = 200) -> list[Payment]:
    """Pending card payments (oldest first), or those that failed lately (newest first)."""
    stmt = card_payments_stmt(state, search).options(*WITH_PEOPLE)  # no statement per row
    return list(db.session.scalars(stmt.limit(limit)))
