"""Subscriptions and entitlements: what a student may use now, and the monthly credits.

A subscription's credits are granted once per month it has started (a unique index per period),
so the monthly job and a payment can both ask for them; a period that ends without renewal
expires the subscription and its rights.
"""

from __future__ import annotations

from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from nexus.extensions import db
from nexus.memo import per_request
from nexus.models.billing import Entitlement, EntitlementStatus, Subscription, SubscriptionStatus
from nexus.models.catalog import Feature
from nexus.models.common import Subject
from nexus.models.credits import LotSource
from nexus.models.family import Student
from nexus.services import catalog, command, credits, utcnow
from nexus.services.paging import Page, paginate


def active_subscription(student_id: int, *, lock: bool = False) -> Subscription | None:
    stmt = select(Subscription).where(
        Subscription.student_id == student_id, Subscription.status == SubscriptionStatus.ACTIVE
    )
    if lock:
        # Re-read under the lock: an order check may have loaded it earlier in the transaction.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(stmt)


@per_request  # read by the home's cards and its next step alike
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


def subscriptions(status: SubscriptionStatus | None, number: int = 1) -> Page[Subscription]:
    """One page of plans, the first to end first, each with its student's name (one statement)."""
    stmt = (
        select(Subscription)
        .options(joinedload(Subscription.student).joinedload(Student.user))
        .order_by(Subscription.current_period_end, Subscription.id)
    )
    if status is not None:
        stmt = stmt.where(Subscription.status == status)
    return paginate(stmt, number)


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
