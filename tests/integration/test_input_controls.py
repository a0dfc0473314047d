"""Control characters: refused in every single-line field (with a French message next to the
field), refused in texts except line breaks and tabs, and never able to block an e-mail."""

from __future__ import annotations

import re
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from wtforms import PasswordField, StringField, TextAreaField

from nexus.extensions import db
from nexus.models.diagnostics import BilanRequest
from nexus.models.family import Student
from nexus.models.notifications import ContactMessage, OutboxEmail, OutboxStatus
from nexus.services import notifications
from tests.helpers import html, outbox_to, user
from tests.people import ADMIN, ASSISTANTE, HELIOS, PARENT

ONE_LINE = "Ce champ ne peut contenir ni retour à la ligne ni caractère invisible de contrôle."
TEXT = "Ce texte contient un caractère invisible de contrôle : retirez-le."
# A line break, a carriage return, a tab, NUL, DEL, a C1 control, U+2028/2029, a bidi override.
SINGLE_LINE_BAD = [
    "Nour\nBcc: x@example.tn",
    "Nour\r",
    "No\tur",
    "No\x01ur",
    "Nour\x7f",
    "Nour\x85",
    "Nour\u2028",
    "Nour\u2029",
    "\u202eruoN",
]

CONTACT = {
    "name": "Nadia Ben Ali",
    "email": "nadia@example.tn",
    "phone": "",
    "topic": "paiement",
    "message": "Bonjour,\r\npuis-je payer\ten deux fois ?",
    "website": "",
}
BILAN = {
    "parent_first_name": "Leïla",
    "parent_last_name": "Trabelsi",
    "parent_email": "leila@example.tn",
    "parent_phone": "+216 20 123 456",
    "student_first_name": "Nour",
    "student_last_name": "Trabelsi",
    "grade": "TERMINALE",
    "school": "",
    "subjects": ["MATHEMATIQUES"],
    "current_level": "En difficulté",
    "objectives": "Viser 14 au bac de mathématiques.",
    "difficulties": "",
    "modality": "HYBRID",
    "availability": "",
    "accept_terms": "y",
    "step": "4",
}


def error_of(page: str, field: str) -> str | None:
    match = re.search(rf'id="{field}-error"[^>]*>([^<]+)<', page)
    return match.group(1).strip() if match else None


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("value", SINGLE_LINE_BAD)
def test_a_name_with_a_control_character_is_refused_next_to_the_field(client, value):
    response = client.post("/contact", data={**CONTACT, "name": value})
    assert response.status_code == 422
    assert error_of(html(response), "name") == ONE_LINE
    assert count(ContactMessage) == 0


def test_a_text_keeps_its_line_breaks_and_tabs(client):
    assert client.post("/contact", data=CONTACT).status_code == 303
    assert db.session.scalar(select(ContactMessage.message)) == "Bonjour,\r\npuis-je payer\ten deux fois ?"


@pytest.mark.parametrize(
    "value", ["Bonjour\x08 le centre", "Bonjour\x1b[31m le centre", "\u202eBonjour le centre"]
)
def test_a_text_with_another_control_character_is_refused(client, value):
    response = client.post("/contact", data={**CONTACT, "message": value})
    assert response.status_code == 422
    assert error_of(html(response), "message") == TEXT
    assert count(ContactMessage) == 0


def test_the_bilan_request_refuses_a_line_break_in_a_name(client):
    response = client.post("/bilan-gratuit", data={**BILAN, "student_first_name": "Nour\nBcc: x@example.tn"})
    assert response.status_code == 422
    assert ONE_LINE in html(response)
    assert count(BilanRequest) == 0


def test_the_parent_cannot_add_a_child_whose_name_has_a_line_break(client, login):
    login(client, PARENT)
    before = count(Student)
    response = client.post(
        "/dashboard/parent/enfants",
        data={
            "first_name": "Lina\r\nX",
            "last_name": "Ben Ali",
            "grade": "SECONDE",
            "school": "",
            "email": "",
        },
    )
    assert response.status_code == 422
    assert error_of(html(response), "first_name") == ONE_LINE
    assert count(Student) == before


def test_every_text_field_of_every_form_is_guarded(app):
    """Walks every form class of the app (present and future): each text field carries the guard."""
    from nexus.forms.base import Form, NoControlCharacters

    def subclasses(cls: type) -> list[type]:
        return [cls, *(sub for direct in cls.__subclasses__() for sub in subclasses(direct))]

    forms = [cls for cls in subclasses(Form) if cls is not Form]
    assert len(forms) >= 10
    checked = 0
    with app.test_request_context("/"):
        for cls in forms:
            for field in cls():
                if not isinstance(field, StringField) or field.type == "CSRFTokenField":
                    continue
                guards = [v for v in field.validators if isinstance(v, NoControlCharacters)]
                if isinstance(field, PasswordField):
                    assert guards == [], (cls.__name__, field.name)
                    continue
                assert len(guards) == 1, (cls.__name__, field.name)  # added once, not per instance
                assert guards[0].multiline is isinstance(field, TextAreaField)
                checked += 1
    assert checked >= 20


def test_a_subject_with_a_line_break_is_still_delivered_on_one_line(app, run_jobs, smtp):
    """Whatever reaches the outbox (old rows, another path), a header never blocks delivery."""
    notifications.queue_email(
        "staff@example.tn",
        "bilan_staff",
        "Nouvelle demande — Nour\r\nBcc: intrus@example.tn\u2028(Terminale)",
        {
            "parent_first_name": "Leïla\nX",
            "parent_last_name": "T",
            "student_first_name": "Nour\nY",
            "student_last_name": "T",
            "grade": "Terminale",
            "subjects": [],
            "staff_path": "/",
        },
    )
    db.session.commit()
    assert run_jobs() == 1
    message = smtp.wait_for("staff@example.tn")
    assert message["Subject"] == "Nouvelle demande — Nour Bcc: intrus@example.tn (Terminale)"
    assert smtp.to("intrus@example.tn") == []
    row = outbox_to("staff@example.tn")[-1]
    assert row.status is OutboxStatus.SENT and row.last_error is None


def test_an_outbox_row_written_before_the_fix_is_delivered(app, run_jobs, smtp):
    """A subject stored with a line break (older rows) is cleaned at delivery, not retried forever."""
    from nexus.jobs.mail import deliver_email

    row = OutboxEmail(
        to_email="staff@example.tn",
        template="bilan_staff",
        subject="Ancienne\ndemande",
        context={
            "parent_first_name": "L",
            "parent_last_name": "T",
            "student_first_name": "N",
            "student_last_name": "T",
            "grade": "Terminale",
            "subjects": [],
            "staff_path": "/",
        },
        status=OutboxStatus.PENDING,
    )
    db.session.add(row)
    db.session.commit()
    assert deliver_email(row.id) == "sent"
    assert smtp.wait_for("staff@example.tn")["Subject"] == "Ancienne demande"


# -- inputs parsed by hand (not WTForms): the services check them ------------------------------

INVOICE = {
    "customer_name": "Lycée Pilote",
    "customer_email": "",
    "customer_address": "",
    "notes": "",
    "label_0": "Stage de printemps",
    "qty_0": "1",
    "price_0": "450",
    "discount": "0",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer_name", "Lycée\r\nBcc: x@example.tn", ONE_LINE),
        ("customer_email", "compta@example.tn\nBcc: x@example.tn", ONE_LINE),
        ("customer_address", "Rue\x1b de Tunis", ONE_LINE),  # one line on the invoice
        ("label_0", "Stage\u2028de printemps", ONE_LINE),
        ("notes", "Payé\x07 en espèces", TEXT),
    ],
)
def test_a_staff_invoice_refuses_control_characters_next_to_the_field(client, login, field, value, message):
    from nexus.models.billing import Invoice

    login(client, ADMIN)
    before = count(Invoice)
    response = client.post("/dashboard/admin/factures/nouvelle", data={**INVOICE, field: value})
    assert response.status_code == 422
    assert error_of(html(response), field) == message
    assert count(Invoice) == before


def test_a_parent_credit_request_refuses_a_control_character_in_its_reason(client, login, yasmine):
    from nexus.models.credits import CreditRequest

    login(client, PARENT)
    response = client.post(
        "/dashboard/parent/credits/demande",
        data={"eleve": yasmine.id, "amount": "2", "reason": "Bac\x1b blanc"},
    )
    assert response.status_code == 422
    assert error_of(html(response), "reason") == ONE_LINE  # a one-line field
    assert count(CreditRequest) == 0


def test_a_coach_exception_note_stays_on_one_line(client, login):
    from nexus.models.scheduling import AvailabilityException

    with freeze_time("2026-11-20 09:00:00"):
        login(client, HELIOS)
        before = count(AvailabilityException)
        response = client.post(
            "/dashboard/coach/availability/exceptions",
            data={"on_date": "2026-11-30", "kind": "UNAVAILABLE", "note": "Examen\nBcc: x"},
        )
    assert response.status_code == 422
    assert ONE_LINE in html(response)
    assert count(AvailabilityException) == before


def test_staff_reasons_refuse_control_characters(app):
    """Rejecting a transfer: the reason is e-mailed to the family; checked before anything is claimed."""
    from nexus.services import ServiceError, billing

    with pytest.raises(ServiceError) as refused:
        billing.reject(987654, user(ASSISTANTE), "Virement\x1b introuvable")
    assert (refused.value.message, refused.value.field) == (ONE_LINE, "reason")  # a one-line field
