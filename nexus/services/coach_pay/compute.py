"""A coach's month computed from what happened: the lines of the statement, before any
adjustment. Read-only; statements.py stores the result.

Every amount is rate × minutes ÷ 60 × share ÷ 100 in millimes, rounded half-up at the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from nexus import fr
from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.coach_pay import CoachRate, LineKind, PayModality
from nexus.models.common import Role
from nexus.models.credits import CreditEntry, EntryKind
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.models.workshops import Workshop, WorkshopStatus
from nexus.services.coach_pay import months, rates
from nexus.services.coach_pay.settings import PaySettings

TO_CLOSE = "à clôturer par le coach"
RATE_MISSING = "tarif manquant"
LABEL_MAX = 200
FAMILY = (Role.PARENT, Role.ELEVE)
_MODALITY = {ServiceType.COURS_ONLINE: PayModality.ONLINE, ServiceType.COURS_PRESENTIEL: PayModality.CENTRE}
_KIND_ORDER = {kind: i for i, kind in enumerate(LineKind)}


def amount(rate_millimes: int, minutes: int, share_percent: int) -> int:
    """rate × minutes ÷ 60 × share ÷ 100, to the millime (half up)."""
    exact = Decimal(rate_millimes) * minutes * share_percent / Decimal(6000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class MissingRate:
    modality: PayModality
    day: date

    @property
    def message(self) -> str:
        return (
            f"Tarif manquant : {self.modality.label.lower()} au {fr.short_date(self.day)}. "
            "Saisissez-le dans les tarifs du coach, puis validez."
        )


@dataclass(frozen=True)
class Line:
    kind: LineKind
    occurred_at: datetime
    label: str
    minutes: int
    rate_millimes: int
    share_percent: int
    amount_millimes: int
    booking_id: int | None = None
    workshop_id: int | None = None


@dataclass(frozen=True)
class Computation:
    lines: list[Line]
    missing: list[MissingRate]

    @property
    def total(self) -> int:
        return sum(line.amount_millimes for line in self.lines)


class _Builder:
    """Collects the lines, looking each rate up at the session's day (Tunis)."""

    def __init__(self, coach_rates: Sequence[CoachRate]) -> None:
        self.rates = coach_rates
        self.lines: list[Line] = []
        self.missing: dict[tuple[PayModality, date], MissingRate] = {}

    def add(
        self,
        kind: LineKind,
        modality: PayModality,
        span: tuple[datetime, datetime],
        label: str,
        share: int,
        **ids: int,
    ) -> None:
        start, end = span
        day = start.astimezone(fr.TUNIS).date()
        rate = rates.pick(self.rates, modality, day)
        minutes = int((end - start).total_seconds() // 60)
        if rate is None and share > 0:
            self.missing.setdefault((modality, day), MissingRate(modality, day))
            label = f"{label} — {RATE_MISSING}"
        hourly = 0 if rate is None else rate.hourly_millimes
        paid = amount(hourly, minutes, share)
        self.lines.append(Line(kind, start, label[:LABEL_MAX], minutes, hourly, share, paid, **ids))

    def result(self) -> Computation:
        lines = sorted(
            self.lines,
            key=lambda x: (x.occurred_at, _KIND_ORDER[x.kind], x.booking_id or 0, x.workshop_id or 0),
        )
        missing = sorted(self.missing.values(), key=lambda m: (m.day, m.modality.value))
        return Computation(lines, missing)


def compute(coach_id: int, month: str, settings: PaySettings, now: datetime) -> Computation:
    """The computed lines of a coach's month (no adjustment), and the rates it lacks."""
    start, end = months.bounds(month)
    builder = _Builder(rates.rates_of(coach_id))
    _sessions(builder, coach_id, start, end, settings, now)
    _workshops(builder, coach_id, start, end, now)
    return builder.result()


def _session_label(booking: SessionBooking) -> str:
    return f"{booking.service.label} · {booking.student.user.full_name} · {booking.subject.label}"


def _sessions(
    builder: _Builder, coach_id: int, start: datetime, end: datetime, settings: PaySettings, now: datetime
) -> None:
    canceller = aliased(User)
    stmt = (
        select(SessionBooking, canceller.role)
        .outerjoin(canceller, canceller.id == SessionBooking.cancelled_by_id)
        .where(
            SessionBooking.coach_id == coach_id,
            SessionBooking.workshop_id.is_(None),  # a workshop's seats are paid as the workshop
            SessionBooking.starts_at >= start,
            SessionBooking.starts_at < end,
        )
        .options(
            selectinload(SessionBooking.report),
            selectinload(SessionBooking.student).joinedload(Student.user),
        )
        .order_by(SessionBooking.starts_at, SessionBooking.id)
    )
    rows = db.session.execute(stmt).all()
    refunded = _refunded([b.id for b, role in rows if b.status is SessionStatus.CANCELLED and role in FAMILY])
    for booking, role in rows:
        kind, share, suffix = _classify(booking, role, booking.id in refunded, settings, now)
        if kind is None:
            continue
        modality = _MODALITY.get(booking.service, PayModality.WORKSHOP)
        label = _session_label(booking) + suffix
        span = (booking.starts_at, booking.ends_at)
        builder.add(kind, modality, span, label, share, booking_id=booking.id)


def _classify(
    booking: SessionBooking, role: Role | None, refunded: bool, settings: PaySettings, now: datetime
) -> tuple[LineKind | None, int, str]:
    """What a one-to-one session brings: its kind of line, the share paid, a word on the label."""
    status = booking.status
    if status is SessionStatus.COMPLETED:
        if booking.report is not None:
            return LineKind.SESSION, 100, ""
        return LineKind.MISSING_REPORT, 0, f" — {TO_CLOSE}"
    if status.is_holding:
        if booking.ends_at <= now:
            return LineKind.MISSING_REPORT, 0, f" — {TO_CLOSE}"
        return None, 0, ""
    if status is SessionStatus.NO_SHOW:
        return LineKind.NO_SHOW, 100 if settings.pay_no_show else 0, ""
    if status is SessionStatus.CANCELLED:
        if role in FAMILY and not refunded:
            return LineKind.LATE_CANCEL, settings.late_cancel_share, ""
        if role is Role.COACH:
            return LineKind.COACH_CANCEL, 0, ""
    return None, 0, ""


def _refunded(booking_ids: list[int]) -> set[int]:
    """The bookings whose credits came back (a cancellation in time: nothing is owed)."""
    if not booking_ids:
        return set()
    stmt = select(CreditEntry.booking_id).where(
        CreditEntry.booking_id.in_(booking_ids), CreditEntry.kind == EntryKind.REFUND
    )
    return {booking_id for booking_id in db.session.scalars(stmt) if booking_id is not None}


def _workshops(builder: _Builder, coach_id: int, start: datetime, end: datetime, now: datetime) -> None:
    stmt = (
        select(Workshop)
        .where(
            Workshop.coach_id == coach_id,
            Workshop.starts_at >= start,
            Workshop.starts_at < end,
            Workshop.status.in_((WorkshopStatus.COMPLETED, WorkshopStatus.SCHEDULED)),
        )
        .order_by(Workshop.starts_at, Workshop.id)
    )
    for workshop in db.session.scalars(stmt):
        label = f"Atelier « {workshop.title} » · {workshop.subject.label} · {workshop.grade.label}"
        if workshop.status is WorkshopStatus.COMPLETED:
            kind, share = LineKind.WORKSHOP, 100
        elif workshop.ends_at <= now:
            kind, share, label = LineKind.MISSING_REPORT, 0, f"{label} — {TO_CLOSE}"
        else:
            continue
        span = (workshop.starts_at, workshop.ends_at)
        builder.add(kind, PayModality.WORKSHOP, span, label, share, workshop_id=workshop.id)
