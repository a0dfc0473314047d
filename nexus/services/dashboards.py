"""Read-only figures for each role's home page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from nexus import fr
from nexus.extensions import db
from nexus.models.assessments import Assessment
from nexus.models.billing import Payment, PaymentStatus, Subscription
from nexus.models.credits import CreditRequest, RequestStatus
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.notifications import ContactMessage
from nexus.models.scheduling import SessionBooking
from nexus.services import billing, catalog, credits, family, identity, scheduling, utcnow
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


@dataclass
class StudentHome:
    card: StudentCard
    upcoming: list[SessionBooking]  # the next sessions holding a slot, soonest first
    open_tests: list[Assessment]  # positioning tests assigned or under way


def student_summary(user: User) -> StudentHome | None:
    student = family.student_of(user)
    if student is None:
        return None
    upcoming = scheduling.sessions_of_students([student.id], upcoming=True, limit=NEXT_SESSIONS)
    open_tests = [t for t in test_access.tests_of(student.id) if t.is_open]
    return StudentHome(student_cards([student])[0], upcoming, open_tests)


@dataclass
class Waiting:
    """What a parent is waiting for from the centre."""

    label: str
    since: Any
    detail: str


def waiting_for(user: User) -> list[Waiting]:
    """The family's declared transfers not yet validated and credit requests not yet answered."""
    kids = family.children_ids(user.id)
    payments = db.session.scalars(
        select(Payment).where(Payment.student_id.in_(kids), Payment.status == PaymentStatus.PENDING)
    )
    requests = db.session.scalars(
        select(CreditRequest).where(
            CreditRequest.student_id.in_(kids), CreditRequest.status == RequestStatus.PENDING
        )
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


@dataclass(frozen=True)
class NextStep:
    """What a parent should do next: "add_child", "choose_offer" or "send_activation"."""

    kind: str
    student: Student | None = None


def next_step(user: User, cards: list[StudentCard]) -> NextStep | None:
    """The parent's next step, from the family's real state (first missing thing first)."""
    if not cards:
        return NextStep("add_child")
    paying = set(
        db.session.scalars(
            select(Payment.student_id).where(
                Payment.student_id.in_([c.student.id for c in cards]),
                Payment.status == PaymentStatus.PENDING,
            )
        )
    )
    for card in cards:  # a transfer already declared for the child is waiting, not missing
        if card.subscription is None and card.student.id not in paying:
            return NextStep("choose_offer", card.student)
    inactive = [c.student for c in cards if c.student.user.activated_at is None]
    pending = identity.pending_activation_links([s.user_id for s in inactive])
    waiting = [s for s in inactive if s.user_id not in pending]
    return NextStep("send_activation", waiting[0]) if waiting else None
