"""A coach sees a student's page (profile, past reports) only through a session held or to come.

The same rule as for reading ARIA conversations (issue 8, item 11): a booking cancelled at once,
a no-show, or a session that never took place opens nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from nexus.models.scheduling import SessionStatus
from nexus.services import utcnow
from tests import factories
from tests.helpers import html
from tests.people import HELIOS


def page(client, student_id: int) -> int:
    return client.get(f"/dashboard/coach/eleves/{student_id}").status_code


@pytest.mark.parametrize(
    ("status", "days"),
    [
        (SessionStatus.CANCELLED, 3),  # cancelled at once
        (SessionStatus.NO_SHOW, -3),
        (SessionStatus.SCHEDULED, -3),  # its time went by and it was never held
    ],
)
def test_a_session_that_was_not_held_opens_nothing(client, login, yasmine, helios, status, days):
    factories.booking(yasmine.id, helios.id, utcnow() + timedelta(days=days), status=status)
    login(client, HELIOS)
    assert page(client, yasmine.id) == 404
    assert yasmine.user.last_name not in html(client.get("/dashboard/coach/eleves"))


@pytest.mark.parametrize(("status", "days"), [(SessionStatus.SCHEDULED, 3), (SessionStatus.COMPLETED, -3)])
def test_a_session_to_come_or_held_opens_the_page(client, login, yasmine, helios, status, days):
    factories.booking(yasmine.id, helios.id, utcnow() + timedelta(days=days), status=status)
    login(client, HELIOS)
    assert page(client, yasmine.id) == 200
    assert yasmine.user.last_name in html(client.get("/dashboard/coach/eleves"))
