"""/bilan-gratuit: four steps without JavaScript and with htmx, storage, e-mails, abuse guards."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.diagnostics import BilanRequest, BilanStatus, Modality
from nexus.models.identity import User
from nexus.models.notifications import Notification, OutboxEmail
from tests.people import HX
from tests.servers import body_text

STEP1 = {
    "parent_first_name": "Leïla",
    "parent_last_name": "Trabelsi",
    "parent_email": "Leila.Trabelsi@example.tn",
    "parent_phone": "+216 20 123 456",
}
STEP2 = {"student_first_name": "Nour", "student_last_name": "Trabelsi", "grade": "TERMINALE", "school": ""}
STEP3: dict[str, Any] = {
    "subjects": ["MATHEMATIQUES", "PHYSIQUE_CHIMIE"],
    "current_level": "En difficulté",
    "objectives": "Viser 14 au bac de mathématiques.",
    "difficulties": "Les probabilités",
    "modality": "HYBRID",
    "availability": "Mercredi après-midi",
}
STEP4 = {"accept_terms": "y"}
ALL = {**STEP1, **STEP2, **STEP3, **STEP4}


def post(client: Any, step: int, data: dict[str, Any], *, hx: bool = False, **extra: str) -> Any:
    return client.post("/bilan-gratuit", data={**data, "step": str(step), **extra}, headers=HX if hx else {})


def count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_first_step_is_a_full_page_with_the_step_indicator(client):
    response = client.get("/bilan-gratuit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html
    assert "Étape 1 sur 4" in html
    assert 'hx-post="/bilan-gratuit"' in html
    assert 'name="website"' in html  # the honeypot
    assert "Retour</button>" not in html


@pytest.mark.parametrize("hx", [False, True])
def test_each_step_leads_to_the_next_and_carries_the_answers(client, hx):
    response = post(client, 1, STEP1, hx=hx)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Étape 2 sur 4" in html
    assert ("<html" in html) is not hx  # htmx gets only the form fragment
    if hx:
        assert html.lstrip().startswith('<div id="bilan-form"')
    assert '<input type="hidden" name="parent_email" value="Leila.Trabelsi@example.tn">' in html
    assert "Retour</button>" in html

    response = post(client, 2, {**STEP1, **STEP2}, hx=hx)
    html = response.get_data(as_text=True)
    assert "Étape 3 sur 4" in html
    assert '<input type="hidden" name="grade" value="TERMINALE">' in html
    assert 'value="MATHEMATIQUES"' in html  # the subject checkboxes

    response = post(client, 3, {**STEP1, **STEP2, **STEP3}, hx=hx)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Étape 4 sur 4" in html
    assert "Récapitulatif" in html
    assert "Mathématiques, Physique-chimie" in html
    assert "Hybride" in html and "Terminale" in html
    assert html.count('name="subjects"') == 2  # both subjects travel as hidden fields
    assert "Envoyer ma demande" in html


def test_a_step_error_is_shown_next_to_the_field_and_keeps_the_values(client):
    response = post(client, 1, {**STEP1, "parent_email": "pas-une-adresse"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Étape 1 sur 4" in html
    assert "Adresse e-mail invalide." in html
    assert 'value="Leïla"' in html and 'value="pas-une-adresse"' in html
    assert 'aria-invalid="true"' in html


def test_missing_subjects_keep_the_previous_steps(client):
    response = post(client, 3, {**STEP1, **STEP2, **STEP3, "subjects": []}, hx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Étape 3 sur 4" in html
    assert "Choisissez au moins une matière." in html
    assert '<input type="hidden" name="parent_phone" value="+216 20 123 456">' in html
    assert "Viser 14 au bac" in html  # the objectives typed are still in the textarea


def test_back_returns_to_the_previous_step_without_losing_the_current_one(client):
    partial = {**STEP1, **STEP2, "objectives": "Reprendre confiance en maths", "subjects": ["NSI"]}
    response = post(client, 3, partial, hx=True, action="retour")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Étape 2 sur 4" in html
    assert 'value="Nour"' in html
    assert '<input type="hidden" name="objectives" value="Reprendre confiance en maths">' in html
    assert '<input type="hidden" name="subjects" value="NSI">' in html
    assert "erreur" not in html.lower() and 'role="alert"' not in html


def test_modify_from_the_summary_goes_back_to_that_step(client):
    response = post(client, 4, ALL, modifier="1")
    html = response.get_data(as_text=True)
    assert "Étape 1 sur 4" in html
    assert 'value="Leila.Trabelsi@example.tn"' in html
    assert '<input type="hidden" name="accept_terms" value="y">' in html


def test_a_tampered_earlier_step_is_shown_again(client):
    response = post(client, 4, {**ALL, "grade": "MATERNELLE"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Étape 2 sur 4" in html
    assert "Choisissez une réponse dans la liste." in html
    assert count(BilanRequest) == 0


def test_terms_must_be_accepted(client):
    response = post(client, 4, {k: v for k, v in ALL.items() if k != "accept_terms"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Étape 4 sur 4" in html
    assert "Cochez cette case pour envoyer la demande." in html
    assert count(BilanRequest) == 0


def test_final_submit_stores_everything_and_mails_parent_and_staff(app, client, run_jobs, smtp):
    users_before = count(User)
    response = post(client, 4, {**ALL, "accept_newsletter": "y"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/bilan-gratuit/confirmation")

    row = db.session.scalar(select(BilanRequest))
    assert row is not None
    assert row.status is BilanStatus.RECEIVED
    assert row.parent_email == "leila.trabelsi@example.tn"
    assert (row.parent_first_name, row.student_first_name, row.grade.value) == ("Leïla", "Nour", "TERMINALE")
    assert row.subjects == ["MATHEMATIQUES", "PHYSIQUE_CHIMIE"]
    assert row.modality is Modality.HYBRID
    assert row.current_level == "En difficulté"
    assert row.objectives == "Viser 14 au bac de mathématiques."
    assert row.difficulties == "Les probabilités"
    assert row.availability == "Mercredi après-midi"
    assert row.school is None
    assert row.accept_newsletter is True
    assert count(User) == users_before  # no account is created from the form

    staff_ids = db.session.scalars(select(User.id).where(User.role.in_([Role.ADMIN, Role.ASSISTANTE]))).all()
    notes = db.session.scalars(select(Notification).where(Notification.kind == "BILAN_REQUEST")).all()
    assert sorted(n.user_id for n in notes) == sorted(staff_ids)

    assert run_jobs() == 2
    ack = smtp.wait_for("leila.trabelsi@example.tn")
    assert "bilan gratuit" in ack["Subject"]
    assert "sous 48 h" in body_text(ack)
    staff_mail = smtp.wait_for(app.config["STAFF_EMAIL"])
    text = body_text(staff_mail)
    assert "Nour Trabelsi" in text and "Mathématiques, Physique-chimie" in text
    assert "Viser 14 au bac" in text

    page = client.get("/bilan-gratuit/confirmation").get_data(as_text=True)
    assert "nous vous recontactons sous 48 h" in page.lower() or "vous recontacte sous 48 h" in page
    assert "leila.trabelsi@example.tn" in page


def test_final_submit_with_htmx_redirects_the_page(client):
    response = post(client, 4, ALL, hx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/bilan-gratuit/confirmation"
    assert count(BilanRequest) == 1


def test_a_double_click_stores_one_request(client, run_jobs):
    assert post(client, 4, ALL).status_code == 303
    assert post(client, 4, ALL).status_code == 303
    assert count(BilanRequest) == 1
    assert count(OutboxEmail, OutboxEmail.template.startswith("bilan_")) == 2


def test_a_filled_honeypot_is_thanked_and_dropped(client):
    response = post(client, 4, {**ALL, "website": "http://spam.example"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/bilan-gratuit/confirmation")
    assert count(BilanRequest) == 0
    assert count(OutboxEmail) == 0


def test_the_old_questionnaire_address_leads_here(client):
    response = client.get("/questionnaire")
    assert response.headers["Location"].endswith("/bilan-gratuit")
    # /inscription is the family sign-up now (test_signup.py), no longer a redirect.
    assert client.get("/inscription").status_code == 200


@pytest.mark.ratelimited
def test_sending_is_limited_per_address_but_not_the_steps(client):
    for i in range(5):
        data = {**ALL, "student_first_name": f"Enfant{i}"}
        assert post(client, 4, data).status_code == 303
    refused = post(client, 4, {**ALL, "student_first_name": "Sixième"}, hx=True)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "Réessayez dans une heure" in html
    assert '<input type="hidden" name="student_first_name" value="Sixième">' in html  # nothing lost
    assert post(client, 1, STEP1).status_code == 200  # moving between steps is not counted
    assert post(client, 4, ALL, action="retour").status_code == 200
    assert count(BilanRequest) == 5
