"""Holiday stages: callers use `stages.X`; each concern lives in its own module:

- `offers`: stages as staff create and edit them, and as the public sees them (seats left);
- `reservations`: the public reservation (seats never oversold, the waiting list), the staff's
  follow-up and export;
- `telegram`: the outbox of messages to the staff's Telegram chat.
"""

from __future__ import annotations

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
    FULL,
    RESERVATION_FILTERS,
    ReservationDetails,
    Reserved,
    StageFull,
    StatusChange,
    change_status,
    dates_label,
    export_rows,
    get_reservation,
    list_reservations,
    mail_context,
    pending_count,
    reserve,
)

__all__ = [
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
    "export_rows",
    "get_reservation",
    "get_stage",
    "held_seats",
    "is_open",
    "list_reservations",
    "mail_context",
    "pending_count",
    "reserve",
    "seats_left",
    "slugify",
    "update_stage",
    "visible_stage",
]
