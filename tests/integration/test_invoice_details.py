"""Invoice-details requests and manual invoices for a family (issue 13, money care): a family asks
that one of its invoices name a company, staff apply or refuse it (once, even 50 at a time); a
manual invoice names its family and shows in that family's space only."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.billing import Invoice, InvoiceEvent, InvoiceStatus, Payment
from nexus.models.billing_care import DetailsRequestStatus, InvoiceDetailsRequest
from nexus.models.notifications import Notification
from nexus.models.vault import UserDocument
from nexus.services import invoice_details, invoices
from tests.helpers import at_once, fingerprint, html, refusals, user
from tests.people import ADMIN, ASSISTANTE, HX, PARENT, PARENT2

COMPANY = {
    "company_name": "Gharbi Industries SA",
    "tax_id": "7654321B/A/M/000",
    "address": "Zone industrielle, Sfax",
}
DESK = "/dashboard/admin/factures/demandes"


def sami_invoice() -> Invoice:
    """The seeded invoice of Sami's paid plan (Hichem's family)."""
    payment = db.session.scalar(select(Payment).where(Payment.reference == "NX-DEMO-0001"))
    return db.session.scalar(select(Invoice).where(Invoice.payment_id == payment.id))


def request_url(invoice: Invoice) -> str:
    return f"/dashboard/parent/factures/{invoice.id}/coordonnees"


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


@pytest.fixture
def hichem(client, login):
    return login(client, PARENT2)


@pytest.fixture
def staff(app, login):
    return login(app.test_client(), ASSISTANTE)


def test_a_family_asks_and_staff_apply(hichem, staff):
    invoice = sami_invoice()
    assert "Au nom d'une entreprise" in html(hichem.get("/dashboard/parent/ressources"))
    assert hichem.get(request_url(invoice)).status_code == 200
    response = hichem.post(request_url(invoice), data={**COMPANY, "tax_id": "7654321 b a m 000"})
    assert response.status_code == 303
    row = db.session.scalar(
        select(InvoiceDetailsRequest).where(InvoiceDetailsRequest.invoice_id == invoice.id)
    )
    assert row.status is DetailsRequestStatus.PENDING and row.tax_id == "7654321B/A/M/000"
    assert "Demande en cours" in html(hichem.get(request_url(invoice)))
    desk = html(staff.get(DESK))
    assert "Gharbi Industries SA" in desk and invoice.number in desk

    done = staff.post(f"{DESK}/{row.id}/appliquer", data={"confirm": "1"}, headers=HX)
    assert done.status_code == 200 and "appliquée" in html(done)
    db.session.refresh(invoice)
    assert (invoice.customer_name, invoice.customer_tax_id) == ("Gharbi Industries SA", "7654321B/A/M/000")
    assert invoice.customer_address == "Zone industrielle, Sfax"
    assert "DETAILS_APPLIED" in [e.kind for e in invoice.events]
    history = html(staff.get(f"/dashboard/admin/factures/{invoice.id}"))
    assert "Coordonnées de l'entreprise appliquées" in history and "7654321B/A/M/000" in history
    line = db.session.scalar(select(AuditLog).where(AuditLog.action == "invoice.details_applied"))
    assert line.before["customer_tax_id"] is None and line.after["customer_tax_id"] == "7654321B/A/M/000"
    told = db.session.scalar(
        select(Notification).where(
            Notification.user_id == user(PARENT2).id, Notification.kind == "INVOICE_DETAILS_DECIDED"
        )
    )
    assert invoice.number in told.title
    # The PDF, served and in the family's vault, names the company now.
    text = pdf_text(hichem.get(f"/factures/{invoice.id}/pdf").data)
    assert "Gharbi Industries SA" in text and "7654321B/A/M/000" in text
    document = db.session.scalar(select(UserDocument).where(UserDocument.invoice_id == invoice.id))
    stored = hichem.get(f"/documents/{document.id}")
    assert "Gharbi Industries SA" in pdf_text(stored.data)


def test_staff_refuse_with_a_reason_the_family_reads(hichem, staff):
    invoice = sami_invoice()
    hichem.post(request_url(invoice), data=COMPANY)
    row = invoice_details.pending_for(invoice.id)
    before = fingerprint()
    no_reason = staff.post(f"{DESK}/{row.id}/refuser", data={"confirm": "1", "reason": ""}, headers=HX)
    assert no_reason.status_code == 422 and "motif" in html(no_reason)
    assert fingerprint() == before
    refused = staff.post(
        f"{DESK}/{row.id}/refuser", data={"confirm": "1", "reason": "Matricule introuvable"}, headers=HX
    )
    assert refused.status_code == 200
    db.session.refresh(row)
    db.session.refresh(invoice)
    assert row.status is DetailsRequestStatus.REFUSED and row.refusal_reason == "Matricule introuvable"
    assert invoice.customer_tax_id is None
    note = db.session.scalar(
        select(Notification)
        .where(Notification.kind == "INVOICE_DETAILS_DECIDED")
        .order_by(Notification.id.desc())
    )
    assert note.user_id == user(PARENT2).id and note.body == "Matricule introuvable"
    page = html(hichem.get(request_url(invoice)))
    assert "Matricule introuvable" in page and "Envoyer la demande" in page  # may ask again
    # Applying what was refused meanwhile: 409, nothing changes.
    late = staff.post(f"{DESK}/{row.id}/appliquer", data={"confirm": "1"}, headers=HX)
    assert late.status_code == 409 and "déjà été traitée" in html(late)


def test_without_javascript_staff_confirm_first(hichem, staff):
    invoice = sami_invoice()
    hichem.post(request_url(invoice), data=COMPANY)
    row = invoice_details.pending_for(invoice.id)
    page = staff.post(f"{DESK}/{row.id}/appliquer")
    assert page.status_code == 200 and "Oui, appliquer" in html(page)
    assert invoice_details.pending_for(invoice.id) is not None


def test_a_second_request_while_one_is_pending_is_refused(hichem):
    invoice = sami_invoice()
    assert hichem.post(request_url(invoice), data=COMPANY).status_code == 303
    before = fingerprint()
    again = hichem.post(request_url(invoice), data={**COMPANY, "company_name": "Autre SARL"})
    assert again.status_code == 409 and "déjà en cours" in html(again)
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tax_id", "", "Indiquez le matricule fiscal"),
        ("tax_id", "12345", "Matricule fiscal invalide"),
        ("company_name", "", "Indiquez le nom de l'entreprise"),
        ("company_name", "Gharbi\r\nBcc: x", ""),
        ("address", "é" * 400, "300 caractères"),
    ],
)
def test_a_wrong_request_is_refused_in_french(hichem, field, value, message):
    before = fingerprint()
    response = hichem.post(request_url(sami_invoice()), data={**COMPANY, field: value})
    assert response.status_code == 422
    assert "La demande n'est pas envoyée" in html(response)
    assert message in html(response)
    assert fingerprint() == before


def test_someone_else_s_invoice_is_not_found(client, login):
    nadia = login(client, PARENT)
    invoice = sami_invoice()
    before = fingerprint()
    assert nadia.get(request_url(invoice)).status_code == 404
    assert nadia.post(request_url(invoice), data=COMPANY).status_code == 404
    assert nadia.post("/dashboard/parent/factures/999999/coordonnees", data=COMPANY).status_code == 404
    assert fingerprint() == before


@pytest.mark.committed
def test_fifty_staff_clicks_apply_once(app):
    with app.app_context():
        invoice_id = sami_invoice().id
        row = invoice_details.ask(user(PARENT2), invoice_id, COMPANY["company_name"], COMPANY["tax_id"], None)
        row_id = row.id
        staff_ids = [user(ADMIN).id, user(ASSISTANTE).id]

    def attempt(i: int) -> InvoiceDetailsRequest:
        actor = db.session.get(type(user(ADMIN)), staff_ids[i % 2])
        return invoice_details.apply(row_id, actor)

    results = at_once(app, attempt)
    assert len(refusals(results)) == 49
    assert all(isinstance(r, invoice_details.Conflict) for r in refusals(results))
    with app.app_context():
        applied = select(func.count()).where(
            InvoiceEvent.invoice_id == invoice_id, InvoiceEvent.kind == "DETAILS_APPLIED"
        )
        assert db.session.scalar(applied) == 1
        audited = select(func.count()).where(AuditLog.action == "invoice.details_applied")
        assert db.session.scalar(audited) == 1
        assert db.session.get(Invoice, invoice_id).customer_tax_id == COMPANY["tax_id"]


@pytest.mark.committed
def test_fifty_family_requests_at_once_keep_one_pending(app):
    with app.app_context():
        invoice_id = sami_invoice().id
        parent_id = user(PARENT2).id

    def attempt(i: int) -> InvoiceDetailsRequest:
        parent = db.session.get(type(user(PARENT2)), parent_id)
        return invoice_details.ask(parent, invoice_id, f"Société {i}", COMPANY["tax_id"], None)

    results = at_once(app, attempt)
    assert len(refusals(results)) == 49
    with app.app_context():
        pending = select(func.count()).where(
            InvoiceDetailsRequest.invoice_id == invoice_id,
            InvoiceDetailsRequest.status == DetailsRequestStatus.PENDING,
        )
        assert db.session.scalar(pending) == 1


# -- manual invoices for a family --------------------------------------------------------------


def new_manual(admin, **extra):
    data = {
        "customer_name": "Famille Ben Ali",
        "beneficiary": str(user(PARENT).id),
        "label_0": "Stage de printemps",
        "qty_0": "1",
        "price_0": "450",
        **extra,
    }
    return admin.post("/dashboard/admin/factures/nouvelle", data=data)


def test_a_manual_invoice_reaches_its_family_once_sent(client, login, yasmine):
    admin = login(client, ADMIN)
    form = html(admin.get("/dashboard/admin/factures/nouvelle?famille=ben ali"))
    assert "Ben Ali Nadia" in form and "Gharbi" not in form  # the search narrowed the families
    assert new_manual(admin, student=str(yasmine.id)).status_code == 303
    invoice = db.session.scalar(select(Invoice).where(Invoice.customer_name == "Famille Ben Ali"))
    assert invoice.beneficiary_id == user(PARENT).id and invoice.student_id == yasmine.id
    assert "Nadia Ben Ali" in html(admin.get(f"/dashboard/admin/factures/{invoice.id}"))
    nadia = login(client.application.test_client(), PARENT)
    assert invoice.number not in html(nadia.get("/dashboard/parent/paiements"))  # a draft
    assert nadia.get(f"/factures/{invoice.id}/pdf").status_code == 404

    admin.post(f"/dashboard/admin/factures/{invoice.id}/statut", data={"confirm": "1", "target": "SENT"})
    assert invoice.number in html(nadia.get("/dashboard/parent/paiements"))
    assert f"Facture {invoice.number}" in html(nadia.get("/dashboard/parent/ressources"))
    assert nadia.get(f"/factures/{invoice.id}/pdf").status_code == 200
    assert nadia.get(request_url(invoice)).status_code == 200  # she may ask for a company's name
    hichem = login(client.application.test_client(), PARENT2)
    assert hichem.get(f"/factures/{invoice.id}/pdf").status_code == 404
    assert invoice.number not in html(hichem.get("/dashboard/parent/paiements"))
    assert hichem.get(request_url(invoice)).status_code == 404


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"beneficiary": "x"}, "Choisissez une famille"),
        ({"beneficiary": "999999"}, "Choisissez une famille"),
        ({"beneficiary": "", "student": "1"}, "Choisissez d'abord la famille"),
    ],
)
def test_a_wrong_family_is_refused(client, login, extra, message):
    admin = login(client, ADMIN)
    before = fingerprint()
    response = new_manual(admin, **extra)
    assert response.status_code == 422 and message in html(response)
    assert fingerprint() == before


def test_a_student_of_another_family_is_refused(client, login, sami):
    admin = login(client, ADMIN)
    before = fingerprint()
    response = new_manual(admin, student=str(sami.id))
    assert response.status_code == 422 and "pas un enfant de la famille" in html(response)
    assert fingerprint() == before


def test_a_staff_account_is_not_a_family(client, login):
    admin = login(client, ADMIN)
    response = new_manual(admin, beneficiary=str(user(ASSISTANTE).id))
    assert response.status_code == 422


def test_a_cancelled_invoice_takes_no_request(hichem):
    invoice = invoices.create(
        "Famille Gharbi",
        [invoices.Line("Atelier", 1, 100_000)],
        status=InvoiceStatus.CANCELLED,
        actor_id=user(ADMIN).id,
        beneficiary_id=user(PARENT2).id,
    )
    response = hichem.post(request_url(invoice), data=COMPANY)
    assert response.status_code == 422 and "annulée" in html(response)
