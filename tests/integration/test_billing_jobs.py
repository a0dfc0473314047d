"""Periodic money jobs: idempotent, and right about dates."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from nexus.extensions import db
from nexus.jobs.billing import (
    allocate_monthly_credits,
    end_lapsed_subscriptions,
    expire_credit_lots,
    remind_expiring_credits,
)
from nexus.models.billing import SubscriptionStatus
from nexus.models.catalog import Feature
from nexus.models.credits import CreditLot, LotSource
from nexus.models.notifications import OutboxEmail
from nexus.services import billing, credits, utcnow
from tests import factories
from tests.people import PARENT2, SAMI


def sami():
    return factories.student(SAMI)


@pytest.mark.parametrize(
    "today",
    # First days of a month (where the old test failed), month ends, a leap day, a year's end.
    ["2026-12-01 09:00", "2027-01-10 23:30", "2027-03-31 12:00", "2028-02-29 08:00", "2027-12-31 22:59"],
)
def test_monthly_allocation_grants_each_started_month_once(today):
    student = sami()
    sub = billing.active_subscription(student.id)
    seed_lot = db.session.scalar(select(CreditLot).where(CreditLot.subscription_id == sub.id))
    with freeze_time(today):
        sub.started_at = utcnow() - timedelta(days=40)
        sub.current_period_end = utcnow() + timedelta(days=20)
        # Month 0 was granted with the payment, keyed by the month the plan started in.
        seed_lot.period = sub.started_at.strftime("%Y-%m")
        db.session.flush()
        assert allocate_monthly_credits() == 1  # month 1 is new
        assert allocate_monthly_credits() == 0
    lots = db.session.scalars(select(CreditLot.period).where(CreditLot.subscription_id == sub.id)).all()
    assert len(lots) == 2
    assert len(set(lots)) == 2


def test_allocation_keys_follow_the_plan_not_the_day_the_job_runs():
    """Run on any day of a month, the job keys each month of a plan by when that month began."""
    student = sami()
    sub = billing.active_subscription(student.id)
    seed_lot = db.session.scalar(select(CreditLot).where(CreditLot.subscription_id == sub.id))
    sub.started_at = datetime(2027, 1, 31, 10, tzinfo=UTC)
    sub.current_period_end = datetime(2027, 6, 1, tzinfo=UTC)
    seed_lot.period = "2027-01"
    db.session.flush()
    for day in ("2027-03-01 00:30", "2027-03-15 12:00", "2027-03-31 23:00"):
        with freeze_time(day):
            allocate_monthly_credits()
    periods = db.session.scalars(
        select(CreditLot.period).where(CreditLot.subscription_id == sub.id).order_by(CreditLot.period)
    ).all()
    assert periods == ["2027-01", "2027-02", "2027-03"]  # Jan 31, Feb 28, Mar 31: once each


def test_expiry_job_takes_the_rest_once():
    student = sami()
    credits.grant(student.id, Decimal(2), LotSource.MANUAL, utcnow() + timedelta(days=1))
    with freeze_time(utcnow() + timedelta(days=2)):
        assert expire_credit_lots() == 1
        assert expire_credit_lots() == 0
        assert credits.balance(student.id) == 4  # the seed's subscription lot is still live


def test_expiry_reminder_is_sent_once_per_lot():
    student = sami()
    credits.grant(student.id, Decimal(3), LotSource.MANUAL, utcnow() + timedelta(days=5))
    assert remind_expiring_credits() == 1
    assert remind_expiring_credits() == 0
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.template == "credits_expiring"))
    assert mail.to_email == PARENT2


def test_a_lapsed_subscription_expires_with_its_rights():
    student = sami()
    assert billing.has_feature(student.id, Feature.ARIA, "MATHEMATIQUES")
    sub = billing.active_subscription(student.id)
    with freeze_time(sub.current_period_end + timedelta(minutes=1)):
        assert end_lapsed_subscriptions() == 1
        assert end_lapsed_subscriptions() == 0
        assert not billing.has_feature(student.id, Feature.ARIA, "MATHEMATIQUES")
    db.session.refresh(sub)
    assert sub.status is SubscriptionStatus.EXPIRED
