"""Safeguarding: reporting a message (reason required, once per person), staff told and the
thread marked in the inbox, staff reading threads about a student (audited once a day), and
report handling (audited, race-free)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.messaging import MessageReport, MessageThread
from nexus.services import utcnow
from nexus.services.messaging import inbox, safeguarding, threads
from tests import factories
from tests.helpers import at_once, html, notifications_of, user
from tests.people import ADMIN, ASSISTANTE, HELIOS, HX, PARENT, PARENT2, SAMI, YASMINE


def report_count() -> int:
    return db.session.scalar(select(func.count()).select_from(MessageReport)) or 0


def audit_count(action: str, object_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
    if object_id is not None:
        stmt = stmt.where(AuditLog.object_id == object_id)
    return db.session.scalar(stmt) or 0


@pytest.fixture
def coach_thread() -> MessageThread:
    """Hélios (Sami's coach) writes to Sami's family: a thread about a student, not to the centre."""
    sami = factories.student(SAMI)
    factories.booking(sami.id, factories.coach("Hélios").id, utcnow() + timedelta(days=3))
    return threads.start(user(HELIOS), f"famille:{sami.id}", "Exercices", "Voici les exercices pour jeudi.")


def first_message_id(thread: MessageThread) -> int:
    return threads.messages_of(thread.id)[0].id


def test_a_participant_reports_a_message_once_and_staff_are_told(client, auth, coach_thread):
    message_id = first_message_id(coach_thread)
    auth.login(PARENT2)
    url = f"/messages/signaler/{message_id}"
    page = html(client.get(url))
    assert "Voici les exercices pour jeudi." in page and "Signaler ce message" in page
    assert client.post(url, data={"reason": "  "}).status_code == 422
    assert client.post(url, data={"reason": "abc"}).status_code == 422
    assert report_count() == 0
    response = client.post(url, data={"reason": "Ton déplacé envers mon fils."})
    assert response.status_code == 303 and response.headers["Location"].startswith(
        f"/messages/{coach_thread.id}"
    )
    again = client.post(url, data={"reason": "Encore une fois."}, follow_redirects=True)
    assert "déjà signalé" in html(again)
    assert report_count() == 1
    assert len(notifications_of(ADMIN, "message_report")) == 1
    assert len(notifications_of(ASSISTANTE, "message_report")) == 1
    assert audit_count("messages.reported") == 1
    # The thread shows "Signalé" in the inbox and under its filter.
    rows = inbox.search(user(ADMIN), "signales", "", 1).items
    assert [(r.thread.id, r.reports) for r in rows] == [(coach_thread.id, 1)]
    # The reported message offers the link in the thread.
    assert f"/messages/signaler/{message_id}" in html(client.get(f"/messages/{coach_thread.id}"))


@pytest.mark.parametrize("email", [PARENT, YASMINE])
def test_someone_outside_the_thread_cannot_report_it(client, auth, coach_thread, email):
    auth.login(email)
    url = f"/messages/signaler/{first_message_id(coach_thread)}"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"reason": "Je signale ce message."}).status_code == 404
    assert client.get("/messages/signaler/999999").status_code == 404
    assert report_count() == 0


def test_staff_handle_a_report_once_with_audit(client, auth, coach_thread):
    safeguarding.report(user(PARENT2), first_message_id(coach_thread), "Ton déplacé envers mon fils.")
    report_id = db.session.scalar(select(MessageReport.id))
    auth.login(ASSISTANTE)
    listing = html(client.get("/messages/boite/signalements"))
    assert "Ton déplacé envers mon fils." in listing and "1 signalement à traiter" in listing
    url = f"/messages/boite/signalements/{report_id}/traite"
    ask = client.post(url, data={})
    assert ask.status_code == 200 and "Oui, marquer traité" in html(ask)
    assert db.session.get(MessageReport, report_id).handled_at is None
    done = client.post(url, data={"confirm": "1"}, headers=HX)
    assert done.status_code == 200 and "Signalement traité." in html(done)
    again = client.post(url, data={"confirm": "1"}, headers=HX)
    assert again.status_code == 200 and "déjà traité" in html(again)
    assert audit_count("messages.report_handled", report_id) == 1
    assert inbox.search(user(ADMIN), "signales", "", 1).items == []
    auth.logout()
    auth.login(PARENT2)
    assert client.get("/messages/boite/signalements").status_code == 404
    assert client.post(url, data={"confirm": "1"}).status_code == 404


def test_staff_read_a_coach_thread_about_a_student_audited_once_a_day(client, auth, coach_thread):
    auth.login(ADMIN)
    for _ in range(3):
        page = client.get(f"/messages/{coach_thread.id}")
        assert page.status_code == 200 and "Voici les exercices pour jeudi." in html(page)
    assert audit_count("messages.staff_read", coach_thread.id) == 1
    with time_machine.travel(utcnow() + timedelta(days=1), tick=False):
        auth.login(ADMIN)  # a new day, a new sign-in
        for _ in range(2):
            assert client.get(f"/messages/{coach_thread.id}").status_code == 200
    assert audit_count("messages.staff_read", coach_thread.id) == 2
    line = db.session.scalar(select(AuditLog).where(AuditLog.action == "messages.staff_read").limit(1))
    assert line is not None and line.actor_id == user(ADMIN).id and line.object_type == "message_threads"


def test_staff_who_are_a_party_are_not_audited_for_reading(client, auth):
    thread = threads.start(user(PARENT), "centre", "Facture", "Bonjour, la facture de mars ?")
    threads.reply(user(ASSISTANTE), thread.id, "Bonjour, la voici.")
    auth.login(ASSISTANTE)
    assert client.get(f"/messages/{thread.id}").status_code == 200
    assert audit_count("messages.staff_read", thread.id) == 0


def test_a_thread_between_a_coach_and_nobody_s_child_stays_closed_to_other_families(
    client, auth, coach_thread
):
    auth.login(PARENT)
    assert client.get(f"/messages/{coach_thread.id}").status_code == 404


@pytest.mark.committed
def test_fifty_reports_and_handlings_at_once(app):
    with app.app_context():
        sami = factories.student(SAMI)
        factories.booking(sami.id, factories.coach("Hélios").id, utcnow() + timedelta(days=3))
        thread = threads.start(user(HELIOS), f"famille:{sami.id}", "Exercices", "Voici les exercices.")
        message_id = threads.messages_of(thread.id)[0].id
        parent_id, admin_id = user(PARENT2).id, user(ADMIN).id
        db.session.commit()

    def report(i: int) -> bool:
        done = safeguarding.report(
            db.session.get_one(type(user(ADMIN)), parent_id), message_id, f"Raison n° {i}"
        )
        assert done is not None
        return done.created

    results = at_once(app, report)
    assert results.count(True) == 1 and results.count(False) == 49
    with app.app_context():
        report_id = db.session.scalar(select(MessageReport.id))
        assert report_id is not None

    def handle(i: int) -> bool:
        done = safeguarding.handle_report(report_id, db.session.get_one(type(user(ADMIN)), admin_id))
        assert done is not None
        return done.changed

    handled = at_once(app, handle)
    assert handled.count(True) == 1
    with app.app_context():
        assert report_count() == 1
        assert audit_count("messages.report_handled", report_id) == 1
        assert len(notifications_of(ADMIN, "message_report")) == 1
