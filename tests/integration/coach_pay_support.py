"""Builders for the coach pay tests: a coach of its own (no demo activity), sessions of any kind
at a Tunis date and time, workshops, refunds, rates and the pay rules."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from nexus import fr
from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.coach_pay import CoachRate, CoachStatement, PayModality
from nexus.models.common import Grade, Role, Subject
from nexus.models.credits import LotSource
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.operations import CentreSettings
from nexus.models.scheduling import SessionBooking, SessionReport, SessionStatus
from nexus.models.workshops import Workshop, WorkshopStatus
from nexus.services import centre_settings, credits, utcnow

MONTH = "2030-02"  # a past month (the clock is 2030-03-04): every session of it has ended


def new_coach(pseudonym: str = "Thalès") -> CoachProfile:
    """A coach with no demo sessions nor rates: their month holds only what a test adds."""
    account = User(
        email=f"{secrets.token_hex(4)}@coach.test",
        role=Role.COACH,
        first_name=pseudonym,
        last_name="Test",
        activated_at=utcnow(),
    )
    db.session.add(account)
    db.session.flush()
    profile = CoachProfile(
        user_id=account.id, pseudonym=f"{pseudonym}-{secrets.token_hex(3)}", subjects=["MATHEMATIQUES"]
    )
    db.session.add(profile)
    db.session.flush()
    return profile


def at(local: str) -> datetime:
    """'2030-02-12 17:00' in Tunis time, as an aware datetime."""
    return datetime.fromisoformat(local).replace(tzinfo=fr.TUNIS)


def session(
    coach: CoachProfile,
    student: Student,
    local_start: str,
    minutes: int = 60,
    status: SessionStatus = SessionStatus.COMPLETED,
    *,
    service: ServiceType = ServiceType.COURS_ONLINE,
    report: bool | None = None,
    cancelled_by: User | None = None,
    workshop: Workshop | None = None,
) -> SessionBooking:
    """A one-to-one session (or a workshop seat) in any state; a completed one gets its report
    unless report=False."""
    starts = at(local_start)
    row = SessionBooking(
        student_id=student.id,
        coach_id=coach.id,
        subject=Subject.MATHEMATIQUES,
        service=ServiceType.ATELIER_GROUPE if workshop else service,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
        credits_cost=Decimal(1),
        status=status,
        room_name=f"nexus-{secrets.token_urlsafe(12)}",
        workshop_id=workshop.id if workshop else None,
        completed_at=starts + timedelta(minutes=minutes) if status is SessionStatus.COMPLETED else None,
        cancelled_by_id=cancelled_by.id if cancelled_by else None,
        cancelled_at=starts - timedelta(hours=2) if cancelled_by else None,
    )
    db.session.add(row)
    db.session.flush()
    if report if report is not None else status is SessionStatus.COMPLETED:
        write_report(row)
    return row


def write_report(booking: SessionBooking) -> SessionReport:
    row = SessionReport(
        booking_id=booking.id,
        summary="Séance de travail.",
        topics="Suites",
        rating=4,
        progress_notes="Progrès.",
        recommendations="Continuer.",
        attended=True,
    )
    db.session.add(row)
    db.session.flush()
    return row


def workshop(
    coach: CoachProfile,
    local_start: str,
    minutes: int = 90,
    status: WorkshopStatus = WorkshopStatus.COMPLETED,
) -> Workshop:
    starts = at(local_start)
    row = Workshop(
        coach_id=coach.id,
        subject=Subject.MATHEMATIQUES,
        grade=Grade.PREMIERE,
        title="Méthodes du bac",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
        online=True,
        seats=3,
        credits_cost=Decimal("2.25"),
        status=status,
        room_name=f"nexus-{secrets.token_urlsafe(12)}",
        completed_at=starts + timedelta(minutes=minutes) if status is WorkshopStatus.COMPLETED else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def paid_then_refunded(booking: SessionBooking) -> None:
    """The booking's credit drawn then given back (a cancellation in time)."""
    credits.grant(booking.student_id, Decimal(5), LotSource.MANUAL, utcnow() + timedelta(days=60))
    credits.consume(booking.student_id, booking.credits_cost, booking.id)
    credits.refund(booking.student_id, booking.id, None, "Séance annulée")
    db.session.flush()


def rate(coach: CoachProfile, modality: PayModality, hourly: int, since: str = "2030-01-01") -> CoachRate:
    row = CoachRate(
        coach_id=coach.id, modality=modality, hourly_millimes=hourly, effective_from=date.fromisoformat(since)
    )
    db.session.add(row)
    db.session.flush()
    return row


def all_rates(
    coach: CoachProfile, online: int = 30_000, centre: int = 36_000, workshop_rate: int = 45_000
) -> None:
    rate(coach, PayModality.ONLINE, online)
    rate(coach, PayModality.CENTRE, centre)
    rate(coach, PayModality.WORKSHOP, workshop_rate)


def pay_rules(pay_no_show: bool, late_cancel_share: int) -> None:
    """The centre's pay rules, set directly (the service is tested apart)."""
    centre_settings.ensure_row()
    row = db.session.get(CentreSettings, centre_settings.SETTINGS_ID, populate_existing=True)
    assert row is not None
    row.pay_no_show = pay_no_show
    row.late_cancel_share = late_cancel_share
    db.session.flush()


def statement_of(coach: CoachProfile, month: str = MONTH) -> CoachStatement | None:
    db.session.expire_all()
    return db.session.scalar(
        select(CoachStatement).where(CoachStatement.coach_id == coach.id, CoachStatement.month == month)
    )


def family_user(student: Student) -> User:
    """The student's own account (a family member who can cancel)."""
    found = db.session.get(User, student.user_id)
    assert found is not None
    return found

