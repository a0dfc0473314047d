"""Coaches' hourly rates per modality, with their history: a change from a date adds a row, so
a month already paid keeps the rate of its days."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from nexus import fr, policy
from nexus.extensions import db
from nexus.models.coach_pay import CoachRate, PayModality
from nexus.models.identity import CoachProfile, User
from nexus.services import ServiceError, audit, command

MAX_HOURLY_MILLIMES = 1_000_000  # 1,000 TND an hour: anything above is a typing slip
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


def _check(hourly_millimes: int, effective_from: date) -> None:
    if isinstance(hourly_millimes, bool) or not isinstance(hourly_millimes, int):
        raise ServiceError("Indiquez un tarif horaire en dinars, par exemple 30,000.", "hourly")
    if hourly_millimes < 0:
        raise ServiceError("Un tarif horaire ne peut pas être négatif.", "hourly")
    if hourly_millimes > MAX_HOURLY_MILLIMES:
        raise ServiceError("Un tarif horaire de 1 000 TND au plus : vérifiez le montant.", "hourly")
    if not isinstance(effective_from, date) or not FIRST_DAY <= effective_from <= LAST_DAY:
        raise ServiceError("Indiquez la date d'effet du tarif, par exemple 01/03/2030.", "effective_from")


@command
def set_rate(
    actor: User, coach_id: int, modality: PayModality, hourly_millimes: int, effective_from: date
) -> CoachRate:
    """The coach's hourly rate for one modality from a date on (staff only, audited). The same
    coach, modality and date again updates that row: the history keeps one rate per date."""
    if not policy.is_staff(actor):
        raise ServiceError("Seule l'équipe fixe les tarifs des coachs.")
    _check(hourly_millimes, effective_from)
    if db.session.get(CoachProfile, coach_id) is None:
        raise LookupError(coach_id)  # the page answers 404
    before = db.session.scalar(
        select(CoachRate.hourly_millimes).where(
            CoachRate.coach_id == coach_id,
            CoachRate.modality == modality,
            CoachRate.effective_from == effective_from,
        )
    )
    rate_id = db.session.scalar(
        insert(CoachRate)
        .values(
            coach_id=coach_id,
            modality=modality,
            hourly_millimes=hourly_millimes,
            effective_from=effective_from,
            set_by_id=actor.id,
        )
        .on_conflict_do_update(
            constraint="uq_coach_rates_from",
            set_={"hourly_millimes": hourly_millimes, "set_by_id": actor.id},
        )
        .returning(CoachRate.id)
    )
    rate = db.session.get(CoachRate, rate_id, populate_existing=True)
    assert rate is not None
    details: dict[str, Any] = {"modality": modality.value, "effective_from": effective_from.isoformat()}
    audit.record(
        "coach_pay.rate_set",
        actor.id,
        rate,
        before=None if before is None else {**details, "hourly_millimes": before},
        after={**details, "hourly_millimes": hourly_millimes, "coach_id": coach_id},
    )
    return rate


def rates_of(coach_id: int) -> list[CoachRate]:
    """The coach's rates, newest first (the history of changes)."""
    stmt = (
        select(CoachRate)
        .where(CoachRate.coach_id == coach_id)
        .order_by(CoachRate.effective_from.desc(), CoachRate.modality, CoachRate.id.desc())
    )
    return list(db.session.scalars(stmt))


def pick(rates: Iterable[CoachRate], modality: PayModality, day: date) -> CoachRate | None:
    """The rate in force on `day` among `rates`: the latest effective_from on or before it."""
    found = None
    for rate in rates:
        usable = rate.modality is modality and rate.effective_from <= day
        if usable and (found is None or rate.effective_from > found.effective_from):
            found = rate
    return found


def rate_at(coach_id: int, modality: PayModality, day: date) -> int | None:
    """The hourly rate (millimes) of the coach for this modality on that day; None if unset."""
    return db.session.scalar(
        select(CoachRate.hourly_millimes)
        .where(
            CoachRate.coach_id == coach_id, CoachRate.modality == modality, CoachRate.effective_from <= day
        )
        .order_by(CoachRate.effective_from.desc())
        .limit(1)
    )


def current_rates(coach_id: int, day: date | None = None) -> dict[PayModality, CoachRate | None]:
    """The rate in force today (Tunis) for each modality, None where none is set."""
    day = day or fr.local_today()
    rates = rates_of(coach_id)
    return {modality: pick(rates, modality, day) for modality in PayModality}
