"""The centre's settings (issue 13, money care): the admin edits the issuer's identity and the
invoice mentions; new invoices copy them and add the droit de timbre; older invoices keep theirs."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.billing import Invoice, InvoiceStatus, Payment
from nexus.models.operations import CentreSettings
from nexus.services import ServiceError, centre_settings, invoices
from tests.helpers import fingerprint, html, user
from tests.people import ADMIN, ASSISTANTE, PARENT, PARENT2

URL = "/dashboard/admin/parametres"
VALID = {
    "legal_name": "M&M Academy SARL",
    "address": "Résidence Narjess 2, Raoued 2056, Ariana",
    "tax_id": "1234567a a m 000",
    "rne": "1234567A",
    "phone": "22 333 444",
    "email": "Contact@Nexus-Reussite.tn",
    "stamp_applies": "y",
    "stamp": "1,000",
    "mentions": "Paiement à réception. RIB : 08 000 0000000000000 00.",
}


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


@pytest.fixture
def admin_client(client, login):
    return login(client, ADMIN)


def a_manual_invoice(**extra) -> Invoice:
    return invoices.create(
        "Famille Trabelsi",
        [invoices.Line("Stage intensif", 2, 300_000)],
        status=InvoiceStatus.DRAFT,
        actor_id=user(ADMIN).id,
        discount_millimes=50_000,
        **extra,
    )


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("1234567A/A/M/000", "1234567A/A/M/000"),
        ("1234567AAM000", "1234567A/A/M/000"),
        (" 1234567a / b / p / 001 ", "1234567A/B/P/001"),
        ("1234567-A-N-C-000", "1234567A/N/C/000"),
        ("", None),
    ],
)
def test_a_matricule_fiscal_is_normalised(typed, kept):
    assert centre_settings.normalise_tax_id(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "123456A/A/M/000",
        "1234567/A/M/000",
        "1234567A/Z/M/000",
        "1234567A/A/X/000",
        "1234567A/A/M/00",
        "١٢٣٤٥٦٧A/A/M/000",
        "x",
    ],
)
def test_a_wrong_matricule_fiscal_is_refused_in_french(typed):
    with pytest.raises(ServiceError, match="Matricule fiscal invalide") as refused:
        centre_settings.normalise_tax_id(typed)
    assert refused.value.field == "tax_id"


def test_the_admin_saves_the_settings_audited_with_before_and_after(admin_client):
    page = admin_client.get(URL)
    assert page.status_code == 200 and "Matricule fiscal" in html(page)
    response = admin_client.post(URL, data=VALID)
    assert response.status_code == 303
    row = db.session.get(CentreSettings, 1)
    db.session.refresh(row)
    assert (row.tax_id, row.rne, row.email) == ("1234567A/A/M/000", "1234567A", "contact@nexus-reussite.tn")
    assert row.phone == "+216 22 333 444" and row.stamp_applies and row.stamp_millimes == 1_000
    line = db.session.scalar(select(AuditLog).where(AuditLog.action == "settings.updated"))
    assert line.actor_id == user(ADMIN).id
    assert line.before["tax_id"] is None and line.after["tax_id"] == "1234567A/A/M/000"
    assert line.before["legal_name"] == centre_settings.DEFAULT_LEGAL_NAME
    shown = html(admin_client.get(URL))
    assert 'value="1234567A/A/M/000"' in shown and 'value="1,000"' in shown


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tax_id", "12345/A/M/000", "Matricule fiscal invalide"),
        ("rne", "ABC", "Identifiant RNE invalide"),
        ("legal_name", "", "raison sociale"),
        ("address", "", "adresse du centre"),
        ("email", "pas-un-email", "Adresse e-mail invalide"),
        ("phone", "12", "Numéro de téléphone invalide"),
        ("stamp", "-1", "de 0 à 100"),
        ("stamp", "1e309", "de 0 à 100"),
        ("stamp", "101", "de 0 à 100"),
        ("mentions", "x" * 1001, "1 000 caractères"),
        ("legal_name", "Nexus\r\nBcc: x", ""),
    ],
)
def test_a_refused_value_changes_nothing_and_says_why(admin_client, field, value, message):
    before = fingerprint()
    response = admin_client.post(URL, data={**VALID, field: value})
    assert response.status_code == 422
    text = html(response)
    assert "Rien n'est enregistré" in text and message in text
    assert fingerprint() == before


def test_only_the_admin_edits_the_settings(client, login):
    assistante = login(client, ASSISTANTE)
    assert assistante.get(URL).status_code in (403, 404)
    assert assistante.post(URL, data=VALID).status_code in (403, 404)
    assert db.session.get(CentreSettings, 1).tax_id is None


def test_a_new_invoice_copies_the_settings_and_adds_the_stamp(admin_client):
    old = a_manual_invoice(customer_email="famille@example.tn")
    admin_client.post(URL, data=VALID)
    new = a_manual_invoice()
    assert (new.issuer_name, new.issuer_tax_id, new.issuer_rne) == (
        "M&M Academy SARL",
        "1234567A/A/M/000",
        "1234567A",
    )
    assert new.issuer_contact == "+216 22 333 444 — contact@nexus-reussite.tn"
    assert new.legal_mentions == VALID["mentions"]
    # 2 × 300 − 50 + 1 (stamp) TND; the database's check agrees (it would refuse the row otherwise)
    assert (new.subtotal_millimes, new.discount_millimes, new.stamp_millimes) == (600_000, 50_000, 1_000)
    assert new.total_millimes == 551_000
    db.session.flush()
    db.session.refresh(old)
    assert old.issuer_tax_id is None and old.stamp_millimes == 0 and old.total_millimes == 550_000
    assert old.legal_mentions is None and old.issuer_name == centre_settings.DEFAULT_LEGAL_NAME


def test_a_paid_offer_holds_the_stamp_in_its_price(admin_client, sami):
    """What the family paid is the invoice's total: the stamp is taken out of the line."""
    admin_client.post(URL, data=VALID)
    payment = db.session.scalar(select(Payment).where(Payment.reference == "NX-DEMO-0001"))
    db.session.execute(db.delete(Invoice).where(Invoice.payment_id == payment.id))
    invoice = invoices.for_payment(payment, None)
    assert invoice.total_millimes == payment.amount_millimes == invoice.paid_amount_millimes
    assert invoice.stamp_millimes == 1_000
    assert invoice.items[0].unit_price_millimes == payment.amount_millimes - 1_000


def test_without_a_stamp_the_total_is_unchanged(admin_client):
    admin_client.post(URL, data={**VALID, "stamp_applies": ""})
    invoice = a_manual_invoice()
    assert invoice.stamp_millimes == 0 and invoice.total_millimes == 550_000
    assert invoice.issuer_tax_id == "1234567A/A/M/000"


def test_the_pdf_and_the_page_carry_the_identity_the_stamp_and_the_mentions(admin_client):
    admin_client.post(URL, data=VALID)
    invoice = a_manual_invoice()
    text = pdf_text(admin_client.get(f"/factures/{invoice.id}/pdf").data)
    for expected in (
        "Matricule fiscal : 1234567A/A/M/000",
        "RNE : 1234567A",
        "contact@nexus-reussite.tn",
        "Droit de timbre",
        "Paiement à réception",
        "M&M Academy SARL",
    ):
        assert expected in text, expected
    assert "551 TND" in text.replace("\u202f", " ").replace("\xa0", " ")
    page = html(admin_client.get(f"/dashboard/admin/factures/{invoice.id}"))
    assert "1234567A/A/M/000" in page and "Droit de timbre" in page and "Paiement à réception" in page


def test_an_older_invoice_renders_without_the_new_fields(admin_client):
    invoice = a_manual_invoice()
    text = pdf_text(admin_client.get(f"/factures/{invoice.id}/pdf").data)
    assert "Matricule fiscal" not in text and "Droit de timbre" not in text and "RNE" not in text
    assert centre_settings.DEFAULT_ADDRESS.split(",")[0] in text


def test_without_the_row_the_defaults_stand_in():
    db.session.execute(db.delete(CentreSettings))
    invoice = a_manual_invoice()
    assert invoice.issuer_name == centre_settings.DEFAULT_LEGAL_NAME and invoice.stamp_millimes == 0
    centre_settings.update(centre_settings.Settings("Nexus SARL", "Tunis, Tunisie"), user(ADMIN).id)
    assert db.session.get(CentreSettings, 1).legal_name == "Nexus SARL"


def test_the_seed_gives_sami_s_plan_its_invoice_once(client, login):
    from nexus.seed import _seed_people

    payment = db.session.scalar(select(Payment).where(Payment.reference == "NX-DEMO-0001"))
    invoice = db.session.scalar(select(Invoice).where(Invoice.payment_id == payment.id))
    assert invoice is not None and invoice.status is InvoiceStatus.PAID
    assert invoice.beneficiary_id == user(PARENT2).id
    _seed_people()  # again: nothing new
    assert len(db.session.scalars(select(Invoice).where(Invoice.payment_id == payment.id)).all()) == 1
    hichem = login(client, PARENT2)
    assert invoice.number in html(hichem.get("/dashboard/parent/paiements"))
    assert f"Facture {invoice.number}" in html(hichem.get("/dashboard/parent/ressources"))
    assert hichem.get(f"/factures/{invoice.id}/pdf").status_code == 200
    nadia = login(client.application.test_client(), PARENT)
    assert nadia.get(f"/factures/{invoice.id}/pdf").status_code == 404


def test_a_database_seeded_before_gets_the_plan_s_invoice():
    """A demo database whose plan has no invoice yet (seeded before issue 13) gets it, once."""
    from nexus.seed import _seed_people

    payment = db.session.scalar(select(Payment).where(Payment.reference == "NX-DEMO-0001"))
    db.session.execute(db.delete(Invoice).where(Invoice.payment_id == payment.id))
    _seed_people()
    _seed_people()
    again = db.session.scalars(select(Invoice).where(Invoice.payment_id == payment.id)).all()
    assert len(again) == 1 and again[0].total_millimes == payment.amount_millimes
