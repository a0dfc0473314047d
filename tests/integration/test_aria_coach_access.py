"""A coach reads a student's ARIA conversations only in the subjects of their sessions together,
and only while one of them was held or is still to come (issue 8, item 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from nexus.extensions import db
from nexus.models.aria import AriaConversation
from nexus.models.common import Subject
from nexus.models.scheduling import SessionStatus
from tests import factories
from tests.helpers import html
from tests.integration.aria_support import student
from tests.people import HELIOS, ZENON

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # a Monday; every date below is relative to it
INDEX = "/dashboard/coach/aria"


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


def conversation(subject: Subject, title: str) -> AriaConversation:
    row = AriaConversation(student_id=student().id, subject=subject, title=title)
    db.session.add(row)
    db.session.flush()
    return row


def session_with_helios(status: SessionStatus, starts_at: datetime, subject=Subject.MATHEMATIQUES) -> None:
    booking = factories.booking(student().id, factories.coach("Hélios").id, starts_at, status=status)
    booking.subject = subject
    db.session.flush()


def url(row: AriaConversation) -> str:
    return f"{INDEX}/{row.student_id}/{row.id}"


@pytest.mark.parametrize("status", [SessionStatus.CANCELLED, SessionStatus.NO_SHOW])
def test_a_cancelled_or_missed_session_gives_no_access(client, login, status):
    maths = conversation(Subject.MATHEMATIQUES, "Suites géométriques")
    session_with_helios(status, NOW + timedelta(days=2))
    login(client, HELIOS)
    assert "Suites géométriques" not in html(client.get(INDEX))
    assert client.get(url(maths)).status_code == 404


def test_an_upcoming_session_opens_its_subject_only(client, login):
    maths = conversation(Subject.MATHEMATIQUES, "Suites géométriques")
    physics = conversation(Subject.PHYSIQUE_CHIMIE, "Loi d'Ohm")
    session_with_helios(SessionStatus.SCHEDULED, NOW + timedelta(days=2))
    login(client, HELIOS)
    index = html(client.get(INDEX))
    assert "Suites géométriques" in index and "Loi d'Ohm" not in index
    assert client.get(url(maths)).status_code == 200
    assert client.get(url(physics)).status_code == 404


def test_a_held_session_keeps_its_subject_open(client, login):
    nsi = conversation(Subject.NSI, "Récursivité")
    maths = conversation(Subject.MATHEMATIQUES, "Suites géométriques")
    session_with_helios(SessionStatus.COMPLETED, NOW - timedelta(days=20), Subject.NSI)
    session_with_helios(SessionStatus.CANCELLED, NOW + timedelta(days=2))  # maths: cancelled at once
    login(client, HELIOS)
    index = html(client.get(INDEX))
    assert "Récursivité" in index and "Suites géométriques" not in index
    assert client.get(url(nsi)).status_code == 200
    assert client.get(url(maths)).status_code == 404


def test_a_past_session_that_never_took_place_gives_no_access(client, login):
    maths = conversation(Subject.MATHEMATIQUES, "Suites géométriques")
    session_with_helios(SessionStatus.CONFIRMED, NOW - timedelta(days=3))  # neither held nor upcoming
    login(client, HELIOS)
    assert client.get(url(maths)).status_code == 404


def test_another_coach_reads_nothing(client, login):
    maths = conversation(Subject.MATHEMATIQUES, "Suites géométriques")
    session_with_helios(SessionStatus.CONFIRMED, NOW + timedelta(days=2))
    login(client, ZENON)
    assert "Suites géométriques" not in html(client.get(INDEX))
    assert client.get(url(maths)).status_code == 404
