"""Periodic money jobs: monthly credits, expiry, expiry reminders, lapsed subscriptions.

Each is idempotent (unique constraints and conditional updates) and can be run by hand:
`flask jobs run NAME`. The rules live in the services; a job lists the ids and calls one command
per item, so that each item is its own transaction and one done is kept whatever follows.
"""

from __future__ import annotations

import logging

from nexus.queue import job
from nexus.services import billing, credits, utcnow

log = logging.getLogger(__name__)


@job
def allocate_monthly_credits() -> int:
    """Grant each active subscription the credits of every month it has started (once each)."""
    now = utcnow()
    return sum(billing.allocate_started_months(sub_id, now) for sub_id in billing.subscriptions_to_allocate())


@job
def expire_credit_lots() -> int:
    return credits.expire_due()


@job
def remind_expiring_credits() -> int:
    """E-mail the parents once per lot, a week before its credits expire."""
    now = utcnow()
    return sum(credits.remind_expiring(lot_id, now) for lot_id in credits.lots_expiring_soon(now))


@job
def end_lapsed_subscriptions() -> int:
    """A period that ended without renewal: the subscription expires, so do its rights."""
    ended = billing.end_lapsed_subscriptions()
    if ended:
        log.info("subscriptions expired: %s", ended)
    return len(ended)
