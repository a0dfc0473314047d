"""Who sees which workshop, and the lists the pages show. Read only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from nexus import policy
from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.models.workshops import WaitStatus, Workshop, WorkshopStatus, WorkshopWaitlist
from nexus.services import family, utcnow


@dataclass(frozen=True)
class WorkshopCard:
    """A workshop as a family sees it: the seats left, and this student's place in it."""

    workshop: Workshop
    seats_left: int
    booking: SessionBooking | None = None  # the student's seat
    waiting_position: int | None = None  # 1 = first in line

    @property
    def is_full(self) -> bool:
        return self.seats_left <= 0

    @property
    def has_seat(self) -> bool:
        return self.booking is not None

    @property
    def is_waiting(self) -> bool:
        return self.waiting_position is not None


@dataclass(frozen=True)
class WorkshopRow:
    """A workshop in a staff or coach list, with its seats taken and its waiting list's length."""

    workshop: Workshop
    taken: int
    waiting: int

    @property
    def seats_left(self) -> int:
        return max(self.workshop.seats - self.taken, 0)


def _taken() -> Select[tuple[int | None, int]]:
    return (
        select(SessionBooking.workshop_id, func.count())
        .where(SessionBooking.workshop_id.is_not(None), SessionBooking.is_holding)
        .group_by(SessionBooking.workshop_id)
    )


def taken_counts(workshop_ids: list[int]) -> dict[int, int]:
    if not workshop_ids:
        return {}
    rows = db.session.execute(_taken().where(SessionBooking.workshop_id.in_(workshop_ids)))
    return {wid: n for wid, n in rows if wid is not None}


def waiting_counts(workshop_ids: list[int]) -> dict[int, int]:
    if not workshop_ids:
        return {}
    stmt = (
        select(WorkshopWaitlist.workshop_id, func.count())
        .where(WorkshopWaitlist.workshop_id.in_(workshop_ids), WorkshopWaitlist.status == WaitStatus.WAITING)
        .group_by(WorkshopWaitlist.workshop_id)
    )
    return dict(db.session.execute(stmt).all())


def with_coach(stmt: Select[tuple[Workshop]]) -> Select[tuple[Workshop]]:
    return stmt.options(joinedload(Workshop.coach).joinedload(CoachProfile.user))


# -- a family's view ---------------------------------------------------------------------------


def open_for(student: Student, *, now: datetime | None = None) -> list[WorkshopCard]:
    """Upcoming scheduled workshops of the student's grade (and any they hold a seat in),
    soonest first, with the seats left and the student's seat or place in line."""
    now = now or utcnow()
    mine = select(SessionBooking.workshop_id).where(
        SessionBooking.student_id == student.id, SessionBooking.is_holding
    )
    stmt = with_coach(select(Workshop)).where(
        Workshop.status == WorkshopStatus.SCHEDULED,
        Workshop.starts_at > now,
        or_(Workshop.grade == student.grade, Workshop.id.in_(mine)),
    )
    workshops = list(db.session.scalars(stmt.order_by(Workshop.starts_at, Workshop.id)).unique())
    ids = [w.id for w in workshops]
    taken = taken_counts(ids)
    seats = _seats_of(student.id, ids)
    positions = waiting_positions(student.id, ids)
    return [
        WorkshopCard(w, max(w.seats - taken.get(w.id, 0), 0), seats.get(w.id), positions.get(w.id))
        for w in workshops
    ]


def _seats_of(student_id: int, workshop_ids: list[int]) -> dict[int, SessionBooking]:
    if not workshop_ids:
        return {}
    stmt = select(SessionBooking).where(
        SessionBooking.student_id == student_id,
        SessionBooking.workshop_id.in_(workshop_ids),
        SessionBooking.is_holding,
    )
    return {b.workshop_id: b for b in db.session.scalars(stmt) if b.workshop_id is not None}


def waiting_positions(student_id: int, workshop_ids: list[int]) -> dict[int, int]:
    """The student's place in each waiting list they are in (1 = next to get a seat)."""
    if not workshop_ids:
        return {}
    line = (
        select(
            WorkshopWaitlist.workshop_id,
            WorkshopWaitlist.student_id,
            func.row_number()
            .over(
                partition_by=WorkshopWaitlist.workshop_id,
                order_by=(WorkshopWaitlist.created_at, WorkshopWaitlist.id),
            )
            .label("position"),
        )
        .where(WorkshopWaitlist.workshop_id.in_(workshop_ids), WorkshopWaitlist.status == WaitStatus.WAITING)
        .subquery()
    )
    stmt = select(line.c.workshop_id, line.c.position).where(line.c.student_id == student_id)
    return dict(db.session.execute(stmt).all())


def card_for(student: Student, workshop: Workshop) -> WorkshopCard:
    """One workshop's card for a student (its detail page)."""
    taken = taken_counts([workshop.id]).get(workshop.id, 0)
    seat = _seats_of(student.id, [workshop.id]).get(workshop.id)
    position = waiting_positions(student.id, [workshop.id]).get(workshop.id)
    return WorkshopCard(workshop, max(workshop.seats - taken, 0), seat, position)


def _family_students(user: User) -> Select[tuple[int]]:
    if user.role is Role.ELEVE:
        return select(Student.id).where(Student.user_id == user.id)
    return family.children_ids(user.id)


def visible_workshop(user: User, workshop_id: int) -> Workshop | None:
    """Staff: any; the coach: their own; a student or parent: one open to (one of) their
    children's grade, or one a child has (had) a seat or a place in line in. Else None (404)."""
    workshop = db.session.scalar(with_coach(select(Workshop)).where(Workshop.id == workshop_id))
    if workshop is None:
        return None
    if policy.is_staff(user):
        return workshop
    if user.role is Role.COACH:
        return workshop if workshop.coach.user_id == user.id else None
    if user.role not in (Role.ELEVE, Role.PARENT):
        return None
    students = _family_students(user)
    same_grade = select(Student.id).where(Student.id.in_(students), Student.grade == workshop.grade)
    seated = select(SessionBooking.id).where(
        SessionBooking.workshop_id == workshop.id, SessionBooking.student_id.in_(students)
    )
    listed = select(WorkshopWaitlist.id).where(
        WorkshopWaitlist.workshop_id == workshop.id, WorkshopWaitlist.student_id.in_(students)
    )
    for stmt in (seated, listed):
        if db.session.scalar(stmt.limit(1)) is not None:
            return workshop
    if workshop.status is WorkshopStatus.SCHEDULED and db.session.scalar(same_grade.limit(1)) is not None:
        return workshop
    return None


# -- the staff's and the coach's views ---------------------------------------------------------


def participants(workshop_id: int, *, cancelled: bool = False) -> list[SessionBooking]:
    """The seats held or closed (completed, no-show), with the student loaded, by name;
    with `cancelled`, the cancelled seats too."""
    stmt = (
        select(SessionBooking)
        .join(Student, SessionBooking.student_id == Student.id)
        .join(User, Student.user_id == User.id)
        .where(SessionBooking.workshop_id == workshop_id)
        .options(joinedload(SessionBooking.student).joinedload(Student.user))
        .order_by(User.first_name, User.last_name, SessionBooking.id)
    )
    if not cancelled:
        stmt = stmt.where(SessionBooking.status != SessionStatus.CANCELLED)
    return list(db.session.scalars(stmt).unique())


def waitlist(workshop_id: int) -> list[WorkshopWaitlist]:
    """The students waiting, first in line first."""
    stmt = (
        select(WorkshopWaitlist)
        .where(WorkshopWaitlist.workshop_id == workshop_id, WorkshopWaitlist.status == WaitStatus.WAITING)
        .order_by(WorkshopWaitlist.created_at, WorkshopWaitlist.id)
    )
    return list(db.session.scalars(stmt))


def waitlist_students(workshop_id: int) -> list[tuple[WorkshopWaitlist, Student]]:
    """The waiting list with each student (and their user) loaded, first in line first."""
    entries = waitlist(workshop_id)
    ids = [e.student_id for e in entries]
    stmt = select(Student).where(Student.id.in_(ids)).options(joinedload(Student.user))
    students = {s.id: s for s in db.session.scalars(stmt).unique()} if ids else {}
    return [(e, students[e.student_id]) for e in entries]


def _rows(stmt: Select[tuple[Workshop]]) -> list[WorkshopRow]:
    workshops = list(db.session.scalars(with_coach(stmt)).unique())
    ids = [w.id for w in workshops]
    taken, waiting = taken_counts(ids), waiting_counts(ids)
    return [WorkshopRow(w, taken.get(w.id, 0), waiting.get(w.id, 0)) for w in workshops]


def to_close(coach: CoachProfile, now: datetime | None = None) -> list[WorkshopRow]:
    """The coach's workshops that have started and still wait for their group report."""
    now = now or utcnow()
    stmt = select(Workshop).where(
        Workshop.coach_id == coach.id, Workshop.status == WorkshopStatus.SCHEDULED, Workshop.starts_at <= now
    )
    return _rows(stmt.order_by(Workshop.starts_at, Workshop.id))


def staff_list(*, upcoming: bool, now: datetime | None = None, limit: int = 200) -> list[WorkshopRow]:
    """Upcoming workshops (not ended), soonest first; or past and cancelled ones, latest first."""
    now = now or utcnow()
    stmt = select(Workshop)
    if upcoming:
        stmt = stmt.where(Workshop.ends_at >= now, Workshop.status == WorkshopStatus.SCHEDULED)
        stmt = stmt.order_by(Workshop.starts_at, Workshop.id)
    else:
        stmt = stmt.where(or_(Workshop.ends_at < now, Workshop.status != WorkshopStatus.SCHEDULED))
        stmt = stmt.order_by(Workshop.starts_at.desc(), Workshop.id.desc())
    return _rows(stmt.limit(limit))


def coach_list(coach: CoachProfile, now: datetime | None = None, limit: int = 200) -> list[WorkshopRow]:
    """The coach's workshops: the ones to come first (soonest first), then the past ones."""
    now = now or utcnow()
    to_come = (Workshop.ends_at >= now) & (Workshop.status == WorkshopStatus.SCHEDULED)
    stmt = (
        select(Workshop)
        .where(Workshop.coach_id == coach.id)
        .order_by(to_come.desc(), Workshop.starts_at, Workshop.id)
        .limit(limit)
    )
    return _rows(stmt)
