"""Video rooms (Jitsi): one unguessable room per session, stored on the booking.

The original drew a new random room on every "join", so coach and student never met. Here the
name is drawn once, when the session is booked, and both land in it. The room opens in a new
tab on the Jitsi server: our own pages keep their strict CSP and camera/microphone policy.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import current_app

from nexus.models.catalog import ServiceType
from nexus.models.scheduling import SessionBooking
from nexus.models.workshops import Workshop, WorkshopStatus
from nexus.services import utcnow

OPENS_BEFORE = timedelta(minutes=15)


def new_room_name() -> str:
    """128 random bits: nobody finds a room by trying names."""
    return f"nexus-{secrets.token_hex(16)}"


def has_room(booking: SessionBooking) -> bool:
    """An online session; a seat in an online workshop (the group's one room)."""
    if booking.workshop_id is not None:
        return booking.workshop is not None and booking.workshop.online
    return booking.service is ServiceType.COURS_ONLINE


def room_of(booking: SessionBooking) -> str:
    """The room the participant joins: a workshop's seats all land in the workshop's room."""
    if booking.workshop_id is not None and booking.workshop is not None:
        return booking.workshop.room_name
    return booking.room_name


def workshop_join_url(workshop: Workshop, display_name: str | None = None) -> str:
    """The coach's way into a workshop's room (the participants use join_url on their seat)."""
    return _url(workshop.room_name, display_name)


def opens_at(booking: SessionBooking) -> datetime:
    return booking.starts_at - OPENS_BEFORE


def is_open(booking: SessionBooking, now: datetime | None = None) -> bool:
    """From 15 minutes before the start until the end, while the session still holds its slot."""
    now = now or utcnow()
    return has_room(booking) and booking.is_holding and opens_at(booking) <= now <= booking.ends_at


def workshop_is_open(workshop: Workshop, now: datetime | None = None) -> bool:
    """A scheduled online workshop's room, from 15 minutes before the start until the end."""
    now = now or utcnow()
    return (
        workshop.online
        and workshop.status is WorkshopStatus.SCHEDULED
        and workshop.starts_at - OPENS_BEFORE <= now <= workshop.ends_at
    )


def join_url(booking: SessionBooking, display_name: str | None = None) -> str:
    """The room on JITSI_SERVER_URL; the display name pre-fills Jitsi's name field."""
    return _url(room_of(booking), display_name)


def _url(room_name: str, display_name: str | None) -> str:
    base = current_app.config.get("JITSI_SERVER_URL") or "https://meet.jit.si"
    url = f"{base.rstrip('/')}/{room_name}"
    if display_name:
        url += "#userInfo.displayName=" + quote(f'"{display_name}"', safe="")
    return url
