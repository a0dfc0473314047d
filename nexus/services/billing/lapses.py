"""Notices before a plan lapses: the family is told 7 days and 1 day before a subscription's
period ends, and once it has lapsed (bell and e-mail, with a link to renew).

Each notice is sent once: a SubscriptionNotice row, unique per (subscription, kind, period end),
is inserted with ON CONFLICT DO NOTHING and the family is told only by the call that inserted
it — however many runs of the job, concurrent or not. A renewal moves the period end, so the
next period gets its own notices.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert

from nexus import fr, links
from nexus.extensions import db
from nexus.models.billing import Subscription, SubscriptionStatus
from nexus.models.billing_care import LapseNoticeKind, SubscriptionNotice
from nexus.models.identity import User
from nexus.services import catalog, command, notifications, utcnow

# How long before the period end each notice is due (the most urgent due one is sent).
BEFORE = {LapseNoticeKind.DAYS_1: timedelta(days=1), LapseNoticeKind.DAYS_7: timedelta(days=7)}
# A plan that lapsed longer ago than this gets no notice (a first run must not write to every
# family whose plan ended months ago).
LAPSED_NOTICE_WINDOW = timedelta(days=3)

SUBJECTS = {
    LapseNoticeKind.DAYS_7: "La formule {plan} de {child} se termine dans 7 jours",
    LapseNoticeKind.DAYS_1: "La formule {plan} de {child} se termine demain",
    LapseNoticeKind.LAPSED: "La formule {plan} de {child} est arrivée à échéance",
}


def subscriptions_to_notify(at: datetime | None = None) -> list[int]:
    """Active plans ending within 7 days, and plans that lapsed in the last few days."""
    at = at or utcnow()
    ending = (
        (Subscription.status == SubscriptionStatus.ACTIVE)
        & (Subscription.current_period_end > at)
        & (Subscription.current_period_end <= at + BEFORE[LapseNoticeKind.DAYS_7])
    )
    lapsed = (
        (Subscription.status == SubscriptionStatus.EXPIRED)
        & (Subscription.current_period_end <= at)
        & (Subscription.current_period_end > at - LAPSED_NOTICE_WINDOW)
    )
    stmt = select(Subscription.id).where(or_(ending, lapsed)).order_by(Subscription.id)
    return list(db.session.scalars(stmt))


def due_notice(sub: Subscription, at: datetime) -> LapseNoticeKind | None:
    """The notice due now for this subscription, the most urgent one (a 7-day notice is not
    sent late when the 1-day one is already due)."""
    end = sub.current_period_end
    if sub.status is SubscriptionStatus.EXPIRED:
        return LapseNoticeKind.LAPSED if at - LAPSED_NOTICE_WINDOW < end <= at else None
    if sub.status is not SubscriptionStatus.ACTIVE or end <= at:
        return None
    for kind in (LapseNoticeKind.DAYS_1, LapseNoticeKind.DAYS_7):
        if end - BEFORE[kind] <= at:
            return kind
    return None


@command
def send_lapse_notice(subscription_id: int, at: datetime | None = None) -> bool:
    """Tell the family the notice due now, once; whether it was told by this call."""
    at = at or utcnow()
    sub = db.session.get(Subscription, subscription_id)
    kind = due_notice(sub, at) if sub is not None else None
    if sub is None or kind is None:
        return False
    inserted = db.session.scalar(
        insert(SubscriptionNotice)
        .values(subscription_id=sub.id, kind=kind, period_end=sub.current_period_end)
        .on_conflict_do_nothing(constraint="uq_subscription_notices_once")
        .returning(SubscriptionNotice.id)
    )
    if inserted is None:
        return False  # sent by an earlier or a concurrent run
    for parent in sub.student.parent.guardians:
        if parent.is_active:
            _tell(parent, sub, kind)
    return True


def _tell(parent: User, sub: Subscription, kind: LapseNoticeKind) -> None:
    """The bell and the e-mail (if the parent wants billing e-mails), with the renewal link."""
    child = sub.student.user.first_name
    plan = catalog.offer(sub.plan).name
    renew = {"eleve": sub.student_id, "offre": sub.plan.value}
    subject = SUBJECTS[kind].format(plan=plan, child=child)
    if parent.email:
        notifications.queue_email(
            parent.email,
            "subscription_notice",
            f"{subject} — Nexus Réussite",
            {
                "first_name": parent.first_name,
                "child": child,
                "plan": plan,
                "kind": kind.value,
                "ends_on": fr.short_date(sub.current_period_end),
                "renew_url": links.external("parent.payment", **renew),
            },
            user_id=parent.id,
            event="billing",
        )
    body = (
        f"Elle a pris fin le {fr.short_date(sub.current_period_end)}. Renouvelez-la en un clic."
        if kind is LapseNoticeKind.LAPSED
        else f"Fin le {fr.short_date(sub.current_period_end)}. Renouvelez-la en un clic pour continuer."
    )
    link = links.internal("parent.payment", **renew)
    notifications.notify(parent.id, "SUBSCRIPTION_" + kind.value, subject, body, link)
