"""What staff processed lately, shown beside a work queue: the last few decisions of the week,
with who made them and when (payments, credit requests, contact messages, bilan requests).

A request that staff approve or reject (a declared transfer, a credit request) records the
decision on its row (status, processed_at, processed_by_id, rejection_reason): `decided`. Other
work is found by its audit line: `from_audit`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import aliased

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.identity import User
from nexus.services import utcnow

WINDOW = timedelta(days=7)
COUNT = 10


@dataclass(frozen=True)
class Processed:
    at: datetime
    by: str  # who decided; "Système" when no one is recorded
    subject: str  # what was decided: a family and a reference, a student and an amount…
    outcome: str  # the decision, in French
    ok: bool  # a yes (validated, approved) rather than a no


def since() -> datetime:
    return utcnow() - WINDOW


def by_name(user: Any) -> str:
    return user.full_name if user is not None else "Système"


def from_audit(
    actions: tuple[str, ...], model: Any, describe: Callable[[Any, AuditLog], tuple[str, str, bool]]
) -> list[Processed]:
    """The objects of `model` whose audit line is one of `actions` this week, newest first."""
    stmt = (
        select(AuditLog, model)
        .join(model, and_(AuditLog.object_type == model.__tablename__, AuditLog.object_id == model.id))
        .where(AuditLog.action.in_(actions), AuditLog.created_at >= since())
        .order_by(AuditLog.id.desc())
        .limit(COUNT)
    )
    found = []
    for line, item in db.session.execute(stmt):
        subject, outcome, ok = describe(item, line)
        found.append(Processed(line.created_at, by_name(line.actor), subject, outcome, ok))
    return found


def decided(
    model: Any, pending: Any, yes: Any, subject: Callable[[Any], str], *where: ColumnElement[bool]
) -> list[Processed]:
    """The rows of `model` decided this week (status no longer `pending`), newest first: who
    decided, the decision (with its reason when refused), `yes` counting as ok."""
    decider = aliased(User)
    stmt = (
        select(model, decider)
        .outerjoin(decider, model.processed_by_id == decider.id)
        .where(model.status != pending, model.processed_at >= since(), *where)
        .order_by(model.processed_at.desc())
        .limit(COUNT)
    )
    return [
        Processed(
            row.processed_at,
            by_name(who),
            subject(row),
            row.status.label + (f" : {row.rejection_reason}" if row.rejection_reason else ""),
            row.status is yes,
        )
        for row, who in db.session.execute(stmt)
    ]
