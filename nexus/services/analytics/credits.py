"""Credits over a period: granted (by source), consumed, refunded, expired, and the expiry share.

The expiry share is expired ÷ (consumed net of refunds + expired): of the credits that left the
families' balances in the period, the part that was lost to expiry rather than used.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from nexus.models.credits import EntryKind, LotSource
from nexus.services.analytics import aggregates, rollups
from nexus.services.analytics.periods import Period

ZERO = Decimal(0)


@dataclass(frozen=True)
class SourceLine:
    source: LotSource
    lots: int
    amount: Decimal


@dataclass(frozen=True)
class Movements:
    granted: list[SourceLine]
    consumed: Decimal  # positive: what the bookings drew, refunds deducted
    refunded: Decimal
    expired: Decimal  # positive
    adjusted: Decimal  # signed

    @property
    def granted_total(self) -> Decimal:
        return sum((line.amount for line in self.granted), ZERO)

    @property
    def expiry_share(self) -> int | None:
        """Expired ÷ (consumed + expired), in whole percent; None when nothing left a balance."""
        gone = self.consumed + self.expired
        return round(100 * self.expired / gone) if gone > 0 else None


def movements(period: Period) -> Movements:
    """The period's ledger by kind and the lots granted by source."""
    totals = rollups.over("credit", period.start, period.end)
    amount: dict[EntryKind, Decimal] = {}
    sources: dict[str, list] = {}
    for (metric, key, _k2), value in totals.items():
        if metric == aggregates.CREDIT_ENTRIES:
            amount[EntryKind(key)] = Decimal(value)
        elif metric == aggregates.LOTS:
            sources.setdefault(key, [0, ZERO])[0] = int(value)
        elif metric == aggregates.LOTS_AMOUNT:
            sources.setdefault(key, [0, ZERO])[1] = Decimal(value)
    granted = sorted(
        (SourceLine(LotSource(source), lots, total) for source, (lots, total) in sources.items()),
        key=lambda line: (-line.amount, str(line.source)),
    )
    refunded = amount.get(EntryKind.REFUND, ZERO)
    return Movements(
        granted=granted,
        consumed=-amount.get(EntryKind.CONSUME, ZERO) - refunded,
        refunded=refunded,
        expired=-amount.get(EntryKind.EXPIRE, ZERO),
        adjusted=amount.get(EntryKind.ADJUST, ZERO),
    )
