"""Credits and the periodic money jobs under 50 concurrent attempts, on committed data (rule 4).

Staff deductions, a request's rejection, and the jobs that grant, expire and remind about credits
or end lapsed plans: 50 at once give the result of one, losers get a French refusal, nothing
goes negative.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.jobs.billing import (
    allocate_monthly_credits,
    end_lapsed_subscriptions,
    expire_credit_lots,
    remind_expiring_credits,
)
from nexus.models.audit import AuditLog
from nexus.models.billing import Entitlement, EntitlementStatus, Subscription, SubscriptionStatus
from nexus.models.credits import CreditEntry, CreditLot, CreditRequest, EntryKind, LotSource, RequestStatus
from nexus.models.notifications import Notification, OutboxEmail
from nexus.services import ServiceError, billing, credits, utcnow
from tests import factories
from tests.helpers import FIFTY, at_once, refusals, user
from tests.people import ASSISTANTE, PARENT, PARENT2, SAMI, YASMINE


def _audits(action: str) -> int:
    return db.session.scalar(select(func.count()).where(AuditLog.action == action)) or 0


def _lots_left(student_id: int) -> list[Decimal]:
    remaining = func.coalesce(func.sum(CreditEntry.amount), 0)
    stmt = (
        select(remaining)
        .select_from(CreditLot)
        .outerjoin(CreditEntry, CreditEntry.lot_id == CreditLot.id)
        .where(CreditLot.student_id == student_id)
        .group_by(CreditLot.id)
    )
    return [Decimal(left) for left in db.session.scalars(stmt)]


# -- the credit desk -------------------------------------------------------------------------------


@pytest.mark.committed
def test_fifty_concurrent_deductions_of_one_credit_take_four_and_never_go_negative(app):
    with app.app_context():
        student_id = factories.student(YASMINE).id
        staff_id = user(ASSISTANTE).id
        # Two lots (3 + 1), so that deductions cross from one lot to the next.
        credits.grant(student_id, Decimal(3), LotSource.MANUAL, utcnow() + timedelta(days=30))
        credits.grant(student_id, Decimal(1), LotSource.MANUAL, utcnow() + timedelta(days=60))
        db.session.commit()
        assert credits.balance(student_id) == 4
        audits_before = _audits("credits.manual_deduct")

    results = at_once(
        app, lambda _: credits.manual_deduct(student_id, Decimal(1), "Correction de saisie", staff_id)
    )

    assert [r for r in results if not isinstance(r, ServiceError)] == [Decimal(1)] * 4
    refused = refusals(results)
    assert len(refused) == FIFTY - 4
    assert {str(r) for r in refused} == {"Crédits insuffisants : il faut 1 crédit, il en reste 0."}
    with app.app_context():
        assert credits.balance(student_id) == 0
        assert all(left >= 0 for left in _lots_left(student_id))
        adjustments = db.session.scalar(
            select(func.count()).where(
                CreditEntry.student_id == student_id, CreditEntry.kind == EntryKind.ADJUST
            )
        )
        assert adjustments == 4  # one entry per lot drawn from: each deduction of 1 fits in one lot
        assert _audits("credits.manual_deduct") - audits_before == 4


@pytest.mark.committed
def test_fifty_concurrent_rejections_of_one_request_reject_once_and_notify_once(app):
    with app.app_context():
        parent_id = user(PARENT).id
        staff_id = user(ASSISTANTE).id
        student_id = factories.student(YASMINE).id
        request_id = credits.request_credits(parent_id, student_id, Decimal(2), None).id
        db.session.commit()

    results = at_once(
        app, lambda _: credits.decide_request(request_id, False, staff_id, "Formule requise d'abord")
    )

    refused = refusals(results)
    assert len(refused) == FIFTY - 1
    assert {str(r) for r in refused} == {"Cette demande a déjà été traitée."}
    with app.app_context():
        row = db.session.get_one(CreditRequest, request_id)
        assert row.status is RequestStatus.REJECTED and row.rejection_reason == "Formule requise d'abord"
        assert row.lot_id is None
        notices = db.session.scalar(
            select(func.count()).where(
                Notification.user_id == parent_id, Notification.kind == "CREDIT_REQUEST_DECIDED"
            )
        )
        assert notices == 1
        assert _audits("credits.request_rejected") == 1
        assert credits.balance(student_id) == 0


# -- the periodic money jobs ------------------------------------------------------------------------


def _run_fifty(app, job):  # type: ignore[no-untyped-def]
    results = at_once(app, lambda _: job())
    assert not refusals(results)
    return results


@pytest.mark.committed
def test_fifty_concurrent_monthly_allocations_grant_the_new_month_once(app):
    with app.app_context():
        student = factories.student(SAMI)
        sub = billing.active_subscription(student.id)
        seed_lot = db.session.scalar(select(CreditLot).where(CreditLot.subscription_id == sub.id))
        # The plan began 35 days ago: its second month has started, its third has not.
        sub.started_at = utcnow() - timedelta(days=35)
        seed_lot.period = sub.started_at.strftime("%Y-%m")
        db.session.commit()
        sub_id, student_id, per_month = sub.id, student.id, sub.credits_per_month
        balance_before = credits.balance(student_id)

    results = _run_fifty(app, allocate_monthly_credits)

    assert sorted(results) == [0] * (FIFTY - 1) + [1]
    with app.app_context():
        lots = db.session.scalars(select(CreditLot).where(CreditLot.subscription_id == sub_id)).all()
        assert len(lots) == 2 and len({lot.period for lot in lots}) == 2
        grants = db.session.scalar(
            select(func.count()).where(
                CreditEntry.student_id == student_id, CreditEntry.kind == EntryKind.GRANT
            )
        )
        assert grants == 2
        assert credits.balance(student_id) == balance_before + per_month


@pytest.mark.committed
def test_fifty_concurrent_expiry_runs_write_one_expiry_per_due_lot(app):
    with app.app_context():
        yasmine, sami = factories.student(YASMINE).id, factories.student(SAMI).id
        past = utcnow() - timedelta(minutes=5)
        due = [
            credits.grant(yasmine, Decimal(3), LotSource.MANUAL, past),
            credits.grant(yasmine, Decimal("1.5"), LotSource.MANUAL, past - timedelta(days=1)),
            credits.grant(sami, Decimal(2), LotSource.MANUAL, past),
        ]
        credits.grant(sami, Decimal(1), LotSource.MANUAL, utcnow() + timedelta(days=3))  # not due
        # Part of one due lot was spent before it expired: only the rest expires.
        credits.manual_deduct(sami, Decimal(1), "Correction de saisie", user(ASSISTANTE).id)
        db.session.commit()
        due_ids = sorted(lot.id for lot in due)
        sami_before = credits.balance(sami)

    results = _run_fifty(app, expire_credit_lots)

    assert sum(results) == len(due_ids)
    with app.app_context():
        expired = db.session.execute(
            select(CreditEntry.lot_id, CreditEntry.amount).where(CreditEntry.kind == EntryKind.EXPIRE)
        ).all()
        assert sorted(lot_id for lot_id, _ in expired) == due_ids
        assert all(left == 0 for left in _lots_left(yasmine))
        assert all(left >= 0 for left in _lots_left(sami))
        assert credits.balance(yasmine) == 0
        assert credits.balance(sami) == sami_before


@pytest.mark.committed
def test_fifty_concurrent_lapse_runs_end_the_plan_and_its_rights_once(app):
    with app.app_context():
        student_id = factories.student(SAMI).id
        sub = billing.active_subscription(student_id)
        ended = utcnow() - timedelta(minutes=1)
        sub.current_period_end = ended
        rights = db.session.scalars(select(Entitlement).where(Entitlement.subscription_id == sub.id)).all()
        assert rights
        for right in rights:
            right.ends_at = ended
        db.session.commit()
        sub_id = sub.id

    results = _run_fifty(app, end_lapsed_subscriptions)

    assert sorted(results) == [0] * (FIFTY - 1) + [1]
    with app.app_context():
        row = db.session.get_one(Subscription, sub_id)
        assert row.status is SubscriptionStatus.EXPIRED and row.ended_at is not None
        statuses = db.session.scalars(select(Entitlement.status).where(Entitlement.subscription_id == sub_id))
        assert set(statuses) == {EntitlementStatus.EXPIRED}
        assert billing.active_subscription(student_id) is None


@pytest.mark.committed
def test_fifty_concurrent_reminder_runs_send_one_email_per_lot(app):
    with app.app_context():
        yasmine, sami = factories.student(YASMINE).id, factories.student(SAMI).id
        soon = utcnow() + timedelta(days=5)
        lots = [
            credits.grant(yasmine, Decimal(2), LotSource.MANUAL, soon),
            credits.grant(sami, Decimal(3), LotSource.MANUAL, soon),
            credits.grant(sami, Decimal(1), LotSource.MANUAL, soon + timedelta(days=1)),
        ]
        credits.grant(sami, Decimal(1), LotSource.MANUAL, utcnow() + timedelta(days=20))  # not yet
        db.session.commit()
        keys = sorted(f"credits-expiring:{lot.id}" for lot in lots)
        parents = {PARENT: 1, PARENT2: 2}

    results = _run_fifty(app, remind_expiring_credits)

    assert sum(results) == len(keys)
    with app.app_context():
        mails = db.session.execute(
            select(OutboxEmail.dedupe_key, OutboxEmail.to_email).where(
                OutboxEmail.template == "credits_expiring"
            )
        ).all()
        assert sorted(key for key, _ in mails) == keys
        for email, expected in parents.items():
            assert sum(1 for _, to in mails if to == email) == expected
            notices = db.session.scalar(
                select(func.count()).where(
                    Notification.user_id == user(email).id, Notification.kind == "CREDITS_EXPIRING"
                )
            )
            assert notices == expected
