"""Sessions with coaches: free slots, booking with credits, cancellation, reschedule, reports, reminders.

Times: availability is stored as local Africa/Tunis wall-clock times, bookings as instants
(timestamptz). Slots are computed by placing the local windows on each date with zoneinfo, so
the server's own time zone never matters.

Race-freedom (DESIGN rule 4): booking locks the student row first (the ledger's lock, so one
student's bookings queue up and never spend the same credit twice), and the two exclusion
constraints refuse any coach or student overlap: 50 people on the last slot give one booking and
49 "ce créneau vient d'être réservé". Cancelling, moving, reporting and no-shows lock the booking
row and re-read it (populate_existing): the page loaded it before the lock, and a second click
must see what the first one did.

A session starts only where the slot computation (services/slots.py) offers a slot, so that a
booking at 14:07 cannot leave two unbookable stubs around it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from nexus.extensions import db
from nexus.models.catalog import Feature, ServiceType
from nexus.models.common import Role, Subject
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import (
    EngagementLevel,
    ReminderKind,
    SessionBooking,
    SessionReminder,
    SessionReport,
    SessionStatus,
)
from nexus.services import (
    ServiceError,
    audit,
    billing,
    catalog,
    credits,
    family,
    notifications,
    parse_id,
    utcnow,
    video,
)
from nexus.services.slots import (  # noqa: F401 - part of this module's interface
    DURATIONS,
    HOLDING,
    HORIZON,
    MIN_NOTICE,
    TUNIS,
    DaySlots,
    Interval,
    Slot,
    booking_bounds,
    busy_intervals,
    day_label,
    duration_label,
    free_slots,
    local,
    local_today,
    merge,
    minutes_of,
    offered_starts,
    split,
    subtract,
    when_label,
    within_availability,
)
from nexus.text import check_size, check_text

FREE_CANCEL_NOTICE = timedelta(hours=24)
GROUP_FREE_CANCEL_NOTICE = timedelta(hours=48)
# Group workshops need seats for several students; the booking table holds one student per
# coach slot (exclusion constraint), so workshops are not self-booked here.
SELF_BOOKABLE = (ServiceType.COURS_ONLINE, ServiceType.COURS_PRESENTIEL)
CENTRE_LOCATION = "Centre Nexus Réussite, Tunis"
REASON_MAX = 500  # a cancellation reason (session_bookings.cancel_reason)
REMINDER_OFFSETS = {
    ReminderKind.DAY_BEFORE: timedelta(hours=24),
    ReminderKind.TWO_HOURS_BEFORE: timedelta(hours=2),
}
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
LOCAL_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")
# Bounds of a typed start before any other check (the real window is 2 hours to 3 months ahead).
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
COACH_OVERLAP = "ex_session_bookings_coach_overlap"
STUDENT_OVERLAP = "ex_session_bookings_student_overlap"
STAFF_ROLES = (Role.ADMIN, Role.ASSISTANTE)


class SlotTaken(ServiceError):
    def __init__(self) -> None:
        super().__init__(
            "Ce créneau vient d'être réservé. Choisissez-en un autre parmi les créneaux encore libres.",
            "debut",
        )


class AlreadyClosed(ServiceError):
    """The session was cancelled, moved or closed meanwhile (another click, another tab)."""


class StudentBusy(ServiceError):
    def __init__(self, first_name: str) -> None:
        super().__init__(
            f"{first_name} a déjà une séance à ce moment-là. Choisissez un autre créneau.", "debut"
        )


# -- coaches -----------------------------------------------------------------------------------


def coaches_for(subject: Subject) -> list[CoachProfile]:
    stmt = (
        select(CoachProfile)
        .join(User, CoachProfile.user_id == User.id)
        .where(CoachProfile.subjects.any_() == subject.value, User.is_active)
        .order_by(CoachProfile.pseudonym)
    )
    return list(db.session.scalars(stmt))


def coach_profile_of(user: User) -> CoachProfile | None:
    return db.session.scalar(select(CoachProfile).where(CoachProfile.user_id == user.id))


def services_of(coach: CoachProfile) -> list[ServiceType]:
    offered = []
    if coach.available_online:
        offered.append(ServiceType.COURS_ONLINE)
    if coach.available_in_person:
        offered.append(ServiceType.COURS_PRESENTIEL)
    return offered


# -- choosing a session -----------------------------------------------------------------------


@dataclass(frozen=True)
class BookingChoice:
    coach: CoachProfile
    subject: Subject
    service: ServiceType
    minutes: int
    starts_at: datetime

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def cost(self) -> Decimal:
        return catalog.session_cost(self.service, self.minutes)

    @property
    def param(self) -> str:
        return Slot(self.starts_at, self.ends_at).param


def parse_subject(raw: str | None) -> Subject | None:
    return Subject.__members__.get(raw or "")


def parse_service(raw: str | None) -> ServiceType:
    if not raw:
        return ServiceType.COURS_ONLINE
    service = ServiceType.__members__.get(raw)
    if service not in SELF_BOOKABLE:
        raise ServiceError("Choisissez un cours en ligne ou au centre.", "type")
    return service


def parse_minutes(raw: str | None) -> int:
    """One of DURATIONS, written in ASCII digits ('²' or '٦٠' are digits to Python, not to us)."""
    if not raw:
        return DURATIONS[0]
    if raw not in {str(m) for m in DURATIONS}:
        raise ServiceError("La séance dure 60 ou 90 minutes.", "duree")
    return int(raw)


def parse_local_start(raw: str | None) -> datetime:
    """'2030-03-04T14:00' read as Tunis time; only ASCII digits, and only a year we can book in
    (strptime alone takes any script's digits, and year 9999 overflows once the length is added)."""
    raw = (raw or "").strip()
    try:
        if not LOCAL_START.fullmatch(raw):
            raise ValueError(raw)
        parsed = datetime.strptime(raw, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise ServiceError("Choisissez un créneau dans la liste.", "debut") from None
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise ServiceError("Choisissez un créneau dans la liste.", "debut")
    return parsed.replace(tzinfo=TUNIS)


def parse_day(raw: str | None) -> date | None:
    """A 'YYYY-MM-DD' date in ASCII digits, else None."""
    raw = (raw or "").strip()
    if not ISO_DAY.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def parse_choice(values: Mapping[str, str]) -> BookingChoice:
    """Read matiere/coach/type/duree/debut; a French ServiceError (with field) on bad input."""
    subject = parse_subject(values.get("matiere"))
    if subject is None:
        raise ServiceError("Choisissez une matière.", "matiere")
    coach_id = parse_id(values.get("coach"))
    coach = db.session.get(CoachProfile, coach_id) if coach_id else None
    if coach is None:
        raise ServiceError("Choisissez un coach.", "coach")
    return BookingChoice(
        coach,
        subject,
        parse_service(values.get("type")),
        parse_minutes(values.get("duree")),
        parse_local_start(values.get("debut")),
    )


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
    day = choice.starts_at.astimezone(TUNIS).date()
    offered = offered_starts(choice.coach.id, choice.minutes, day, now=now, ignoring=ignoring)
    if choice.starts_at in offered:
        return
    if busy_intervals(choice.coach.id, None, choice.starts_at, choice.ends_at, ignoring=ignoring):
        raise SlotTaken()
    example = f" (par exemple {offered[0].astimezone(TUNIS):%H:%M})" if offered else ""
    raise ServiceError(
        f"Choisissez l'un des créneaux proposés{example} : les séances commencent aux heures de la liste.",
        "debut",
    )


def can_use_credits(student_id: int) -> bool:
    """The entitlement checked is the student's, never the payer's."""
    return billing.has_feature(student_id, Feature.CREDITS_USE)


# -- booking -----------------------------------------------------------------------------------


def book(
    actor: User,
    student: Student,
    choice: BookingChoice,
    *,
    now: datetime | None = None,
    rescheduled_from: SessionBooking | None = None,
) -> SessionBooking:
    """Book in the caller's transaction: slot free, student entitled with credits, credits consumed,
    coach notified, reminders planned. The caller commits, or rolls back on ServiceError."""
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
    _insert(booking, first_name)
    credits.consume(student.id, choice.cost, booking.id, actor.id)
    _plan_reminders(booking, now)
    if rescheduled_from is None:
        _announce_booking(booking, actor)
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
    stmt = select(SessionBooking.id).where(
        SessionBooking.student_id == student.id,
        SessionBooking.status.in_(HOLDING),
        SessionBooking.starts_at < choice.ends_at,
        SessionBooking.ends_at > choice.starts_at,
    )
    if db.session.scalar(stmt.limit(1)) is not None:
        raise StudentBusy(student.user.first_name)


def _insert(booking: SessionBooking, first_name: str) -> None:
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
            raise StudentBusy(first_name) from err
        raise


def _plan_reminders(booking: SessionBooking, now: datetime) -> None:
    """One row per kind; a reminder whose moment has already passed is not planned."""
    for kind, offset in REMINDER_OFFSETS.items():
        due = booking.starts_at - offset
        if due > now:
            db.session.add(SessionReminder(booking_id=booking.id, kind=kind, due_at=due))


def _cancel_reminders(booking_id: int, now: datetime) -> None:
    db.session.execute(
        update(SessionReminder)
        .where(
            SessionReminder.booking_id == booking_id,
            SessionReminder.sent_at.is_(None),
            SessionReminder.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
    )


# -- who is concerned --------------------------------------------------------------------------


def is_staff(user: User) -> bool:
    return user.role in STAFF_ROLES


def family_users(booking: SessionBooking) -> list[User]:
    """The student (if they have an address) and their parents."""
    users = [booking.student.user, *booking.student.parent.guardians]
    return [u for u in users if u.email and u.is_active]


def email_context(booking: SessionBooking, first_name: str) -> dict[str, str]:
    return {
        "first_name": first_name,
        "subject_label": booking.subject.label,
        "coach": booking.coach.pseudonym,
        "student": booking.student.user.first_name,
        "when": when_label(booking.starts_at),
        "duration": duration_label(minutes_of(booking)),
        "service": booking.service.label,
        "location": booking.location or "",
        "online": "1" if video.has_room(booking) else "",
        "cost": credits_label(booking.credits_cost),
        "link": f"/dashboard/sessions/{booking.id}",
    }


def credits_label(value: Decimal) -> str:
    return f"{Decimal(value):.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _mail(user: User, template: str, subject: str, booking: SessionBooking, key: str, **extra: str) -> None:
    if not user.email:
        return
    context: dict[str, object] = {**email_context(booking, user.first_name), **extra}
    notifications.queue_email(user.email, template, subject, context, user_id=user.id, dedupe_key=key[:120])


def _announce_booking(booking: SessionBooking, actor: User) -> None:
    """The coach is told (in-app and e-mail); the family gets a confirmation with the .ics."""
    link = f"/dashboard/sessions/{booking.id}"
    when = when_label(booking.starts_at)
    coach_user = booking.coach.user
    student_name = booking.student.user.full_name
    notifications.notify(
        coach_user.id, "SESSION_BOOKED", f"Nouvelle séance : {student_name}", f"{when}.", link
    )
    _mail(
        coach_user,
        "session_booked",
        f"Nouvelle séance le {when}",
        booking,
        f"booked:{booking.id}:{coach_user.id}",
        audience="coach",
        ics_booking_id=str(booking.id),
    )
    for user in family_users(booking):
        _mail(
            user,
            "session_booked",
            f"Séance confirmée le {when}",
            booking,
            f"booked:{booking.id}:{user.id}",
            audience="family",
            ics_booking_id=str(booking.id),
        )
        if user.id != actor.id:
            notifications.notify(
                user.id, "SESSION_BOOKED", f"Séance réservée avec {booking.coach.pseudonym}", f"{when}.", link
            )


# -- loaders -----------------------------------------------------------------------------------


def _with_people(stmt: Select[tuple[SessionBooking]]) -> Select[tuple[SessionBooking]]:
    return stmt.options(
        joinedload(SessionBooking.student).joinedload(Student.user),
        joinedload(SessionBooking.coach).joinedload(CoachProfile.user),
    )


def booking_for(user: User, booking_id: int, *, lock: bool = False) -> SessionBooking | None:
    """The booking if the user is one of its parties (or staff), else None (answer 404)."""
    stmt = select(SessionBooking).where(SessionBooking.id == booking_id)
    if user.role is Role.ELEVE:
        stmt = stmt.join(Student, SessionBooking.student_id == Student.id).where(Student.user_id == user.id)
    elif user.role is Role.PARENT:
        stmt = stmt.join(Student, SessionBooking.student_id == Student.id).where(
            Student.parent_id.in_(family.family_ids(user.id))
        )
    elif user.role is Role.COACH:
        stmt = stmt.join(CoachProfile, SessionBooking.coach_id == CoachProfile.id).where(
            CoachProfile.user_id == user.id
        )
    elif not is_staff(user):
        return None
    if lock:
        # The caller's page has usually loaded this booking already: without populate_existing
        # SQLAlchemy would hand back that object, with the status it had before the lock.
        stmt = stmt.with_for_update(of=SessionBooking).execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def sessions_of_students(
    student_ids: list[int], *, upcoming: bool, now: datetime | None = None, limit: int = 50
) -> list[SessionBooking]:
    """Upcoming (holding, not yet ended) soonest first, or past ones latest first."""
    now = now or utcnow()
    stmt = _with_people(select(SessionBooking)).where(SessionBooking.student_id.in_(student_ids))
    if upcoming:
        stmt = stmt.where(SessionBooking.status.in_(HOLDING), SessionBooking.ends_at >= now)
        stmt = stmt.order_by(SessionBooking.starts_at)
    else:
        stmt = stmt.where(or_(SessionBooking.status.not_in(HOLDING), SessionBooking.ends_at < now))
        stmt = stmt.order_by(SessionBooking.starts_at.desc())
    return list(db.session.scalars(stmt.limit(limit)).unique())


@dataclass
class CoachAgenda:
    to_close: list[SessionBooking]  # started, waiting for a report or a no-show
    today: list[SessionBooking]
    this_week: list[SessionBooking]
    later: list[SessionBooking]
    history: list[SessionBooking]


def coach_agenda(coach_id: int, now: datetime | None = None, history_limit: int = 30) -> CoachAgenda:
    now = now or utcnow()
    base = _with_people(select(SessionBooking)).where(SessionBooking.coach_id == coach_id)
    holding = list(
        db.session.scalars(
            base.where(SessionBooking.status.in_(HOLDING)).order_by(SessionBooking.starts_at)
        ).unique()
    )
    today = local_today(now)
    week_end = today + timedelta(days=6 - today.weekday())
    agenda = CoachAgenda([], [], [], [], [])
    for booking in holding:
        day = booking.starts_at.astimezone(TUNIS).date()
        if booking.starts_at <= now:
            agenda.to_close.append(booking)
        elif day == today:
            agenda.today.append(booking)
        elif day <= week_end:
            agenda.this_week.append(booking)
        else:
            agenda.later.append(booking)
    history = base.where(SessionBooking.status.not_in(HOLDING)).order_by(SessionBooking.starts_at.desc())
    agenda.history = list(db.session.scalars(history.limit(history_limit)).unique())
    return agenda


def coach_students(coach_id: int) -> list[tuple[Student, int, datetime]]:
    """This coach's students, through sessions held or to come: (student, sessions, latest)."""
    stmt = (
        select(Student, func.count(SessionBooking.id), func.max(SessionBooking.starts_at))
        .join(SessionBooking, SessionBooking.student_id == Student.id)
        .where(SessionBooking.coach_id == coach_id, SessionBooking.opens_student_to_coach(utcnow()))
        .group_by(Student.id)
        .options(joinedload(Student.user))
        .order_by(func.max(SessionBooking.starts_at).desc())
    )
    return [(s, n, last) for s, n, last in db.session.execute(stmt).unique()]


def coach_student(coach_id: int, student_id: int) -> Student | None:
    """A student of this coach (a session held or to come), else None (answer 404)."""
    stmt = (
        select(Student)
        .join(SessionBooking, SessionBooking.student_id == Student.id)
        .where(
            SessionBooking.coach_id == coach_id,
            Student.id == student_id,
            SessionBooking.opens_student_to_coach(utcnow()),
        )
        .limit(1)
    )
    return db.session.scalar(stmt)


def sessions_with(coach_id: int, student_id: int) -> list[SessionBooking]:
    stmt = (
        _with_people(select(SessionBooking))
        .where(SessionBooking.coach_id == coach_id, SessionBooking.student_id == student_id)
        .order_by(SessionBooking.starts_at.desc())
    )
    return list(db.session.scalars(stmt).unique())


def upcoming_all(now: datetime | None = None, days: int = 31, limit: int = 200) -> list[SessionBooking]:
    """Staff view: every session holding a slot in the coming days."""
    now = now or utcnow()
    stmt = (
        _with_people(select(SessionBooking))
        .where(
            SessionBooking.status.in_(HOLDING),
            SessionBooking.ends_at >= now,
            SessionBooking.starts_at <= now + timedelta(days=days),
        )
        .order_by(SessionBooking.starts_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt).unique())


# -- cancelling and rescheduling ---------------------------------------------------------------


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
    cost = credits_label(booking.credits_cost)
    if booking.status not in HOLDING:
        return CancelTerms(False, False, deadline, closed_message(booking.status))
    if is_staff(actor):
        return CancelTerms(True, True, deadline, f"Annulation par l'équipe : {cost} crédit(s) rendu(s).")
    if booking.starts_at <= now:
        return CancelTerms(False, False, deadline, "La séance a commencé : elle ne peut plus être annulée.")
    if actor.role is Role.COACH:
        return CancelTerms(
            True, True, deadline, f"Annulée par le coach : l'élève récupère ses {cost} crédit(s)."
        )
    hours = int(notice.total_seconds() // 3600)
    if now <= deadline:
        return CancelTerms(
            True,
            True,
            deadline,
            f"Annulation gratuite : les {cost} crédit(s) seront rendus "
            f"(possible jusqu'au {when_label(deadline)}, {hours} h avant).",
        )
    return CancelTerms(
        True,
        False,
        deadline,
        f"Moins de {hours} h avant la séance : si vous annulez, les {cost} crédit(s) sont perdus.",
    )


@dataclass(frozen=True)
class Cancelled:
    booking: SessionBooking
    refunded: Decimal


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
    booking = booking_for(actor, booking_id, lock=True)
    if booking is None:
        raise LookupError(booking_id)
    terms = cancel_terms(booking, actor, now)
    if booking.status not in HOLDING:
        raise AlreadyClosed(terms.message)
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
    _cancel_reminders(booking.id, now)
    if is_staff(actor):
        audit.record(
            "session.cancelled",
            actor.id,
            booking,
            before={"status": before},
            after={"status": "CANCELLED", "refunded": str(refunded), "reason": reason},
        )
    if announce:
        _announce_cancellation(booking, actor, refunded)
    return Cancelled(booking, refunded)


def _others(booking: SessionBooking, actor: User) -> list[User]:
    """Everyone concerned except the actor: coach, student, parent."""
    people = [booking.coach.user, *family_users(booking)]
    return [u for u in people if u.id != actor.id]


def _announce_cancellation(booking: SessionBooking, actor: User, refunded: Decimal) -> None:
    when = when_label(booking.starts_at)
    who = booking.coach.pseudonym if actor.role is Role.COACH else actor.first_name
    refund_note = f"{credits_label(refunded)} crédit(s) rendu(s)." if refunded else "Crédits non rendus."
    for user in _others(booking, actor):
        notifications.notify(
            user.id,
            "SESSION_CANCELLED",
            f"Séance du {when} annulée",
            f"Annulée par {who}. {refund_note}",
            f"/dashboard/sessions/{booking.id}",
        )
        _mail(
            user,
            "session_cancelled",
            f"Séance du {when} annulée",
            booking,
            f"cancelled:{booking.id}:{user.id}",
            by=who,
            reason=booking.cancel_reason or "",
            refund_note=refund_note,
        )


def reschedule(
    actor: User, booking_id: int, new_start: datetime, *, now: datetime | None = None
) -> SessionBooking:
    """Cancel and book again in one transaction: both happen, or neither (the caller rolls back)."""
    now = now or utcnow()
    if actor.role is Role.COACH:
        raise ServiceError("Pour déplacer une séance, annulez-la : l'élève en réservera une autre.")
    current = booking_for(actor, booking_id, lock=True)
    if current is None:
        raise LookupError(booking_id)
    if current.status not in HOLDING:
        raise AlreadyClosed(_closed_message(current))
    if new_start == current.starts_at:
        raise ServiceError("La séance est déjà à cet horaire : choisissez-en un autre.", "debut")
    done = cancel(actor, booking_id, "Séance déplacée", now=now, announce=False)
    old = done.booking
    choice = BookingChoice(old.coach, old.subject, old.service, minutes_of(old), new_start)
    new = book(actor, old.student, choice, now=now, rescheduled_from=old)
    _announce_reschedule(old, new, actor)
    return new


def _closed_message(booking: SessionBooking) -> str:
    """Why a session can no longer be moved: already moved (and where to), or closed."""
    moved_to = db.session.scalar(
        select(SessionBooking.starts_at)
        .where(SessionBooking.rescheduled_from_id == booking.id)
        .order_by(SessionBooking.id)
        .limit(1)
    )
    if moved_to is not None:
        return f"Cette séance a déjà été déplacée au {when_label(moved_to)}."
    return closed_message(booking.status)


def _announce_reschedule(old: SessionBooking, new: SessionBooking, actor: User) -> None:
    before, after = when_label(old.starts_at), when_label(new.starts_at)
    for user in [new.coach.user, *family_users(new)]:
        if user.id != actor.id:
            notifications.notify(
                user.id,
                "SESSION_RESCHEDULED",
                "Séance déplacée",
                f"Du {before} au {after}.",
                f"/dashboard/sessions/{new.id}",
            )
        _mail(
            user,
            "session_booked",
            f"Séance déplacée au {after}",
            new,
            f"booked:{new.id}:{user.id}",
            audience="coach" if user.role is Role.COACH else "family",
            moved_from=before,
            ics_booking_id=str(new.id),
        )


# -- reports and no-shows ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInput:
    summary: str
    topics: str
    rating: int
    progress_notes: str
    recommendations: str
    attended: bool
    engagement: EngagementLevel | None = None
    homework: str | None = None
    next_focus: str | None = None


def _closable(coach_user: User, booking_id: int, now: datetime) -> SessionBooking:
    booking = booking_for(coach_user, booking_id, lock=True)
    if booking is None or coach_user.role is not Role.COACH:
        raise LookupError(booking_id)
    if booking.status not in HOLDING:
        raise AlreadyClosed("Cette séance est déjà close.")
    if booking.starts_at > now:
        raise ServiceError("La séance n'a pas encore commencé.")
    return booking


def write_report(
    coach_user: User, booking_id: int, data: ReportInput, *, now: datetime | None = None
) -> SessionReport:
    """Close a session with its report; the parent receives it by e-mail."""
    now = now or utcnow()
    booking = _closable(coach_user, booking_id, now)
    if not 1 <= data.rating <= 5:
        raise ServiceError("La note va de 1 à 5.", "rating")
    report = SessionReport(
        booking_id=booking.id,
        summary=data.summary.strip(),
        topics=data.topics.strip(),
        rating=data.rating,
        progress_notes=data.progress_notes.strip(),
        recommendations=data.recommendations.strip(),
        attended=data.attended,
        engagement=data.engagement,
        homework=(data.homework or "").strip() or None,
        next_focus=(data.next_focus or "").strip() or None,
    )
    db.session.add(report)
    booking.status = SessionStatus.COMPLETED
    booking.completed_at = now
    db.session.flush()
    _cancel_reminders(booking.id, now)
    _announce_report(booking, report)
    return report


def _announce_report(booking: SessionBooking, report: SessionReport) -> None:
    link = f"/dashboard/sessions/{booking.id}"
    student = booking.student.user
    title = f"Compte rendu de la séance de {booking.subject.label}"
    for user in family_users(booking):
        notifications.notify(user.id, "SESSION_REPORT", title, f"Par {booking.coach.pseudonym}.", link)
    for parent in booking.student.parent.guardians:
        if not parent.is_active:
            continue
        _mail(
            parent,
            "session_report",
            f"{title} de {student.first_name}",
            booking,
            f"report:{booking.id}" + ("" if parent.id == booking.student.parent.user_id else f":{parent.id}"),
            summary=report.summary,
            topics=report.topics,
            rating=str(report.rating),
            progress_notes=report.progress_notes,
            recommendations=report.recommendations,
            attended="oui" if report.attended else "non",
            homework=report.homework or "",
            next_focus=report.next_focus or "",
        )


def mark_no_show(coach_user: User, booking_id: int, *, now: datetime | None = None) -> SessionBooking:
    """The student did not come: the session is closed and its credits are not refunded."""
    now = now or utcnow()
    booking = _closable(coach_user, booking_id, now)
    booking.status = SessionStatus.NO_SHOW
    booking.completed_at = now
    _cancel_reminders(booking.id, now)
    when = when_label(booking.starts_at)
    for user in family_users(booking):
        notifications.notify(
            user.id,
            "SESSION_NO_SHOW",
            f"Absence à la séance du {when}",
            f"{booking.coach.pseudonym} a signalé l'absence de {booking.student.user.first_name}.",
            f"/dashboard/sessions/{booking.id}",
        )
    return booking


# -- reminders ---------------------------------------------------------------------------------


def due_reminders(now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or utcnow()
    stmt = (
        select(SessionReminder.id)
        .where(
            SessionReminder.sent_at.is_(None),
            SessionReminder.cancelled_at.is_(None),
            SessionReminder.due_at <= now,
        )
        .order_by(SessionReminder.due_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def deliver_reminder(reminder_id: int, now: datetime | None = None) -> bool:
    """Send one reminder (e-mail + in-app) to the student, the parent and the coach, once.

    The row lock (SKIP LOCKED) keeps two runs from sending it together, sent_at keeps a later
    run from sending it again, and the outbox dedupe keys are a last guard.
    """
    now = now or utcnow()
    reminder = db.session.scalar(
        select(SessionReminder)
        .where(
            SessionReminder.id == reminder_id,
            SessionReminder.sent_at.is_(None),
            SessionReminder.cancelled_at.is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    if reminder is None:
        return False
    reminder.attempts += 1
    booking = db.session.get_one(SessionBooking, reminder.booking_id)
    if booking.status not in HOLDING or booking.starts_at <= now:
        reminder.cancelled_at = now  # cancelled or already started: nothing to remind
        return False
    when = when_label(booking.starts_at)
    label = "demain" if reminder.kind is ReminderKind.DAY_BEFORE else "dans 2 heures"
    for user in [booking.coach.user, *family_users(booking)]:
        notifications.notify(
            user.id,
            "SESSION_REMINDER",
            f"Rappel : séance {label}",
            f"{booking.subject.label}, {when}.",
            f"/dashboard/sessions/{booking.id}",
        )
        _mail(
            user,
            "session_reminder",
            f"Rappel : séance de {booking.subject.label} {label}",
            booking,
            f"reminder:{booking.id}:{reminder.kind.value}:{user.id}",
            audience="coach" if user.role is Role.COACH else "family",
            label=label,
        )
    reminder.sent_at = now
    return True
