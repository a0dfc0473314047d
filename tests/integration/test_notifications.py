"""The in-app bell: unread count, list, mark one read (own only), mark all read, htmx fragments."""

from __future__ import annotations

import re

import pytest

from nexus.extensions import db
from nexus.models.notifications import Notification
from nexus.services import notifications
from tests.helpers import html, notifications_of, user
from tests.people import HX, PARENT, PARENT2


@pytest.fixture
def three_for_parent() -> list[int]:
    parent = user(PARENT).id
    notifications.notify(parent, "TEST", "Premier message", "Le corps du premier", "/dashboard/parent")
    notifications.notify(parent, "TEST", "Deuxième message")
    notifications.notify(parent, "TEST", "Troisième message")
    notifications.notify(user(PARENT2).id, "TEST", "Pour l'autre famille")
    db.session.commit()
    return [n.id for n in notifications_of(PARENT)]


def badge(page: str) -> str:
    match = re.search(r'id="unread-badge"[^>]*>(\d+)<', page)
    assert match, "no unread badge"
    return match.group(1)


def test_bell_shows_the_unread_count(client, login, three_for_parent):
    login(client, PARENT)
    page = html(client.get("/dashboard/parent"))
    assert badge(page) == "3"


def test_list_shows_only_own_notifications(client, login, three_for_parent):
    login(client, PARENT)
    page = html(client.get("/notifications"))
    assert "Premier message" in page and "Troisième message" in page
    assert "Pour l'autre famille" not in page


def test_mark_one_read_follows_its_link(client, login, three_for_parent):
    login(client, PARENT)
    first = three_for_parent[0]
    response = client.post(f"/notifications/{first}/lu")
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/parent"
    db.session.expire_all()
    assert db.session.get(Notification, first).read_at is not None
    assert notifications.unread_count(user(PARENT).id) == 2
    assert badge(html(client.get("/dashboard/parent"))) == "2"


def test_mark_one_without_link_goes_back_to_the_list(client, login, three_for_parent):
    login(client, PARENT)
    response = client.post(f"/notifications/{three_for_parent[1]}/lu")
    assert response.headers["Location"] == "/notifications"


def test_someone_elses_notification_is_not_found(client, login, three_for_parent):
    login(client, PARENT2)
    response = client.post(f"/notifications/{three_for_parent[0]}/lu")
    assert response.status_code == 404
    db.session.expire_all()
    assert all(n.read_at is None for n in notifications_of(PARENT))


def test_mark_all_read_touches_only_own(client, login, three_for_parent):
    login(client, PARENT)
    response = client.post("/notifications/tout-lu")
    assert response.status_code == 303
    db.session.expire_all()
    assert notifications.unread_count(user(PARENT).id) == 0
    assert notifications.unread_count(user(PARENT2).id) == 1


def test_htmx_mark_all_read_returns_the_fragment(client, login, three_for_parent):
    login(client, PARENT)
    response = client.post("/notifications/tout-lu", headers=HX)
    assert response.status_code == 200
    fragment = html(response)
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<div id="notification-list">')
    assert 'hx-swap-oob="true"' in fragment  # the bell's badge is updated out of band
    assert badge(fragment) == "0"
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_htmx_mark_one_read_returns_the_fragment(client, login, three_for_parent):
    login(client, PARENT)
    fragment = html(client.post(f"/notifications/{three_for_parent[0]}/lu", headers=HX))
    assert "<html" not in fragment
    assert badge(fragment) == "2"


def test_list_is_a_page_or_a_fragment(client, login, three_for_parent):
    login(client, PARENT)
    assert "<html" in html(client.get("/notifications"))
    assert "<html" not in html(client.get("/notifications", headers=HX))
    boosted = client.get("/notifications", headers={**HX, "HX-Boosted": "true"})
    assert "<html" in html(boosted)


def test_notification_text_is_escaped(client, login):
    notifications.notify(user(PARENT).id, "TEST", "<script>alert(1)</script>")
    db.session.commit()
    login(client, PARENT)
    raw = client.get("/notifications").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in raw
    assert "&lt;script&gt;" in raw


def test_mark_read_is_post_only(client, login, three_for_parent):
    login(client, PARENT)
    assert client.get(f"/notifications/{three_for_parent[0]}/lu").status_code == 405
