"""The month-additive aggregates of [start, end): the one SQL the live figures and the monthly
rollups both run, so they cannot disagree. Each family returns rows (metric, key1, key2, value);
a period's figure is the sum of its months' rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import String, cast, exists, func, literal, select, union_all
from sqlalchemy.orm import aliased

from nexus.extensions import db
from nexus.models.assessments import Assessment, TestStatus
from nexus.models.billing import Payment, PaymentStatus, Subscription, SubscriptionStatus
from nexus.models.catalog import OfferKind
from nexus.models.credits import CreditEntry, CreditLot, EntryKind
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.services import catalog

Row = tuple[str, str, str, int | Decimal]
Family = Callable[[datetime, datetime], list[Row]]

REVENUE_AMOUNT, REVENUE_COUNT = "revenue.amount", "revenue.count"  # key1: offer code
SESSIONS, SESSIONS_DUE = "sessions", "sessions.not_cancelled"  # key1: coach id, key2: subject:status
SUBSCRIPTIONS = "subscriptions"  # key1: started, renewed, EXPIRED or CANCELLED; key2: plan
CREDIT_ENTRIES = "credit.entries"  # key1: entry kind (grants left out: the lots say them)
LOTS, LOTS_AMOUNT = "credit.lots", "credit.lots_amount"  # key1: lot source
TESTS_COMPLETED = "assessments.completed"
STARTED, RENEWED = "started", "renewed"


def _within(column: object, start: datetime, end: datetime) -> object:
    return (column >= start) & (column < end)  # type: ignore[operator]


def revenue(start: datetime, end: datetime) -> list[Row]:
    """Completed payments by offer, by their validation."""
    stmt = (
        select(Payment.offer_code, func.count(), func.sum(Payment.amount_millimes))
        .where(Payment.status == PaymentStatus.COMPLETED, _within(Payment.processed_at, start, end))
        .group_by(Payment.offer_code)
    )
    rows: list[Row] = []
    for code, count, amount in db.session.execute(stmt):
        rows += [(REVENUE_AMOUNT, str(code), "", int(amount)), (REVENUE_COUNT, str(code), "", count)]
    return rows


def sessions(start: datetime, end: datetime) -> list[Row]:
    """Sessions by coach, subject and status, by their start; and those not cancelled."""
    stmt = (
        select(SessionBooking.coach_id, SessionBooking.subject, SessionBooking.status, func.count())
        .where(_within(SessionBooking.starts_at, start, end))
        .group_by(SessionBooking.coach_id, SessionBooking.subject, SessionBooking.status)
    )
    rows: list[Row] = []
    due = 0
    for coach_id, subject, status, count in db.session.execute(stmt):
        rows.append((SESSIONS, str(coach_id), f"{subject}:{status}", count))
        due += 0 if SessionStatus(status) is SessionStatus.CANCELLED else count
    return [*rows, (SESSIONS_DUE, "", "", due)] if rows else rows


def subscriptions(start: datetime, end: datetime) -> list[Row]:
    """Plans started, renewed (a completed payment of a plan the student already had) and ended."""
    plans = [offer.code for offer in catalog.offers_of(OfferKind.PLAN)]
    previous = aliased(Subscription)
    had_it = exists().where(
        previous.student_id == Payment.student_id,
        previous.plan == Payment.offer_code,
        previous.started_at < Payment.processed_at,
        (previous.ended_at.is_(None)) | (previous.ended_at >= Payment.processed_at),
    )
    started = select(literal(STARTED), Subscription.plan, func.count()).where(
        _within(Subscription.started_at, start, end)
    )
    renewed = select(literal(RENEWED), Payment.offer_code, func.count()).where(
        Payment.status == PaymentStatus.COMPLETED,
        Payment.offer_code.in_(plans),
        _within(Payment.processed_at, start, end),
        had_it,
    )
    ended = select(cast(Subscription.status, String).label("kind"), Subscription.plan, func.count()).where(
        Subscription.status.in_((SubscriptionStatus.EXPIRED, SubscriptionStatus.CANCELLED)),
        _within(Subscription.ended_at, start, end),
    )
    stmt = union_all(
        started.group_by(Subscription.plan),
        renewed.group_by(Payment.offer_code),
        ended.group_by(Subscription.status, Subscription.plan),
    )
    return [(SUBSCRIPTIONS, str(kind), str(plan), count) for kind, plan, count in db.session.execute(stmt)]


def credits(start: datetime, end: datetime) -> list[Row]:
    """The ledger by kind (grants aside) and the lots granted by source."""
    entries = (
        select(CreditEntry.kind, func.sum(CreditEntry.amount))
        .where(_within(CreditEntry.created_at, start, end), CreditEntry.kind != EntryKind.GRANT)
        .group_by(CreditEntry.kind)
    )
    rows: list[Row] = [
        (CREDIT_ENTRIES, str(kind), "", amount) for kind, amount in db.session.execute(entries)
    ]
    lots = (
        select(CreditLot.source, func.count(), func.sum(CreditLot.amount))
        .where(_within(CreditLot.granted_at, start, end))
        .group_by(CreditLot.source)
    )
    for source, count, amount in db.session.execute(lots):
        rows += [(LOTS, str(source), "", count), (LOTS_AMOUNT, str(source), "", amount)]
    return rows


def assessments(start: datetime, end: datetime) -> list[Row]:
    """Positioning tests completed."""
    count = db.session.scalar(
        select(func.count()).where(
            Assessment.status == TestStatus.COMPLETED, _within(Assessment.completed_at, start, end)
        )
    )
    return [(TESTS_COMPLETED, "", "", count)] if count else []


FAMILIES: dict[str, Family] = {
    "revenue": revenue,
    "sessions": sessions,
    "subscriptions": subscriptions,
    "credit": credits,  # its metrics ("credit.lots") must not read as audited actions ("credits.…")
    "assessments": assessments,
}
