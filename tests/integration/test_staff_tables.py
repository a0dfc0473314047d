"""Staff tables: contact messages, bilan requests, students; inline row actions and access."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.common import Grade, Subject
from nexus.models.diagnostics import BilanRequest, BilanStatus, Modality
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.notifications import ContactMessage
from nexus.services import ServiceError, contact, diagnostics
from tests.people import ADMIN, ASSISTANTE, HELIOS, HX, PARENT, YASMINE

STAFF = [ASSISTANTE, ADMIN]
PAGES = ["/dashboard/assistante/contacts", "/dashboard/assistante/bilans", "/dashboard/assistante/eleves"]


def make_contact(name: str = "Hédi Mansour", email: str = "hedi@example.tn") -> ContactMessage:
    row = contact.submit(name, email, None, "inscription", "Bonjour, je voudrais des informations.")
    db.session.commit()
    return row


def make_bilan(email: str = "famille@example.tn", student: str = "Rania") -> BilanRequest:
    row = diagnostics.submit_bilan_request(
        diagnostics.BilanAnswers(
            parent_first_name="Sonia",
            parent_last_name="Ayari",
            parent_email=email,
            parent_phone="+216 98 765 432",
            student_first_name=student,
            student_last_name="Ayari",
            grade=Grade.PREMIERE,
            subjects=[Subject.MATHEMATIQUES, Subject.SVT],
            modality=Modality.ONLINE,
            current_level="Des hauts et des bas",
            objectives="Reprendre confiance avant le bac blanc.",
        )
    )
    db.session.commit()
    return row


def audit_count(action: str, object_id: int) -> int:
    stmt = select(func.count()).where(AuditLog.action == action, AuditLog.object_id == object_id)
    return db.session.scalar(stmt) or 0


def student_named(first_name: str) -> Student:
    stmt = select(Student).join(User, Student.user_id == User.id).where(User.first_name == first_name)
    return db.session.scalars(stmt).one()


# -- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", [PARENT, YASMINE, HELIOS]
)
def test_other_roles_are_refused(client, login, email):
    login(client, email)
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    assert client.post("/dashboard/assistante/contacts/1/traite").status_code == 403
    assert client.post("/dashboard/assistante/bilans/1/statut").status_code == 403
    assert client.post("/dashboard/assistante/eleves/1/activation").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302
        assert "/auth/signin" in response.headers["Location"]
    response = client.post("/dashboard/assistante/contacts/1/traite", headers=HX)
    assert response.status_code == 204 and "/auth/signin" in response.headers["HX-Redirect"]


@pytest.mark.parametrize("email", STAFF)
def test_staff_see_the_three_tables(client, login, email):
    make_contact()
    make_bilan()
    login(client, email)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<table>" in response.get_data(as_text=True)


def test_unknown_ids_answer_404(client, login):
    login(client, STAFF[0])
    assert client.post("/dashboard/assistante/contacts/999999/traite", headers=HX).status_code == 404
    data = {"expected": "RECEIVED", "status": "CONTACTED"}
    assert client.post("/dashboard/assistante/bilans/999999/statut", data=data).status_code == 404
    assert client.post("/dashboard/assistante/eleves/999999/activation", headers=HX).status_code == 404


# -- contact messages -------------------------------------------------------------------------


def test_contacts_are_listed_newest_first_with_filter_and_search(client, login):
    older = make_contact("Amel Jaziri", "amel@example.tn")
    newer = make_contact("Karim Zouari", "karim@example.tn")
    login(client, STAFF[0])
    html = client.get("/dashboard/assistante/contacts").get_data(as_text=True)
    assert html.index(f'id="contact-{newer.id}"') < html.index(f'id="contact-{older.id}"')
    assert "Inscription et offres" in html  # the topic's label

    html = client.get("/dashboard/assistante/contacts?q=KARIM").get_data(as_text=True)
    assert f'id="contact-{newer.id}"' in html and f'id="contact-{older.id}"' not in html
    html = client.get("/dashboard/assistante/contacts?q=%25").get_data(as_text=True)
    assert "Aucun message" in html  # % is searched literally

    client.post(f"/dashboard/assistante/contacts/{older.id}/traite", headers=HX)
    html = client.get("/dashboard/assistante/contacts").get_data(as_text=True)
    assert f'id="contact-{older.id}"' not in html  # "à traiter" is the default
    html = client.get("/dashboard/assistante/contacts?filtre=traites").get_data(as_text=True)
    assert f'id="contact-{older.id}"' in html and f'id="contact-{newer.id}"' not in html


def test_marking_a_contact_handled_returns_its_row_once(client, login):
    message = make_contact()
    login(client, STAFF[0])
    url = f"/dashboard/assistante/contacts/{message.id}/traite"

    response = client.post(url, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="contact-{message.id}"')
    assert "Marqué comme traité." in html and "Traité le" in html
    assert 'id="open-contacts-count" hx-swap-oob="true"' in html
    assert db.session.get(ContactMessage, message.id).handled_at is not None

    again = client.post(url, headers=HX)
    assert again.status_code == 200  # already done is not an error (nexus/rows.py)
    assert "Déjà traité" in again.get_data(as_text=True)
    assert audit_count("contact.handled", message.id) == 1


def test_marking_a_contact_handled_without_javascript_redirects_back(client, login):
    message = make_contact()
    login(client, STAFF[0])
    back = "/dashboard/assistante/contacts?filtre=tous&q=hedi"
    response = client.post(f"/dashboard/assistante/contacts/{message.id}/traite", data={"retour": back})
    assert response.status_code == 303
    assert response.headers["Location"] == back
    assert "Marqué comme traité." in client.get(back).get_data(as_text=True)

    elsewhere = client.post(
        f"/dashboard/assistante/contacts/{message.id}/traite", data={"retour": "https://evil.example/"}
    )
    assert elsewhere.headers["Location"] == "/dashboard/assistante/contacts"


def test_contacts_are_paginated_by_fifty(client, login):
    for i in range(55):
        contact.submit(
            f"Visiteur {i:02d}", f"v{i}@example.tn", None, "autre", "Un message de test assez long."
        )
    db.session.commit()
    login(client, STAFF[0])
    first = client.get("/dashboard/assistante/contacts?filtre=tous").get_data(as_text=True)
    assert first.count('<tr id="contact-') == 50
    assert "Suivant</a>" in first and "Précédent</a>" not in first
    assert "page=2" in first and "filtre=tous" in first
    second = client.get("/dashboard/assistante/contacts?filtre=tous&page=2").get_data(as_text=True)
    assert second.count('<tr id="contact-') == 5
    assert "Précédent</a>" in second and "Suivant</a>" not in second


# -- bilan requests ---------------------------------------------------------------------------


def test_bilan_requests_show_their_details(client, login):
    bilan = make_bilan()
    login(client, STAFF[1])
    html = client.get("/dashboard/assistante/bilans").get_data(as_text=True)
    assert f'id="bilan-{bilan.id}"' in html
    assert "Mathématiques, SVT" in html
    assert "Première" in html and "En ligne" in html
    assert "Reprendre confiance avant le bac blanc." in html
    assert "famille@example.tn" in html
    assert 'hx-confirm="Passer cette demande à « Famille contactée » ?"' in html


def test_bilan_status_changes_once_and_a_stale_click_says_already_done(client, login):
    bilan = make_bilan()
    login(client, STAFF[0])
    url = f"/dashboard/assistante/bilans/{bilan.id}/statut"
    data = {"expected": "RECEIVED", "status": "CONTACTED", "confirm": "1"}  # the row's hx-confirm said yes

    response = client.post(url, data=data, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="bilan-{bilan.id}"')
    assert "Statut changé : Famille contactée." in html
    assert 'value="CONVERTED"' in html  # the next step is offered
    assert db.session.get(BilanRequest, bilan.id).status is BilanStatus.CONTACTED

    stale = client.post(url, data=data, headers=HX)
    assert stale.status_code == 200  # already in the state asked for: done (nexus/rows.py)
    assert "Déjà traité" in stale.get_data(as_text=True)
    assert audit_count("bilan.status_changed", bilan.id) == 1
    line = db.session.scalar(select(AuditLog).where(AuditLog.action == "bilan.status_changed"))
    assert line.before == {"status": "RECEIVED"} and line.after == {"status": "CONTACTED"}


def test_an_impossible_transition_is_refused_in_the_row(client, login):
    bilan = make_bilan()
    login(client, STAFF[0])
    url = f"/dashboard/assistante/bilans/{bilan.id}/statut"
    response = client.post(url, data={"expected": "RECEIVED", "status": "CONVERTED"}, headers=HX)
    assert response.status_code == 422
    assert "ne peut pas passer" in response.get_data(as_text=True)
    bogus = client.post(url, data={"expected": "RECEIVED", "status": "DELETED"}, headers=HX)
    assert bogus.status_code == 422
    assert db.session.get(BilanRequest, bilan.id).status is BilanStatus.RECEIVED
    assert audit_count("bilan.status_changed", bilan.id) == 0


def test_bilan_status_without_javascript_redirects_with_a_message(client, login):
    bilan = make_bilan()
    login(client, STAFF[0])
    response = client.post(
        f"/dashboard/assistante/bilans/{bilan.id}/statut",
        data={
            "expected": "RECEIVED",
            "status": "CLOSED",
            "retour": "/dashboard/assistante/bilans?filtre=toutes",
            "confirm": "1",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/assistante/bilans?filtre=toutes"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Statut changé : Close." in html


def test_a_request_a_colleague_moved_elsewhere_is_a_conflict(client, login):
    bilan = make_bilan()
    staff_id = db.session.scalar(select(User.id).where(User.email == STAFF[1]))
    diagnostics.change_bilan_status(
        bilan.id, BilanStatus.RECEIVED, BilanStatus.CONTACTED, db.session.get(User, staff_id)
    )
    login(client, STAFF[0])
    data = {"expected": "RECEIVED", "status": "CLOSED", "confirm": "1"}
    response = client.post(f"/dashboard/assistante/bilans/{bilan.id}/statut", data=data, headers=HX)
    assert response.status_code == 409
    assert "déjà « Famille contactée »" in response.get_data(as_text=True)
    assert db.session.get(BilanRequest, bilan.id).status is BilanStatus.CONTACTED


def test_without_javascript_a_status_change_asks_first(client, login):
    bilan = make_bilan()
    login(client, STAFF[0])
    back = "/dashboard/assistante/bilans?filtre=toutes"
    data = {"expected": "RECEIVED", "status": "CLOSED", "retour": back}
    page = client.post(f"/dashboard/assistante/bilans/{bilan.id}/statut", data=data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Passer cette demande à « Close » ?" in html
    assert 'name="confirm" value="1"' in html and 'name="status" value="CLOSED"' in html
    assert f'value="{back}"' in html
    assert db.session.get(BilanRequest, bilan.id).status is BilanStatus.RECEIVED
    assert audit_count("bilan.status_changed", bilan.id) == 0


@pytest.mark.committed
def test_fifty_concurrent_transitions_change_the_status_once(app):
    bilan_id = make_bilan(email="course@example.tn").id
    staff_id = db.session.scalar(select(User.id).where(User.email == STAFF[0]))
    db.session.remove()
    barrier = threading.Barrier(50)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def attempt() -> None:
        with app.app_context():
            actor = db.session.get(User, staff_id)
            barrier.wait()
            try:
                change = diagnostics.change_bilan_status(
                    bilan_id, BilanStatus.RECEIVED, BilanStatus.CONTACTED, actor
                )
                db.session.commit()
                result: Any = change.changed if change else None
            except ServiceError as err:
                result = err
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 50
    assert outcomes.count(True) == 1
    assert outcomes.count(False) == 49
    assert db.session.get(BilanRequest, bilan_id).status is BilanStatus.CONTACTED
    assert audit_count("bilan.status_changed", bilan_id) == 1


# -- students ---------------------------------------------------------------------------------


def test_students_table_shows_parent_and_account_state(client, login):
    login(client, STAFF[0])
    html = client.get("/dashboard/assistante/eleves").get_data(as_text=True)
    adam, yasmine = student_named("Adam"), student_named("Yasmine")
    assert f'id="eleve-{adam.id}"' in html and f'id="eleve-{yasmine.id}"' in html
    assert "Pas encore activé" in html and "Activé le" in html
    assert PARENT in html
    assert html.count("Envoyer le lien d&#39;activation") + html.count("Envoyer le lien d'activation") >= 1

    pending = client.get("/dashboard/assistante/eleves?filtre=a-activer").get_data(as_text=True)
    assert f'id="eleve-{adam.id}"' in pending and f'id="eleve-{yasmine.id}"' not in pending
    by_parent = client.get("/dashboard/assistante/eleves?q=parent2@").get_data(as_text=True)
    assert "Sami" in by_parent and "Yasmine" not in by_parent


def test_activation_from_the_table_sends_the_mail(client, login, run_jobs, smtp):
    adam = student_named("Adam")
    login(client, STAFF[0])
    response = client.post(
        f"/dashboard/assistante/eleves/{adam.id}/activation",
        data={"email": "Adam.BenAli@example.tn"},
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="eleve-{adam.id}"')
    assert "Lien d&#39;activation envoyé à adam.benali@example.tn" in html
    assert "Lien envoyé, valable jusqu" in html
    assert db.session.get(User, adam.user_id).email == "adam.benali@example.tn"
    assert audit_count("account.activation_sent", adam.user_id) == 1

    assert run_jobs() == 1
    message = smtp.wait_for("adam.benali@example.tn")
    assert "Activez votre compte" in message["Subject"]


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", "Indiquez l&#39;adresse e-mail de l&#39;élève."),
        ("pas-une-adresse", "Adresse e-mail invalide."),
        (YASMINE, "Cette adresse e-mail est déjà utilisée par un autre compte."),
    ],
)
def test_activation_errors_stay_in_the_row_and_change_nothing(client, login, email, error):
    adam = student_named("Adam")
    login(client, STAFF[0])
    url = f"/dashboard/assistante/eleves/{adam.id}/activation"
    response = client.post(url, data={"email": email}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith(f'<tr id="eleve-{adam.id}"')
    assert error in html
    assert f'value="{email}"' in html  # what was typed stays in the field
    assert db.session.get(User, adam.user_id).email is None
    assert audit_count("account.activation_sent", adam.user_id) == 0


def test_activation_without_javascript(client, login):
    adam = student_named("Adam")
    login(client, STAFF[0])
    url = f"/dashboard/assistante/eleves/{adam.id}/activation"
    refused = client.post(url, data={"email": YASMINE})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "<html" in html and "déjà utilisée" in html
    assert 'value="yasmine@nexus-reussite.tn"' in html

    sent = client.post(
        url, data={"email": "adam@example.tn", "retour": "/dashboard/assistante/eleves?q=adam"}
    )
    assert sent.status_code == 303
    assert sent.headers["Location"] == "/dashboard/assistante/eleves?q=adam"


def test_an_activated_student_cannot_be_sent_a_link(client, login):
    yasmine = student_named("Yasmine")
    login(client, STAFF[0])
    response = client.post(f"/dashboard/assistante/eleves/{yasmine.id}/activation", headers=HX)
    assert response.status_code == 422
    assert "déjà activé" in response.get_data(as_text=True)


def test_the_contacts_and_bilans_processed_this_week_are_listed_with_who(client, login):
    message = make_contact()
    bilan = make_bilan()
    login(client, STAFF[0])
    client.post(f"/dashboard/assistante/contacts/{message.id}/traite", headers=HX)
    data = {"expected": "RECEIVED", "status": "CONTACTED", "confirm": "1"}
    client.post(f"/dashboard/assistante/bilans/{bilan.id}/statut", data=data, headers=HX)
    contacts = client.get("/dashboard/assistante/contacts").get_data(as_text=True)
    recent = contacts.split("Traités ces 7 derniers jours")[1]
    assert "Hédi Mansour" in recent and "Traité" in recent and "Leïla Trabelsi" in recent
    bilans = client.get("/dashboard/assistante/bilans").get_data(as_text=True)
    recent = bilans.split("Traités ces 7 derniers jours")[1]
    assert "Sonia Ayari · Rania" in recent and "Passée à « Famille contactée »" in recent
    assert "Leïla Trabelsi" in recent


@pytest.mark.parametrize(
    ("path", "table"),
    [
        ("/dashboard/assistante/contacts?filtre=tous&q=hedi", "contacts-table"),
        ("/dashboard/assistante/bilans?filtre=toutes&q=ayari", "bilans-table"),
        ("/dashboard/assistante/eleves?q=yasmine", "students-table"),
    ],
)
def test_a_search_answers_the_table_fragment_with_htmx(client, login, path, table):
    make_contact()
    make_bilan()
    login(client, STAFF[0])
    fragment = client.get(path, headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<div class="results" id="{table}">') and "<html" not in fragment
    assert "<tr id=" in fragment
    page = client.get(path).get_data(as_text=True)  # without JavaScript: the whole page
    assert "<html" in page and 'hx-target="next .results"' in page and f'id="{table}"' in page


def test_the_pager_of_a_table_fragment_fetches_the_next_page_in_place(client, login):
    for i in range(51):
        contact.submit(f"Visiteur {i:02d}", f"v{i}@example.tn", None, "autre", "Un message assez long.")
    db.session.commit()
    login(client, STAFF[1])
    url = "/dashboard/assistante/contacts?filtre=tous"
    first = client.get(url).get_data(as_text=True)
    pager = first.split('aria-label="Pages du tableau"')[1]
    assert 'hx-target="closest .results"' in pager and 'hx-push-url="true"' in pager
    second = client.get(f"{url}&page=2", headers=HX).get_data(as_text=True)
    assert second.lstrip().startswith('<div class="results" id="contacts-table">')
    assert second.count('<tr id="contact-') == 1 and "Précédent</a>" in second
    audit = client.get("/dashboard/admin/audit")
    assert 'hx-target="closest .results"' not in audit.get_data(as_text=True)  # no fragment there
