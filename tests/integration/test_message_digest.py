"""E-mail digests: one e-mail per thread and person an hour at most, listing the unread messages;
never to the author, never once read, never to someone who said no; 50 runs at once → one e-mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from nexus.jobs import messaging as jobs
from nexus.services import preferences, utcnow
from nexus.services.messaging import digest, threads
from tests.helpers import at_once, outbox_to, user
from tests.people import ASSISTANTE, PARENT, YASMINE
from tests.servers import body_text


def later(minutes: int) -> time_machine.travel:
    return time_machine.travel(utcnow() + timedelta(minutes=minutes))


@pytest.fixture
def conversation(yasmine):  # type: ignore[no-untyped-def]
    """Staff write to Yasmine's parents: Nadia (PARENT) is the one who gets the digests."""
    return threads.start(
        user(ASSISTANTE), f"parents:{yasmine.id}", "Rendez-vous", "Pouvez-vous passer jeudi ?"
    )


def test_a_message_sends_one_e_mail_to_the_recipient_not_the_author(conversation, run_jobs, smtp):
    run_jobs()
    [mail] = smtp.to(PARENT)
    assert "Rendez-vous" in mail["Subject"]
    text = body_text(mail)
    assert "Pouvez-vous passer jeudi ?" in text and f"/messages/{conversation.id}" in text
    assert outbox_to(ASSISTANTE) == []


def test_at_most_one_e_mail_an_hour_per_thread_then_the_unread_ones(conversation, run_jobs, smtp):
    staff = user(ASSISTANTE)
    run_jobs()
    assert len(outbox_to(PARENT)) == 1
    with later(10):
        threads.reply(staff, conversation.id, "Ou vendredi matin.")
        run_jobs()
        assert jobs.send_message_digests() == 0
        assert len(outbox_to(PARENT)) == 1  # within the hour: nothing more
    with later(30):
        threads.reply(staff, conversation.id, "Dites-nous.")
        run_jobs()
        assert len(outbox_to(PARENT)) == 1
    with later(61):
        assert jobs.send_message_digests() == 1  # the periodic sweep, an hour after the first
        assert jobs.send_message_digests() == 0
        run_jobs()
    mails = outbox_to(PARENT)
    assert len(mails) == 2
    quoted = [m["text"] for m in mails[1].context["messages"]]
    assert quoted == [
        "Pouvez-vous passer jeudi ?",
        "Ou vendredi matin.",
        "Dites-nous.",
    ]  # unread since last read
    with later(200):
        assert jobs.send_message_digests() == 0  # nothing new since that e-mail


def test_a_thread_read_in_the_app_is_not_e_mailed(client, login, yasmine, run_jobs):
    thread = threads.start(user(ASSISTANTE), f"parents:{yasmine.id}", "Lu à temps", "Bonjour.")
    login(client, PARENT)
    client.get(f"/messages/{thread.id}")  # read before the job ran
    run_jobs()
    assert outbox_to(PARENT) == []
    with later(120):
        assert jobs.send_message_digests() == 0


def test_a_person_who_said_no_gets_no_e_mail_but_the_bell(yasmine, run_jobs):
    preferences.save(user(PARENT), [])  # every e-mail unticked
    thread = threads.start(user(ASSISTANTE), f"famille:{yasmine.id}", "Sans e-mail", "Bonjour à tous.")
    run_jobs()
    assert outbox_to(PARENT) == []
    assert len(outbox_to(YASMINE)) == 1  # the student kept the default
    from tests.helpers import notifications_of

    assert [n.link for n in notifications_of(PARENT, "message")] == [f"/messages/{thread.id}"]


def test_a_digest_is_not_sent_to_an_observer_nor_for_own_messages(client, login, conversation, run_jobs):
    login(client, "admin@nexus-reussite.tn")
    client.get(f"/messages/{conversation.id}")  # the admin reads as an observer
    threads.reply(user(PARENT), conversation.id, "Jeudi me va.")
    run_jobs()
    assert outbox_to("admin@nexus-reussite.tn") == []
    assert digest.due(thread_id=conversation.id) == []


@pytest.mark.committed
def test_fifty_digest_runs_at_once_send_one_e_mail(app, yasmine):
    thread = threads.start(user(ASSISTANTE), f"parents:{yasmine.id}", "Concurrence", "Un seul e-mail.")
    thread_id, parent_id = thread.id, user(PARENT).id

    results = at_once(app, lambda _: digest.send(thread_id, parent_id))
    assert results.count(True) == 1 and results.count(False) == 49
    assert len(outbox_to(PARENT)) == 1
