"""Subscriptions and entitlements (read side; the money path comes with payments)."""

from __future__ import annotations

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.billing import Subscription, SubscriptionStatus


def active_subscription(student_id: int) -> Subscription | None:
    return db.session.scalar(
        select(Subscription).where(
            Subscription.student_id == student_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
    )
