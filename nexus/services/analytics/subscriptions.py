"""Subscriptions over a period: started, renewed, ended (lapsed or cancelled), the renewal rate.

A renewal is a completed payment of the plan a student already had (its subscription started
before the payment and had not ended): the fulfilment extends that subscription instead of
starting one. A lapse is a subscription that expired because its period ended unpaid. The
renewal rate is renewals ÷ (renewals + lapses): of the plans that came to their term in the
period, the share that the family paid again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, cast, exists, func, literal, select, union_all
from sqlalchemy.orm import aliased

from nexus.extensions import db
from nexus.models.billing import Payment, PaymentStatus, Subscription, SubscriptionStatus
from nexus.models.catalog import OfferCode, OfferKind
from nexus.services import catalog
from nexus.services.analytics.periods import Period

STARTED, RENEWED, LAPSED, CANCELLED = "started", "renewed", "lapsed", "cancelled"


@dataclass
class PlanLine:
    plan: OfferCode
    counts: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, name: str) -> int:
        if name in (STARTED, RENEWED, LAPSED, CANCELLED):
            return self.counts.get(name, 0)
        raise AttributeError(name)


@dataclass
class Summary:
    lines: list[PlanLine]
    active: int

    def total(self, kind: str) -> int:
        return sum(line.counts.get(kind, 0) for line in self.lines)

    @property
    def renewal_rate(self) -> int | None:
        """Renewals ÷ (renewals + lapses), in whole percent; None when no plan came to term."""
        renewed, lapsed = self.total(RENEWED), self.total(LAPSED)
        return round(100 * renewed / (renewed + lapsed)) if renewed + lapsed else None


def _plan_codes() -> list[OfferCode]:
    return [offer.code for offer in catalog.offers_of(OfferKind.PLAN)]


def summary(period: Period) -> Summary:
    """Per plan: started, renewed, lapsed and cancelled in the period (one statement), and the
    number of subscriptions active now."""
    previous = aliased(Subscription)
    had_it = exists().where(
        previous.student_id == Payment.student_id,
        previous.plan == Payment.offer_code,
        previous.started_at < Payment.processed_at,
        (previous.ended_at.is_(None)) | (previous.ended_at >= Payment.processed_at),
    )
    started = select(literal(STARTED), Subscription.plan, func.count()).where(
        period.holds(Subscription.started_at)
    )
    renewed = select(literal(RENEWED), Payment.offer_code, func.count()).where(
        Payment.status == PaymentStatus.COMPLETED,
        Payment.offer_code.in_(_plan_codes()),
        period.holds(Payment.processed_at),
        had_it,
    )
    ended = select(cast(Subscription.status, String).label("kind"), Subscription.plan, func.count()).where(
        Subscription.status.in_((SubscriptionStatus.EXPIRED, SubscriptionStatus.CANCELLED)),
        period.holds(Subscription.ended_at),
    )
    stmt = union_all(
        started.group_by(Subscription.plan),
        renewed.group_by(Payment.offer_code),
        ended.group_by(Subscription.status, Subscription.plan),
    )
    lines = {code: PlanLine(code) for code in _plan_codes()}
    names = {"EXPIRED": LAPSED, "CANCELLED": CANCELLED}
    for kind, plan, count in db.session.execute(stmt):
        line = lines.setdefault(OfferCode(plan), PlanLine(OfferCode(plan)))
        key = names.get(kind, kind)
        line.counts[key] = line.counts.get(key, 0) + count
    active = db.session.scalar(select(func.count()).where(Subscription.status == SubscriptionStatus.ACTIVE))
    return Summary(list(lines.values()), active or 0)
