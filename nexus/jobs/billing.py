"""Periodic money jobs: monthly credits, expiry, expiry reminders, lapsed subscriptions.

Each is idempotent (unique constraints and conditional updates), commits per item so that
one bad row does not block the others, and can be run by hand: `flask jobs run NAME`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, update

from nexus.extensions import db
from nexus.models.billing import Entitlement, EntitlementStatus, Subscription, SubscriptionStatus
from nexus.models.credits import CreditEntry, CreditLot
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.queue import job
from nexus.services import billing, credits, notifications, utcnow

log = logging.getLogger(__name__)
REMINDER_DAYS = 7
TUNIS = ZoneInfo("Africa/Tunis")


@job
def allocate_monthly_credits() -> int:
    """Grant each active subscription the credits of every month it has started (once each)."""
    now = utcnow()
    ids = db.session.scalars(
        select(Subscription.id).where(
            Subscription.status == SubscriptionStatus.ACTIVE, Subscription.credits_per_month > 0
        )
    ).all()
    granted = 0
    for sub_id in ids:
        sub = db.session.get_one(Subscription, sub_id)
        start, month = sub.started_at, 0
        while start <= now and start < sub.current_period_end:
            granted += billing.allocate(sub, start)
            month += 1
            start = sub.started_at + relativedelta(months=month)
        db.session.commit()
    return granted


@job
def expire_credit_lots() -> int:
    count = credits.expire_due()
    db.session.commit()
    return count


@job
def remind_expiring_credits() -> int:
    """E-mail the parents once per lot, 7 days before its credits expire."""
    now = utcnow()
    remaining = func.sum(CreditEntry.amount)
    rows = db.session.execute(
        select(CreditLot.id, CreditLot.student_id, CreditLot.expires_at, remaining)
        .join(CreditEntry, CreditEntry.lot_id == CreditLot.id)
        .where(CreditLot.expires_at > now, CreditLot.expires_at <= now + timedelta(days=REMINDER_DAYS))
        .group_by(CreditLot.id)
        .having(remaining > 0)
    ).all()
    sent = 0
    for lot_id, student_id, expires_at, left in rows:
        student = db.session.get_one(Student, student_id)
        told = [_remind_parent(parent, student, lot_id, left, expires_at) for parent in _parents(student)]
        sent += any(told)
        db.session.commit()
    return sent


@job
def end_lapsed_subscriptions() -> int:
    """A period that ended without renewal: the subscription expires, so do its rights."""
    now = utcnow()
    ended = db.session.scalars(
        update(Subscription)
        .where(Subscription.status == SubscriptionStatus.ACTIVE, Subscription.current_period_end <= now)
        .values(status=SubscriptionStatus.EXPIRED, ended_at=now)
        .returning(Subscription.id)
    ).all()
    db.session.execute(
        update(Entitlement)
        .where(Entitlement.status == EntitlementStatus.ACTIVE, Entitlement.ends_at <= now)
        .values(status=EntitlementStatus.EXPIRED)
    )
    db.session.commit()
    if ended:
        log.info("subscriptions expired: %s", ended)
    return len(ended)


def _parents(student: Student) -> list[User]:
    """Every parent of the family who can read an e-mail (co-parents included)."""
    return [p for p in student.parent.guardians if p.email and p.is_active]


def _remind_parent(parent: User, student: Student, lot_id: int, left: Decimal, expires_at: datetime) -> bool:
    """E-mail and notify one parent once per lot; True if it was not done before."""
    first = parent.id == student.parent.user_id  # the opener keeps the key of one-parent days
    queued = notifications.queue_email(
        parent.email or "",
        "credits_expiring",
        f"Rappel : des crédits de {student.user.first_name} expirent bientôt",
        {
            "first_name": parent.first_name,
            "child": student.user.first_name,
            "credits": str(left),
            "expires_on": expires_at.astimezone(TUNIS).strftime("%d/%m/%Y"),
        },
        user_id=parent.id,
        dedupe_key=f"credits-expiring:{lot_id}" + ("" if first else f":{parent.id}"),
    )
    if queued is None:
        return False
    notifications.notify(
        parent.id,
        "CREDITS_EXPIRING",
        f"Crédits de {student.user.first_name} bientôt expirés",
        "Réservez une séance pour en profiter.",
        "/dashboard/parent",
    )
    return True
