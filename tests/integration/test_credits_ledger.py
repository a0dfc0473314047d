"""The credit ledger: lots, first-expiring first, refunds to their lot, expiry of the rest."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from threading import Barrier

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.credits import CreditEntry, CreditLot, EntryKind, LotSource
from nexus.services import ServiceError, credits, utcnow
from tests import factories
from tests.people import SAMI, YASMINE


def grant(student_id, amount, days, source=LotSource.MANUAL):
    return credits.grant(student_id, Decimal(amount), source, utcnow() + timedelta(days=days))


def test_balance_is_the_sum_of_live_lots(yasmine):
    assert credits.balance(yasmine.id) == 0
    grant(yasmine.id, "5", 30)
    grant(yasmine.id, "1.25", 400, LotSource.CREDIT_PACK)
    assert credits.balance(yasmine.id) == Decimal("6.25")


def test_consumption_takes_the_first_expiring_lot_first_and_spans_lots(yasmine):
    late = grant(yasmine.id, "3", 300)
    soon = grant(yasmine.id, "1", 10)
    session = factories.booking(yasmine.id, factories.coach().id)
    credits.consume(yasmine.id, Decimal("1.5"), session.id)
    entries = db.session.scalars(
        select(CreditEntry).where(CreditEntry.booking_id == session.id).order_by(CreditEntry.id)
    ).all()
    assert [(e.lot_id, e.amount) for e in entries] == [(soon.id, Decimal("-1")), (late.id, Decimal("-0.5"))]
    assert credits.balance(yasmine.id) == Decimal("2.5")


def test_not_enough_credits_is_refused_in_french_and_changes_nothing(yasmine):
    grant(yasmine.id, "1", 10)
    session = factories.booking(yasmine.id, factories.coach().id)
    with pytest.raises(credits.InsufficientCredits) as refused:
        credits.consume(yasmine.id, Decimal("1.25"), session.id)
    assert "Crédits insuffisants" in refused.value.message
    assert credits.balance(yasmine.id) == 1


def test_refund_returns_to_the_same_lots_once(yasmine):
    first = grant(yasmine.id, "1", 10)
    second = grant(yasmine.id, "1", 20)
    session = factories.booking(yasmine.id, factories.coach().id)
    credits.consume(yasmine.id, Decimal("1.5"), session.id)
    assert credits.refund(yasmine.id, session.id) == Decimal("1.5")
    assert credits.refund(yasmine.id, session.id) == 0  # idempotent
    assert credits.balance(yasmine.id) == 2
    remaining = {lot.lot_id: lot.remaining for lot in credits.open_lots(yasmine.id)}
    assert remaining == {first.id: 1, second.id: 1}


def test_consuming_twice_for_one_booking_spends_once(yasmine):
    grant(yasmine.id, "3", 10)
    session = factories.booking(yasmine.id, factories.coach().id)
    credits.consume(yasmine.id, Decimal(1), session.id)
    credits.consume(yasmine.id, Decimal(1), session.id)
    assert credits.balance(yasmine.id) == 2


def test_expiry_takes_only_what_is_left_of_a_lot(yasmine):
    lot = grant(yasmine.id, "4", 5)
    session = factories.booking(yasmine.id, factories.coach().id)
    credits.consume(yasmine.id, Decimal("1.25"), session.id)
    later = utcnow() + timedelta(days=6)
    assert credits.balance(yasmine.id, at=later) == 0  # expired lots never count
    assert credits.expire_due(at=later) == 1
    assert credits.expire_due(at=later) == 0  # once per lot
    expired = db.session.scalar(
        select(CreditEntry.amount).where(CreditEntry.lot_id == lot.id, CreditEntry.kind == EntryKind.EXPIRE)
    )
    assert expired == Decimal("-2.75")
    total = db.session.scalar(select(func.sum(CreditEntry.amount)).where(CreditEntry.lot_id == lot.id))
    assert total == 0


def test_a_refund_after_expiry_does_not_revive_credits(yasmine):
    grant(yasmine.id, "1", 5)
    session = factories.booking(yasmine.id, factories.coach().id)
    credits.consume(yasmine.id, Decimal(1), session.id)
    later = utcnow() + timedelta(days=6)
    credits.expire_due(at=later)
    credits.refund(yasmine.id, session.id)
    assert credits.balance(yasmine.id, at=later) == 0


def test_subscription_allocation_is_granted_once_per_period():
    sami = factories.student(SAMI)
    from nexus.services import billing

    subscription = billing.active_subscription(sami.id)
    # The month the seed granted (read, not recomputed from the clock: the run may cross midnight).
    period = db.session.scalar(select(CreditLot.period).where(CreditLot.subscription_id == subscription.id))
    again = credits.grant(
        sami.id,
        Decimal(4),
        LotSource.SUBSCRIPTION,
        utcnow() + timedelta(days=60),
        subscription_id=subscription.id,
        period=period,
    )
    assert again is None  # the seed already allocated this month
    assert credits.balance(sami.id) == 4


@pytest.mark.parametrize("amount", ["0", "-1", "100000"])
def test_absurd_amounts_never_reach_the_ledger(yasmine, amount):
    with pytest.raises(ServiceError):
        grant(yasmine.id, amount, 10)
    assert db.session.scalar(select(func.count()).where(CreditEntry.student_id == yasmine.id)) == 0


@pytest.mark.committed
def test_fifty_concurrent_bookings_share_the_last_credit(app):
    """50 threads, 50 bookings, one credit left: exactly one consumption succeeds."""
    with app.app_context():
        yasmine = factories.student(YASMINE)
        coach_id = factories.coach().id
        grant(yasmine.id, "1", 30)
        bookings = [
            factories.booking(yasmine.id, coach_id, utcnow() + timedelta(days=2, hours=2 * i)).id
            for i in range(50)
        ]
        student_id = yasmine.id
        db.session.commit()

    barrier = Barrier(50)

    def attempt(booking_id: int) -> bool:
        with app.app_context():
            barrier.wait()
            try:
                credits.consume(student_id, Decimal(1), booking_id)
                db.session.commit()
                return True
            except credits.InsufficientCredits:
                db.session.rollback()
                return False
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, bookings))

    assert results.count(True) == 1
    with app.app_context():
        assert credits.balance(student_id) == 0
        spent = db.session.scalar(
            select(func.count()).where(
                CreditEntry.student_id == student_id, CreditEntry.kind == EntryKind.CONSUME
            )
        )
        assert spent == 1
