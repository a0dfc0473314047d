"""Credits: the ledger and what changes it. Callers use `credits.X`; each concern lives in its
own module:

- `ledger`: lots and signed entries; balance() is the one and only balance function; grant,
  consume, refund;
- `expiry`: what is left of an expired lot, and the reminder the week before;
- `desk`: staff adjustments by hand, and the parents' requests that staff decide.
"""

from __future__ import annotations

from nexus.services.credits.desk import (
    MAX_REQUESTS_PER_DAY,
    REQUEST_VALIDITY,
    REQUEST_WINDOW,
    decide_request,
    desk_students,
    manual_deduct,
    manual_grant,
    pending_requests,
    recently_decided_requests,
    request_credits,
    students_page,
    students_stmt,
)
from nexus.services.credits.expiry import REMINDER_DAYS, expire_due, lots_expiring_soon, remind_expiring
from nexus.services.credits.ledger import (
    MAX_GRANT,
    ExpiryLine,
    InsufficientCredits,
    LotView,
    balance,
    balances,
    by_expiry_date,
    consume,
    expiry_lines_of,
    grant,
    history,
    lock_student,
    lot_remaining,
    open_lots,
    open_lots_of,
    refund,
)

__all__ = [
    "MAX_GRANT",
    "MAX_REQUESTS_PER_DAY",
    "REMINDER_DAYS",
    "REQUEST_VALIDITY",
    "REQUEST_WINDOW",
    "ExpiryLine",
    "InsufficientCredits",
    "LotView",
    "balance",
    "balances",
    "by_expiry_date",
    "consume",
    "decide_request",
    "desk_students",
    "expire_due",
    "expiry_lines_of",
    "grant",
    "history",
    "lock_student",
    "lot_remaining",
    "lots_expiring_soon",
    "manual_deduct",
    "manual_grant",
    "open_lots",
    "open_lots_of",
    "pending_requests",
    "recently_decided_requests",
    "refund",
    "remind_expiring",
    "request_credits",
    "students_page",
    "students_stmt",
]
