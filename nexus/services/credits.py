"""The credit ledger. balance() is the one and only balance function (rule 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.credits import CreditEntry, CreditLot
from nexus.services import utcnow


def balance(student_id: int) -> Decimal:
    """Credits a student can use now: the sum of the ledger (expiry writes its own entry)."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(CreditEntry.student_id == student_id)
    )
    return Decimal(total)


@dataclass(frozen=True)
class LotView:
    lot_id: int
    remaining: Decimal
    expires_at: datetime


def open_lots(student_id: int) -> list[LotView]:
    """Lots with credits left, first to expire first (the order consumption follows)."""
    remaining = func.sum(CreditEntry.amount)
    stmt = (
        select(CreditLot.id, remaining, CreditLot.expires_at)
        .join(CreditEntry, CreditEntry.lot_id == CreditLot.id)
        .where(CreditLot.student_id == student_id, CreditLot.expires_at > utcnow())
        .group_by(CreditLot.id)
        .having(remaining > 0)
        .order_by(CreditLot.expires_at, CreditLot.id)
    )
    return [LotView(i, Decimal(r), e) for i, r, e in db.session.execute(stmt)]
