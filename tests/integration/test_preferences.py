"""Per-user e-mail preferences: defaults, the page, and queue_email skipping a refused event."""

from __future__ import annotations

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.notifications import NotificationPreference
from nexus.services import notifications, preferences
from tests.helpers import PARENT, YASMINE, html, notifications_of, outbox_to, user

PAGE = "/compte/notifications"


def test_defaults_without_a_row():
    parent = user(PARENT)
    assert preferences.wants_email(parent.id, preferences.MESSAGES) is True
    assert preferences.wants_email(parent.id, preferences.PROGRESS) is False  # opt-in
    assert preferences.wants_email(parent.id, "unknown-event") is True
    assert db.session.scalars(select(NotificationPreference)).all() == []


def test_save_stores_every_event_of_the_role_and_keeps_alerts_on():
    parent = user(PARENT)
    saved = preferences.save(parent, ["messages", "progress", "alerts", "nonsense"])
    assert saved == {
        "messages": True,
        "sessions": False,
        "reports": False,
        "billing": False,
        "progress": True,
    }
    assert preferences.wants_email(parent.id, "sessions") is False
    assert preferences.wants_email(parent.id, "progress") is True
    # Safety alerts are not a choice: on even after everything was unticked.
    preferences.save(parent, [])
    assert preferences.wants_email(parent.id, preferences.ALERTS) is True
    assert preferences.choices_of(parent)["alerts"] is True


def test_page_lists_the_role_events_and_saves_with_303(client, auth):
    auth.login(YASMINE)
    page = html(client.get(PAGE))
    assert "Préférences e-mail" in page
    assert 'value="sessions"' in page and 'value="billing"' not in page  # a student pays nothing
    assert "Alertes de sécurité" not in page
    response = client.post(PAGE, data={"events": ["messages", "reports"]})
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    assert "Préférences enregistrées" in html(client.get(PAGE))
    student = user(YASMINE)
    assert preferences.choices_of(student) == {
        "messages": True,
        "sessions": False,
        "reports": True,
        "progress": False,
    }


def test_parent_page_says_alerts_are_always_sent(client, auth):
    auth.login(PARENT)
    page = html(client.get(PAGE))
    assert "Alertes de sécurité ARIA" in page and "toujours envoyées" in page
    assert 'value="alerts"' not in page


def test_unknown_choice_is_refused_with_422_and_nothing_saved(client, auth):
    auth.login(YASMINE)
    response = client.post(PAGE, data={"events": ["billing"]})  # not a student's event
    assert response.status_code == 422
    assert db.session.scalars(select(NotificationPreference)).all() == []


def test_queue_email_skips_a_refused_event_but_the_notice_stays():
    parent = user(PARENT)
    preferences.save(parent, ["messages"])  # sessions off
    notifications.notify(parent.id, "SESSION_BOOKED", "Séance réservée")
    skipped = notifications.queue_email(
        parent.email, "x", "Séance", {}, user_id=parent.id, event=preferences.SESSIONS
    )
    sent = notifications.queue_email(parent.email, "x", "Message", {}, user_id=parent.id, event="messages")
    plain = notifications.queue_email(parent.email, "x", "Compte", {}, user_id=parent.id)
    assert skipped is None and sent is not None and plain is not None
    assert [m.subject for m in outbox_to(parent.email)] == ["Message", "Compte"]
    assert [n.title for n in notifications_of(PARENT, "SESSION_BOOKED")] == ["Séance réservée"]


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/auth/signin" in response.headers["Location"]
