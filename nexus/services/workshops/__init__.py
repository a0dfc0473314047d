"""Group workshops: planning them (`planning`: create, a weekly series, cancel the whole
workshop), seats and the waiting list (`seats`: book, join, leave, promote), a participant's
cancellation (`leaving`, through scheduling's one cancel path), what the pages read (`queries`),
who is told (`notices`) and the coach's group report (`report`).

Each seat is a SessionBooking (service ATELIER_GROUPE, workshop_id set): ledger, reminders, .ics,
the calendar feed and the session page work per participant as for a one-to-one session.
"""

from nexus.services.workshops.leaving import cancel_seat, seat_terms
from nexus.services.workshops.planning import (
    CREDITS_PER_HOUR,
    WorkshopInput,
    cancel_workshop,
    create,
    credits_cost,
    sittings,
)
from nexus.services.workshops.queries import (
    WorkshopCard,
    WorkshopRow,
    card_for,
    coach_list,
    open_for,
    participants,
    staff_list,
    to_close,
    visible_workshop,
    waitlist,
    waitlist_students,
)
from nexus.services.workshops.seats import (
    StudentBusy,
    WorkshopFull,
    book_seat,
    join_waitlist,
    leave_waitlist,
    promote,
    seats_taken,
)

__all__ = [
    "CREDITS_PER_HOUR",
    "StudentBusy",
    "WorkshopCard",
    "WorkshopFull",
    "WorkshopInput",
    "WorkshopRow",
    "book_seat",
    "cancel_seat",
    "cancel_workshop",
    "card_for",
    "coach_list",
    "create",
    "credits_cost",
    "join_waitlist",
    "leave_waitlist",
    "open_for",
    "participants",
    "promote",
    "seat_terms",
    "seats_taken",
    "sittings",
    "staff_list",
    "to_close",
    "visible_workshop",
    "waitlist",
    "waitlist_students",
]
