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
from nexus.services import utcnow

OPENS_BEFORE = timedelta(minutes=15)


def new_room_name() -> str:
    """128 random bits: nobody finds a room by trying names."""
    return f"nexus-{secrets.token_hex(16)}"


def has_room(booking: SessionBooking) -> bool:
    return booking.service is ServiceType.COURS_ONLINE


def opens_at(booking: SessionBooking) -> datetime:
    return booking.starts_at - OPENS_BEFORE


def is_open(booking: SessionBooking, now: datetime | None = None) -> bool:
    """From 15 minutes before the start until the end, while the session still holds its slot."""
    now = now or utcnow()
    return has_room(booking) and booking.is_holding and opens_at(booking) <= now <= booking.ends_at


def join_url(booking: SessionBooking, display_name: str | None = None) -> str:
    """The room on JITSI_SERVER_URL; the display name pre-fills Jitsi's name field."""
    base = current_app.config.get("JITSI_SERVER_URL") or "https://meet.jit.si"
    url = f"{base.rstrip('/')}/{booking.room_name}"
    if display_name:
        url += "#userInfo.displayName=" + quote(f'"{display_name}"', safe="")
    return url
