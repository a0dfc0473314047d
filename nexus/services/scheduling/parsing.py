"""What a booking form says: subject, coach, kind of lesson, length and start, read strictly.

Only ASCII digits count as digits here: '²' or '٦٠' are digits to Python, not to us.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from nexus import fr
from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.common import Subject
from nexus.models.identity import CoachProfile
from nexus.services import ServiceError, catalog, parse_id
from nexus.services.scheduling.slots import DURATIONS, Slot

# Group workshops need seats for several students; the booking table holds one student per
# coach slot (exclusion constraint), so workshops are not self-booked here.
SELF_BOOKABLE = (ServiceType.COURS_ONLINE, ServiceType.COURS_PRESENTIEL)
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
LOCAL_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")
# Bounds of a typed start before any other check (the real window is 2 hours to 3 months ahead).
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


@dataclass(frozen=True)
class BookingChoice:
    coach: CoachProfile
    subject: Subject
    service: ServiceType
    minutes: int
    starts_at: datetime

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def cost(self) -> Decimal:
        return catalog.session_cost(self.service, self.minutes)

    @property
    def param(self) -> str:
        return Slot(self.starts_at, self.ends_at).param


def parse_subject(raw: str | None) -> Subject | None:
    return Subject.__members__.get(raw or "")


def parse_service(raw: str | None) -> ServiceType:
    if not raw:
        return ServiceType.COURS_ONLINE
    service = ServiceType.__members__.get(raw)
    if service not in SELF_BOOKABLE:
        raise ServiceError("Choisissez un cours en ligne ou au centre.", "type")
    return service


def parse_minutes(raw: str | None) -> int:
    """One of DURATIONS, written in ASCII digits ('²' or '٦٠' are digits to Python, not to us)."""
    if not raw:
        return DURATIONS[0]
    if raw not in {str(m) for m in DURATIONS}:
        raise ServiceError("La séance dure 60 ou 90 minutes.", "duree")
    return int(raw)


def parse_local_start(raw: str | None) -> datetime:
    """'2030-03-04T14:00' read as Tunis time; only ASCII digits, and only a year we can book in
    (strptime alone takes any script's digits, and year 9999 overflows once the length is added)."""
    raw = (raw or "").strip()
    try:
        if not LOCAL_START.fullmatch(raw):
            raise ValueError(raw)
        parsed = datetime.strptime(raw, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise ServiceError("Choisissez un créneau dans la liste.", "debut") from None
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise ServiceError("Choisissez un créneau dans la liste.", "debut")
    return parsed.replace(tzinfo=fr.TUNIS)


def parse_day(raw: str | None) -> date | None:
    """A 'YYYY-MM-DD' date in ASCII digits, else None."""
    raw = (raw or "").strip()
    if not ISO_DAY.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def parse_choice(values: Mapping[str, str]) -> BookingChoice:
    """Read matiere/coach/type/duree/debut; a French ServiceError (with field) on bad input."""
    subject = parse_subject(values.get("matiere"))
    if subject is None:
        raise ServiceError("Choisissez une matière.", "matiere")
    coach_id = parse_id(values.get("coach"))
    coach = db.session.get(CoachProfile, coach_id) if coach_id else None
    if coach is None:
        raise ServiceError("Choisissez un coach.", "coach")
    return BookingChoice(
        coach,
        subject,
        parse_service(values.get("type")),
        parse_minutes(values.get("duree")),
        parse_local_start(values.get("debut")),
    )
