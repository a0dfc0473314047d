"""Subscriptions over a period: started, renewed, ended (lapsed or cancelled), the renewal rate.

A renewal is a completed payment of the plan a student already had (its subscription started
before the payment and had not ended): the fulfilment extends that subscription instead of
starting one. A lapse is a subscription that expired because its period ended unpaid. The
renewal rate is renewals ÷ (renewals + lapses): of the plans that came to their term in the
period, the share that the family paid again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.billing import Subscription, SubscriptionStatus
from nexus.models.catalog import OfferCode, OfferKind
from nexus.services import catalog
from nexus.services.analytics import aggregates, rollups
from nexus.services.analytics.periods import Period

STARTED, RENEWED = aggregates.STARTED, aggregates.RENEWED
LAPSED, CANCELLED = "lapsed", "cancelled"


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
    """Per plan: started, renewed, lapsed and cancelled in the period, and the number of
    subscriptions active now."""
    lines = {code: PlanLine(code) for code in _plan_codes()}
    names = {"EXPIRED": LAPSED, "CANCELLED": CANCELLED}
    for (_metric, kind, plan), count in rollups.over("subscriptions", period.start, period.end).items():
        line = lines.setdefault(OfferCode(plan), PlanLine(OfferCode(plan)))
        key = names.get(kind, kind)
        line.counts[key] = line.counts.get(key, 0) + int(count)
    active = db.session.scalar(select(func.count()).where(Subscription.status == SubscriptionStatus.ACTIVE))
    return Summary(list(lines.values()), active or 0)
