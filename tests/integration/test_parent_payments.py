"""The parent's side of the money path, through the web pages."""

import re

import pytest
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.billing import Invoice, Payment, PaymentStatus
from nexus.models.identity import User
from nexus.services import billing
from tests import factories
from tests.people import ASSISTANTE, PARENT, PARENT2, SAMI


@pytest.fixture
def parent_client(client, login):
    return login(client, PARENT)


def staff():
    return db.session.scalar(select(User).where(User.email == ASSISTANTE))


def test_offers_page_lists_every_offer_for_each_child(parent_client):
    html = parent_client.get("/dashboard/parent/abonnements").get_data(as_text=True)
    assert "Yasmine" in html and "Adam" in html
    for name in (
        "Accès Plateforme",
        "Hybride",
        "Immersion",
        "ARIA +1 matière",
        "Pack Grand Oral",
        "20 crédits",
    ):
        assert name in html


def test_order_summary_is_priced_by_the_server_with_a_stable_reference(parent_client, yasmine):
    url = f"/dashboard/parent/paiement?offre=HYBRIDE&eleve={yasmine.id}"
    first = parent_client.get(url).get_data(as_text=True)
    assert "450" in first and "TND" in first
    assert "Banque Zitouna" in first
    reference = re.search(r"NX-[A-Z0-9]{8}", first).group(0)
    assert reference in parent_client.get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    ["offre=HYBRIDE&eleve={sami}", "offre=XYZ&eleve={sami}", "eleve={sami}", "offre=HYBRIDE&eleve=abc"],
)
def test_tampered_order_is_not_found(parent_client, yasmine, query):
    sami = factories.student(SAMI)
    url = "/dashboard/parent/paiement?" + query.format(sami=sami.id, yasmine=yasmine.id)
    assert parent_client.get(url).status_code == 404


def test_declaring_a_transfer_ignores_any_amount_sent_by_the_browser(parent_client, yasmine):
    form = {"offre": "IMMERSION", "eleve": yasmine.id, "aria_subject": "NSI", "amount": "1"}
    response = parent_client.post("/dashboard/parent/paiement/virement", data=form)
    assert response.status_code == 303
    payment = db.session.scalar(select(Payment).where(Payment.student_id == yasmine.id))
    assert payment.amount_millimes == 750_000
    assert payment.status is PaymentStatus.PENDING
    again = parent_client.post("/dashboard/parent/paiement/virement", data=form)
    assert again.status_code == 422
    assert "déjà en attente" in again.get_data(as_text=True)
    page = parent_client.get("/dashboard/parent/paiements").get_data(as_text=True)
    assert payment.reference in page and "En attente" in page


def test_a_plan_without_aria_subject_is_refused_in_french(parent_client, yasmine):
    response = parent_client.post(
        "/dashboard/parent/paiement/virement", data={"offre": "HYBRIDE", "eleve": yasmine.id}
    )
    assert response.status_code == 422
    assert "Choisissez la matière d&#39;ARIA" in response.get_data(as_text=True)
    assert db.session.scalar(select(Payment).where(Payment.student_id == yasmine.id)) is None


def test_a_parent_downloads_their_invoice_and_receipt_but_nobody_else(app, parent_client, yasmine, login):
    order = billing.build_order(db.session.get(User, yasmine.parent.user_id), yasmine.id, "CREDITS_5", None)
    payment = billing.declare_transfer(yasmine.parent.user, order)
    billing.approve(payment.id, staff())
    db.session.commit()
    invoice = db.session.scalar(select(Invoice).where(Invoice.payment_id == payment.id))
    pdf = parent_client.get(f"/factures/{invoice.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert parent_client.get(f"/factures/{invoice.id}/recu").status_code == 200
    docs = parent_client.get("/dashboard/parent/ressources").get_data(as_text=True)
    assert f"Facture {invoice.number}" in docs

    other = login(app.test_client(), PARENT2)
    assert other.get(f"/factures/{invoice.id}/pdf").status_code == 404
    assert other.get(f"/factures/{invoice.id}/recu").status_code == 404
    assert app.test_client().get(f"/factures/{invoice.id}/pdf").status_code == 404
    assert app.test_client().get(f"/factures/{invoice.id}/pdf?token=forged").status_code == 404


def test_adding_a_child_creates_an_account_and_sends_the_link(parent_client, run_jobs, smtp):
    response = parent_client.post(
        "/dashboard/parent/enfants",
        data={"first_name": "Lina", "last_name": "Ben Ali", "grade": "PREMIERE", "email": "lina@example.tn"},
    )
    assert response.status_code == 303
    lina = factories.student("lina@example.tn")
    assert lina.parent.user.email == PARENT
    assert lina.user.password_hash is None
    run_jobs()
    assert "activ" in smtp.wait_for("lina@example.tn")["Subject"].lower()


def test_adding_a_child_with_a_taken_email_does_not_say_so(parent_client):
    """Issue 8 item 8: the same answer as for a free address (see test_account_privacy.py)."""
    response = parent_client.post(
        "/dashboard/parent/enfants",
        data={
            "first_name": "Lina",
            "last_name": "Ben Ali",
            "grade": "PREMIERE",
            "email": SAMI,
        },
    )
    assert response.status_code == 303


def test_the_dashboard_shows_what_awaits_validation(parent_client, yasmine):
    parent_client.post(
        "/dashboard/parent/paiement/virement", data={"offre": "CREDITS_5", "eleve": yasmine.id}
    )
    parent_client.post("/dashboard/parent/credits/demande", data={"eleve": yasmine.id, "amount": "2"})
    html = parent_client.get("/dashboard/parent").get_data(as_text=True)
    assert "En attente de validation" in html
    assert "5 crédits pour Yasmine" in html
    assert "Demande de crédits pour Yasmine" in html and "2 crédits" in html


def test_an_aria_addon_without_a_plan_is_refused_before_any_transfer(parent_client, yasmine):
    response = parent_client.get(f"/dashboard/parent/paiement?offre=ARIA_MATIERE&eleve={yasmine.id}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "formule active" in html
    assert "J&#39;ai effectué le virement" not in html and "Banque Zitouna" not in html


def test_a_student_has_a_documents_page_and_sees_only_their_own(client, login):
    login(client, SAMI)
    page = client.get("/dashboard/eleve/ressources")
    assert page.status_code == 200
    assert "Aucun document pour le moment" in page.get_data(as_text=True)


def test_the_payment_page_without_an_offer_leads_to_the_choice(parent_client, yasmine):
    """Issue 8, item 21: no ?offre= is not a 404 but the offers, for the child if one is given."""
    plain = parent_client.get("/dashboard/parent/paiement")
    assert plain.status_code == 303
    assert plain.headers["Location"].endswith("/dashboard/parent/abonnements")
    for_child = parent_client.get(f"/dashboard/parent/paiement?offre=&eleve={yasmine.id}")
    assert for_child.status_code == 303
    assert for_child.headers["Location"].endswith(f"/dashboard/parent/abonnements#enfant-{yasmine.id}")
    page = parent_client.get(for_child.headers["Location"])
    assert page.status_code == 200 and "Hybride" in page.get_data(as_text=True)


@pytest.mark.parametrize("offre", ["XYZ", "GRATUIT", "hybride", "²", "x" * 5000])
def test_an_unknown_offer_is_said_in_french_with_the_choice(parent_client, yasmine, offre):
    query = {"offre": offre, "eleve": yasmine.id}
    response = parent_client.get("/dashboard/parent/paiement", query_string=query)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Cette offre n&#39;existe pas" in html
    assert "Hybride" in html and "Yasmine" in html
    assert db.session.scalar(select(Payment).where(Payment.student_id == yasmine.id)) is None
