"""Periodic money jobs: monthly credits, expiry, expiry reminders, lapsed subscriptions and the
notices before they lapse, card payments reconciled with the gateway.

Each is idempotent (unique constraints and conditional updates) and can be run by hand:
`flask jobs run NAME`. The rules live in the services; a job lists the ids and calls one command
per item, so that each item is its own transaction and one done is kept whatever follows.
"""

from __future__ import annotations

import logging

from nexus.queue import job
from nexus.services import ServiceError, billing, clictopay, credits, utcnow

log = logging.getLogger(__name__)
STOP_AFTER_UNANSWERED = 3  # the card gateway down: the rest waits for the next run


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
    for sub_id in ended:  # the family is told at once (send_subscription_notices would, later)
        billing.send_lapse_notice(sub_id)
    return len(ended)


@job
def send_subscription_notices() -> int:
    """Tell the families 7 days and 1 day before a plan lapses, and once it has (once each)."""
    now = utcnow()
    return sum(billing.send_lapse_notice(sub_id, now) for sub_id in billing.subscriptions_to_notify(now))


@job
def reconcile_card_payments() -> int:
    """Ask ClicToPay about the card payments whose family never came back: fulfil the paid ones,
    fail the refused or expired ones; how many were settled. One payment's trouble (an option
    whose plan ended) is logged and leaves it pending for the next run; a gateway that does not
    answer STOP_AFTER_UNANSWERED times in a row ends the run (each call may wait its timeout)."""
    settled = unanswered = 0
    for payment_id in clictopay.card_payments_to_check():
        try:
            check = clictopay.reconcile(payment_id)
        except (ServiceError, LookupError) as err:
            log.warning("card payment %s not reconciled: %s", payment_id, err)
            continue
        settled += check.outcome in (clictopay.PAID_OUT, clictopay.FAILED_OUT)
        unanswered = unanswered + 1 if check.outcome == clictopay.UNREACHABLE else 0
        if unanswered >= STOP_AFTER_UNANSWERED:
            log.warning("card gateway not answering: reconciliation stopped until the next run")
            break
    return settled
