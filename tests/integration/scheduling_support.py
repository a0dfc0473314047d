"""Shared helpers of the scheduling tests: a free slot, the booking form, reading the ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from nexus import fr
from nexus.extensions import db
from nexus.models.identity import CoachProfile
from nexus.models.scheduling import SessionBooking, SessionReminder
from nexus.services import credits, utcnow
from nexus.services.scheduling.slots import Slot, free_slots
from tests.people import (  # noqa: F401 - re-exported while modules move to tests.people
    ASSISTANTE,
    HELIOS,
    PARENT,
    PARENT2,
    SAMI,
    YASMINE,
    ZENON,
)


def free_slot(coach: CoachProfile, days_ahead: int = 3, minutes: int = 60, index: int = 0) -> Slot:
    """A free slot of the coach at least `days_ahead` days from now (Tunis dates)."""
    first = fr.local_today(utcnow()) + timedelta(days=days_ahead)
    days = free_slots(coach.id, minutes, first, 14)
    slots = [s for d in days for s in d.slots]
    return slots[index]


def form(
    coach: CoachProfile,
    slot: Slot | str,
    *,
    subject: str = "MATHEMATIQUES",
    service: str = "COURS_ONLINE",
    minutes: int = 60,
    eleve: int | None = None,
) -> dict[str, str]:
    values = {
        "matiere": subject,
        "coach": str(coach.id),
        "type": service,
        "duree": str(minutes),
        "debut": slot if isinstance(slot, str) else slot.param,
    }
    if eleve is not None:
        values["eleve"] = str(eleve)
    return values


def bookings_of(student_id: int) -> list[SessionBooking]:
    stmt = select(SessionBooking).where(SessionBooking.student_id == student_id).order_by(SessionBooking.id)
    return list(db.session.scalars(stmt))


def holding_count() -> int:
    stmt = select(func.count()).where(SessionBooking.is_holding)
    return db.session.scalar(stmt) or 0


def reminders_of(booking_id: int) -> list[SessionReminder]:
    stmt = (
        select(SessionReminder).where(SessionReminder.booking_id == booking_id).order_by(SessionReminder.id)
    )
    return list(db.session.scalars(stmt))


def balance(student_id: int) -> Decimal:
    db.session.expire_all()
    return credits.balance(student_id)
