"""Stages as staff create and edit them, and as the public sees them (published, coming)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from nexus import fr
from nexus.extensions import db
from nexus.models.common import Grade, Subject
from nexus.models.identity import User
from nexus.models.stages import HOLDING, ReservationStatus, Stage, StageReservation
from nexus.services import ServiceError, audit, command, locked, utcnow

MAX_SEATS = 500
# How far ahead a stage may be planned, and how far back its dates may be corrected.
PLAN_AHEAD = timedelta(days=3 * 366)
LOOK_BACK = timedelta(days=366)


@dataclass(frozen=True)
class StageFields:
    """What staff enter for a stage (the price in millimes, parsed by the form)."""

    title: str
    description: str
    starts_on: date
    ends_on: date
    grade: Grade
    subjects: list[Subject]
    price_millimes: int
    seats: int
    published: bool


def _check(fields: StageFields) -> None:
    today = fr.local_today()
    if not fields.title.strip():
        raise ServiceError("Indiquez le titre du stage.", field="title")
    if not fields.subjects:
        raise ServiceError("Choisissez au moins une matière.", field="subjects")
    if not today - LOOK_BACK <= fields.starts_on <= today + PLAN_AHEAD:
        raise ServiceError("Choisissez une date dans les trois ans à venir.", field="starts_on")
    if fields.ends_on < fields.starts_on:
        raise ServiceError("La fin du stage ne peut pas précéder son début.", field="ends_on")
    if (fields.ends_on - fields.starts_on).days > 90:
        raise ServiceError("Un stage dure 90 jours au plus.", field="ends_on")
    if fields.price_millimes <= 0:
        raise ServiceError("Indiquez un prix supérieur à 0 TND.", field="price")
    if not 1 <= fields.seats <= MAX_SEATS:
        raise ServiceError(f"Entre 1 et {MAX_SEATS} places.", field="seats")


def _state(stage: Stage) -> dict[str, Any]:
    return {
        "title": stage.title,
        "starts_on": stage.starts_on.isoformat(),
        "ends_on": stage.ends_on.isoformat(),
        "grade": stage.grade.value,
        "subjects": list(stage.subjects),
        "price_millimes": stage.price_millimes,
        "seats": stage.seats,
        "published": stage.published,
    }


def _apply(stage: Stage, fields: StageFields) -> None:
    stage.title = fields.title.strip()
    stage.description = fields.description.replace("\r\n", "\n").strip()  # a textarea sends CRLF
    stage.starts_on = fields.starts_on
    stage.ends_on = fields.ends_on
    stage.grade = fields.grade
    stage.subjects = [s.value for s in dict.fromkeys(fields.subjects)]
    stage.price_millimes = fields.price_millimes
    stage.seats = fields.seats
    stage.published = fields.published


def slugify(title: str) -> str:
    """'Stage de printemps — Terminale' → 'stage-de-printemps-terminale'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:60].rstrip("-") or "stage"


def _free_slug(title: str) -> str:
    base = slugify(title)
    taken = set(db.session.scalars(select(Stage.slug).where(Stage.slug.startswith(base))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@command
def create_stage(fields: StageFields, actor: User) -> Stage:
    _check(fields)
    # One creation at a time, so that two stages of the same title get different addresses.
    db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext("stages:slug"))))
    stage = Stage(slug=_free_slug(fields.title))
    _apply(stage, fields)
    db.session.add(stage)
    db.session.flush()
    audit.record("stage.created", actor.id, stage, after=_state(stage))
    return stage


@command
def update_stage(stage_id: int, fields: StageFields, actor: User) -> Stage | None:
    """Edit a stage (its address stays); never fewer seats than those already taken."""
    _check(fields)
    stage = locked(Stage, stage_id)  # reservations lock it too: the count below holds
    if stage is None:
        return None
    held = held_seats(stage.id)
    if fields.seats < held:
        raise ServiceError(
            f"{fr.plural(held, 'place est déjà réservée', 'places sont déjà réservées')} : "
            "annulez des réservations avant de réduire le nombre de places.",
            field="seats",
        )
    before = _state(stage)
    _apply(stage, fields)
    db.session.flush()
    audit.record_changes("stage.updated", actor.id, stage, before, _state(stage))
    return stage


def held_seats(stage_id: int) -> int:
    """Seats taken: reservations pending, confirmed or paid."""
    stmt = select(func.count()).where(
        StageReservation.stage_id == stage_id, StageReservation.status.in_(HOLDING)
    )
    return db.session.scalar(stmt) or 0


def seats_left(stage: Stage) -> int:
    return max(stage.seats - held_seats(stage.id), 0)


def is_open(stage: Stage) -> bool:
    """Reservations are open until the stage begins."""
    return stage.published and stage.starts_on > fr.local_today()


def get_stage(stage_id: int) -> Stage | None:
    return db.session.get(Stage, stage_id)


def visible_stage(slug: str, *, staff: bool = False) -> Stage | None:
    """The stage at this address, if the public may see it (staff also see drafts)."""
    stage = db.session.scalar(select(Stage).where(Stage.slug == slug[:80]))
    if stage is None or not (stage.published or staff):
        return None
    return stage


@dataclass(frozen=True)
class Listed:
    stage: Stage
    seats_left: int


def coming_stages() -> list[Listed]:
    """Published stages that have not ended, soonest first, with their seats left."""
    held = (
        select(StageReservation.stage_id, func.count().label("held"))
        .where(StageReservation.status.in_(HOLDING))
        .group_by(StageReservation.stage_id)
        .subquery()
    )
    stmt = (
        select(Stage, func.coalesce(held.c.held, 0))
        .outerjoin(held, held.c.stage_id == Stage.id)
        .where(Stage.published, Stage.ends_on >= fr.local_today(utcnow()))
        .order_by(Stage.starts_on, Stage.id)
    )
    return [Listed(stage, max(stage.seats - taken, 0)) for stage, taken in db.session.execute(stmt)]


@dataclass(frozen=True)
class StaffListed:
    stage: Stage
    held: int
    waiting: int


def all_stages() -> list[StaffListed]:
    """Every stage for staff, newest dates first, with seats taken and the waiting list."""
    counts: dict[int, dict[str, int]] = {}
    rows = db.session.execute(
        select(StageReservation.stage_id, StageReservation.status, func.count()).group_by(
            StageReservation.stage_id, StageReservation.status
        )
    )
    for stage_id, status, n in rows:
        counts.setdefault(stage_id, {})[status.value] = n
    stages = db.session.scalars(select(Stage).order_by(Stage.starts_on.desc(), Stage.id.desc()))
    return [
        StaffListed(
            stage,
            sum(counts.get(stage.id, {}).get(s.value, 0) for s in HOLDING),
            counts.get(stage.id, {}).get(ReservationStatus.WAITING.value, 0),
        )
        for stage in stages
    ]
