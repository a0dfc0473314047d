"""Periodic money jobs: idempotent, and right about dates."""

from datetime import timedelta
from decimal import Decimal

from freezegun import freeze_time
from sqlalchemy import func, select

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


def sami():
    return factories.student("sami@nexus-reussite.tn")


def test_monthly_allocation_grants_each_started_month_once():
    student = sami()
    sub = billing.active_subscription(student.id)
    sub.started_at = utcnow() - timedelta(days=40)
    sub.current_period_end = utcnow() + timedelta(days=20)
    db.session.flush()
    assert allocate_monthly_credits() == 1  # month 0 came with the seed, month 1 is new
    assert allocate_monthly_credits() == 0
    lots = db.session.scalar(select(func.count()).where(CreditLot.subscription_id == sub.id))
    assert lots == 2


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
    assert mail.to_email == "parent2@nexus-reussite.tn"


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
