"""Subscription care: the family told 7 days and 1 day before a plan lapses and when it has
(once each, a renewal starting over), and the admin's correction of a plan with its rights."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nexus import fr
from nexus.extensions import db
from nexus.jobs.billing import end_lapsed_subscriptions, send_subscription_notices
from nexus.jobs.schedule import PERIODIC
from nexus.models.audit import AuditLog
from nexus.models.billing import Entitlement, EntitlementStatus, Subscription, SubscriptionStatus
from nexus.models.billing_care import LapseNoticeKind, SubscriptionNotice
from nexus.models.catalog import Feature, OfferCode
from nexus.models.notifications import Notification, OutboxEmail
from nexus.services import ServiceError, billing, utcnow
from tests import factories
from tests.conftest import travel
from tests.helpers import ADMIN, ASSISTANTE, PARENT2, SAMI, at_once, html, refusals, user

EDIT = "/dashboard/admin/abonnements/{}/modifier"


def plan() -> Subscription:
    """Sami's HYBRIDE plan (the demo's paid plan, parent2's child)."""
    sub = billing.active_subscription(factories.student(SAMI).id)
    assert sub is not None
    return sub


def bells(kind: str) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user(PARENT2).id, Notification.kind == kind)
    return list(db.session.scalars(stmt))


def notice_emails() -> list[OutboxEmail]:
    stmt = select(OutboxEmail).where(
        OutboxEmail.template == "subscription_notice", OutboxEmail.to_user_id == user(PARENT2).id
    )
    return list(db.session.scalars(stmt.order_by(OutboxEmail.id)))


def notices(sub: Subscription) -> list[tuple[LapseNoticeKind, object]]:
    stmt = select(SubscriptionNotice.kind, SubscriptionNotice.period_end).where(
        SubscriptionNotice.subscription_id == sub.id
    )
    return [tuple(row) for row in db.session.execute(stmt.order_by(SubscriptionNotice.id))]


def rights(sub: Subscription) -> list[Entitlement]:
    stmt = (
        select(Entitlement)
        .where(Entitlement.subscription_id == sub.id)
        .execution_options(populate_existing=True)
    )
    return list(db.session.scalars(stmt))


def test_the_notices_job_runs_hourly():
    assert {f.__name__: s for f, s in PERIODIC}["send_subscription_notices"] <= 3600


# -- notices before and at the lapse -----------------------------------------------------------------


def test_the_family_is_told_7_days_and_1_day_before_and_at_the_lapse_once_each():
    sub = plan()
    end = sub.current_period_end
    assert send_subscription_notices() == 0  # a month away
    with travel(end - timedelta(days=7) + timedelta(hours=1)):
        assert send_subscription_notices() == 1
        assert send_subscription_notices() == 0
    assert len(bells("SUBSCRIPTION_DAYS_7")) == 1
    [email] = notice_emails()
    assert email.context["kind"] == "DAYS_7" and email.context["ends_on"] == fr.short_date(end)
    assert f"/dashboard/parent/paiement?eleve={sub.student_id}&offre=HYBRIDE" in email.context["renew_url"]
    assert "7 jours" in email.subject
    with travel(end - timedelta(hours=20)):
        assert send_subscription_notices() == 1
        assert send_subscription_notices() == 0
    [bell] = bells("SUBSCRIPTION_DAYS_1")
    assert bell.link == f"/dashboard/parent/paiement?eleve={sub.student_id}&offre=HYBRIDE"
    with travel(end + timedelta(minutes=30)):
        assert end_lapsed_subscriptions() == 1  # expires the plan and tells the family at once
        assert send_subscription_notices() == 0
        assert end_lapsed_subscriptions() == 0
    assert len(bells("SUBSCRIPTION_LAPSED")) == 1
    assert [e.context["kind"] for e in notice_emails()] == ["DAYS_7", "DAYS_1", "LAPSED"]
    assert [k for k, _ in notices(sub)] == [
        LapseNoticeKind.DAYS_7,
        LapseNoticeKind.DAYS_1,
        LapseNoticeKind.LAPSED,
    ]


def test_the_notice_reaches_the_parent_with_its_renewal_link(run_jobs, smtp):
    sub = plan()
    with travel(sub.current_period_end - timedelta(hours=20)):
        assert send_subscription_notices() == 1
        run_jobs()
    mail = smtp.wait_for(PARENT2)
    assert mail["Subject"].startswith("La formule Hybride de Sami se termine demain")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"/dashboard/parent/paiement?eleve={sub.student_id}&offre=HYBRIDE" in text
    assert "&amp;" not in text
    page = mail.get_body(preferencelist=("html",)).get_content()
    assert f"/dashboard/parent/paiement?eleve={sub.student_id}&amp;offre=HYBRIDE" in page
    assert "Renouveler la formule" in page


def test_a_lapse_found_by_the_notices_job_is_told_once():
    """A plan expired by another path (the admin) is still told about, by the hourly job."""
    sub = plan()
    sub.status, sub.current_period_end = SubscriptionStatus.EXPIRED, utcnow() - timedelta(hours=2)
    db.session.flush()
    assert send_subscription_notices() == 1
    assert send_subscription_notices() == 0
    with travel(utcnow() + timedelta(days=4)):  # long lapsed: no more notices
        assert billing.send_lapse_notice(sub.id) is False
    assert len(bells("SUBSCRIPTION_LAPSED")) == 1


def test_a_late_run_sends_the_most_urgent_notice_only():
    sub = plan()
    with travel(sub.current_period_end - timedelta(hours=12)):
        assert send_subscription_notices() == 1
    assert [k for k, _ in notices(sub)] == [LapseNoticeKind.DAYS_1]
    assert bells("SUBSCRIPTION_DAYS_7") == []


def test_a_renewal_gets_its_own_notices():
    sub = plan()
    parent2, assistante = user(PARENT2), user(ASSISTANTE)
    first_end = sub.current_period_end
    with travel(first_end - timedelta(days=6)):
        assert send_subscription_notices() == 1
        order = billing.build_order(parent2, sub.student_id, "HYBRIDE", "MATHEMATIQUES")
        billing.approve(billing.declare_transfer(parent2, order).id, assistante)
        assert send_subscription_notices() == 0  # the new end is a month away
    sub = plan()
    assert sub.current_period_end > first_end + timedelta(days=27)
    with travel(sub.current_period_end - timedelta(days=6)):
        assert send_subscription_notices() == 1
    ends = [end for kind, end in notices(sub) if kind is LapseNoticeKind.DAYS_7]
    assert ends == [first_end, sub.current_period_end]
    assert len(bells("SUBSCRIPTION_DAYS_7")) == 2


def test_a_parent_who_turned_billing_emails_off_still_gets_the_bell():
    from nexus.services import preferences

    sub = plan()
    everything_but_billing = [c for c in preferences.choices_of(user(PARENT2)) if c != preferences.BILLING]
    preferences.save(user(PARENT2), everything_but_billing)
    with travel(sub.current_period_end - timedelta(days=6)):
        assert send_subscription_notices() == 1
    assert len(bells("SUBSCRIPTION_DAYS_7")) == 1
    assert notice_emails() == []


@pytest.mark.committed
def test_fifty_concurrent_runs_tell_the_family_once(app):
    with app.app_context():
        sub = plan()
        sub.current_period_end = utcnow() + timedelta(days=3)
        sub_id = sub.id
        db.session.commit()

    def attempt(i: int) -> int:
        if i % 2:
            return int(billing.send_lapse_notice(sub_id))
        return send_subscription_notices()

    results = at_once(app, attempt)
    assert sum(r for r in results if isinstance(r, int)) == 1
    assert refusals(results) == []
    with app.app_context():
        assert len(bells("SUBSCRIPTION_DAYS_7")) == 1
        assert len(notice_emails()) == 1
        assert db.session.scalar(select(func.count()).select_from(SubscriptionNotice)) == 1


# -- the admin's correction ------------------------------------------------------------------------------


def edit(client, sub: Subscription, **form: str):  # type: ignore[no-untyped-def]
    data = {"status": sub.status.value, "reason": "Geste commercial accordé", **form}
    return client.post(EDIT.format(sub.id), data=data)


def test_the_admin_moves_a_plans_end_and_its_rights_follow(client, auth):
    sub = plan()
    old_end = sub.current_period_end
    auth.login(ADMIN)
    listing = html(client.get("/dashboard/admin/abonnements"))
    assert EDIT.format(sub.id) in listing
    assert client.get(EDIT.format(sub.id)).status_code == 200
    new_day = fr.local_today(old_end) + timedelta(days=10)
    response = edit(client, sub, ends_on=new_day.isoformat())
    assert response.status_code == 303
    sub = plan()
    db.session.refresh(sub)
    assert sub.current_period_end == old_end + timedelta(days=10)  # same time of day
    assert {r.ends_at for r in rights(sub) if r.status is EntitlementStatus.ACTIVE} == {
        sub.current_period_end
    }
    [line] = db.session.scalars(select(AuditLog).where(AuditLog.action == "subscription.edit"))
    assert line.actor_id == user(ADMIN).id and line.object_id == sub.id
    assert line.before == {"status": "ACTIVE", "ends_on": fr.local_today(old_end).isoformat()}
    assert line.after["ends_on"] == new_day.isoformat() and line.after["reason"] == "Geste commercial accordé"
    assert line.action_label == "Abonnement modifié à la main"


def test_ending_a_plan_asks_first_then_ends_its_rights(client, auth):
    sub = plan()
    auth.login(ADMIN)
    today = fr.local_today(utcnow()).isoformat()
    asked = edit(client, sub, status="CANCELLED", ends_on=today)
    assert asked.status_code == 200
    page = html(asked)
    assert "Mettre fin à la formule" in page and 'name="confirm" value="1"' in page
    assert plan().status is SubscriptionStatus.ACTIVE  # nothing yet
    done = edit(client, sub, status="CANCELLED", ends_on=today, confirm="1")
    assert done.status_code == 303
    db.session.refresh(sub)
    assert sub.status is SubscriptionStatus.CANCELLED and sub.ended_at is not None
    assert {r.status for r in rights(sub)} == {EntitlementStatus.EXPIRED}
    assert not billing.has_feature(sub.student_id, Feature.CREDITS_USE)
    # Reactivated: its rights come back until the new end.
    later = (fr.local_today(utcnow()) + timedelta(days=20)).isoformat()
    assert edit(client, sub, status="ACTIVE", ends_on=later).status_code == 303
    db.session.refresh(sub)
    assert sub.is_active and sub.ended_at is None
    assert {r.status for r in rights(sub)} == {EntitlementStatus.ACTIVE}
    assert billing.has_feature(sub.student_id, Feature.ARIA, "MATHEMATIQUES")


def test_a_second_active_plan_is_refused_in_french(client, auth):
    sub = plan()
    older = Subscription(
        student_id=sub.student_id,
        plan=OfferCode.ACCES_PLATEFORME,
        status=SubscriptionStatus.EXPIRED,
        monthly_price_millimes=150_000,
        credits_per_month=0,
        current_period_start=sub.current_period_start - timedelta(days=60),
        current_period_end=sub.current_period_start - timedelta(days=30),
        started_at=sub.current_period_start - timedelta(days=60),
        ended_at=sub.current_period_start - timedelta(days=30),
    )
    db.session.add(older)
    db.session.flush()
    auth.login(ADMIN)
    later = (fr.local_today(utcnow()) + timedelta(days=20)).isoformat()
    response = edit(client, older, status="ACTIVE", ends_on=later)
    assert response.status_code == 422
    assert "déjà une autre formule active" in html(response)
    db.session.refresh(older)
    assert older.status is SubscriptionStatus.EXPIRED
    assert db.session.scalar(select(func.count()).where(AuditLog.action == "subscription.edit")) == 0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"reason": "ok"}, "5 et 500"),
        ({"ends_on": "2030-03-04"}, "date à venir"),  # today, at an hour already past
        ({"ends_on": "2099-01-01"}, "deux ans"),
        ({"ends_on": "2020-01-01", "status": "EXPIRED", "confirm": "1"}, "précéder le début"),
        ({"ends_on": "2030-02-30"}, ""),
        ({"status": "NONE"}, "Choisissez"),
    ],
)
def test_a_refused_edit_says_why_and_changes_nothing(client, auth, form, message):
    sub = plan()
    before = (sub.status, sub.current_period_end)
    auth.login(ADMIN)
    data = {"ends_on": (fr.local_today(sub.current_period_end) + timedelta(days=3)).isoformat(), **form}
    response = edit(client, sub, **data)
    assert response.status_code == 422
    assert message in html(response) and 'class="error"' in html(response)
    db.session.refresh(sub)
    assert (sub.status, sub.current_period_end) == before


def test_an_edit_that_changes_nothing_is_refused(client, auth):
    sub = plan()
    auth.login(ADMIN)
    response = edit(client, sub, ends_on=fr.local_today(sub.current_period_end).isoformat())
    assert response.status_code == 422 and "Rien n'a changé" in html(response)


def test_only_the_admin_edits_a_plan(client, auth):
    sub = plan()
    auth.login(ASSISTANTE)
    assert client.get(EDIT.format(sub.id)).status_code == 403
    assert edit(client, sub, ends_on="2030-04-20").status_code == 403
    auth.logout()
    auth.login(ADMIN)
    assert client.get(EDIT.format(10**9)).status_code == 404


@pytest.mark.committed
def test_fifty_concurrent_reactivations_leave_one_active_plan(app):
    with app.app_context():
        sub = plan()
        twin = Subscription(
            student_id=sub.student_id,
            plan=sub.plan,
            status=SubscriptionStatus.EXPIRED,
            monthly_price_millimes=sub.monthly_price_millimes,
            credits_per_month=0,
            current_period_start=sub.current_period_start,
            current_period_end=sub.current_period_end,
            started_at=sub.started_at,
            ended_at=utcnow(),
        )
        db.session.add(twin)
        sub.status, sub.ended_at = SubscriptionStatus.EXPIRED, utcnow()
        db.session.commit()
        ids, admin_id = [sub.id, twin.id], user(ADMIN).id
        ends_on = fr.local_today(sub.current_period_end) + timedelta(days=5)

    def attempt(i: int) -> str:
        from nexus.models.identity import User

        admin = db.session.get_one(User, admin_id)
        return billing.edit_subscription(
            ids[i % 2], admin, SubscriptionStatus.ACTIVE, ends_on, "Réactivation demandée"
        ).status.value

    results = at_once(app, attempt)
    assert all(isinstance(r, ServiceError) or r == "ACTIVE" for r in results)
    assert {r.message for r in refusals(results)} <= {
        billing.ANOTHER_ACTIVE,
        billing.plan_edits.NOTHING_CHANGED,
    }
    with app.app_context():
        active = select(func.count()).where(
            Subscription.student_id == sub.student_id, Subscription.status == SubscriptionStatus.ACTIVE
        )
        assert db.session.scalar(active) == 1
        assert db.session.scalar(select(func.count()).where(AuditLog.action == "subscription.edit")) == 1
