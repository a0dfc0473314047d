"""Orders, payments, subscriptions and entitlements: the money path.

A parent orders an offer for one child; the server prices it from the catalog. A transfer is
declared (PENDING); staff approve or reject it with a conditional UPDATE, so a double click,
a retry or 50 concurrent approvals fulfil the order exactly once. Fulfilment is part of the
same transaction: subscription, entitlements, credits, invoice, e-mails, audit.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from nexus.extensions import db
from nexus.models.billing import (
    Entitlement,
    EntitlementStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
)
from nexus.models.catalog import Feature, OfferCode, OfferKind
from nexus.models.common import Role, Subject
from nexus.models.credits import LotSource
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.services import (
    ServiceError,
    audit,
    catalog,
    command,
    credits,
    family,
    invoices,
    notifications,
    utcnow,
)
from nexus.services.catalog import Offer
from nexus.text import check_line, check_size

BANK = {
    "bank": "Banque Zitouna",
    "holder": "M&M Academy — Nexus Réussite",
    "iban": "TN59 25 079 000 0001569084 04",
}
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


# -- reading -------------------------------------------------------------------------------


def active_subscription(student_id: int, *, lock: bool = False) -> Subscription | None:
    stmt = select(Subscription).where(
        Subscription.student_id == student_id, Subscription.status == SubscriptionStatus.ACTIVE
    )
    if lock:
        # Re-read under the lock: an order check may have loaded it earlier in the transaction.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def active_subscriptions_of(student_ids: list[int]) -> dict[int, Subscription]:
    stmt = select(Subscription).where(
        Subscription.student_id.in_(student_ids), Subscription.status == SubscriptionStatus.ACTIVE
    )
    return {sub.student_id: sub for sub in db.session.scalars(stmt)}


def active_entitlements(student_id: int, at: datetime | None = None) -> list[Entitlement]:
    at = at or utcnow()
    stmt = select(Entitlement).where(
        Entitlement.student_id == student_id,
        Entitlement.status == EntitlementStatus.ACTIVE,
        Entitlement.starts_at <= at,
        (Entitlement.ends_at.is_(None)) | (Entitlement.ends_at > at),
    )
    return list(db.session.scalars(stmt))


def has_feature(student_id: int, feature: Feature, subject: Subject | str | None = None) -> bool:
    """What the student may use now (the student is the beneficiary, never the payer)."""
    wanted = str(subject) if subject is not None else None
    return any(
        e.feature is feature and (wanted is None or e.subject == wanted)
        for e in active_entitlements(student_id)
    )


def aria_subjects(student_id: int) -> list[str]:
    found = {e.subject for e in active_entitlements(student_id) if e.feature is Feature.ARIA and e.subject}
    return [s.value for s in Subject if s.value in found]


# -- ordering ------------------------------------------------------------------------------


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


def needs_subject(offer: Offer) -> bool:
    """Plans and the one-subject add-on ask which subject ARIA covers."""
    return offer.kind is OfferKind.PLAN or offer.code is OfferCode.ARIA_MATIERE


def build_order(parent: User, student_id: int, offer_code: str, aria_subject: str | None) -> Order:
    """Price an order from the catalog and check it makes sense; LookupError → 404."""
    offer = catalog.find(offer_code)
    student = family.child_of(parent, student_id)
    if offer is None or student is None:
        raise LookupError("order")
    subject = None
    if needs_subject(offer):
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
    notifications.notify_role_members(
        [Role.ADMIN, Role.ASSISTANTE],
        "BANK_TRANSFER_DECLARED",
        f"Virement déclaré : {order.label}",
        f"{parent.full_name} a déclaré un virement de {order.amount_millimes // 1000} TND "
        f"(référence {payment.reference}).",
        "/dashboard/assistante/paiements",
    )
    audit.record("payment.declared", parent.id, payment, after=_payment_state(payment))
    return payment


def _payment_state(payment: Payment) -> dict[str, Any]:
    return {
        "status": payment.status.value,
        "offer": payment.offer_code.value,
        "amount_millimes": payment.amount_millimes,
        "student_id": payment.student_id,
    }


# -- staff decisions -----------------------------------------------------------------------


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
    )
    notifications.notify(
        payer.id,
        "PAYMENT_REJECTED",
        "Virement non validé",
        f"{catalog.order_label(payment)} : {payment.rejection_reason}",
        "/dashboard/parent/paiements",
    )
    audit.record(
        "payment.reject", staff.id, payment, before={"status": "PENDING"}, after=_payment_state(payment)
    )
    return payment


# -- fulfilment ----------------------------------------------------------------------------


def fulfil(payment: Payment, actor: User | None) -> None:
    """Grant what the payment bought, then invoice it and tell the family."""
    offer = catalog.offer(payment.offer_code)
    credits.lock_student(payment.student_id)
    if offer.kind is OfferKind.PLAN:
        _grant_plan(payment, offer)
    elif offer.kind is OfferKind.ARIA_ADDON:
        _grant_addon(payment, offer)
    else:
        _grant_pack(payment, offer)
    invoice = invoices.for_payment(payment, actor)
    payer = payment.payer
    notifications.queue_email(
        payer.email or "",
        "payment_approved",
        f"Paiement validé — facture {invoice.number}",
        {
            "first_name": payer.first_name,
            "label": catalog.order_label(payment),
            "amount": payment.amount_millimes,
            "invoice_number": invoice.number,
            "child": payment.student.user.first_name,
        },
        user_id=payer.id,
    )
    notifications.notify(
        payer.id,
        "PAYMENT_APPROVED",
        "Paiement validé",
        f"{catalog.order_label(payment)} est actif. Facture {invoice.number} dans vos documents.",
        "/dashboard/parent/paiements",
    )
    audit.record(
        "payment.approve",
        actor.id if actor else None,
        payment,
        before={"status": "PENDING"},
        after={**_payment_state(payment), "invoice": invoice.number},
    )


def _entitle(
    payment: Payment, offer: Offer, feature: Feature, ends_at: datetime | None, **extra: Any
) -> None:
    db.session.add(
        Entitlement(
            student_id=payment.student_id,
            feature=feature,
            offer_code=offer.code,
            status=EntitlementStatus.ACTIVE,
            starts_at=utcnow(),
            ends_at=ends_at,
            payment_id=payment.id,
            **extra,
        )
    )


def _end_subscription(sub: Subscription, status: SubscriptionStatus) -> None:
    now = utcnow()
    sub.status = status
    sub.ended_at = now
    db.session.execute(
        update(Entitlement)
        .where(Entitlement.subscription_id == sub.id, Entitlement.status == EntitlementStatus.ACTIVE)
        .values(status=EntitlementStatus.EXPIRED, ends_at=now)
    )


def _grant_plan(payment: Payment, offer: Offer) -> None:
    current = active_subscription(payment.student_id, lock=True)
    if current is not None and current.plan is offer.code:
        _extend(current)
        return
    subjects = [payment.aria_subject] if payment.aria_subject else []
    if current is not None:  # a plan change ends the previous plan, keeping its ARIA subjects
        subjects = list(dict.fromkeys([*subjects, *current.aria_subjects]))
        _end_subscription(current, SubscriptionStatus.CANCELLED)
        db.session.flush()
    now = utcnow()
    sub = Subscription(
        student_id=payment.student_id,
        plan=offer.code,
        status=SubscriptionStatus.ACTIVE,
        monthly_price_millimes=offer.price_millimes,
        credits_per_month=offer.credits,
        aria_subjects=subjects,
        current_period_start=now,
        current_period_end=now + relativedelta(months=catalog.SUBSCRIPTION_PERIOD_MONTHS),
        started_at=now,
    )
    db.session.add(sub)
    db.session.flush()
    for feature in sorted(offer.features - {Feature.ARIA}, key=lambda f: f.value):
        _entitle(payment, offer, feature, sub.current_period_end, subscription_id=sub.id)
    for subject in subjects:
        _entitle(
            payment, offer, Feature.ARIA, sub.current_period_end, subscription_id=sub.id, subject=subject
        )
    allocate(sub, sub.current_period_start, payment_id=payment.id)


def _extend(sub: Subscription) -> None:
    """Pay the next month of the same plan: one more month after the current end."""
    sub.current_period_end = sub.current_period_end + relativedelta(months=catalog.SUBSCRIPTION_PERIOD_MONTHS)
    db.session.execute(
        update(Entitlement)
        .where(Entitlement.subscription_id == sub.id, Entitlement.status == EntitlementStatus.ACTIVE)
        .values(ends_at=sub.current_period_end)
    )


def allocate(sub: Subscription, period_start: datetime, payment_id: int | None = None) -> bool:
    """The month's credits of a subscription (granted once per month, carried one month more)."""
    if sub.credits_per_month <= 0:
        return False
    lot = credits.grant(
        sub.student_id,
        sub.credits_per_month,
        LotSource.SUBSCRIPTION,
        period_start + relativedelta(months=catalog.SUBSCRIPTION_CREDIT_VALIDITY_MONTHS),
        subscription_id=sub.id,
        period=period_start.strftime("%Y-%m"),
        payment_id=payment_id,
    )
    return lot is not None


def subscriptions_to_allocate() -> list[int]:
    """The active subscriptions that come with monthly credits."""
    stmt = select(Subscription.id).where(
        Subscription.status == SubscriptionStatus.ACTIVE, Subscription.credits_per_month > 0
    )
    return list(db.session.scalars(stmt.order_by(Subscription.id)))


@command
def allocate_started_months(subscription_id: int, at: datetime | None = None) -> int:
    """Grant a subscription the credits of every month it has started (once each): how many
    months were granted now."""
    at = at or utcnow()
    sub = db.session.get_one(Subscription, subscription_id)
    start, month, granted = sub.started_at, 0, 0
    while start <= at and start < sub.current_period_end:
        granted += allocate(sub, start)
        month += 1
        start = sub.started_at + relativedelta(months=month)
    return granted


@command
def end_lapsed_subscriptions(at: datetime | None = None) -> list[int]:
    """A period that ended without renewal: the subscription expires, so do its rights. The ids
    of the subscriptions ended now."""
    at = at or utcnow()
    ended = db.session.scalars(
        update(Subscription)
        .where(Subscription.status == SubscriptionStatus.ACTIVE, Subscription.current_period_end <= at)
        .values(status=SubscriptionStatus.EXPIRED, ended_at=at)
        .returning(Subscription.id)
    ).all()
    db.session.execute(
        update(Entitlement)
        .where(Entitlement.status == EntitlementStatus.ACTIVE, Entitlement.ends_at <= at)
        .values(status=EntitlementStatus.EXPIRED)
    )
    return list(ended)


def _grant_addon(payment: Payment, offer: Offer) -> None:
    sub = active_subscription(payment.student_id, lock=True)
    if sub is None:  # the plan ended between the order and the approval: keep the money, add later
        raise ServiceError("L'élève n'a plus de formule active : l'option ARIA ne peut pas être ajoutée.")
    if offer.code is OfferCode.ARIA_TOUTES_MATIERES:
        new = [s.value for s in Subject if s.value not in sub.aria_subjects]
    else:
        new = [payment.aria_subject] if payment.aria_subject not in sub.aria_subjects else []
    sub.aria_subjects = [*sub.aria_subjects, *new]
    for subject in new:
        _entitle(
            payment, offer, Feature.ARIA, sub.current_period_end, subscription_id=sub.id, subject=subject
        )


def _grant_pack(payment: Payment, offer: Offer) -> None:
    expires = utcnow() + catalog.PACK_CREDIT_VALIDITY
    source = LotSource.CREDIT_PACK if offer.kind is OfferKind.CREDIT_PACK else LotSource.PACK
    credits.grant(payment.student_id, offer.credits, source, expires, payment_id=payment.id)
    _entitle(payment, offer, Feature.CREDITS_USE, expires)


# -- lists ---------------------------------------------------------------------------------


def payments_of_parent(parent: User) -> list[Payment]:
    """The family's payments, whichever of its parents made them."""
    mine = or_(Payment.payer_id == parent.id, Payment.student_id.in_(family.children_ids(parent.id)))
    stmt = select(Payment).where(mine).order_by(Payment.id.desc())
    return list(db.session.scalars(stmt))


def pending_transfers(search: str = "") -> list[Payment]:
    stmt = (
        select(Payment)
        .join(User, Payment.payer_id == User.id)
        .where(Payment.status == PaymentStatus.PENDING, Payment.method == PaymentMethod.BANK_TRANSFER)
        .order_by(Payment.declared_at)
    )
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            func.lower(Payment.reference).like(like)
            | func.lower(User.email).like(like)
            | func.lower(User.last_name + " " + User.first_name).like(like)
        )
    return list(db.session.scalars(stmt.limit(200)))


def subscriptions(status: SubscriptionStatus | None, limit: int = 500) -> list[Subscription]:
    stmt = select(Subscription).order_by(Subscription.current_period_end)
    if status is not None:
        stmt = stmt.where(Subscription.status == status)
    return list(db.session.scalars(stmt.limit(limit)))
