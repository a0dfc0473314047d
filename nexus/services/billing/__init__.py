"""Orders, payments, subscriptions and entitlements: the money path. Callers use `billing.X`;
each concern lives in its own module:

- `orders`: an offer ordered for one child, priced from the catalog; the declared transfer;
- `decisions`: staff approve or reject a declared transfer, exactly once;
- `fulfilment`: what a paid order grants, its invoice and e-mails, in the settling transaction;
- `subscriptions`: what a student may use now; monthly credits; lapsed periods;
- `lapses`: the family told before a plan lapses and when it has, once each;
- `plan_edits`: the admin corrects a plan's status and end, its rights following;
- `cards`: card payments as staff see them (clictopay settles them).
"""

from __future__ import annotations

from nexus.services.billing.cards import CARD_FILTERS, card_filter, card_payments, card_payments_stmt
from nexus.services.billing.decisions import (
    ALREADY_PROCESSED,
    NOT_STAFF_DECIDED,
    STAFF_DECIDED,
    AlreadyProcessed,
    approve,
    recently_decided,
    reject,
    staff_decides,
)
from nexus.services.billing.fulfilment import fulfil
from nexus.services.billing.lapses import send_lapse_notice, subscriptions_to_notify
from nexus.services.billing.orders import (
    BANK,
    Order,
    build_order,
    create_pending,
    declare_transfer,
    new_reference,
    payment_state,
    payments_of_parent,
    pending_for,
    pending_transfers,
    transfer_reference,
)
from nexus.services.billing.plan_edits import (
    ANOTHER_ACTIVE,
    edit_subscription,
    ends_plan,
    find_subscription,
)
from nexus.services.billing.subscriptions import (
    active_entitlements,
    active_subscription,
    active_subscriptions_of,
    allocate,
    allocate_started_months,
    aria_subjects,
    end_lapsed_subscriptions,
    has_feature,
    subscriptions,
    subscriptions_to_allocate,
)

__all__ = [
    "ALREADY_PROCESSED",
    "ANOTHER_ACTIVE",
    "BANK",
    "CARD_FILTERS",
    "NOT_STAFF_DECIDED",
    "STAFF_DECIDED",
    "AlreadyProcessed",
    "Order",
    "active_entitlements",
    "active_subscription",
    "active_subscriptions_of",
    "allocate",
    "allocate_started_months",
    "approve",
    "aria_subjects",
    "build_order",
    "card_filter",
    "card_payments",
    "card_payments_stmt",
    "create_pending",
    "declare_transfer",
    "edit_subscription",
    "end_lapsed_subscriptions",
    "ends_plan",
    "find_subscription",
    "fulfil",
    "has_feature",
    "new_reference",
    "payment_state",
    "payments_of_parent",
    "pending_for",
    "pending_transfers",
    "recently_decided",
    "reject",
    "send_lapse_notice",
    "staff_decides",
    "subscriptions",
    "subscriptions_to_allocate",
    "subscriptions_to_notify",
    "transfer_reference",
]
