"""Private iCal feeds: a secret URL per user, regenerable, 2 weeks back to 3 months ahead."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest

from nexus.extensions import db
from nexus.models.scheduling import SessionStatus
from nexus.services import utcnow
from nexus.services.scheduling import calendar
from tests import factories
from tests.helpers import html, user
from tests.people import ASSISTANTE, HELIOS, PARENT, PARENT2, SAMI


def feed_path(client) -> str:
    page = html(client.get("/dashboard/calendrier"))
    match = re.search(r"http://localhost(/calendrier/[\w-]+\.ics)", page)
    assert match, page
    return match.group(1)


def events(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    parsed = icalendar.Calendar.from_ical(response.data)
    return {str(e["uid"]): e for e in parsed.walk("VEVENT")}


def test_a_feed_is_created_then_regenerated(client, login, sami, helios):
    soon = factories.booking(sami.id, helios.id, utcnow() + timedelta(days=5))
    factories.booking(sami.id, helios.id, utcnow() - timedelta(days=10), status=SessionStatus.COMPLETED)
    factories.booking(sami.id, helios.id, utcnow() - timedelta(days=20))  # too old for the feed
    factories.booking(sami.id, helios.id, utcnow() + timedelta(days=100))  # too far ahead
    cancelled = factories.booking(
        sami.id, helios.id, utcnow() + timedelta(days=6), status=SessionStatus.CANCELLED
    )
    login(client, SAMI)
    assert "Créer mon lien d'agenda" in html(client.get("/dashboard/calendrier"))
    assert client.post("/dashboard/calendrier").status_code == 303
    first = feed_path(client)

    client.post("/auth/signout")  # the feed needs no cookie: the URL is the credential
    found = events(client.get(first))
    assert len(found) == 3
    event = found[f"session-{soon.id}@nexus-reussite.tn"]
    assert str(event["summary"]) == "Séance Mathématiques avec Hélios"
    assert event.decoded("dtstart") == soon.starts_at.replace(microsecond=0)
    assert str(event["status"]) == "CONFIRMED"
    assert f"/dashboard/sessions/{soon.id}/rejoindre" in str(event["description"])
    assert soon.room_name not in client.get(first).get_data(as_text=True)  # the room stays behind sign-in
    assert str(found[f"session-{cancelled.id}@nexus-reussite.tn"]["status"]) == "CANCELLED"

    login(client, SAMI)
    client.post("/dashboard/calendrier", data={"confirm": "1"})
    second = feed_path(client)
    assert second != first
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_parent_and_coach_feeds(client, login, sami, helios):
    booking = factories.booking(sami.id, helios.id, utcnow() + timedelta(days=2))
    db.session.flush()
    for who, summary in (
        (PARENT2, "Séance Mathématiques avec Hélios"),
        (HELIOS, "Séance Mathématiques — Sami Gharbi"),
    ):
        login(client, who)
        client.post("/dashboard/calendrier")
        path = feed_path(client)
        client.post("/auth/signout")
        found = events(client.get(path))
        assert str(found[f"session-{booking.id}@nexus-reussite.tn"]["summary"]) == summary
    login(client, PARENT)  # another family: nothing of Sami's
    client.post("/dashboard/calendrier")
    assert events(client.get(feed_path(client))) == {}


@pytest.mark.parametrize("token", ["1-1-" + "0" * 32, "abc", "1-x-y", "999999-1-" + "a" * 32])
def test_a_wrong_token_is_not_found(client, token):
    assert client.get(f"/calendrier/{token}.ics").status_code == 404


def test_a_deactivated_account_has_no_feed(client, login):
    login(client, SAMI)
    client.post("/dashboard/calendrier")
    path = feed_path(client)
    user(SAMI).is_active = False
    db.session.flush()
    assert client.get(path).status_code == 404


def test_a_tampered_version_is_not_found(client, login):
    login(client, SAMI)
    client.post("/dashboard/calendrier")
    path = feed_path(client)
    user_id, version, signature = path.removeprefix("/calendrier/").removesuffix(".ics").split("-")
    assert client.get(f"/calendrier/{user_id}-{int(version) + 1}-{signature}.ics").status_code == 404
    assert calendar.user_for_token(f"{user_id}-{version}-{signature}").email == SAMI


def test_staff_have_no_feed_page(client, login):
    login(client, ASSISTANTE)
    assert client.get("/dashboard/calendrier").status_code == 403
