"""Credits over a period: granted (by source), consumed, refunded, expired, and the expiry share.

The expiry share is expired ÷ (consumed net of refunds + expired): of the credits that left the
families' balances in the period, the part that was lost to expiry rather than used.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.credits import CreditEntry, CreditLot, EntryKind, LotSource
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
    """The period's ledger by kind (one statement on the entries, one on the lots)."""
    by_kind = dict(
        db.session.execute(
            select(CreditEntry.kind, func.sum(CreditEntry.amount))
            .where(period.holds(CreditEntry.created_at), CreditEntry.kind != EntryKind.GRANT)
            .group_by(CreditEntry.kind)
        ).all()
    )
    granted = [
        SourceLine(LotSource(source), lots, amount)
        for source, lots, amount in db.session.execute(
            select(CreditLot.source, func.count(), func.sum(CreditLot.amount))
            .where(period.holds(CreditLot.granted_at))
            .group_by(CreditLot.source)
            .order_by(func.sum(CreditLot.amount).desc(), CreditLot.source)
        )
    ]
    amount = {EntryKind(kind): value or ZERO for kind, value in by_kind.items()}
    refunded = amount.get(EntryKind.REFUND, ZERO)
    return Movements(
        granted=granted,
        consumed=-amount.get(EntryKind.CONSUME, ZERO) - refunded,
        refunded=refunded,
        expired=-amount.get(EntryKind.EXPIRE, ZERO),
        adjusted=amount.get(EntryKind.ADJUST, ZERO),
    )
