"""Messaging: who may write to whom (each rule, forged choices refused), who reads a thread (404 for
anyone else, family A never sees family B's), unread counts and bell notices, the polling fragment,
no-JS flows, and a double submit that posts once (also 50 at once)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.messaging import Message, MessageThread, ThreadParticipant
from nexus.services import ServiceError, messaging, utcnow
from nexus.services.messaging import access, threads
from tests import factories
from tests.helpers import at_once, html, notifications_of, user
from tests.people import ADMIN, ASSISTANTE, HELIOS, HX, PARENT, PARENT2, SAMI, YASMINE, ZENON


def keys(email: str) -> set[str]:
    return {choice.key for choice in access.recipients_for(user(email))}


def thread_count() -> int:
    return db.session.scalar(select(func.count(MessageThread.id))) or 0


def message_count() -> int:
    return db.session.scalar(select(func.count(Message.id))) or 0


def new_thread(client, to: str, subject: str = "Devoir de maths", body: str = "Bonjour, une question."):  # type: ignore[no-untyped-def]
    return client.post("/messages", data={"to": to, "subject": subject, "body": body})


def latest_thread() -> MessageThread:
    found = db.session.scalar(select(MessageThread).order_by(MessageThread.id.desc()).limit(1))
    assert found is not None
    return found


def party_ids(thread_id: int) -> set[int]:
    stmt = select(ThreadParticipant.user_id).where(
        ThreadParticipant.thread_id == thread_id, ThreadParticipant.observer.is_(False)
    )
    return set(db.session.scalars(stmt))


@pytest.fixture
def helios_yasmine(yasmine, helios):  # type: ignore[no-untyped-def]
    """Hélios has a session to come with Yasmine (Nadia's child)."""
    return factories.booking(yasmine.id, helios.id, utcnow() + timedelta(days=3))


# -- who may write to whom ---------------------------------------------------------------------


def test_a_parent_writes_to_the_centre_and_to_the_coaches_of_their_children_only(
    helios_yasmine, yasmine, sami
):
    helios_user = user(HELIOS).id
    assert {"centre", f"centre:{yasmine.id}", f"coach:{helios_user}:{yasmine.id}"} <= keys(PARENT)
    assert not any(k.startswith("coach:") and k.endswith(f":{sami.id}") for k in keys(PARENT))
    assert f"coach:{user(ZENON).id}:{yasmine.id}" not in keys(PARENT)
    # Sami's parent: no coach yet (Hélios coaches Yasmine, not Sami).
    assert not any(k.startswith("coach:") for k in keys(PARENT2))


def test_a_coach_becomes_a_choice_only_through_a_session_held_or_to_come(yasmine, helios):
    from nexus.models.scheduling import SessionStatus

    factories.booking(yasmine.id, helios.id, utcnow() - timedelta(days=3), status=SessionStatus.NO_SHOW)
    assert not any(k.startswith("coach:") for k in keys(PARENT))
    factories.booking(yasmine.id, helios.id, utcnow() - timedelta(days=5), status=SessionStatus.COMPLETED)
    assert f"coach:{user(HELIOS).id}:{yasmine.id}" in keys(PARENT)


def test_a_student_writes_to_their_coaches_or_the_centre_never_to_families(helios_yasmine, sami):
    assert keys(YASMINE) == {"centre", f"coach:{user(HELIOS).id}"}
    assert keys(SAMI) == {"centre"}  # no session: the centre only


def test_a_coach_writes_to_the_families_of_their_students_only(helios_yasmine, yasmine, sami):
    assert {f"famille:{yasmine.id}", f"parents:{yasmine.id}", f"eleve:{yasmine.id}"} <= keys(HELIOS)
    assert not any(k.endswith(f":{sami.id}") for k in keys(HELIOS))
    assert keys(ZENON) == set()


def test_staff_write_to_anyone(yasmine, sami):
    found = keys(ASSISTANTE)
    assert {f"parents:{sami.id}", f"famille:{yasmine.id}", f"coach:{user(ZENON).id}"} <= found


@pytest.mark.parametrize(
    ("email", "forged"),
    [
        (PARENT, lambda ids: f"coach:{ids['zenon']}:{ids['yasmine']}"),  # no session with Zénon
        (PARENT, lambda ids: f"coach:{ids['helios']}:{ids['sami']}"),  # another family's child
        (PARENT, lambda ids: f"centre:{ids['sami']}"),  # about another family's child
        (PARENT, lambda ids: f"user:{ids['parent2']}"),  # a free user id
        (PARENT, lambda ids: str(ids["parent2"])),
        (YASMINE, lambda ids: f"famille:{ids['sami']}"),  # a student never writes to families
        (YASMINE, lambda ids: f"coach:{ids['zenon']}"),
        (HELIOS, lambda ids: f"parents:{ids['sami']}"),  # not his student
        (SAMI, lambda ids: f"coach:{ids['helios']}"),
    ],
)
def test_a_forged_recipient_is_refused_in_french_and_nothing_is_posted(
    client, login, helios_yasmine, yasmine, sami, email, forged
):
    ids = {
        "helios": user(HELIOS).id,
        "zenon": user(ZENON).id,
        "parent2": user(PARENT2).id,
        "yasmine": yasmine.id,
        "sami": sami.id,
    }
    before = (thread_count(), message_count())
    login(client, email)
    response = new_thread(client, forged(ids))
    assert response.status_code == 422
    assert access.UNKNOWN_RECIPIENT in html(response)
    assert (thread_count(), message_count()) == before


def test_a_refusal_keeps_what_was_typed(client, login):
    login(client, PARENT)
    response = new_thread(client, "centre", subject="", body="Mon texte gardé")
    assert response.status_code == 422
    assert "Donnez un objet à votre message." in html(response)
    assert "Mon texte gardé" in html(response)


# -- a conversation, without JavaScript --------------------------------------------------------


def test_a_parent_writes_to_the_coach_who_answers_without_javascript(
    client, login, app, helios_yasmine, yasmine
):
    login(client, PARENT)
    response = new_thread(
        client, f"coach:{user(HELIOS).id}:{yasmine.id}", body="Yasmine bloque sur les suites."
    )
    assert response.status_code == 303
    thread = latest_thread()
    assert response.headers["Location"].endswith(f"/messages/{thread.id}")
    assert thread.student_id == yasmine.id and not thread.with_staff
    assert party_ids(thread.id) == {user(PARENT).id, user(HELIOS).id}

    coach = app.test_client()
    login(coach, HELIOS)
    assert "Devoir de maths" in html(coach.get("/messages"))
    page = coach.get(f"/messages/{thread.id}")
    assert page.status_code == 200 and "Yasmine bloque sur les suites." in html(page)
    answer = coach.post(f"/messages/{thread.id}", data={"body": "Voyons cela jeudi."})
    assert answer.status_code == 303

    shown = html(client.get(f"/messages/{thread.id}"))
    assert shown.index("Yasmine bloque sur les suites.") < shown.index("Voyons cela jeudi.")  # oldest first
    assert "Hélios" in shown


def test_a_student_writes_to_the_centre_and_staff_answer_and_join(client, login, app, yasmine):
    login(client, YASMINE)
    assert new_thread(client, "centre", body="Je voudrais changer de créneau.").status_code == 303
    thread = latest_thread()
    assert thread.with_staff and thread.student_id == yasmine.id
    assert notifications_of(ASSISTANTE, "message"), "staff are told of a message to the centre"

    staff = app.test_client()
    login(staff, ASSISTANTE)
    page = staff.get(f"/messages/{thread.id}")
    assert page.status_code == 200 and "Répondre" in html(page)
    assert staff.post(f"/messages/{thread.id}", data={"body": "C'est noté."}).status_code == 303
    assert user(ASSISTANTE).id in party_ids(thread.id)
    assert "C'est noté." in html(client.get(f"/messages/{thread.id}"))


def test_an_empty_reply_is_refused_in_french(client, login):
    login(client, PARENT)
    new_thread(client, "centre")
    thread = latest_thread()
    before = message_count()
    response = client.post(f"/messages/{thread.id}", data={"body": "   "})
    assert response.status_code == 422
    assert "Écrivez votre message." in html(response)
    assert message_count() == before


# -- who reads a thread ------------------------------------------------------------------------


def test_family_a_never_sees_family_b_thread(client, login, app, helios_yasmine, yasmine):
    login(client, PARENT)
    new_thread(client, f"coach:{user(HELIOS).id}:{yasmine.id}", subject="Sujet privé famille A")
    thread = latest_thread()
    for email in (PARENT2, SAMI, ZENON):
        other = app.test_client()
        login(other, email)
        assert other.get(f"/messages/{thread.id}").status_code == 404
        assert other.get(f"/messages/{thread.id}/nouveaux?apres=0", headers=HX).status_code == 404
        assert other.post(f"/messages/{thread.id}", data={"body": "intrus"}).status_code == 404
        assert "Sujet privé famille A" not in html(other.get("/messages"))
    assert not any(m.body == "intrus" for m in threads.messages_of(thread.id))


def test_staff_read_a_coach_thread_with_a_family_as_observers_audited_but_do_not_write(
    client, login, app, helios_yasmine, yasmine
):
    login(client, HELIOS)
    new_thread(client, f"famille:{yasmine.id}", body="Bilan de la séance.")
    thread = latest_thread()
    assert party_ids(thread.id) == {user(HELIOS).id, user(PARENT).id, user(YASMINE).id}

    staff = app.test_client()
    login(staff, ADMIN)
    page = staff.get(f"/messages/{thread.id}")
    assert page.status_code == 200 and "Bilan de la séance." in html(page)
    assert "Répondre" not in html(page)
    me = access.participant(user(ADMIN).id, thread.id)
    assert me is not None and me.observer and me.last_read_at is not None
    assert (
        db.session.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.action == "messages.staff_read", AuditLog.object_id == thread.id
            )
        )
        == 1
    )
    refused = staff.post(f"/messages/{thread.id}", data={"body": "Je m'en mêle"})
    assert refused.status_code == 422
    assert user(ADMIN).id not in party_ids(thread.id)
    assert messaging.unread_count(user(ADMIN)) == 0  # an observer has nothing "unread"


def test_a_thread_between_staff_and_a_coach_is_not_shown_to_families(client, login, app):
    login(client, ASSISTANTE)
    assert new_thread(client, f"coach:{user(ZENON).id}", subject="Planning interne").status_code == 303
    thread = latest_thread()
    for email in (PARENT, YASMINE, HELIOS):
        other = app.test_client()
        login(other, email)
        assert other.get(f"/messages/{thread.id}").status_code == 404


# -- unread counts, the bell, polling ----------------------------------------------------------


def test_unread_count_and_one_bell_notice_per_thread_until_read(client, login, app, helios_yasmine, yasmine):
    coach = app.test_client()
    login(coach, HELIOS)
    new_thread(coach, f"parents:{yasmine.id}", body="Premier message.")
    thread = latest_thread()
    parent = user(PARENT)
    assert messaging.unread_count(parent) == 1
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        coach.post(f"/messages/{thread.id}", data={"body": "Deuxième message."})
        assert messaging.unread_count(parent) == 1  # threads, not messages
        notices = notifications_of(PARENT, "message")
        assert len(notices) == 1 and "Deuxième message." in (notices[0].body or "")
        assert messaging.unread_count(user(HELIOS)) == 0  # the author has read his own

        login(client, PARENT)
        listing = html(client.get("/messages"))
        assert "Non lu" in listing and 'id="messages-badge" class="badge"' in listing
        client.get(f"/messages/{thread.id}")
        assert messaging.unread_count(parent) == 0
        assert all(n.read_at is not None for n in notifications_of(PARENT, "message"))
    with time_machine.travel(utcnow() + timedelta(minutes=10)):
        coach.post(f"/messages/{thread.id}", data={"body": "Troisième message."})
        assert messaging.unread_count(parent) == 1
        assert len(notifications_of(PARENT, "message")) == 2  # a new notice once the first was read


def test_unread_threads_come_first(client, login, app, helios_yasmine, yasmine):
    login(client, PARENT)
    new_thread(client, "centre", subject="Ancienne question")
    coach = app.test_client()
    login(coach, HELIOS)
    with time_machine.travel(utcnow() + timedelta(minutes=1)):
        new_thread(coach, f"parents:{yasmine.id}", subject="Message du coach")
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        new_thread(client, "centre", subject="Question récente")
        listing = html(client.get("/messages"))
    assert (
        listing.index("Message du coach")
        < listing.index("Question récente")
        < listing.index("Ancienne question")
    )


def test_the_poll_answers_204_then_only_the_new_messages(client, login, app, helios_yasmine, yasmine):
    login(client, PARENT)
    new_thread(client, f"coach:{user(HELIOS).id}:{yasmine.id}", body="Question du parent.")
    thread = latest_thread()
    last = threads.messages_of(thread.id)[-1].id
    url = f"/messages/{thread.id}/nouveaux?apres={last}"
    assert client.get(url, headers=HX).status_code == 204
    assert client.get(url).status_code == 303  # without htmx: the thread's page

    coach = app.test_client()
    login(coach, HELIOS)
    with time_machine.travel(utcnow() + timedelta(minutes=1)):
        coach.post(f"/messages/{thread.id}", data={"body": "Réponse du coach."})
        assert messaging.unread_count(user(PARENT)) == 1
        response = client.get(url, headers=HX)
    assert response.status_code == 200
    body = html(response)
    assert "Réponse du coach." in body and "Question du parent." not in body
    newest = threads.messages_of(thread.id)[-1].id
    assert f"apres={newest}" in body  # the next poll asks for what comes after
    assert 'id="messages-badge"' in body and 'id="unread-badge"' in body  # counters swapped out of band
    assert messaging.unread_count(user(PARENT)) == 0  # shown: read


# -- a double submit posts once ----------------------------------------------------------------


def test_the_same_form_sent_twice_posts_once(client, login):
    login(client, PARENT)
    new_thread(client, "centre", body="Une seule fois.")
    new_thread(client, "centre", body="Une seule fois.")
    assert thread_count() == 1
    thread = latest_thread()
    client.post(f"/messages/{thread.id}", data={"body": "Merci !"})
    client.post(f"/messages/{thread.id}", data={"body": "Merci !"})
    assert [m.body for m in threads.messages_of(thread.id)] == ["Une seule fois.", "Merci !"]


@pytest.mark.committed
def test_fifty_identical_replies_at_once_post_one_message(app):
    parent = user(PARENT)
    thread = threads.start(parent, "centre", "Double clic", "Premier.")
    thread_id, parent_id = thread.id, parent.id

    def attempt(_: int) -> int:
        from nexus.models.identity import User

        return threads.reply(db.session.get(User, parent_id), thread_id, "Envoyé une fois").id

    results = at_once(app, attempt)
    assert not [r for r in results if isinstance(r, ServiceError)]
    assert len(set(results)) == 1
    assert [m.body for m in threads.messages_of(thread_id)] == ["Premier.", "Envoyé une fois"]


@pytest.mark.committed
def test_fifty_identical_new_threads_at_once_make_one(app):
    parent_id = user(PARENT).id

    def attempt(_: int) -> int:
        from nexus.models.identity import User

        return threads.start(db.session.get(User, parent_id), "centre", "Même objet", "Même texte").id

    results = at_once(app, attempt)
    assert len(set(results)) == 1
    assert thread_count() == 1 and message_count() == 1


def test_a_family_reply_reaches_the_colleague_the_thread_is_assigned_to(client, login, app):
    login(client, PARENT)
    new_thread(client, "centre", body="Première question.")
    thread = latest_thread()
    staff = app.test_client()
    login(staff, ASSISTANTE)
    staff.post(f"/messages/{thread.id}", data={"body": "Je regarde."})  # the assistante joins
    thread.assignee_id = user(ADMIN).id  # then a colleague takes it (the inbox's assign)
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(minutes=1)):
        client.post(f"/messages/{thread.id}", data={"body": "Merci, j'attends."})
    assert any("Merci, j'attends." in (n.body or "") for n in notifications_of(ADMIN, "message"))
    assert any("Merci, j'attends." in (n.body or "") for n in notifications_of(ASSISTANTE, "message"))


def test_staff_start_a_thread_from_the_new_message_page(client, login, sami):
    login(client, ASSISTANTE)
    page = client.get(f"/messages/nouveau?a=parents:{sami.id}")
    assert page.status_code == 200
    assert f'<option selected value="parents:{sami.id}">' in html(page)
    response = new_thread(client, f"parents:{sami.id}", subject="Facture de mars")
    assert response.status_code == 303
    thread = latest_thread()
    assert thread.with_staff and thread.student_id == sami.id
    assert party_ids(thread.id) == {user(ASSISTANTE).id, user(PARENT2).id}


def test_a_thread_with_a_family_without_account_names_it(client, login, sami):
    login(client, ASSISTANTE)
    new_thread(client, f"parents:{sami.id}", subject="Réponse au formulaire")
    thread = latest_thread()
    thread.external_email, thread.external_name = "famille.trabelsi@example.tn", "Leïla Trabelsi"
    db.session.commit()
    shown = html(client.get(f"/messages/{thread.id}"))
    assert "Leïla Trabelsi (sans compte : réponses par e-mail)" in shown
