"""Cancelling and moving a session: the terms said before confirming, the refund by the rules.

Both lock the booking row and re-read it (populate_existing): the page loaded it before the
lock, and a second click must see what the first one did. A workshop seat is cancelled here too
(one path): its workshop is locked first (the workshops' lock order: workshop, then booking and
ledger), and the freed seat goes to the first in line in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from nexus import fr, policy
from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.common import Role
from nexus.models.identity import User
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.services import ServiceError, audit, command, credits, utcnow
from nexus.services.progress import events as progress_events
from nexus.services.scheduling import notices
from nexus.services.scheduling.booking import book
from nexus.services.scheduling.parsing import BookingChoice
from nexus.services.scheduling.queries import booking_for
from nexus.services.scheduling.reminders import cancel_reminders
from nexus.services.scheduling.slots import minutes_of
from nexus.services.workshops.seats import lock_workshop, promote
from nexus.text import check_size, check_text

FREE_CANCEL_NOTICE = timedelta(hours=24)
GROUP_FREE_CANCEL_NOTICE = timedelta(hours=48)
REASON_MAX = 500  # a cancellation reason (session_bookings.cancel_reason)


class AlreadyClosed(ServiceError):
    """The session was cancelled, moved or closed meanwhile (another click, another tab)."""


@dataclass(frozen=True)
class CancelTerms:
    allowed: bool
    refund: bool
    deadline: datetime  # the last moment for a free cancellation by the family
    message: str  # what the page says before the user confirms


def free_cancel_notice(booking: SessionBooking) -> timedelta:
    if booking.service is ServiceType.ATELIER_GROUPE:
        return GROUP_FREE_CANCEL_NOTICE
    return FREE_CANCEL_NOTICE


def closed_message(status: SessionStatus) -> str:
    return {
        SessionStatus.CANCELLED: "Cette séance est déjà annulée.",
        SessionStatus.COMPLETED: "Cette séance est terminée.",
        SessionStatus.NO_SHOW: "Cette séance est close (absence).",
    }.get(status, "Cette séance ne peut plus être annulée.")


def cancel_terms(booking: SessionBooking, actor: User, now: datetime | None = None) -> CancelTerms:
    """Whether the actor may cancel now, and whether the credits come back; said before confirming."""
    now = now or utcnow()
    notice = free_cancel_notice(booking)
    deadline = booking.starts_at - notice
    cost = booking.credits_cost
    credits = fr.credits(cost)
    several = abs(cost) >= 2  # French agrees with the number: "1,5 crédit sera rendu"
    if not booking.status.is_holding:
        return CancelTerms(False, False, deadline, closed_message(booking.status))
    if policy.is_staff(actor):
        refunded = fr.plural(cost, "crédit rendu", "crédits rendus")
        return CancelTerms(True, True, deadline, f"Annulation par l'équipe : {refunded}.")
    if booking.starts_at <= now:
        return CancelTerms(False, False, deadline, "La séance a commencé : elle ne peut plus être annulée.")
    if actor.role is Role.COACH:
        return CancelTerms(
            True, True, deadline, f"Annulée par le coach : l'élève récupère {credits}."
        )
    hours = int(notice.total_seconds() // 3600)
    if now <= deadline:
        return CancelTerms(
            True,
            True,
            deadline,
            f"Annulation gratuite : {credits} {'seront rendus' if several else 'sera rendu'} "
            f"(possible jusqu'au {fr.when(deadline)}, {hours} h avant).",
        )
    return CancelTerms(
        True,
        False,
        deadline,
        f"Moins de {hours} h avant la séance : si vous annulez, "
        f"{credits} {'sont perdus' if several else 'est perdu'}.",
    )


@dataclass(frozen=True)
class Cancelled:
    booking: SessionBooking
    refunded: Decimal


@command
def cancel(
    actor: User,
    booking_id: int,
    reason: str | None = None,
    *,
    now: datetime | None = None,
    announce: bool = True,
) -> Cancelled:
    """Cancel a session the actor may see; refund by the rules. Locks the booking row."""
    now = now or utcnow()
    workshop_id = db.session.scalar(select(SessionBooking.workshop_id).where(SessionBooking.id == booking_id))
    workshop = lock_workshop(workshop_id) if workshop_id is not None else None
    booking = booking_for(actor, booking_id, lock=True)
    if booking is None:
        raise LookupError(booking_id)
    terms = cancel_terms(booking, actor, now)
    if not booking.is_holding:
        raise AlreadyClosed(_closed_message(booking))
    if not terms.allowed:
        raise ServiceError(terms.message)
    check_text(reason, "reason")
    check_size((reason or "").strip(), "reason", REASON_MAX)
    reason = (reason or "").strip() or None
    before = booking.status.value
    booking.status = SessionStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by_id = actor.id
    booking.cancel_reason = reason
    refunded = Decimal(0)
    if terms.refund:
        refunded = credits.refund(booking.student_id, booking.id, actor.id, "Séance annulée")
    cancel_reminders(booking.id, now)
    if policy.is_staff(actor):
        audit.record(
            "session.cancelled",
            actor.id,
            booking,
            before={"status": before},
            after={"status": "CANCELLED", "refunded": str(refunded), "reason": reason},
        )
    if announce:
        notices.cancelled(booking, actor, refunded, reason)
    progress_events.changed(booking.student_id, "session")
    if workshop is not None:
        promote(workshop, now)
    return Cancelled(booking, refunded)


@command
def reschedule(
    actor: User, booking_id: int, new_start: datetime, *, now: datetime | None = None
) -> SessionBooking:
    """Cancel and book again in one transaction: both happen, or neither."""
    now = now or utcnow()
    if actor.role is Role.COACH:
        raise ServiceError("Pour déplacer une séance, annulez-la : l'élève en réservera une autre.")
    current = booking_for(actor, booking_id, lock=True)
    if current is None:
        raise LookupError(booking_id)
    if not current.is_holding:
        raise AlreadyClosed(_closed_message(current))
    if current.workshop_id is not None:
        raise ServiceError(
            "Une place d'atelier ne se déplace pas : annulez-la, puis choisissez un autre atelier."
        )
    if new_start == current.starts_at:
        raise ServiceError("La séance est déjà à cet horaire : choisissez-en un autre.", "debut")
    done = cancel(actor, booking_id, "Séance déplacée", now=now, announce=False)
    old = done.booking
    choice = BookingChoice(old.coach, old.subject, old.service, minutes_of(old), new_start)
    new = book(actor, old.student, choice, now=now, rescheduled_from=old)
    notices.rescheduled(old, new, actor)
    return new


def moved_to(booking: SessionBooking) -> datetime | None:
    """When the session was moved to, if it was moved (it is then cancelled, and a new one booked)."""
    return db.session.scalar(
        select(SessionBooking.starts_at)
        .where(SessionBooking.rescheduled_from_id == booking.id)
        .order_by(SessionBooking.id)
        .limit(1)
    )


def _closed_message(booking: SessionBooking) -> str:
    """Why a session can no longer be cancelled or moved: already moved (and where to), or closed."""
    moved = moved_to(booking)
    if moved is not None:
        return f"Cette séance a déjà été déplacée au {fr.when(moved)}."
    return closed_message(booking.status)
