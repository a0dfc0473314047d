"""Holiday stages: callers use `stages.X`; each concern lives in its own module:

- `offers`: stages as staff create and edit them, and as the public sees them (seats left);
- `reservations`: the public reservation (seats never oversold, the waiting list) and what it sends;
- `desk`: the staff's follow-up (status, the paid invoice), the table's filters and CSV export;
- `telegram`: the outbox of messages to the staff's Telegram chat.
"""

from __future__ import annotations

from nexus.services.stages.desk import (
    RESERVATION_FILTERS,
    StatusChange,
    change_status,
    get_reservation,
    list_reservations,
    pending_count,
    reservations_stmt,
)
from nexus.services.stages.offers import (
    Listed,
    StaffListed,
    StageFields,
    all_stages,
    coming_stages,
    create_stage,
    get_stage,
    held_seats,
    is_open,
    seats_left,
    slugify,
    update_stage,
    visible_stage,
)
from nexus.services.stages.reservations import (
    CLOSED,
    FULL,
    ReservationDetails,
    Reserved,
    StageFull,
    dates_label,
    mail_context,
    reserve,
)

__all__ = [
    "CLOSED",
    "FULL",
    "RESERVATION_FILTERS",
    "Listed",
    "ReservationDetails",
    "Reserved",
    "StaffListed",
    "StageFields",
    "StageFull",
    "StatusChange",
    "all_stages",
    "change_status",
    "coming_stages",
    "create_stage",
    "dates_label",
    "get_reservation",
    "get_stage",
    "held_seats",
    "is_open",
    "list_reservations",
    "mail_context",
    "pending_count",
    "reservations_stmt",
    "reserve",
    "seats_left",
    "slugify",
    "update_stage",
    "visible_stage",
]
