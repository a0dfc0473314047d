"""Calendars: a private iCal feed per user, and the .ics attached to a confirmation e-mail.

The feed URL carries `<user id>-<version>-<HMAC>`: the server can show it again at any time and
nothing secret is stored; regenerating bumps the version, so the old URL stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import joinedload

from nexus import fr, links, policy
from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import CalendarFeed, SessionBooking, SessionStatus
from nexus.models.workshops import Workshop, WorkshopStatus
from nexus.services import command, parse_id, utcnow
from nexus.services.scheduling import video
from nexus.services.scheduling.queries import visible_to
from nexus.services.scheduling.slots import minutes_of

FEED_PAST = timedelta(days=14)
FEED_AHEAD = timedelta(days=92)
SIGNATURE_HEX = 32  # 128 bits
PRODID = "-//Nexus Réussite//Séances//FR"
UID_DOMAIN = "nexus-reussite.tn"


# -- the secret feed URL -----------------------------------------------------------------------


def _signature(user_id: int, version: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"calendar-feed:{user_id}:{version}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:SIGNATURE_HEX]


def token_for(user_id: int, version: int) -> str:
    return f"{user_id}-{version}-{_signature(user_id, version)}"


def feed_of(user: User) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def feed_token(user: User) -> str | None:
    feed = feed_of(user)
    return token_for(user.id, feed.version) if feed else None


@command
def regenerate(user: User) -> str:
    """Create the feed, or give it a new URL (the previous one stops working)."""
    if not policy.FEED_USERS.allows_role(user.role):
        raise LookupError(user.id)
    version = db.session.scalar(
        insert(CalendarFeed)
        .values(user_id=user.id, version=1)
        .on_conflict_do_update(
            index_elements=["user_id"],
            set_={"version": CalendarFeed.version + 1, "updated_at": utcnow()},
        )
        .returning(CalendarFeed.version)
    )
    return token_for(user.id, int(version or 1))


def user_for_token(token: str) -> User | None:
    """The active user whose current feed token this is, else None (answer 404)."""
    parts = token.split("-")
    if len(parts) != 3:
        return None
    # parse_id: ASCII digits within bigint ('²'.isdigit() is True, and int() of it fails).
    user_id, version = parse_id(parts[0]), parse_id(parts[1])
    if user_id is None or version is None:
        return None
    if not hmac.compare_digest(parts[2], _signature(user_id, version)):
        return None
    row = db.session.execute(
        select(User, CalendarFeed.version)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(User.id == user_id)
    ).first()
    if row is None or row[1] != version or not row[0].is_active:
        return None
    return row[0]


# -- what a feed holds -------------------------------------------------------------------------


def feed_bookings(user: User, now: datetime | None = None) -> list[SessionBooking]:
    """The user's sessions from 2 weeks back to 3 months ahead (cancelled ones too, marked so).
    A coach's workshop seats are left out: their feed shows each workshop once (feed_workshops)."""
    if not policy.FEED_USERS.allows_role(user.role):
        return []
    now = now or utcnow()
    stmt = (
        select(SessionBooking)
        .where(
            visible_to(user),
            SessionBooking.starts_at >= now - FEED_PAST,
            SessionBooking.starts_at <= now + FEED_AHEAD,
        )
        .options(
            joinedload(SessionBooking.student).joinedload(Student.user),
            joinedload(SessionBooking.coach),
        )
        .order_by(SessionBooking.starts_at)
    )
    if user.role is Role.COACH:
        stmt = stmt.where(SessionBooking.workshop_id.is_(None))
    return list(db.session.scalars(stmt).unique())


def feed_workshops(user: User, now: datetime | None = None) -> list[Workshop]:
    """A coach's workshops in the feed's window, each once, with or without participants."""
    if user.role is not Role.COACH:
        return []
    now = now or utcnow()
    stmt = (
        select(Workshop)
        .join(CoachProfile, Workshop.coach_id == CoachProfile.id)
        .where(
            CoachProfile.user_id == user.id,
            Workshop.starts_at >= now - FEED_PAST,
            Workshop.starts_at <= now + FEED_AHEAD,
        )
        .order_by(Workshop.starts_at, Workshop.id)
    )
    return list(db.session.scalars(stmt))


def _event(booking: SessionBooking, viewer_role: Role, stamp: datetime) -> Event:
    link = links.external("sessions.detail", booking_id=booking.id)
    kind = "Atelier" if booking.workshop_id else "Séance"
    if viewer_role is Role.COACH:
        summary = f"{kind} {booking.subject.label} — {booking.student.user.full_name}"
    else:
        summary = f"{kind} {booking.subject.label} avec {booking.coach.pseudonym}"
    cancelled = booking.status is SessionStatus.CANCELLED
    event = Event()
    event.add("uid", f"session-{booking.id}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", ("Annulée : " if cancelled else "") + summary)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", 1 if cancelled else 0)
    event.add("url", link)
    where = booking.location or ("En ligne (visioconférence)" if video.has_room(booking) else "")
    if where:
        event.add("location", where)
    lines = [f"{booking.service.label}, {fr.duration(minutes_of(booking))}."]
    if video.has_room(booking) and not cancelled:
        lines.append(f"Salle de visioconférence, ouverte 15 minutes avant : {link}/rejoindre")
    lines.append(f"Détails : {link}")
    event.add("description", "\n".join(lines))
    return event


def _workshop_event(workshop: Workshop, stamp: datetime) -> Event:
    """A coach's workshop, once for the whole group."""
    link = links.external("workshops.coach_detail", workshop_id=workshop.id)
    cancelled = workshop.status is WorkshopStatus.CANCELLED
    event = Event()
    event.add("uid", f"workshop-{workshop.id}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", workshop.starts_at)
    event.add("dtend", workshop.ends_at)
    summary = f"Atelier {workshop.subject.label} — {workshop.title}"
    event.add("summary", ("Annulé : " if cancelled else "") + summary)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", 1 if cancelled else 0)
    event.add("url", link)
    event.add("location", workshop.location or ("En ligne (visioconférence)" if workshop.online else ""))
    minutes = int((workshop.ends_at - workshop.starts_at).total_seconds() // 60)
    lines = [
        f"Atelier en petit groupe, {workshop.grade.label}, {fr.duration(minutes)}, {workshop.seats} places.",
        f"Participants et compte rendu : {link}",
    ]
    event.add("description", "\n".join(lines))
    return event


def render(
    bookings: list[SessionBooking], viewer_role: Role, name: str, workshops: list[Workshop] | None = None
) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Africa/Tunis")
    stamp = utcnow()
    for booking in bookings:
        cal.add_component(_event(booking, viewer_role, stamp))
    for workshop in workshops or []:
        cal.add_component(_workshop_event(workshop, stamp))
    return cal.to_ical()


def feed(user: User) -> bytes:
    return render(feed_bookings(user), user.role, "Nexus Réussite — mes séances", feed_workshops(user))


def booking_attachment(booking_id: int, *, for_coach: bool = False) -> tuple[str, str, bytes] | None:
    """(filename, content type, bytes) of one session's .ics, for an e-mail; None if it is gone."""
    booking = db.session.get(SessionBooking, booking_id)
    if booking is None:
        return None
    data = render([booking], Role.COACH if for_coach else Role.ELEVE, "Nexus Réussite")
    return "seance-nexus-reussite.ics", "text/calendar; charset=utf-8; method=PUBLISH", data
