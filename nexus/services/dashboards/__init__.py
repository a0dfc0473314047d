"""Read-only figures for each role's home page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import joinedload

from nexus import fr
from nexus.extensions import db
from nexus.memo import per_request
from nexus.models.aria import AriaConversation
from nexus.models.assessments import Assessment
from nexus.models.billing import Payment, PaymentStatus, Subscription
from nexus.models.credits import CreditRequest, RequestStatus
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.notifications import ContactMessage
from nexus.models.scheduling import SessionBooking, SessionReport
from nexus.services import billing, catalog, credits, family, scheduling, utcnow
from nexus.services.assessments import access as test_access
from nexus.services.credits import ExpiryLine


def _count(stmt: Any) -> int:
    return db.session.scalar(stmt) or 0


def staff_summary() -> dict[str, Any]:
    contacts = select(ContactMessage).order_by(ContactMessage.id.desc()).limit(5)
    return {
        "pending_payments": _count(select(func.count()).where(Payment.status == PaymentStatus.PENDING)),
        "pending_credit_requests": _count(
            select(func.count()).where(CreditRequest.status == RequestStatus.PENDING)
        ),
        "new_bilans": _count(select(func.count()).where(BilanRequest.status == BilanStatus.RECEIVED)),
        "open_contacts": _count(select(func.count()).where(ContactMessage.handled_at.is_(None))),
        "upcoming_sessions": _count(
            select(func.count()).where(
                SessionBooking.is_holding,
                SessionBooking.starts_at >= utcnow(),
            )
        ),
        "latest_contacts": list(db.session.scalars(contacts)),
    }


def admin_summary() -> dict[str, Any]:
    by_role = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    return {
        **staff_summary(),
        "users_by_role": by_role,
        "active_subscriptions": _count(select(func.count()).where(Subscription.status == "ACTIVE")),
    }


def coach_summary(user: User) -> dict[str, Any]:
    profile = db.session.scalar(select(CoachProfile).where(CoachProfile.user_id == user.id))
    upcoming: list[SessionBooking] = []
    if profile is not None:
        upcoming = list(
            db.session.scalars(
                select(SessionBooking)
                .where(
                    SessionBooking.coach_id == profile.id,
                    SessionBooking.starts_at >= utcnow(),
                    SessionBooking.is_holding,
                )
                .order_by(SessionBooking.starts_at)
                .limit(10)
            )
        )
    return {"profile": profile, "upcoming": upcoming}


@dataclass
class StudentCard:
    student: Student
    subscription: Subscription | None
    balance: Decimal
    lots: list[ExpiryLine]  # the credits left, one line per expiry day


def student_cards(students: list[Student]) -> list[StudentCard]:
    """One card per student, in three queries whatever the number of students."""
    ids = [s.id for s in students]
    subscriptions = billing.active_subscriptions_of(ids)
    balances = credits.balances(ids)
    lots = credits.expiry_lines_of(ids)
    return [StudentCard(s, subscriptions.get(s.id), balances[s.id], lots[s.id]) for s in students]


def children_summary(user: User) -> list[StudentCard]:
    return student_cards(family.children(user))


NEXT_SESSIONS = 5

# The student's home and its next step read the same tests: once per request.
tests_of = per_request(test_access.tests_of)


@per_request  # the student's home lists them, its next step prepares the first
def upcoming_of(student_id: int) -> list[SessionBooking]:
    """The student's next sessions holding a slot, soonest first (at most NEXT_SESSIONS)."""
    return scheduling.sessions_of_students([student_id], upcoming=True, limit=NEXT_SESSIONS)


@dataclass
class StudentHome:
    card: StudentCard
    upcoming: list[SessionBooking]  # the next sessions holding a slot, soonest first
    open_tests: list[Assessment]  # positioning tests assigned or under way


def student_summary(user: User) -> StudentHome | None:
    student = family.student_of(user)
    if student is None:
        return None
    upcoming = upcoming_of(student.id)
    open_tests = [t for t in tests_of(student.id) if t.is_open]
    return StudentHome(student_cards([student])[0], upcoming, open_tests)


@dataclass
class Waiting:
    """What a parent is waiting for from the centre."""

    label: str
    since: Any
    detail: str


@per_request  # the parent's home lists them, its next step leaves these children out of "choose an offer"
def pending_payments(student_ids: list[int]) -> list[Payment]:
    """The declared transfers of these students not validated yet."""
    if not student_ids:
        return []
    stmt = select(Payment).where(Payment.student_id.in_(student_ids), Payment.status == PaymentStatus.PENDING)
    return list(db.session.scalars(stmt))


def waiting_for(user: User) -> list[Waiting]:
    """The family's declared transfers not yet validated and credit requests not yet answered."""
    kids = [child.id for child in family.children(user)]  # read by the cards already (memo)
    if not kids:
        return []
    payments = pending_payments(kids)
    requests = db.session.scalars(
        select(CreditRequest)
        .options(joinedload(CreditRequest.student).joinedload(Student.user))  # named below: no lazy load
        .where(CreditRequest.student_id.in_(kids), CreditRequest.status == RequestStatus.PENDING)
    )
    items = [
        Waiting(catalog.order_label(p), p.declared_at or p.created_at, f"Référence {p.reference}")
        for p in payments
    ]
    items += [
        Waiting(
            f"Demande de crédits pour {r.student.user.first_name}",
            r.created_at,
            fr.credits(r.amount),
        )
        for r in requests
    ]
    return items


# -- the family's homes: per child, the next session and the latest report (inline) -------------


@dataclass(frozen=True)
class ReportLine:
    """A child's latest session report: the session it is about (link) and whether it was read."""

    booking_id: int
    starts_at: Any
    coach: str
    read: bool


@per_request  # the parent's cards show them, its next step announces the soonest
def next_sessions(student_ids: list[int]) -> dict[int, SessionBooking]:
    """Each student's next session holding a slot (coach loaded), in one query."""
    if not student_ids:
        return {}
    stmt = (
        select(SessionBooking)
        .options(joinedload(SessionBooking.coach))
        .where(
            SessionBooking.student_id.in_(student_ids),
            SessionBooking.is_holding,
            SessionBooking.ends_at >= utcnow(),
        )
        .ext(distinct_on(SessionBooking.student_id))
        .order_by(SessionBooking.student_id, SessionBooking.starts_at, SessionBooking.id)
    )
    return {b.student_id: b for b in db.session.scalars(stmt)}


def latest_reports(student_ids: list[int]) -> dict[int, ReportLine]:
    """Each student's latest session report, in one query of plain columns."""
    if not student_ids:
        return {}
    stmt = (
        select(
            SessionBooking.student_id,
            SessionBooking.id,
            SessionBooking.starts_at,
            CoachProfile.pseudonym,
            SessionReport.family_read_at,
        )
        .join(SessionReport, SessionReport.booking_id == SessionBooking.id)
        .join(CoachProfile, CoachProfile.id == SessionBooking.coach_id)
        .where(SessionBooking.student_id.in_(student_ids))
        .ext(distinct_on(SessionBooking.student_id))
        .order_by(SessionBooking.student_id, SessionBooking.starts_at.desc(), SessionBooking.id.desc())
    )
    return {
        row[0]: ReportLine(row[1], row[2], row[3], row[4] is not None) for row in db.session.execute(stmt)
    }


@dataclass
class ChildHome:
    card: StudentCard
    next_session: SessionBooking | None
    report: ReportLine | None


def parent_home(user: User) -> list[ChildHome]:
    """The parent's child cards with each child's next session and latest report."""
    cards = children_summary(user)
    ids = [c.student.id for c in cards]
    sessions, reports = next_sessions(ids), latest_reports(ids)
    return [ChildHome(c, sessions.get(c.student.id), reports.get(c.student.id)) for c in cards]


def recent_conversations(student_id: int, limit: int = 3) -> list[AriaConversation]:
    """The student's latest ARIA conversations, most recent first."""
    stmt = (
        select(AriaConversation)
        .where(AriaConversation.student_id == student_id)
        .order_by(AriaConversation.updated_at.desc(), AriaConversation.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
