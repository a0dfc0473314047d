"""The public contact form: stored, e-mailed to staff, shown in their bell; bots get nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.notifications import ContactMessage, Notification, OutboxEmail
from tests.helpers import count, html, notifications_of
from tests.people import ADMIN, ASSISTANTE, PARENT
from tests.servers import body_text

STAFF_EMAIL = "contact@nexus-reussite.tn"
VALID = {
    "name": "Nadia Ben Ali",
    "email": "Nadia.BenAli@Example.TN",
    "phone": "+216 22 123 456",
    "topic": "paiement",
    "message": "Bonjour, puis-je payer en deux fois le pack Bac de Français ?",
    "website": "",
}


def error_of(page: str, field: str) -> str | None:
    match = re.search(rf'id="{field}-error"[^>]*>([^<]+)<', page)
    return match.group(1) if match else None


def test_message_is_stored_emailed_and_notified(client, run_jobs, smtp):
    response = client.post("/contact", data=VALID)
    assert response.status_code == 303
    assert response.headers["Location"] == "/contact"
    assert "Merci ! Votre message a bien été envoyé." in html(client.get("/contact"))

    stored = db.session.scalar(select(ContactMessage))
    assert stored.email == "nadia.benali@example.tn"
    assert stored.topic == "paiement"
    assert stored.phone == "+216 22 123 456"

    assert run_jobs() == 1
    message = smtp.wait_for(STAFF_EMAIL)
    assert "Paiement et facturation" in message["Subject"]
    assert "puis-je payer en deux fois" in body_text(message)
    assert "nadia.benali@example.tn" in body_text(message)

    for staff in (ADMIN, ASSISTANTE):
        notes = notifications_of(staff, "CONTACT_MESSAGE")
        assert [n.title for n in notes] == ["Message de Nadia Ben Ali"]
    assert notifications_of(PARENT, "CONTACT_MESSAGE") == []


def test_filled_honeypot_gets_the_same_thanks_and_nothing_is_kept(client, run_jobs):
    response = client.post("/contact", data={**VALID, "website": "http://spam.example"})
    assert response.status_code == 303
    assert "Merci ! Votre message a bien été envoyé." in html(client.get("/contact"))
    assert count(ContactMessage) == 0
    assert count(OutboxEmail) == 0
    assert db.session.scalar(select(Notification.id).where(Notification.kind == "CONTACT_MESSAGE")) is None
    assert run_jobs() == 0


def test_invalid_fields_get_french_errors_and_the_rest_is_kept(client):
    data = {**VALID, "email": "pas-une-adresse", "message": "court", "phone": "abc"}
    response = client.post("/contact", data=data)
    assert response.status_code == 422
    page = html(response)
    assert error_of(page, "email") == "Adresse e-mail invalide."
    assert error_of(page, "message") == "Votre message doit faire entre 10 et 4 000 caractères."
    assert error_of(page, "phone") == "Numéro de téléphone invalide (8 chiffres au moins)."
    assert error_of(page, "name") is None
    assert 'value="Nadia Ben Ali"' in page
    assert 'value="pas-une-adresse"' in page
    assert re.search(
        r'<option[^>]*selected[^>]*value="paiement"|<option[^>]*value="paiement"[^>]*selected', page
    )
    assert count(ContactMessage) == 0


def test_missing_fields_are_named(client):
    response = client.post("/contact", data={"topic": "autre"})
    assert response.status_code == 422
    page = html(response)
    for field in ("name", "email", "message"):
        assert error_of(page, field) == "Ce champ est obligatoire."


def test_every_error_is_in_french(client):
    data = {**VALID, "name": "N", "topic": "inconnu", "email": "a" * 250 + "@example.tn"}
    page = html(client.post("/contact", data=data))
    for field in ("name", "topic", "email"):
        message = error_of(page, field)
        assert message, f"no error for {field}"
        assert not re.search(r"\b(Field|must|valid choice|characters)\b", message), message


def test_the_page_shows_the_form(client):
    page = html(client.get("/contact"))
    for label in ("Nom et prénom", "E-mail", "Votre message", "Envoyer"):
        assert label in page
