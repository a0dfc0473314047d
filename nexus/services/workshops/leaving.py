"""A participant's seat cancelled: the same path as any session (scheduling.changes.cancel,
which locks the workshop first, applies the 48-hour rule and promotes the first in line), only
refused for a booking that is not a workshop seat."""

from __future__ import annotations

from datetime import datetime

from nexus.models.identity import User
from nexus.models.scheduling import SessionBooking
from nexus.services import command
from nexus.services.scheduling import changes
from nexus.services.scheduling.queries import booking_for


def seat_terms(booking: SessionBooking, actor: User, now: datetime | None = None) -> changes.CancelTerms:
    """What the page says before confirming: 48 hours or more before, the credits come back."""
    return changes.cancel_terms(booking, actor, now)


@command
def cancel_seat(
    actor: User, booking_id: int, reason: str | None = None, *, now: datetime | None = None
) -> changes.Cancelled:
    """Cancel a seat the actor may see (someone else's: LookupError); the freed seat goes to
    the first in line in the same transaction."""
    booking = booking_for(actor, booking_id)
    if booking is None or booking.workshop_id is None:
        raise LookupError(booking_id)
    return changes.cancel(actor, booking_id, reason, now=now)
