"""Expiry: an EXPIRE entry of what is left of a lot once it expires (once per lot), and a
reminder to the family's parents the week before (once per lot and parent)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from nexus import fr, links
from nexus.extensions import db
from nexus.models.credits import CreditEntry, CreditLot, EntryKind
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.services import command, notifications, utcnow
from nexus.services.credits.ledger import lock_student, lot_remaining, remaining

REMINDER_DAYS = 7


@command
def expire_due(at: datetime | None = None) -> int:
    """Write an EXPIRE entry for what is left of each expired lot (once per lot)."""
    at = at or utcnow()
    due = db.session.execute(
        select(CreditLot.id, CreditLot.student_id)
        .join(CreditEntry, CreditEntry.lot_id == CreditLot.id)
        .where(CreditLot.expires_at <= at)
        .group_by(CreditLot.id)
        .having(remaining() > 0)
        # Students are locked one after another until the command commits: always in the same order,
        # so that two runs at once queue up instead of deadlocking.
        .order_by(CreditLot.student_id, CreditLot.id)
    ).all()
    count = 0
    for lot_id, student_id in due:
        lock_student(student_id)
        left = lot_remaining(lot_id)
        if left <= 0:
            continue
        inserted = db.session.scalar(
            insert(CreditEntry)
            .values(student_id=student_id, lot_id=lot_id, kind=EntryKind.EXPIRE, amount=-left)
            .on_conflict_do_nothing(index_elements=["lot_id"], index_where=text("kind = 'EXPIRE'"))
            .returning(CreditEntry.id)
        )
        count += inserted is not None
    return count


def lots_expiring_soon(at: datetime | None = None) -> list[int]:
    """The lots with credits left that expire within REMINDER_DAYS (the reminders to send)."""
    at = at or utcnow()
    stmt = (
        select(CreditLot.id)
        .join(CreditEntry, CreditEntry.lot_id == CreditLot.id)
        .where(CreditLot.expires_at > at, CreditLot.expires_at <= at + timedelta(days=REMINDER_DAYS))
        .group_by(CreditLot.id)
        .having(remaining() > 0)
        .order_by(CreditLot.id)
    )
    return list(db.session.scalars(stmt))


@command
def remind_expiring(lot_id: int, at: datetime | None = None) -> bool:
    """E-mail (and notify) the family's parents once about a lot whose credits expire within
    REMINDER_DAYS; True if someone was told now, False if they had been (or nothing is left)."""
    at = at or utcnow()
    lot = db.session.get(CreditLot, lot_id)
    if lot is None or not at < lot.expires_at <= at + timedelta(days=REMINDER_DAYS):
        return False
    left = lot_remaining(lot_id)
    if left <= 0:
        return False
    student = db.session.get_one(Student, lot.student_id)
    parents = [p for p in student.parent.guardians if p.email and p.is_active]  # co-parents too
    told = [_remind_parent(parent, student, lot, left) for parent in parents]
    return any(told)


def _remind_parent(parent: User, student: Student, lot: CreditLot, left: Decimal) -> bool:
    """E-mail and notify one parent once per lot; True if it was not done before."""
    first = parent.id == student.parent.user_id  # the opener keeps the key of one-parent days
    queued = notifications.queue_email(
        parent.email or "",
        "credits_expiring",
        f"Rappel : des crédits de {student.user.first_name} expirent bientôt",
        {
            "first_name": parent.first_name,
            "child": student.user.first_name,
            "credits": fr.credits(left),
            "expires_on": fr.short_date(lot.expires_at),
        },
        user_id=parent.id,
        dedupe_key=f"credits-expiring:{lot.id}" + ("" if first else f":{parent.id}"),
    )
    if queued is None:
        return False
    notifications.notify(
        parent.id,
        "CREDITS_EXPIRING",
        f"Crédits de {student.user.first_name} bientôt expirés",
        "Réservez une séance pour en profiter.",
        links.internal("dashboard.parent"),
    )
    return True
