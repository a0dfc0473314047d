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
    """The period's ledger by kind, grants by the source of their lot, in one statement on the
    entries' date index (a lot's one GRANT entry is made with it: the join reads only those)."""
    stmt = (
        select(CreditEntry.kind, CreditLot.source, func.count(), func.sum(CreditEntry.amount))
        .outerjoin(CreditLot, (CreditLot.id == CreditEntry.lot_id) & (CreditEntry.kind == EntryKind.GRANT))
        .where(period.holds(CreditEntry.created_at))
        .group_by(CreditEntry.kind, CreditLot.source)
    )
    granted: list[SourceLine] = []
    amount: dict[EntryKind, Decimal] = {}
    for kind, source, count, total in db.session.execute(stmt):
        if EntryKind(kind) is EntryKind.GRANT:
            granted.append(SourceLine(LotSource(source), count, total or ZERO))
        else:
            amount[EntryKind(kind)] = total or ZERO
    granted.sort(key=lambda line: (-line.amount, line.source.value))
    refunded = amount.get(EntryKind.REFUND, ZERO)
    return Movements(
        granted=granted,
        consumed=-amount.get(EntryKind.CONSUME, ZERO) - refunded,
        refunded=refunded,
        expired=-amount.get(EntryKind.EXPIRE, ZERO),
        adjusted=amount.get(EntryKind.ADJUST, ZERO),
    )
