"""Planning group workshops: creating one (or a weekly series), and cancelling one.

Creation holds the coach's time: the coach's account row is locked FOR UPDATE (one-to-one
booking takes it FOR SHARE, see scheduling/booking._hold_coach), then every sitting is checked
against the coach's sessions and workshops; the workshops' exclusion constraint is the last
guard between two workshops of the same coach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from nexus import fr, policy
from nexus.extensions import db
from nexus.models.common import Grade, Role, Subject
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.models.workshops import (
    MAX_SEATS,
    MIN_SEATS,
    WaitStatus,
    Workshop,
    WorkshopStatus,
    WorkshopWaitlist,
)
from nexus.services import ServiceError, audit, command, credits, utcnow
from nexus.services.scheduling import video
from nexus.services.scheduling.booking import CENTRE_LOCATION
from nexus.services.scheduling.reminders import cancel_reminders
from nexus.services.scheduling.slots import MIN_NOTICE, busy_intervals
from nexus.services.workshops import notices
from nexus.services.workshops.seats import lock_workshop
from nexus.text import check_line, check_size, check_text

COACH_OVERLAP = "ex_workshops_coach_overlap"
CREDITS_PER_HOUR = Decimal("1.5")
MIN_MINUTES, MAX_MINUTES, MINUTES_STEP = 30, 240, 15
MAX_WEEKS = 12
HORIZON = relativedelta(months=3)
TITLE_MAX, DESCRIPTION_MAX, REASON_MAX = 120, 4000, 500


@dataclass(frozen=True)
class WorkshopInput:
    coach: CoachProfile
    subject: Subject
    grade: Grade
    title: str
    description: str
    starts_at: datetime  # aware
    minutes: int
    online: bool
    seats: int
    weeks: int = 1


def credits_cost(minutes: int) -> Decimal:
    """1.5 credits per hour (the catalog's group workshop rate), to the hundredth."""
    return (CREDITS_PER_HOUR * minutes / 60).quantize(Decimal("0.01"))


# -- creating ----------------------------------------------------------------------------------


@command
def create(actor: User, data: WorkshopInput, *, now: datetime | None = None) -> list[Workshop]:
    """One workshop, or one per week for `weeks` weeks, all or none."""
    now = now or utcnow()
    _check_author(actor, data)
    _check_input(data, now)
    _lock_coach(data.coach)
    created: list[Workshop] = []
    for starts in sittings(data):
        created.append(_add(actor, data, starts, series_id=created[0].id if created else None))
    if len(created) > 1:
        created[0].series_id = created[0].id
    for workshop in created:
        audit.record(
            "workshop.created",
            actor.id,
            workshop,
            after={
                "title": workshop.title,
                "coach": data.coach.pseudonym,
                "starts_at": fr.date_time(workshop.starts_at),
                "seats": workshop.seats,
            },
        )
    db.session.flush()
    return created


def sittings(data: WorkshopInput) -> list[datetime]:
    """The starts, week after week at the same Tunis wall-clock time (UTC)."""
    first = data.starts_at.astimezone(fr.TUNIS)
    return [(first + timedelta(weeks=week)).astimezone(UTC) for week in range(data.weeks)]


def _check_author(actor: User, data: WorkshopInput) -> None:
    if policy.is_staff(actor):
        return
    if actor.role is not Role.COACH or data.coach.user_id != actor.id:
        raise ServiceError("Vous ne pouvez créer un atelier que pour vous-même.", "coach")


def _check_input(data: WorkshopInput, now: datetime) -> None:
    if data.subject.value not in data.coach.subjects:
        raise ServiceError(f"{data.coach.pseudonym} n'enseigne pas cette matière.", "matiere")
    title = data.title.strip()
    check_line(title, "titre")
    if not title:
        raise ServiceError("Donnez un titre à l'atelier.", "titre")
    check_size(title, "titre", TITLE_MAX)
    check_text(data.description, "description")
    check_size(data.description.strip(), "description", DESCRIPTION_MAX)
    if not MIN_SEATS <= data.seats <= MAX_SEATS:
        raise ServiceError(f"Un atelier a de {MIN_SEATS} à {MAX_SEATS} places.", "places")
    if not MIN_MINUTES <= data.minutes <= MAX_MINUTES or data.minutes % MINUTES_STEP:
        raise ServiceError("La durée va de 30 minutes à 4 heures, par quarts d'heure.", "duree")
    if not 1 <= data.weeks <= MAX_WEEKS:
        raise ServiceError(f"Une série compte de 1 à {MAX_WEEKS} semaines.", "semaines")
    if data.starts_at.tzinfo is None:
        raise ValueError("starts_at must be aware")
    if data.starts_at < now + MIN_NOTICE:
        raise ServiceError("Un atelier commence au moins 2 heures après sa création.", "debut")
    if data.starts_at > now + HORIZON:
        raise ServiceError("Un atelier se programme au plus 3 mois à l'avance.", "debut")


def _lock_coach(coach: CoachProfile) -> None:
    """The coach's account row FOR UPDATE: a one-to-one booking of this coach (FOR SHARE) waits,
    then sees the workshop; or this waits for it, then sees the session."""
    active = db.session.scalar(select(User.is_active).where(User.id == coach.user_id).with_for_update())
    if not active:
        raise ServiceError(
            f"{coach.pseudonym} ne prend plus de séances : choisissez un autre coach.", "coach"
        )


def _busy_message(coach: CoachProfile, starts: datetime) -> str:
    when = fr.when(starts)
    return f"{coach.pseudonym} a déjà une séance ou un atelier le {when} : choisissez un autre horaire."


def _add(actor: User, data: WorkshopInput, starts: datetime, series_id: int | None) -> Workshop:
    ends = starts + timedelta(minutes=data.minutes)
    if busy_intervals(data.coach.id, None, starts, ends):
        raise ServiceError(_busy_message(data.coach, starts), "debut")
    workshop = Workshop(
        series_id=series_id,
        coach_id=data.coach.id,
        subject=data.subject,
        grade=data.grade,
        title=data.title.strip(),
        description=data.description.strip(),
        starts_at=starts,
        ends_at=ends,
        online=data.online,
        location=None if data.online else CENTRE_LOCATION,
        seats=data.seats,
        credits_cost=credits_cost(data.minutes),
        status=WorkshopStatus.SCHEDULED,
        room_name=video.new_room_name(),
        created_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(workshop)
            db.session.flush()
    except IntegrityError as err:
        if getattr(getattr(err.orig, "diag", None), "constraint_name", None) == COACH_OVERLAP:
            raise ServiceError(_busy_message(data.coach, starts), "debut") from err
        raise
    return workshop


# -- cancelling the whole workshop -------------------------------------------------------------


@command
def cancel_workshop(
    actor: User, workshop_id: int, reason: str | None, *, now: datetime | None = None
) -> Workshop:
    """Staff only: every seat cancelled and refunded in full, the waiting list closed, everyone
    told, audited."""
    now = now or utcnow()
    if not policy.is_staff(actor):
        raise LookupError(workshop_id)
    reason = (reason or "").strip() or None
    check_text(reason, "motif")
    check_size(reason, "motif", REASON_MAX)
    workshop = lock_workshop(workshop_id)
    if workshop.status is not WorkshopStatus.SCHEDULED:
        raise ServiceError(f"Cet atelier est déjà {workshop.status.label.lower()}.")
    workshop.status = WorkshopStatus.CANCELLED
    workshop.cancelled_at = now
    workshop.cancelled_by_id = actor.id
    workshop.cancel_reason = reason
    seats = [(b, _cancel_seat(actor, b, reason, now)) for b in _holding_seats(workshop.id)]
    waiting = _close_waitlist(workshop.id, now)
    refunded = sum((r for _, r in seats), Decimal(0))
    audit.record(
        "workshop.cancelled",
        actor.id,
        workshop,
        before={"status": WorkshopStatus.SCHEDULED.value},
        after={"status": WorkshopStatus.CANCELLED.value, "reason": reason, "refunded": str(refunded)},
    )
    notices.cancelled(workshop, seats, waiting, reason)
    db.session.flush()
    return workshop


def _holding_seats(workshop_id: int) -> list[SessionBooking]:
    stmt = (
        select(SessionBooking)
        .where(SessionBooking.workshop_id == workshop_id, SessionBooking.is_holding)
        .order_by(SessionBooking.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(db.session.scalars(stmt))


def _cancel_seat(actor: User, booking: SessionBooking, reason: str | None, now: datetime) -> Decimal:
    booking.status = SessionStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by_id = actor.id
    booking.cancel_reason = reason or "Atelier annulé"
    cancel_reminders(booking.id, now)
    return credits.refund(booking.student_id, booking.id, actor.id, "Atelier annulé")


def _close_waitlist(workshop_id: int, now: datetime) -> list[Student]:
    stmt = (
        select(WorkshopWaitlist)
        .where(WorkshopWaitlist.workshop_id == workshop_id, WorkshopWaitlist.status == WaitStatus.WAITING)
        .order_by(WorkshopWaitlist.created_at, WorkshopWaitlist.id)
    )
    students = []
    for entry in db.session.scalars(stmt):
        entry.status = WaitStatus.CLOSED
        entry.resolved_at = now
        students.append(db.session.get_one(Student, entry.student_id))
    return students
