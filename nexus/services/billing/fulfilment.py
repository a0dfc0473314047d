"""Fulfilment: what a paid order grants (a plan and its rights, an ARIA option, a credit pack),
its invoice, the family's e-mail and the audit line, in the transaction that settles the payment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import update

from nexus import links
from nexus.extensions import db
from nexus.models.billing import Entitlement, EntitlementStatus, Payment, Subscription, SubscriptionStatus
from nexus.models.catalog import Feature, OfferCode, OfferKind
from nexus.models.common import Subject
from nexus.models.credits import LotSource
from nexus.models.identity import User
from nexus.services import ServiceError, audit, catalog, credits, invoices, notifications, utcnow
from nexus.services.billing.orders import payment_state
from nexus.services.billing.subscriptions import active_subscription, allocate
from nexus.services.catalog import Offer


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
        event="billing",
    )
    notifications.notify(
        payer.id,
        "PAYMENT_APPROVED",
        "Paiement validé",
        f"{catalog.order_label(payment)} est actif. Facture {invoice.number} dans vos documents.",
        links.internal("parent.payments"),
    )
    audit.record(
        "payment.approve",
        actor.id if actor else None,
        payment,
        before={"status": "PENDING"},
        after={**payment_state(payment), "invoice": invoice.number},
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
    start_plan(payment, offer, subjects)


def start_plan(payment: Payment, offer: Offer, subjects: list[str]) -> Subscription:
    """A new subscription to the plan paid for: its rights (ARIA once per subject) and its first
    month's credits. The caller has ended any previous plan."""
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
    return sub


def _extend(sub: Subscription) -> None:
    """Pay the next month of the same plan: one more month after the current end."""
    sub.current_period_end = sub.current_period_end + relativedelta(months=catalog.SUBSCRIPTION_PERIOD_MONTHS)
    db.session.execute(
        update(Entitlement)
        .where(Entitlement.subscription_id == sub.id, Entitlement.status == EntitlementStatus.ACTIVE)
        .values(ends_at=sub.current_period_end)
    )


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
