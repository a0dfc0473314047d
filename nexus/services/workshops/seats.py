"""Seats in a group workshop: booking one with credits, the waiting list, and the promotion of
the first in line when a seat is freed.

Race-freedom (DESIGN rule 4): every change to a workshop's seats or waiting list locks the
workshop row first (then the student's ledger, then a booking), so the seats are counted under
the lock: 50 families on the last seat give one seat and 49 "complet". A seat freed (a family's
cancellation, through scheduling/changes.py too) is offered to the waiting list in the same
transaction, under the same lock, so a seat is never given twice.

This module never imports scheduling.changes (which imports it to promote after a cancel).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from nexus import policy
from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.common import Role
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.models.workshops import WaitStatus, Workshop, WorkshopStatus, WorkshopWaitlist
from nexus.services import ServiceError, command, credits, family, locked, utcnow
from nexus.services.scheduling import notices as session_notices
from nexus.services.scheduling import video
from nexus.services.scheduling.booking import (
    CENTRE_LOCATION,
    can_use_credits,
    insert_booking,
    refuse_student_overlap,
)
from nexus.services.scheduling.reminders import plan_reminders
from nexus.services.scheduling.slots import MIN_NOTICE
from nexus.services.workshops import notices

WAITLIST_UNIQUE = "uq_workshop_waitlist_waiting"


class WorkshopFull(ServiceError):
    def __init__(self) -> None:
        super().__init__("Cet atelier est complet : inscrivez-vous sur la liste d'attente.")


class StudentBusy(ServiceError):
    def __init__(self, first_name: str) -> None:
        super().__init__(f"{first_name} a déjà une séance pendant cet atelier.")


# -- reading under the lock --------------------------------------------------------------------


def lock_workshop(workshop_id: int) -> Workshop:
    """The workshop row locked (FOR UPDATE) and re-read; LookupError if there is none."""
    workshop = locked(Workshop, workshop_id)
    if workshop is None:
        raise LookupError(workshop_id)
    return workshop


def seats_taken(workshop_id: int) -> int:
    stmt = select(func.count()).where(SessionBooking.workshop_id == workshop_id, SessionBooking.is_holding)
    return db.session.scalar(stmt) or 0


def seat_of(workshop_id: int, student_id: int) -> SessionBooking | None:
    """The student's seat still held in this workshop, if any."""
    stmt = select(SessionBooking).where(
        SessionBooking.workshop_id == workshop_id,
        SessionBooking.student_id == student_id,
        SessionBooking.is_holding,
    )
    return db.session.scalar(stmt.limit(1))


def waiting_entry(workshop_id: int, student_id: int) -> WorkshopWaitlist | None:
    stmt = select(WorkshopWaitlist).where(
        WorkshopWaitlist.workshop_id == workshop_id,
        WorkshopWaitlist.student_id == student_id,
        WorkshopWaitlist.status == WaitStatus.WAITING,
    )
    return db.session.scalar(stmt.limit(1))


def first_waiting(workshop_id: int) -> WorkshopWaitlist | None:
    stmt = (
        select(WorkshopWaitlist)
        .where(WorkshopWaitlist.workshop_id == workshop_id, WorkshopWaitlist.status == WaitStatus.WAITING)
        .order_by(WorkshopWaitlist.created_at, WorkshopWaitlist.id)
    )
    return db.session.scalar(stmt.limit(1))


# -- checks ------------------------------------------------------------------------------------


def may_act_for(actor: User, student: Student) -> bool:
    """The student themself, a parent of their family, or staff."""
    if policy.is_staff(actor) or actor.id == student.user_id:
        return True
    if actor.role is not Role.PARENT:
        return False
    return student.parent_id in set(db.session.scalars(family.family_ids(actor.id)))


def check_open(workshop: Workshop, student: Student, now: datetime) -> None:
    """The workshop still takes this student: scheduled, their grade, at least 2 hours ahead."""
    if workshop.status is WorkshopStatus.CANCELLED:
        raise ServiceError("Cet atelier est annulé.")
    if workshop.status is not WorkshopStatus.SCHEDULED:
        raise ServiceError("Cet atelier est terminé.")
    if workshop.grade is not student.grade:
        raise ServiceError(f"Cet atelier est réservé aux élèves de {workshop.grade.label}.")
    if workshop.starts_at < now + MIN_NOTICE:
        raise ServiceError("Un atelier se réserve au moins 2 heures avant son début.")


def _refuse_twice(workshop: Workshop, student: Student) -> None:
    first_name = student.user.first_name
    if seat_of(workshop.id, student.id) is not None:
        raise ServiceError(f"{first_name} a déjà une place dans cet atelier.")
    if waiting_entry(workshop.id, student.id) is not None:
        raise ServiceError(f"{first_name} est déjà sur la liste d'attente de cet atelier.")


def _starting(actor: User, student: Student, workshop_id: int, now: datetime) -> Workshop:
    """The workshop locked, once the actor may act for the student and the workshop takes them."""
    if not may_act_for(actor, student):
        raise LookupError(student.id)
    workshop = lock_workshop(workshop_id)
    check_open(workshop, student, now)
    _refuse_twice(workshop, student)
    return workshop


# -- a seat ------------------------------------------------------------------------------------


@command
def book_seat(
    actor: User, student: Student, workshop_id: int, *, now: datetime | None = None
) -> SessionBooking:
    """A seat with credits in one transaction: the workshop locked, a seat free, the student
    entitled with credits and free at that time, the credits consumed, reminders planned, the
    coach told. WorkshopFull when every seat is taken."""
    now = now or utcnow()
    workshop = _starting(actor, student, workshop_id, now)
    if seats_taken(workshop.id) >= workshop.seats:
        raise WorkshopFull()
    booking = take_seat(actor.id, student, workshop, now)
    session_notices.booked(booking, actor)
    return booking


def take_seat(actor_id: int | None, student: Student, workshop: Workshop, now: datetime) -> SessionBooking:
    """Seat the student (the workshop is locked by the caller, a seat is free): ledger locked,
    entitlement, balance, overlap; then the booking, the credits drawn and the reminders."""
    _hold_coach(workshop)
    credits.lock_student(student.id)
    first_name = student.user.first_name
    check_open(workshop, student, now)
    if not can_use_credits(student.id):
        raise ServiceError(
            f"L'abonnement de {first_name} ne comprend pas la réservation de séances avec crédits."
        )
    available = credits.balance(student.id)
    if available < workshop.credits_cost:
        raise credits.InsufficientCredits(workshop.credits_cost, available)
    refuse_student_overlap(student, workshop.starts_at, workshop.ends_at, StudentBusy)
    booking = SessionBooking(
        student_id=student.id,
        coach_id=workshop.coach_id,
        booked_by_id=actor_id,
        subject=workshop.subject,
        service=ServiceType.ATELIER_GROUPE,
        title=workshop.title,
        starts_at=workshop.starts_at.astimezone(UTC),
        ends_at=workshop.ends_at.astimezone(UTC),
        credits_cost=workshop.credits_cost,
        status=SessionStatus.SCHEDULED,
        room_name=video.new_room_name(),  # unique column; the group joins the workshop's room
        location=None if workshop.online else (workshop.location or CENTRE_LOCATION),
        workshop_id=workshop.id,
    )
    insert_booking(booking, first_name, StudentBusy)
    credits.consume(student.id, workshop.credits_cost, booking.id, actor_id)
    plan_reminders(booking, now)
    return booking


def _hold_coach(workshop: Workshop) -> None:
    """Share-lock the coach's account, as a one-to-one booking does: a deactivation (FOR UPDATE,
    then it counts the seats booked) happens first and the seat is refused, or waits for it."""
    active = db.session.scalar(
        select(User.is_active).where(User.id == workshop.coach.user_id).with_for_update(read=True)
    )
    if not active:
        raise ServiceError(
            f"{workshop.coach.pseudonym} ne donne plus cet atelier : aucune place n'est ouverte."
        )


def _constraint(err: IntegrityError) -> str | None:
    return getattr(getattr(err.orig, "diag", None), "constraint_name", None)


# -- the waiting list --------------------------------------------------------------------------


@command
def join_waitlist(
    actor: User, student: Student, workshop_id: int, *, now: datetime | None = None
) -> WorkshopWaitlist:
    """In line for a full workshop (first come, first served); refused while a seat is free."""
    now = now or utcnow()
    workshop = _starting(actor, student, workshop_id, now)
    if seats_taken(workshop.id) < workshop.seats:
        raise ServiceError("Il reste des places dans cet atelier : réservez-en une directement.")
    entry = WorkshopWaitlist(
        workshop_id=workshop.id, student_id=student.id, added_by_id=actor.id, status=WaitStatus.WAITING
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError as err:
        if _constraint(err) == WAITLIST_UNIQUE:
            raise ServiceError(
                f"{student.user.first_name} est déjà sur la liste d'attente de cet atelier."
            ) from err
        raise
    return entry


@command
def leave_waitlist(actor: User, student: Student, workshop_id: int, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    if not may_act_for(actor, student):
        raise LookupError(student.id)
    lock_workshop(workshop_id)
    entry = waiting_entry(workshop_id, student.id)
    if entry is None:
        raise ServiceError(f"{student.user.first_name} n'est pas sur la liste d'attente de cet atelier.")
    entry.status = WaitStatus.LEFT
    entry.resolved_at = now


# -- promotion ---------------------------------------------------------------------------------


def promote(workshop: Workshop, now: datetime | None = None) -> list[WorkshopWaitlist]:
    """Give the free seats to the waiting list, first in line first (the caller holds the
    workshop lock). One who can no longer take it (credits, entitlement, another session) is
    skipped, the family told why, and the next one is tried. The entries resolved, in order."""
    now = now or utcnow()
    resolved: list[WorkshopWaitlist] = []
    if workshop.status is not WorkshopStatus.SCHEDULED or workshop.starts_at < now + MIN_NOTICE:
        return resolved
    while seats_taken(workshop.id) < workshop.seats:
        entry = first_waiting(workshop.id)
        if entry is None:
            break
        student = db.session.get_one(Student, entry.student_id)
        entry.resolved_at = now
        resolved.append(entry)
        try:
            with db.session.begin_nested():
                booking = take_seat(entry.added_by_id, student, workshop, now)
        except ServiceError as refusal:
            entry.status = WaitStatus.SKIPPED
            notices.skipped(workshop, student, refusal.message)
            continue
        entry.status = WaitStatus.PROMOTED
        entry.booking_id = booking.id
        notices.promoted(booking)
    db.session.flush()
    return resolved
