"""Booking a session with credits: the slot checked, the student's ledger locked, the credits
consumed, the coach told, the reminders planned.

Race-freedom (DESIGN rule 4): booking locks the student row first (the ledger's lock, so one
student's bookings queue up and never spend the same credit twice), and the two exclusion
constraints refuse any coach or student overlap: 50 people on the last slot give one booking and
49 "ce créneau vient d'être réservé".

A session starts only where the slot computation (scheduling/slots.py) offers a slot, so that a
booking at 14:07 cannot leave two unbookable stubs around it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from nexus import fr
from nexus.extensions import db
from nexus.models.catalog import Feature, ServiceType
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.services import ServiceError, billing, command, credits, utcnow
from nexus.services.scheduling import notices, video
from nexus.services.scheduling.parsing import BookingChoice
from nexus.services.scheduling.queries import services_of
from nexus.services.scheduling.reminders import plan_reminders
from nexus.services.scheduling.slots import (
    booking_bounds,
    busy_intervals,
    offered_starts,
    within_availability,
)

CENTRE_LOCATION = "Centre Nexus Réussite, Tunis"
COACH_OVERLAP = "ex_session_bookings_coach_overlap"
STUDENT_OVERLAP = "ex_session_bookings_student_overlap"


class SlotTaken(ServiceError):
    def __init__(self) -> None:
        super().__init__(
            "Ce créneau vient d'être réservé. Choisissez-en un autre parmi les créneaux encore libres.",
            "debut",
        )


class StudentBusy(ServiceError):
    def __init__(self, first_name: str) -> None:
        super().__init__(
            f"{first_name} a déjà une séance à ce moment-là. Choisissez un autre créneau.", "debut"
        )


# -- the slot ----------------------------------------------------------------------------------


def check_choice(choice: BookingChoice, now: datetime | None = None, *, ignoring: int | None = None) -> None:
    """Everything about the slot itself that can be refused before touching the ledger (the
    session `ignoring`, being moved, does not count as taking its own slot)."""
    now = now or utcnow()
    if choice.subject.value not in choice.coach.subjects:
        raise ServiceError(f"{choice.coach.pseudonym} n'enseigne pas cette matière.", "coach")
    if choice.service not in services_of(choice.coach):
        raise ServiceError(f"{choice.coach.pseudonym} ne propose pas ce type de cours.", "type")
    earliest, latest = booking_bounds(now)
    if choice.starts_at < now:
        raise ServiceError("Ce créneau est déjà passé. Choisissez-en un autre.", "debut")
    if choice.starts_at < earliest:
        raise ServiceError("Une séance se réserve au moins 2 heures à l'avance.", "debut")
    if choice.starts_at > latest:
        raise ServiceError("Une séance se réserve au plus 3 mois à l'avance.", "debut")
    if not within_availability(choice.coach.id, choice.starts_at, choice.ends_at):
        raise ServiceError(
            f"Ce créneau est en dehors des disponibilités de {choice.coach.pseudonym}.", "debut"
        )
    _refuse_off_grid(choice, now, ignoring)


def _refuse_off_grid(choice: BookingChoice, now: datetime, ignoring: int | None) -> None:
    """Only a start the slot computation offers: 14:07 would leave two unbookable stubs."""
    day = choice.starts_at.astimezone(fr.TUNIS).date()
    offered = offered_starts(choice.coach.id, choice.minutes, day, now=now, ignoring=ignoring)
    if choice.starts_at in offered:
        return
    if busy_intervals(choice.coach.id, None, choice.starts_at, choice.ends_at, ignoring=ignoring):
        raise SlotTaken()
    example = f" (par exemple {offered[0].astimezone(fr.TUNIS):%H:%M})" if offered else ""
    raise ServiceError(
        f"Choisissez l'un des créneaux proposés{example} : les séances commencent aux heures de la liste.",
        "debut",
    )


def can_use_credits(student_id: int) -> bool:
    """The entitlement checked is the student's, never the payer's."""
    return billing.has_feature(student_id, Feature.CREDITS_USE)


# -- booking -----------------------------------------------------------------------------------


@command
def book(
    actor: User,
    student: Student,
    choice: BookingChoice,
    *,
    now: datetime | None = None,
    rescheduled_from: SessionBooking | None = None,
) -> SessionBooking:
    """Book in one transaction: slot free, student entitled with credits, credits consumed,
    coach notified, reminders planned. A ServiceError leaves nothing behind."""
    now = now or utcnow()
    check_choice(choice, now)
    _hold_coach(choice.coach)
    credits.lock_student(student.id)
    first_name = student.user.first_name
    if not can_use_credits(student.id):
        raise ServiceError(
            f"L'abonnement de {first_name} ne comprend pas la réservation de séances avec crédits."
        )
    available = credits.balance(student.id)
    if available < choice.cost:
        raise credits.InsufficientCredits(choice.cost, available)
    _refuse_overlaps(choice, student)
    booking = SessionBooking(
        student_id=student.id,
        coach_id=choice.coach.id,
        booked_by_id=actor.id,
        subject=choice.subject,
        service=choice.service,
        title=f"{choice.subject.label} avec {choice.coach.pseudonym}",
        starts_at=choice.starts_at.astimezone(UTC),
        ends_at=choice.ends_at.astimezone(UTC),
        credits_cost=choice.cost,
        status=SessionStatus.SCHEDULED,
        room_name=video.new_room_name(),
        location=CENTRE_LOCATION if choice.service is ServiceType.COURS_PRESENTIEL else None,
        rescheduled_from_id=rescheduled_from.id if rescheduled_from else None,
    )
    insert_booking(booking, first_name)
    credits.consume(student.id, choice.cost, booking.id, actor.id)
    plan_reminders(booking, now)
    if rescheduled_from is None:
        notices.booked(booking, actor)
    return booking


def _hold_coach(coach: CoachProfile) -> None:
    """Share-lock the coach's account: a deactivation (which takes it FOR UPDATE, then counts the
    sessions still booked) either happens first and this booking is refused, or waits for it."""
    active = db.session.scalar(
        select(User.is_active).where(User.id == coach.user_id).with_for_update(read=True)
    )
    if not active:
        raise ServiceError(
            f"{coach.pseudonym} ne prend plus de réservations : choisissez un autre coach.", "coach"
        )


def _refuse_overlaps(choice: BookingChoice, student: Student) -> None:
    """Friendly early answers; the exclusion constraints remain the real guard."""
    if busy_intervals(choice.coach.id, None, choice.starts_at, choice.ends_at):
        raise SlotTaken()
    refuse_student_overlap(student, choice.starts_at, choice.ends_at)


def refuse_student_overlap(
    student: Student, starts_at: datetime, ends_at: datetime, busy: type[ServiceError] = StudentBusy
) -> None:
    """The student's own overlap, answered early (a workshop seat says it its own way)."""
    stmt = select(SessionBooking.id).where(
        SessionBooking.student_id == student.id,
        SessionBooking.is_holding,
        SessionBooking.starts_at < ends_at,
        SessionBooking.ends_at > starts_at,
    )
    if db.session.scalar(stmt.limit(1)) is not None:
        raise busy(student.user.first_name)


def insert_booking(booking: SessionBooking, first_name: str, busy: type[ServiceError] = StudentBusy) -> None:
    """Insert in a savepoint and turn an exclusion violation into the French answer."""
    try:
        with db.session.begin_nested():
            db.session.add(booking)
            db.session.flush()
    except IntegrityError as err:
        constraint = getattr(getattr(err.orig, "diag", None), "constraint_name", None)
        if constraint == COACH_OVERLAP:
            raise SlotTaken() from err
        if constraint == STUDENT_OVERLAP:
            raise busy(first_name) from err
        raise
