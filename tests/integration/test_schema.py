"""The schema: migrations match the models, and the constraints hold in the database itself."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from psycopg import errors
from sqlalchemy import MetaData, select, text
from sqlalchemy.exc import IntegrityError

from nexus.extensions import db
from nexus.models.billing import Subscription, SubscriptionStatus
from nexus.models.catalog import OfferCode, ServiceType
from nexus.models.common import Role, Subject
from nexus.models.credits import CreditEntry, CreditLot, EntryKind, LotSource
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking, SessionStatus
from tests.helpers import user
from tests.people import SAMI, YASMINE

MONDAY = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)


def rejected(add: Callable[[], None]) -> BaseException:
    """Run `add` in a savepoint; it must be refused by the database. Returns the driver error."""
    with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
        add()
        db.session.flush()
    return caught.value.orig  # type: ignore[return-value]


def accepted(add: Callable[[], None]) -> None:
    with db.session.begin_nested():
        add()
        db.session.flush()


def student(email: str) -> Student:
    return db.session.scalar(select(Student).where(Student.user_id == user(email).id))


def coach(pseudonym: str) -> CoachProfile:
    return db.session.scalar(select(CoachProfile).where(CoachProfile.pseudonym == pseudonym))


def booking(
    who: str,
    pseudonym: str,
    start: datetime,
    minutes: int = 60,
    status: SessionStatus = SessionStatus.SCHEDULED,
) -> Callable[[], None]:
    def add() -> None:
        db.session.add(
            SessionBooking(
                student_id=student(who).id,
                coach_id=coach(pseudonym).id,
                subject=Subject.MATHEMATIQUES,
                service=ServiceType.COURS_ONLINE,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
                credits_cost=Decimal(1),
                status=status,
                room_name="nexus-" + secrets.token_hex(8),
            )
        )

    return add


def test_models_and_migrations_agree(app):
    context = MigrationContext.configure(db.session.connection())
    assert compare_metadata(context, db.metadata) == []
    # The comparison does see the database: against no models, every table would be extra.
    assert len(compare_metadata(context, MetaData())) >= len(db.metadata.tables)


def test_vector_extension_is_installed(app):
    assert db.session.scalar(text("SELECT extversion FROM pg_extension WHERE extname = 'vector'"))


def test_overlapping_coach_bookings_are_refused(app):
    accepted(booking(SAMI, "Hélios", MONDAY))
    error = rejected(booking(YASMINE, "Hélios", MONDAY + timedelta(minutes=30)))
    assert isinstance(error, errors.ExclusionViolation)
    assert "ex_session_bookings_coach_overlap" in str(error)


def test_adjacent_coach_bookings_are_allowed(app):
    accepted(booking(SAMI, "Hélios", MONDAY))
    accepted(booking(YASMINE, "Hélios", MONDAY + timedelta(hours=1)))
    accepted(booking(YASMINE, "Hélios", MONDAY - timedelta(hours=1)))


def test_a_cancelled_booking_frees_the_slot(app):
    accepted(booking(SAMI, "Hélios", MONDAY, status=SessionStatus.CANCELLED))
    accepted(booking(YASMINE, "Hélios", MONDAY))


def test_a_student_cannot_be_in_two_sessions_at_once(app):
    accepted(booking(SAMI, "Hélios", MONDAY))
    error = rejected(booking(SAMI, "Zénon", MONDAY + timedelta(minutes=59)))
    assert isinstance(error, errors.ExclusionViolation)
    assert "ex_session_bookings_student_overlap" in str(error)


def test_a_booking_ends_after_it_starts(app):
    error = rejected(booking(SAMI, "Hélios", MONDAY, minutes=0))
    assert isinstance(error, errors.CheckViolation)


def subscription(email: str, status: SubscriptionStatus) -> Callable[[], None]:
    def add() -> None:
        now = datetime.now(UTC)
        db.session.add(
            Subscription(
                student_id=student(email).id,
                plan=OfferCode.IMMERSION,
                status=status,
                monthly_price_millimes=750_000,
                credits_per_month=Decimal(8),
                aria_subjects=[Subject.MATHEMATIQUES.value],
                current_period_start=now,
                current_period_end=now + timedelta(days=30),
                started_at=now,
            )
        )

    return add


def test_one_active_subscription_per_student(app):
    error = rejected(subscription(SAMI, SubscriptionStatus.ACTIVE))  # Sami is on HYBRIDE already
    assert isinstance(error, errors.UniqueViolation)
    assert "uq_subscriptions_one_active" in str(error)
    accepted(subscription(SAMI, SubscriptionStatus.CANCELLED))
    accepted(subscription(YASMINE, SubscriptionStatus.ACTIVE))


def test_subscription_subjects_must_be_known(app):
    def add() -> None:
        subscription(YASMINE, SubscriptionStatus.ACTIVE)()
        db.session.flush()
        db.session.execute(text("UPDATE subscriptions SET aria_subjects = '{ASTROLOGIE}'"))

    assert isinstance(rejected(add), errors.CheckViolation)


def sami_lot() -> CreditLot:
    return db.session.scalar(select(CreditLot).where(CreditLot.student_id == student(SAMI).id))


def entry(kind: EntryKind, amount: str) -> Callable[[], None]:
    def add() -> None:
        lot = sami_lot()
        db.session.add(
            CreditEntry(student_id=lot.student_id, lot_id=lot.id, kind=kind, amount=Decimal(amount))
        )

    return add


@pytest.mark.parametrize(
    ("kind", "amount"),
    [(EntryKind.CONSUME, "1"), (EntryKind.EXPIRE, "2"), (EntryKind.REFUND, "-1"), (EntryKind.ADJUST, "0")],
)
def test_credit_entry_sign_must_match_its_kind(app, kind, amount):
    assert isinstance(rejected(entry(kind, amount)), errors.CheckViolation)


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        (EntryKind.CONSUME, "-1.25"),
        (EntryKind.REFUND, "1.25"),
        (EntryKind.ADJUST, "-0.5"),
        (EntryKind.EXPIRE, "-2"),
    ],
)
def test_credit_entries_with_the_right_sign_are_accepted(app, kind, amount):
    accepted(entry(kind, amount))


def test_a_lot_is_granted_once(app):
    error = rejected(entry(EntryKind.GRANT, "4"))  # the seed already granted Sami's lot
    assert isinstance(error, errors.UniqueViolation)


def test_a_lot_is_never_empty(app):
    def add() -> None:
        lot = sami_lot()
        db.session.add(
            CreditLot(
                student_id=lot.student_id,
                source=LotSource.MANUAL,
                amount=Decimal(0),
                granted_at=lot.granted_at,
                expires_at=lot.expires_at,
            )
        )

    assert isinstance(rejected(add), errors.CheckViolation)


def test_emails_are_stored_lowercase_and_required_except_for_students(app):
    def upper() -> None:
        db.session.add(User(email="Majuscule@Example.tn", role=Role.PARENT, first_name="M", last_name="M"))

    def no_email() -> None:
        db.session.add(User(email=None, role=Role.COACH, first_name="S", last_name="E"))

    assert isinstance(rejected(upper), errors.CheckViolation)
    assert isinstance(rejected(no_email), errors.CheckViolation)
    accepted(lambda: db.session.add(User(email=None, role=Role.ELEVE, first_name="S", last_name="E")))


def test_unknown_enum_values_are_refused_by_the_database(app):
    def add() -> None:
        db.session.execute(
            text(
                "INSERT INTO users (email, role, first_name, last_name) VALUES ('x@y.tn', 'PIRATE', 'X', 'Y')"
            )
        )

    assert isinstance(rejected(add), errors.CheckViolation)


def test_timestamps_have_a_time_zone(app):
    naive = db.session.scalars(
        text(
            "SELECT table_name || '.' || column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = 'timestamp without time zone' "
            "AND table_name <> 'alembic_version'"
        )
    ).all()
    assert naive == []
