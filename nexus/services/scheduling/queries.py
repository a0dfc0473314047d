"""Who may see which session, and the lists the pages show (coaches, a student's sessions, a
coach's agenda and students, the staff's list). Read only.

`visible_to(user)` is the one role scoping: a session's page and a calendar feed show exactly
the sessions it admits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from nexus import fr, policy
from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.common import Role, Subject
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking
from nexus.services import family, utcnow

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
    return coach.services


# -- whose sessions ----------------------------------------------------------------------------


def visible_to(user: User) -> ColumnElement[bool]:
    """The sessions the user is a party to: the student's own, the family's children's, the
    coach's; staff see every session, anyone else none."""
    if user.role is Role.ELEVE:
        return SessionBooking.student_id.in_(select(Student.id).where(Student.user_id == user.id))
    if user.role is Role.PARENT:
        return SessionBooking.student_id.in_(
            select(Student.id).where(Student.parent_id.in_(family.family_ids(user.id)))
        )
    if user.role is Role.COACH:
        return SessionBooking.coach_id.in_(select(CoachProfile.id).where(CoachProfile.user_id == user.id))
    return true() if policy.is_staff(user) else false()


def with_people(stmt: Select[tuple[SessionBooking]]) -> Select[tuple[SessionBooking]]:
    return stmt.options(
        joinedload(SessionBooking.student).joinedload(Student.user),
        joinedload(SessionBooking.coach).joinedload(CoachProfile.user),
    )


def booking_for(user: User, booking_id: int, *, lock: bool = False) -> SessionBooking | None:
    """The booking if the user is one of its parties (or staff), else None (answer 404)."""
    stmt = select(SessionBooking).where(SessionBooking.id == booking_id, visible_to(user))
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
    stmt = with_people(select(SessionBooking)).where(SessionBooking.student_id.in_(student_ids))
    if upcoming:
        stmt = stmt.where(SessionBooking.is_holding, SessionBooking.ends_at >= now)
        stmt = stmt.order_by(SessionBooking.starts_at)
    else:
        stmt = stmt.where(or_(~SessionBooking.is_holding, SessionBooking.ends_at < now))
        # Past sessions show their report: loaded with them (one statement, not one per session).
        stmt = stmt.order_by(SessionBooking.starts_at.desc()).options(selectinload(SessionBooking.report))
    return list(db.session.scalars(stmt.limit(limit)).unique())


def upcoming_stmt(now: datetime | None = None, days: int = 31) -> Select[tuple[SessionBooking]]:
    """Every session holding a slot in the coming days, soonest first: the staff's table, and
    its CSV export."""
    now = now or utcnow()
    return (
        select(SessionBooking)
        .where(
            SessionBooking.is_holding,
            SessionBooking.ends_at >= now,
            SessionBooking.starts_at <= now + timedelta(days=days),
        )
        .order_by(SessionBooking.starts_at, SessionBooking.id)
    )


def upcoming_all(now: datetime | None = None, days: int = 31, limit: int = 200) -> list[SessionBooking]:
    """Staff view: every session holding a slot in the coming days."""
    return list(db.session.scalars(with_people(upcoming_stmt(now, days)).limit(limit)).unique())


# -- a coach's agenda and students -------------------------------------------------------------


@dataclass
class CoachAgenda:
    to_close: list[SessionBooking]  # started, waiting for a report or a no-show
    today: list[SessionBooking]
    this_week: list[SessionBooking]
    later: list[SessionBooking]
    history: list[SessionBooking]


def coach_agenda(coach_id: int, now: datetime | None = None, history_limit: int = 30) -> CoachAgenda:
    now = now or utcnow()
    # A workshop's seats are on the workshops page, closed together by the group report.
    base = with_people(select(SessionBooking)).where(
        SessionBooking.coach_id == coach_id, SessionBooking.workshop_id.is_(None)
    )
    holding = list(
        db.session.scalars(
            base.where(SessionBooking.is_holding).order_by(SessionBooking.starts_at)
        ).unique()
    )
    today = fr.local_today(now)
    week_end = today + timedelta(days=6 - today.weekday())
    agenda = CoachAgenda([], [], [], [], [])
    for booking in holding:
        day = booking.starts_at.astimezone(fr.TUNIS).date()
        if booking.starts_at <= now:
            agenda.to_close.append(booking)
        elif day == today:
            agenda.today.append(booking)
        elif day <= week_end:
            agenda.this_week.append(booking)
        else:
            agenda.later.append(booking)
    history = base.where(~SessionBooking.is_holding).order_by(SessionBooking.starts_at.desc())
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
        with_people(select(SessionBooking))
        .where(SessionBooking.coach_id == coach_id, SessionBooking.student_id == student_id)
        .order_by(SessionBooking.starts_at.desc())
    )
    return list(db.session.scalars(stmt).unique())
