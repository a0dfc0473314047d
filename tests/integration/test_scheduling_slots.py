"""Free slots: weekly windows in Tunis time, minus exceptions and bookings, split, 2 h ahead, 3 months max."""

from __future__ import annotations

import os
import time as systime
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import delete

from nexus import fr
from nexus.extensions import db
from nexus.models.scheduling import AvailabilityException, CoachAvailability, ExceptionKind, SessionStatus
from nexus.services.scheduling import slots
from tests import factories
from tests.people import SAMI, YASMINE

TUNIS = ZoneInfo("Africa/Tunis")
MONDAY = date(2030, 3, 4)  # a Monday


@pytest.fixture
def helios():
    """Hélios with a known grid: Monday–Friday 14:00–19:00, nothing else."""
    coach = factories.coach("Hélios")
    db.session.execute(delete(CoachAvailability).where(CoachAvailability.coach_id == coach.id))
    for weekday in range(5):
        factories.weekly(coach.id, weekday, "14:00", "19:00")
    return coach


def starts(days: list[slots.DaySlots]) -> dict[date, list[str]]:
    return {d.day: [s.local_start.strftime("%H:%M") for s in d.slots] for d in days}


def tunis(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TUNIS)


def exception(coach_id, day, kind, start=None, end=None):
    db.session.add(
        AvailabilityException(
            coach_id=coach_id,
            on_date=day,
            kind=kind,
            start_time=time.fromisoformat(start) if start else None,
            end_time=time.fromisoformat(end) if end else None,
        )
    )
    db.session.flush()


@freeze_time("2030-03-01 08:00:00")  # a Friday morning, UTC
def test_windows_are_split_into_back_to_back_slots_in_tunis_time(helios):
    days = slots.free_slots(helios.id, 60, MONDAY, 1)
    assert starts(days) == {MONDAY: ["14:00", "15:00", "16:00", "17:00", "18:00"]}
    first = days[0].slots[0]
    # Tunis is UTC+1: 14:00 there is 13:00 UTC, whatever the server's zone.
    assert first.starts_at == datetime(2030, 3, 4, 13, 0, tzinfo=UTC)
    assert first.param == "2030-03-04T14:00"
    ninety = slots.free_slots(helios.id, 90, MONDAY, 1)
    assert starts(ninety) == {MONDAY: ["14:00", "15:30", "17:00"]}


@freeze_time("2030-03-01 08:00:00")
def test_the_server_time_zone_does_not_matter(helios):
    expected = starts(slots.free_slots(helios.id, 60, MONDAY, 7))
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Kiritimati"  # UTC+14
    systime.tzset()
    try:
        assert starts(slots.free_slots(helios.id, 60, MONDAY, 7)) == expected
    finally:
        if previous is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = previous
        systime.tzset()


@freeze_time("2030-03-04 11:30:00")  # 12:30 in Tunis
def test_slots_start_at_least_two_hours_ahead(helios):
    days = slots.free_slots(helios.id, 60, MONDAY, 1)
    assert starts(days) == {MONDAY: ["15:00", "16:00", "17:00", "18:00"]}


@freeze_time("2030-03-03 23:30:00")  # Sunday 23:30 UTC is already Monday 00:30 in Tunis
def test_today_is_the_tunis_date(helios):
    days = slots.free_slots(helios.id, 60, date(2030, 3, 3), 2)
    assert list(starts(days)) == [MONDAY]


@freeze_time("2030-03-04 10:00:00")
def test_nothing_beyond_three_months(helios):
    last = date(2030, 6, 4)  # a Tuesday: 3 months from now is 11:00 Tunis, before the 14:00 window
    assert starts(slots.free_slots(helios.id, 60, last - timedelta(days=1), 3)) == {
        date(2030, 6, 3): ["14:00", "15:00", "16:00", "17:00", "18:00"]
    }
    assert slots.free_slots(helios.id, 60, date(2030, 7, 1), 7) == []


@freeze_time("2030-03-01 08:00:00")
def test_exceptions_remove_and_add_time(helios):
    exception(helios.id, MONDAY, ExceptionKind.UNAVAILABLE)  # the whole Monday off
    exception(helios.id, MONDAY + timedelta(days=1), ExceptionKind.UNAVAILABLE, "15:00", "16:00")
    exception(helios.id, MONDAY + timedelta(days=5), ExceptionKind.EXTRA, "09:00", "11:30")  # Saturday
    exception(helios.id, MONDAY + timedelta(days=2), ExceptionKind.EXTRA, "18:00", "20:00")  # extends Wed
    days = starts(slots.free_slots(helios.id, 60, MONDAY, 7))
    assert MONDAY not in days
    assert days[MONDAY + timedelta(days=1)] == ["14:00", "16:00", "17:00", "18:00"]
    assert days[MONDAY + timedelta(days=2)] == ["14:00", "15:00", "16:00", "17:00", "18:00", "19:00"]
    assert days[MONDAY + timedelta(days=5)] == ["09:00", "10:00"]
    assert MONDAY + timedelta(days=6) not in days  # Sunday: nothing


@freeze_time("2030-03-01 08:00:00")
def test_validity_period_limits_the_weekly_grid(helios):
    db.session.execute(delete(CoachAvailability).where(CoachAvailability.coach_id == helios.id))
    factories.weekly(helios.id, 0, "14:00", "16:00", valid_from="2030-03-11", until="2030-03-18")
    days = starts(slots.free_slots(helios.id, 60, MONDAY, 28))
    assert list(days) == [date(2030, 3, 11), date(2030, 3, 18)]


@freeze_time("2030-03-01 08:00:00")
def test_bookings_of_the_coach_and_of_the_student_are_taken_out(helios):
    sami = factories.student(SAMI)
    yasmine = factories.student(YASMINE)
    zenon = factories.coach("Zénon")
    factories.booking(yasmine.id, helios.id, tunis(MONDAY, 15), minutes=90)  # 15:00–16:30
    factories.booking(sami.id, zenon.id, tunis(MONDAY, 17, 30), minutes=60)  # Sami elsewhere
    factories.booking(yasmine.id, helios.id, tunis(MONDAY, 18), status=SessionStatus.CANCELLED)
    assert starts(slots.free_slots(helios.id, 60, MONDAY, 1)) == {MONDAY: ["14:00", "16:30", "17:30"]}
    assert starts(slots.free_slots(helios.id, 60, MONDAY, 1, student_id=sami.id)) == {
        MONDAY: ["14:00", "16:30"]
    }


def test_interval_arithmetic():
    t = lambda h: datetime(2030, 1, 1, h, tzinfo=UTC)  # noqa: E731
    assert slots.merge([(t(9), t(11)), (t(10), t(12)), (t(13), t(14))]) == [
        (t(9), t(12)),
        (t(13), t(14)),
    ]
    assert slots.subtract([(t(9), t(17))], [(t(10), t(11)), (t(12), t(13)), (t(16), t(18))]) == [
        (t(9), t(10)),
        (t(11), t(12)),
        (t(13), t(16)),
    ]
    assert slots.subtract([(t(9), t(10))], [(t(8), t(11))]) == []


def test_french_labels():
    assert fr.when(datetime(2030, 3, 4, 13, 0, tzinfo=UTC)) == "lundi 4 mars 2030 à 14:00"
    assert fr.duration(90) == "1 h 30"
