"""Staff decisions on declared transfers, with a conditional UPDATE: a double click, a retry or
50 concurrent approvals settle a payment exactly once. A card payment is settled by the gateway's
answer (clictopay.confirm), never by hand."""

from __future__ import annotations

from sqlalchemy import update

from nexus import links
from nexus.extensions import db
from nexus.models.billing import Payment, PaymentMethod, PaymentStatus
from nexus.models.identity import User
from nexus.services import ServiceError, audit, catalog, command, notifications, recent, utcnow
from nexus.services.billing.fulfilment import fulfil
from nexus.services.billing.orders import payment_state
from nexus.text import check_line, check_size

ALREADY_PROCESSED = "Ce paiement a déjà été traité."
# Staff settle only what they can check on the bank statement; a card payment is settled by
# the gateway's answer (clictopay.confirm), never by hand.
STAFF_DECIDED = frozenset({PaymentMethod.BANK_TRANSFER})
NOT_STAFF_DECIDED = (
    "Ce paiement par carte est réglé par la banque (retour ClicToPay) : "
    "il ne peut être ni validé ni refusé ici."
)


class AlreadyProcessed(ServiceError):
    def __init__(self, payment: Payment | None = None) -> None:
        super().__init__(ALREADY_PROCESSED)
        self.payment = payment


def staff_decides(payment: Payment) -> bool:
    """Whether staff approve or reject this payment (a declared transfer), not the gateway."""
    return payment.method in STAFF_DECIDED


def _claim(payment_id: int, status: PaymentStatus, staff: User, reason: str | None = None) -> Payment:
    """Move a PENDING declared transfer to its final state; only one caller ever wins."""
    claimed = db.session.scalar(
        update(Payment)
        .where(
            Payment.id == payment_id,
            Payment.status == PaymentStatus.PENDING,
            Payment.method.in_(STAFF_DECIDED),
        )
        .values(status=status, processed_at=utcnow(), processed_by_id=staff.id, rejection_reason=reason)
        .returning(Payment.id)
    )
    if claimed is None:
        existing = db.session.get(Payment, payment_id, populate_existing=True)
        if existing is None:
            raise LookupError(payment_id)
        if existing.status is PaymentStatus.PENDING and not staff_decides(existing):
            raise ServiceError(NOT_STAFF_DECIDED)
        raise AlreadyProcessed(existing)
    payment = db.session.get_one(Payment, payment_id)
    db.session.refresh(payment)
    return payment


@command
def approve(payment_id: int, staff: User) -> Payment:
    """Approve a declared transfer and give the family what it paid for, in one transaction."""
    payment = _claim(payment_id, PaymentStatus.COMPLETED, staff)
    fulfil(payment, staff)
    return payment


@command
def reject(payment_id: int, staff: User, reason: str) -> Payment:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ServiceError("Indiquez le motif du refus (5 caractères au moins).", field="reason")
    check_line(reason, "reason")  # a one-line field, e-mailed to the family
    check_size(reason, "reason", 500)
    payment = _claim(payment_id, PaymentStatus.FAILED, staff, reason)
    payer = payment.payer
    notifications.queue_email(
        payer.email or "",
        "payment_rejected",
        "Votre virement n'a pas pu être validé — Nexus Réussite",
        {
            "first_name": payer.first_name,
            "label": catalog.order_label(payment),
            "amount": payment.amount_millimes,
            "reference": payment.reference,
            "reason": payment.rejection_reason,
        },
        user_id=payer.id,
        event="billing",
    )
    notifications.notify(
        payer.id,
        "PAYMENT_REJECTED",
        "Virement non validé",
        f"{catalog.order_label(payment)} : {payment.rejection_reason}",
        links.internal("parent.payments"),
    )
    audit.record(
        "payment.reject", staff.id, payment, before={"status": "PENDING"}, after=payment_state(payment)
    )
    return payment


def recently_decided() -> list[recent.Processed]:
    """The transfers staff validated or refused this week, newest first, with who decided."""
    return recent.decided(
        Payment,
        PaymentStatus.PENDING,
        PaymentStatus.COMPLETED,
        lambda p: f"{p.payer.full_name} · {p.reference} · {catalog.order_label(p)}",
        Payment.method.in_(STAFF_DECIDED),
    )
