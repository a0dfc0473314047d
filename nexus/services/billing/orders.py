"""Orders: a parent orders an offer for one child, priced by the server from the catalog, and
declares the bank transfer (one pending payment per order, at most); the family's payments."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import contains_eager, joinedload

from nexus import fr, links
from nexus.extensions import db
from nexus.models.billing import Payment, PaymentMethod, PaymentStatus
from nexus.models.catalog import OfferCode, OfferKind
from nexus.models.common import Subject
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.services import ServiceError, audit, catalog, command, family, notifications, utcnow
from nexus.services.billing.subscriptions import active_subscription
from nexus.services.catalog import Offer

BANK = {
    "bank": "Banque Zitouna",
    "holder": "M&M Academy — Nexus Réussite",
    "iban": "TN59 25 079 000 0001569084 04",
}


@dataclass(frozen=True)
class Order:
    offer: Offer
    student: Student
    aria_subject: str | None

    @property
    def amount_millimes(self) -> int:
        return self.offer.price_millimes

    @property
    def label(self) -> str:
        subject = f" — ARIA {Subject(self.aria_subject).label}" if self.aria_subject else ""
        return f"{self.offer.name}{subject} pour {self.student.user.first_name}"


def build_order(parent: User, student_id: int, offer_code: str, aria_subject: str | None) -> Order:
    """Price an order from the catalog and check it makes sense; LookupError → 404."""
    offer = catalog.find(offer_code)
    student = family.child_of(parent, student_id)
    if offer is None or student is None:
        raise LookupError("order")
    subject = None
    if offer.needs_subject:
        if aria_subject not in Subject.__members__:
            raise ServiceError("Choisissez la matière d'ARIA.", field="aria_subject")
        subject = aria_subject
    if offer.kind is OfferKind.ARIA_ADDON:
        current = active_subscription(student.id)
        if current is None:
            raise ServiceError(
                "Une option ARIA s'ajoute à une formule active : choisissez d'abord une formule."
            )
        if subject and subject in current.aria_subjects:
            raise ServiceError("ARIA couvre déjà cette matière.", field="aria_subject")
        if offer.code is OfferCode.ARIA_TOUTES_MATIERES and len(current.aria_subjects) == len(Subject):
            raise ServiceError("ARIA couvre déjà toutes les matières.")
    return Order(offer, student, subject)


ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to copy by hand


def new_reference() -> str:
    return "NX-" + "".join(secrets.choice(ALPHABET) for _ in range(8))


def transfer_reference(order: Order) -> str:
    """The reference shown before the transfer and recorded when it is declared.

    Derived from the order and the number of earlier payments for it, so it stays the same
    while the family makes the transfer, and changes for the next attempt.
    """
    earlier = db.session.scalar(
        select(func.count()).where(
            Payment.student_id == order.student.id, Payment.offer_code == order.offer.code
        )
    )
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"{order.student.id}:{order.offer.code}:{earlier}".encode(), "sha256").digest()
    return "NX-" + "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:8])


def pending_for(order: Order) -> Payment | None:
    return db.session.scalar(
        select(Payment).where(
            Payment.student_id == order.student.id,
            Payment.offer_code == order.offer.code,
            Payment.status == PaymentStatus.PENDING,
        )
    )


def create_pending(parent: User, order: Order, method: PaymentMethod, reference: str) -> Payment | None:
    """A PENDING payment for the order, or None when one is already pending (unique indexes)."""
    payment_id = db.session.scalar(
        insert(Payment)
        .values(
            payer_id=parent.id,
            student_id=order.student.id,
            offer_code=order.offer.code,
            aria_subject=order.aria_subject,
            amount_millimes=order.amount_millimes,
            method=method,
            status=PaymentStatus.PENDING,
            reference=reference,
            declared_at=utcnow() if method is PaymentMethod.BANK_TRANSFER else None,
        )
        # No conflict target: every unique index is an arbiter. Concurrent declarations of one
        # order carry the same reference (transfer_reference); with only the one-pending-order
        # index as arbiter, a loser racing past its pre-check would hit the reference index
        # and fail with an IntegrityError (a 500) instead of this None (a French refusal).
        .on_conflict_do_nothing()
        .returning(Payment.id)
    )
    return db.session.get_one(Payment, payment_id) if payment_id is not None else None


@command
def declare_transfer(parent: User, order: Order) -> Payment:
    """Record "J'ai effectué le virement": one pending declaration per order, at most."""
    payment = create_pending(parent, order, PaymentMethod.BANK_TRANSFER, transfer_reference(order))
    if payment is None:
        raise ServiceError(
            "Un virement pour cette commande est déjà en attente de validation. "
            "Nous vous prévenons dès qu'il est validé."
        )
    notifications.notify_staff(
        "BANK_TRANSFER_DECLARED",
        f"Virement déclaré : {order.label}",
        f"{parent.full_name} a déclaré un virement de {fr.tnd(order.amount_millimes)} "
        f"(référence {payment.reference}).",
        links.internal("payments.index"),
    )
    audit.record("payment.declared", parent.id, payment, after=payment_state(payment))
    return payment


def payment_state(payment: Payment) -> dict[str, Any]:
    return {
        "status": payment.status.value,
        "offer": payment.offer_code.value,
        "amount_millimes": payment.amount_millimes,
        "student_id": payment.student_id,
    }


def payments_of_parent(parent: User) -> list[Payment]:
    """The family's payments, whichever of its parents made them."""
    mine = or_(Payment.payer_id == parent.id, Payment.student_id.in_(family.children_ids(parent.id)))
    stmt = select(Payment).where(mine).order_by(Payment.id.desc())
    return list(db.session.scalars(stmt))


# A payment row shows its payer (joined by the statements below) and its child's first name.
WITH_PEOPLE = (contains_eager(Payment.payer), joinedload(Payment.student).joinedload(Student.user))


def pending_transfers_stmt(search: str = "") -> Select[tuple[Payment]]:
    """Bank transfers waiting for staff, oldest first, by reference, payer's e-mail or name: the
    desk's rows, and its CSV export's."""
    stmt = (
        select(Payment)
        .join(User, Payment.payer_id == User.id)
        .where(Payment.status == PaymentStatus.PENDING, Payment.method == PaymentMethod.BANK_TRANSFER)
        .order_by(Payment.declared_at)
    )
    return by_payer_or_reference(stmt, search)


def by_payer_or_reference(stmt: Select[tuple[Payment]], search: str) -> Select[tuple[Payment]]:
    """Payments (joined to their payer) whose reference, payer's e-mail or name holds `search`."""
    if not search.strip():
        return stmt
    like = f"%{search.strip().lower()}%"
    return stmt.where(
        func.lower(Payment.reference).like(like)
        | func.lower(User.email).like(like)
        | func.lower(User.last_name + " " + User.first_name).like(like)
    )


def pending_transfers(search: str = "") -> list[Payment]:
    # Payer and child loaded with the rows: the table names both (no statement per row).
    stmt = pending_transfers_stmt(search).options(*WITH_PEOPLE)
    return list(db.session.scalars(stmt.limit(200)))
