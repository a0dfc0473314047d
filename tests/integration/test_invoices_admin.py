"""Manual invoices: DRAFT → SENT → PAID / CANCELLED, e-mailed links (72 h, 3 per day)."""

import re

import pytest
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.billing import Invoice, InvoiceStatus
from nexus.numbers import parse_tnd
from tests.people import ADMIN, PARENT


@pytest.fixture
def staff_client(client, login):
    return login(client, ADMIN)


def new_invoice(staff_client, **extra):
    data = {
        "customer_name": "Famille Trabelsi",
        "customer_email": "famille@example.tn",
        "label_0": "Stage intensif",
        "qty_0": "2",
        "price_0": "300",
        "discount": "50",
        **extra,
    }
    response = staff_client.post("/dashboard/admin/factures/nouvelle", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return db.session.scalar(select(Invoice).where(Invoice.customer_name == data["customer_name"]))


@pytest.mark.parametrize(
    ("raw", "millimes"),
    [("450", 450_000), ("60,5", 60_500), ("1 080,250", 1_080_250), ("x", None), ("-3", None)],
)
def test_amounts_typed_in_tnd(raw, millimes):
    assert parse_tnd(raw) == millimes


def test_create_send_pay(staff_client, run_jobs, smtp):
    invoice = new_invoice(staff_client)
    assert invoice.status is InvoiceStatus.DRAFT
    assert invoice.total_millimes == 550_000
    assert re.fullmatch(r"\d{6}-\d{4}", invoice.number)
    url = f"/dashboard/admin/factures/{invoice.id}"
    staff_client.post(f"{url}/statut", data={"confirm": "1", "target": "SENT"})
    staff_client.post(f"{url}/envoyer")
    run_jobs()
    link = re.search(
        r"http://localhost(/factures/\d+/pdf\?token=[\w-]+)",
        smtp.wait_for("famille@example.tn").get_body(preferencelist=("plain",)).get_content(),
    ).group(1)
    anonymous = staff_client.application.test_client()
    assert anonymous.get(link).status_code == 200

    wrong = staff_client.post(
        f"{url}/statut",
        data={"confirm": "1", "target": "PAID", "method": "CASH", "paid_amount": "500"},
        follow_redirects=True,
    )
    assert "égal au total" in wrong.get_data(as_text=True)
    paid = {"confirm": "1", "target": "PAID", "method": "CASH", "paid_amount": "550"}
    staff_client.post(f"{url}/statut", data=paid)
    db.session.refresh(invoice)
    assert invoice.status is InvoiceStatus.PAID
    assert anonymous.get(link).status_code == 404  # paying revokes the e-mailed links
    kinds = [e.kind for e in invoice.events]
    assert kinds[:1] == ["INVOICE_CREATED"] and "INVOICE_SENT_EMAIL" in kinds and "INVOICE_PAID" in kinds


def test_terminal_states_do_not_move(staff_client):
    invoice = new_invoice(staff_client)
    url = f"/dashboard/admin/factures/{invoice.id}"
    refused = staff_client.post(
        f"{url}/statut", data={"confirm": "1", "target": "CANCELLED", "reason": ""}, follow_redirects=True
    )
    assert "motif" in refused.get_data(as_text=True)
    cancelled = {"confirm": "1", "target": "CANCELLED", "reason": "Erreur de client"}
    staff_client.post(f"{url}/statut", data=cancelled)
    moved = staff_client.post(f"{url}/statut", data={"confirm": "1", "target": "SENT"}, follow_redirects=True)
    assert "ne peut pas passer" in moved.get_data(as_text=True)
    db.session.refresh(invoice)
    assert invoice.status is InvoiceStatus.CANCELLED


def test_at_most_three_sends_a_day(staff_client):
    invoice = new_invoice(staff_client)
    url = f"/dashboard/admin/factures/{invoice.id}"
    staff_client.post(f"{url}/statut", data={"confirm": "1", "target": "SENT"})
    for _ in range(3):
        staff_client.post(f"{url}/envoyer")
    fourth = staff_client.post(f"{url}/envoyer", follow_redirects=True)
    assert "3 fois en 24 heures" in fourth.get_data(as_text=True)


def test_bad_lines_keep_the_form(staff_client):
    response = staff_client.post(
        "/dashboard/admin/factures/nouvelle",
        data={"customer_name": "Client X", "label_0": "Séance", "qty_0": "1", "price_0": "abc"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ligne 1" in html and 'value="Client X"' in html


def test_search_and_access(client, login, staff_client):
    invoice = new_invoice(staff_client)
    assert invoice.number in staff_client.get("/dashboard/admin/factures?q=trabelsi").get_data(as_text=True)
    client2 = staff_client.application.test_client()
    login(client2, PARENT)
    assert client2.get("/dashboard/admin/factures").status_code == 403
    assert client2.get(f"/factures/{invoice.id}/pdf").status_code == 404


def test_notes_appear_in_the_pdf(staff_client):
    from io import BytesIO

    from pypdf import PdfReader

    invoice = new_invoice(staff_client, notes="Règlement en deux fois accepté.")
    pdf = staff_client.get(f"/factures/{invoice.id}/pdf")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.data)).pages)
    assert "Notes : Règlement en deux fois accepté." in text
    assert len(PdfReader(BytesIO(pdf.data)).pages) == 1


@pytest.mark.parametrize("email", ["pas-un-email", "a@b", "x@example.tn>, y@example.tn", "@example.tn"])
def test_an_invalid_customer_email_is_refused_next_to_the_field(staff_client, email):
    response = staff_client.post(
        "/dashboard/admin/factures/nouvelle",
        data={"customer_name": "Client Y", "customer_email": email, "label_0": "Séance", "price_0": "60"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="customer_email-error"' in html and "Adresse e-mail invalide" in html
    assert db.session.scalar(select(Invoice).where(Invoice.customer_name == "Client Y")) is None


def test_without_javascript_a_cancellation_asks_first_with_its_reason(staff_client):
    invoice = new_invoice(staff_client)
    url = f"/dashboard/admin/factures/{invoice.id}/statut"
    page = staff_client.post(url, data={"target": "CANCELLED", "reason": "Erreur de client"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"Annuler définitivement la facture {invoice.number} ?" in html
    assert 'name="confirm" value="1"' in html and 'name="target" value="CANCELLED"' in html
    assert "Erreur de client</textarea>" in html
    db.session.refresh(invoice)
    assert invoice.status is InvoiceStatus.DRAFT
    shown = staff_client.get(f"/dashboard/admin/factures/{invoice.id}").get_data(as_text=True)
    assert 'hx-confirm="Annuler définitivement la facture' in shown and '"confirm": "1"' in shown


def test_the_invoices_table_is_searched_in_place(staff_client):
    invoice = new_invoice(staff_client)
    hx = {"HX-Request": "true"}
    found = staff_client.get("/dashboard/admin/factures?q=trabelsi&statut=DRAFT", headers=hx)
    html = found.get_data(as_text=True)
    assert html.lstrip().startswith('<div class="results" id="invoices-table">') and invoice.number in html
    none = staff_client.get("/dashboard/admin/factures?statut=PAID", headers=hx).get_data(as_text=True)
    assert invoice.number not in none
    page = staff_client.get("/dashboard/admin/factures").get_data(as_text=True)
    assert 'hx-target="next .results"' in page and 'hx-push-url="true"' in page
