"""The admin corrects a subscription by hand: its status and its end date, with a reason.

The row is locked for the change; the student's rights follow the plan (their end moves with
it, they end when it ends and come back when it is reactivated); the audit line keeps the
before, the after and the reason. At most one ACTIVE plan per student: the unique index has
the last word, and its refusal is said in French.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from nexus import fr
from nexus.extensions import db
from nexus.models.billing import Entitlement, EntitlementStatus, Subscription, SubscriptionStatus
from nexus.models.identity import User
from nexus.services import ServiceError, audit, command, locked, utcnow
from nexus.text import check_line, check_size

ANOTHER_ACTIVE = "Cet élève a déjà une autre formule active : mettez-y fin avant de réactiver celle-ci."
NOTHING_CHANGED = "Rien n'a changé : choisissez un autre statut ou une autre date de fin."
FURTHEST_END = timedelta(days=2 * 366)  # a typo (2093 for 2030) is refused, not saved
# Rights that a reactivated plan gives back (REVOKED ones were taken away for a reason of their own).
RESTORED = (EntitlementStatus.ACTIVE, EntitlementStatus.EXPIRED, EntitlementStatus.SUSPENDED)


def find_subscription(subscription_id: int) -> Subscription | None:
    return db.session.get(Subscription, subscription_id)


def ends_plan(sub: Subscription, status: SubscriptionStatus) -> bool:
    """Whether the change ends a running plan (asked for confirmation first)."""
    return sub.is_active and status is not SubscriptionStatus.ACTIVE


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ServiceError("Indiquez le motif de la modification (5 caractères au moins).", field="reason")
    check_line(reason, "reason")
    check_size(reason, "reason", 500)
    return reason


def _new_end(sub: Subscription, ends_on: date, status: SubscriptionStatus, now: datetime) -> datetime:
    """The chosen day at the time of day the period ended (Tunis time), checked."""
    today = fr.local_today(now)
    start = sub.current_period_start.astimezone(fr.TUNIS).date()
    if ends_on < start:
        message = f"La fin ne peut pas précéder le début de la période ({fr.short_date(start)})."
        raise ServiceError(message, field="ends_on")
    if ends_on > today + FURTHEST_END:
        raise ServiceError("Choisissez une date de fin dans les deux ans à venir.", field="ends_on")
    local_time = sub.current_period_end.astimezone(fr.TUNIS).time()
    end = datetime.combine(ends_on, local_time, tzinfo=fr.TUNIS).astimezone(UTC)
    if status is SubscriptionStatus.ACTIVE and end <= now:
        message = "Une formule active se termine dans le futur : choisissez une date à venir."
        raise ServiceError(message, field="ends_on")
    return end


def _state(sub: Subscription) -> dict[str, Any]:
    ends_on = sub.current_period_end.astimezone(fr.TUNIS).date()
    return {"status": sub.status.value, "ends_on": ends_on.isoformat()}


@command
def edit_subscription(
    subscription_id: int, admin: User, status: SubscriptionStatus, ends_on: date, reason: str
) -> Subscription:
    """Set a subscription's status and end date, with the reason; its rights follow."""
    reason = _check_reason(reason)
    sub = locked(Subscription, subscription_id)
    if sub is None:
        raise LookupError(subscription_id)
    now = utcnow()
    end = _new_end(sub, ends_on, status, now)
    before = _state(sub)
    if status is sub.status and end == sub.current_period_end:
        raise ServiceError(NOTHING_CHANGED)
    was_active = sub.is_active
    if status is SubscriptionStatus.ACTIVE and not was_active:
        _refuse_second_active(sub)
    sub.status, sub.current_period_end = status, end
    sub.ended_at = None if status is SubscriptionStatus.ACTIVE else (now if was_active else sub.ended_at)
    try:
        with db.session.begin_nested():  # the one-active index decides against a concurrent change
            db.session.flush()
    except IntegrityError:
        raise ServiceError(ANOTHER_ACTIVE, field="status") from None
    rights = _rights_follow(sub, was_active, now, reason)
    after = {**_state(sub), "reason": reason, "rights": rights}
    audit.record("subscription.edit", admin.id, sub, before=before, after=after)
    return sub


def _refuse_second_active(sub: Subscription) -> None:
    other = db.session.scalar(
        select(Subscription.id).where(
            Subscription.student_id == sub.student_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
            Subscription.id != sub.id,
        )
    )
    if other is not None:
        raise ServiceError(ANOTHER_ACTIVE, field="status")


def _rights_follow(sub: Subscription, was_active: bool, now: datetime, reason: str) -> int:
    """Move the plan's rights with it; how many rights changed."""
    linked = Entitlement.subscription_id == sub.id
    if sub.is_active:
        values: dict[str, Any] = {"status": EntitlementStatus.ACTIVE, "ends_at": sub.current_period_end}
        stmt = update(Entitlement).where(linked, Entitlement.status.in_(RESTORED))
        values |= {"suspended_at": None, "suspend_reason": None}
    elif was_active:
        suspended = sub.status is SubscriptionStatus.INACTIVE  # set aside, not over
        values = {
            "status": EntitlementStatus.SUSPENDED if suspended else EntitlementStatus.EXPIRED,
            "ends_at": now,
            "suspended_at": now if suspended else None,
            "suspend_reason": reason[:255] if suspended else None,
        }
        stmt = update(Entitlement).where(linked, Entitlement.status == EntitlementStatus.ACTIVE)
    else:
        return 0  # an ended plan stays ended: only its record changes
    changed = db.session.execute(stmt.values(**values).execution_options(synchronize_session=False))
    return int(changed.rowcount or 0)
