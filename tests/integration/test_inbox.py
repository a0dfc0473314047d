"""The staff inbox: who sees it (404 for anyone else), filters, search and pages, assigning and
marking handled (race-free, audited), and answering the contact form and bilan requests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.common import Grade, Subject
from nexus.models.diagnostics import BilanStatus, Modality
from nexus.models.identity import User
from nexus.models.messaging import Message, MessageThread, ThreadParticipant, ThreadStatus
from nexus.services import ServiceError, contact, diagnostics, utcnow
from nexus.services.diagnostics import BilanAnswers
from nexus.services.messaging import answers, inbox, threads
from tests import factories
from tests.helpers import at_once, html, outbox_to, user
from tests.people import ADMIN, ASSISTANTE, HELIOS, HX, PARENT, PARENT2, SAMI, YASMINE

BOX = "/messages/boite"


def start(
    email: str, subject: str, body: str = "Bonjour, une question.", to: str = "centre"
) -> MessageThread:
    return threads.start(user(email), to, subject, body)


def audit_lines(action: str, thread_id: int | None = None) -> list[AuditLog]:
    stmt = select(AuditLog).where(AuditLog.action == action)
    if thread_id is not None:
        stmt = stmt.where(AuditLog.object_type == "message_threads", AuditLog.object_id == thread_id)
    return list(db.session.scalars(stmt.order_by(AuditLog.id)))


# -- who sees it -----------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [PARENT, YASMINE, HELIOS])
def test_every_inbox_url_is_404_for_non_staff(client, auth, email):
    thread = start(PARENT2, "Question")
    contact_row = contact.submit("Rim", "rim@example.tn", None, "autre", "Bonjour, des stages ?")
    auth.login(email)
    for url in (
        BOX,
        f"{BOX}/signalements",
        f"{BOX}/contact/{contact_row.id}/repondre",
        f"{BOX}/bilan/1/repondre",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"{BOX}/{thread.id}/prendre",
        f"{BOX}/{thread.id}/attribuer",
        f"{BOX}/{thread.id}/statut",
        f"{BOX}/contact/{contact_row.id}/repondre",
        f"{BOX}/signalements/1/traite",
    ):
        assert client.post(url, data={"attendu": "", "body": "x"}).status_code == 404, url
    assert db.session.get(MessageThread, thread.id).assignee_id is None


def test_staff_get_the_inbox_at_messages_too(client, auth):
    start(PARENT, "Facture de mars")
    auth.login(ASSISTANTE)
    for url in ("/messages", BOX):
        page = html(client.get(url))
        assert "Messagerie de l'équipe" in page and "Facture de mars" in page, url
        assert 'href="/messages/nouveau"' in page  # staff still start a thread from here


# -- filters, search, pages ----------------------------------------------------------------------


def test_filters_and_search(client, auth):
    admin = user(ADMIN)
    mine = start(PARENT, "Changement de créneau", "Pouvons-nous passer au mercredi ?")
    other = start(PARENT2, "Stage de printemps", "Reste-t-il des places pour Sami ?")
    done = start(YASMINE, "Merci", "Merci pour la séance.")
    inbox.assign(mine.id, admin, admin.id, None)
    inbox.set_status(done.id, admin, ThreadStatus.OPEN, ThreadStatus.HANDLED)
    auth.login(ADMIN)

    def subjects(query: str) -> set[str]:
        page = html(client.get(f"{BOX}?{query}", headers=HX))
        return {t.subject for t in (mine, other, done) if t.subject in page}

    assert subjects("filtre=a-traiter") == {mine.subject, other.subject}
    assert subjects("filtre=traites") == {done.subject}
    assert subjects("filtre=a-moi") == {mine.subject}
    assert subjects("filtre=non-assignes") == {other.subject}
    assert subjects("filtre=signales") == set()
    assert subjects("filtre=tous&q=mercredi") == {mine.subject}  # a message's text
    assert subjects("filtre=tous&q=hichem") == {other.subject}  # the family's name
    assert subjects("filtre=tous&q=yasmine%40") == {done.subject}  # an e-mail
    assert subjects("filtre=tous&q=STAGE") == {other.subject}  # the subject, any case
    assert subjects("filtre=tous&q=100%25") == set()  # % is taken literally
    fragment = client.get(f"{BOX}?filtre=tous", headers=HX)
    assert "<html" not in html(fragment) and 'id="inbox-table"' in html(fragment)
    page = html(client.get(BOX))  # the filters and labels agree with « conversation »
    for label in ("Assignées à moi", "Non assignées", "Signalées", "Traitées", "Toutes", "Marquer traitée"):
        assert label in page, label
    assert "<strong>Traitée</strong>" in html(client.get(f"{BOX}?filtre=traites"))
    assert "Assignés à moi" not in page and "Marquer traité<" not in page


def test_unread_for_me_and_the_pager(client, auth):
    for n in range(inbox.PER_PAGE + 2):
        start(PARENT, f"Question n° {n:02d}", f"Texte {n}")
    auth.login(ASSISTANTE)
    first = html(client.get(f"{BOX}?filtre=tous"))
    assert "Page 1 sur 2" in first and "Question n° 31" in first and "Question n° 00" not in first
    assert "Non lu" in first
    second = html(client.get(f"{BOX}?filtre=tous&page=2"))
    assert "Question n° 00" in second and "Question n° 31" not in second
    rows = inbox.search(user(ASSISTANTE), "tous", "n° 31", 1).items
    assert [r.unread for r in rows] == [True]
    thread = rows[0].thread
    threads.mark_read(user(ASSISTANTE), thread, thread.last_message_at)
    assert [r.unread for r in inbox.search(user(ASSISTANTE), "tous", "n° 31", 1).items] == [False]
    assert [r.unread for r in inbox.search(user(ADMIN), "tous", "n° 31", 1).items] == [True]


def test_coach_family_threads_are_in_the_inbox(helios_sami):
    thread = threads.start(
        user(HELIOS), f"famille:{helios_sami.student_id}", "Exercices", "Voici les exercices."
    )
    rows = inbox.search(user(ADMIN), "tous", "", 1).items
    assert [r.thread.id for r in rows] == [thread.id]
    assert rows[0].student is not None and "Sami" in rows[0].student


@pytest.fixture
def helios_sami():  # type: ignore[no-untyped-def]
    return factories.booking(
        factories.student(SAMI).id, factories.coach("Hélios").id, utcnow() + timedelta(days=3)
    )


# -- assigning, handling ---------------------------------------------------------------------------


def test_take_assign_and_handle_with_audit(client, auth):
    thread = start(PARENT, "Absence jeudi")
    assistante, admin = user(ASSISTANTE), user(ADMIN)
    auth.login(ASSISTANTE)
    response = client.post(f"{BOX}/{thread.id}/prendre", data={"attendu": ""}, headers=HX)
    assert response.status_code == 200 and "Attribuée à" in html(response) and "<tr" in html(response)
    assert db.session.get(MessageThread, thread.id).assignee_id == assistante.id
    again = client.post(f"{BOX}/{thread.id}/prendre", data={"attendu": ""}, headers=HX)
    assert again.status_code == 200 and "déjà attribuée" in html(again)
    # A colleague's stale page: it still shows nobody, the thread is the assistante's now.
    auth.logout()
    auth.login(ADMIN)
    stale = client.post(
        f"{BOX}/{thread.id}/attribuer", data={"attendu": "", "assignee": admin.id}, headers=HX
    )
    assert stale.status_code == 409 and "entre-temps" in html(stale)
    # Taking over from a colleague asks first (no JavaScript: a page), then does it.
    ask = client.post(f"{BOX}/{thread.id}/prendre", data={"attendu": assistante.id, "retour": BOX})
    assert ask.status_code == 200 and "Oui, l'attribuer" in html(ask)
    assert db.session.get(MessageThread, thread.id).assignee_id == assistante.id
    done = client.post(
        f"{BOX}/{thread.id}/prendre", data={"attendu": assistante.id, "confirm": "1", "retour": BOX}
    )
    assert done.status_code == 303 and done.headers["Location"] == BOX
    assert db.session.get(MessageThread, thread.id).assignee_id == admin.id
    # Handled: asks first, then moves once; a stale second click is "déjà".
    form = {"attendu": "OPEN", "statut": "HANDLED"}
    assert "Oui, marquer traitée" in html(client.post(f"{BOX}/{thread.id}/statut", data=form))
    assert (
        client.post(f"{BOX}/{thread.id}/statut", data=form | {"confirm": "1"}, headers=HX).status_code == 200
    )
    assert db.session.get(MessageThread, thread.id).status is ThreadStatus.HANDLED
    repeat = client.post(f"{BOX}/{thread.id}/statut", data=form | {"confirm": "1"}, headers=HX)
    assert repeat.status_code == 200 and "Déjà traité" in html(repeat)
    reopen = client.post(f"{BOX}/{thread.id}/statut", data={"attendu": "OPEN", "statut": "OPEN"}, headers=HX)
    assert reopen.status_code == 422  # nonsense: nothing changes
    stale_reopen = {"attendu": "HANDLED", "statut": "OPEN"}
    assert client.post(f"{BOX}/{thread.id}/statut", data=stale_reopen, headers=HX).status_code == 200
    assert db.session.get(MessageThread, thread.id).status is ThreadStatus.OPEN
    assert [a.after for a in audit_lines("messages.assigned", thread.id)] == [
        {"assignee_id": assistante.id},
        {"assignee_id": admin.id},
    ]
    assert len(audit_lines("messages.handled", thread.id)) == 1
    assert len(audit_lines("messages.reopened", thread.id)) == 1
    assert [n.title for n in _notices(ADMIN, "message_assigned")] == []  # took it himself


def _notices(email: str, kind: str) -> list:  # type: ignore[type-arg]
    from tests.helpers import notifications_of

    return notifications_of(email, kind)


def test_assigning_to_a_colleague_tells_them_and_refuses_a_non_staff(client, auth):
    thread = start(PARENT, "Inscription de Lina")
    auth.login(ADMIN)
    refused = client.post(
        f"{BOX}/{thread.id}/attribuer", data={"attendu": "", "assignee": user(HELIOS).id}, headers=HX
    )
    assert refused.status_code == 422 and "Choisissez une personne de l'équipe" in html(refused)
    ok = client.post(f"{BOX}/{thread.id}/attribuer", data={"attendu": "", "assignee": user(ASSISTANTE).id})
    assert ok.status_code == 303
    assert [n.title for n in _notices(ASSISTANTE, "message_assigned")] == [
        "Conversation attribuée : Inscription de Lina"
    ]


def test_a_family_thread_without_student_or_centre_is_not_the_inbox_s(client, auth):
    thread = start(PARENT, "Question")
    thread.with_staff = False
    db.session.flush()
    auth.login(ADMIN)
    assert client.post(f"{BOX}/{thread.id}/prendre", data={"attendu": ""}).status_code == 404


@pytest.mark.committed
def test_fifty_take_it_at_once_give_one_assignee(app):
    with app.app_context():
        thread_id = start(PARENT, "Urgent").id
        db.session.commit()
        staff_ids = [user(ADMIN).id, user(ASSISTANTE).id]
        for n in range(48):
            extra = User(
                email=f"staff{n}@nexus-reussite.tn",
                role=user(ADMIN).role,
                first_name="Staff",
                last_name=str(n),
            )
            db.session.add(extra)
            db.session.flush()
            staff_ids.append(extra.id)
        db.session.commit()

    def take(i: int) -> bool:
        actor = db.session.get_one(User, staff_ids[i])
        change = inbox.assign(thread_id, actor, actor.id, None)
        assert change is not None
        return change.changed

    results = at_once(app, take)
    assert [r for r in results if isinstance(r, ServiceError)] == []
    assert results.count(True) == 1
    with app.app_context():
        thread = db.session.get_one(MessageThread, thread_id)
        assert thread.assignee_id == staff_ids[results.index(True)]
        assert len(audit_lines("messages.assigned", thread_id)) == 1


# -- answering the contact form and bilan requests ---------------------------------------------------


def test_contact_without_account_is_answered_by_e_mail(client, auth, smtp, run_jobs):
    row = contact.submit(
        "Rim Gharbi", "rim@example.tn", None, "inscription", "Bonjour, vos tarifs pour la Terminale ?"
    )
    auth.login(ASSISTANTE)
    url = f"{BOX}/contact/{row.id}/repondre"
    page = html(client.get(url))
    assert "vos tarifs pour la Terminale" in page and "la réponse part par e-mail" in page
    response = client.post(
        url, data={"subject": "Nos tarifs", "body": "Bonjour, l'offre Hybride est à 450 DT."}
    )
    assert response.status_code == 303 and response.headers["Location"] == url
    thread = db.session.scalar(select(MessageThread).where(MessageThread.contact_message_id == row.id))
    assert thread is not None and thread.external_email == "rim@example.tn" and thread.with_staff
    bodies = [m.body for m in threads.messages_of(thread.id)]
    assert bodies == ["Bonjour, vos tarifs pour la Terminale ?", "Bonjour, l'offre Hybride est à 450 DT."]
    assert db.session.get(type(row), row.id).handled_at is not None
    assert len(audit_lines("messages.contact_answered", thread.id)) == 1
    run_jobs()
    sent = [m for m in smtp.messages if "rim@example.tn" in m["To"]]
    assert len(sent) == 1 and "Nos tarifs" in sent[0]["Subject"]
    assert "450 DT" in sent[0].get_body(("plain",)).get_content()
    # "Répondre" again: the same thread (its history shown), a second reply e-mailed too.
    again = html(client.get(url))
    assert "l'offre Hybride est à 450 DT" in again and "Objet : Nos tarifs" in again
    client.post(url, data={"body": "Et le stage de printemps est à 400 DT."})
    assert db.session.scalar(select(func.count()).select_from(MessageThread)) == 1
    assert len(threads.messages_of(thread.id)) == 3
    assert len(outbox_to("rim@example.tn")) == 2
    # In the inbox, this thread opens on the page that e-mails each reply.
    assert f'href="{url}"' in html(client.get(f"{BOX}?filtre=tous"))
    # A reply written on the thread's own page is e-mailed too.
    assert (
        client.post(f"/messages/{thread.id}", data={"body": "Les inscriptions ouvrent lundi."}).status_code
        == 303
    )
    assert [m.context["reply"] for m in outbox_to("rim@example.tn")][-1] == "Les inscriptions ouvrent lundi."


def test_contact_from_a_family_with_an_account_lands_in_their_messages(client, auth, login, app):
    row = contact.submit("Nadia Ben Ali", PARENT, None, "seances", "Peut-on déplacer la séance de Yasmine ?")
    auth.login(ADMIN)
    url = f"{BOX}/contact/{row.id}/repondre"
    assert "sa messagerie" in html(client.get(url))
    response = client.post(url, data={"subject": "Votre séance", "body": "Oui, proposez-nous un créneau."})
    thread = db.session.scalar(select(MessageThread).where(MessageThread.contact_message_id == row.id))
    assert response.status_code == 303 and response.headers["Location"] == f"/messages/{thread.id}"
    assert thread.external_email is None
    parent = user(PARENT)
    first = threads.messages_of(thread.id)[0]
    assert first.author_id == parent.id and first.created_at == row.created_at
    assert db.session.get(ThreadParticipant, (thread.id, parent.id)) is not None
    assert outbox_to(PARENT) == []  # the digest job, not this page, e-mails a family with an account
    # A second "Répondre" opens the same thread.
    assert client.get(url).headers["Location"] == f"/messages/{thread.id}"
    family = login(app.test_client(), PARENT)
    assert "Oui, proposez-nous un créneau." in html(family.get(f"/messages/{thread.id}"))


def test_bilan_request_is_answered_once_and_marked_contacted(client, auth):
    bilan = diagnostics.submit_bilan_request(
        BilanAnswers(
            parent_first_name="Karim",
            parent_last_name="Gharbi",
            parent_email="karim@example.tn",
            parent_phone="+216 22 333 444",
            student_first_name="Lina",
            student_last_name="Gharbi",
            grade=Grade.TERMINALE,
            subjects=[Subject.MATHEMATIQUES],
            modality=Modality.ONLINE,
            objectives="Une mention au bac.",
        )
    )
    auth.login(ASSISTANTE)
    url = f"{BOX}/bilan/{bilan.id}/repondre"
    assert "Une mention au bac." in html(client.get(url))
    refused = client.post(url, data={"subject": "Bilan", "body": "   "})
    assert refused.status_code == 422 and "Écrivez votre réponse" in html(refused)
    assert db.session.scalar(select(func.count()).select_from(MessageThread)) == 0
    client.post(url, data={"subject": "Bilan de Lina", "body": "Bonjour, jeudi 17 h ?"})
    client.post(url, data={"subject": "Bilan de Lina", "body": "Bonjour, jeudi 17 h ?"})  # a double click
    found = list(db.session.scalars(select(MessageThread).where(MessageThread.bilan_request_id == bilan.id)))
    assert len(found) == 1 and found[0].subject == "Bilan de Lina"
    assert "Mathématiques" in threads.messages_of(found[0].id)[0].body
    assert (
        len(threads.messages_of(found[0].id)) == 2 and len(outbox_to("karim@example.tn")) == 2
    )  # ack + reply
    assert diagnostics.get_bilan(bilan.id).status is BilanStatus.CONTACTED


def test_answer_of_a_missing_request_is_404(client, auth):
    auth.login(ADMIN)
    assert client.get(f"{BOX}/contact/999999/repondre").status_code == 404
    assert client.post(f"{BOX}/bilan/999999/repondre", data={"subject": "x", "body": "y"}).status_code == 404
    assert answers.answer("contact", 999999, user(ADMIN), "x", "y") is None
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_request_whose_family_space_was_opened_is_answered_in_that_space():
    row = contact.submit("Nadia Ben Ali", "nadia.autre@example.tn", None, "autre", "Bonjour, une question.")
    row.parent_user_id = user(PARENT).id  # staff opened the family's space from this message
    db.session.flush()
    done = answers.answer("contact", row.id, user(ADMIN), "Votre question", "Bonjour, voici la réponse.")
    assert done is not None and not done.emailed and done.thread.external_email is None
    assert db.session.get(ThreadParticipant, (done.thread.id, user(PARENT).id)) is not None
    assert outbox_to("nadia.autre@example.tn") == []
