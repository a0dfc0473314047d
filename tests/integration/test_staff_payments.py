"""Staff validate transfers in the table: the row swaps to its new state."""

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.billing import Invoice, Payment, PaymentMethod, PaymentStatus
from nexus.models.identity import User
from nexus.services import ServiceError, billing, credits
from tests import factories
from tests.people import ADMIN, ASSISTANTE, HX, PARENT, YASMINE


@pytest.fixture
def pending():
    parent = db.session.scalar(select(User).where(User.email == PARENT))
    yasmine = factories.student(YASMINE)
    payment = billing.declare_transfer(parent, billing.build_order(parent, yasmine.id, "HYBRIDE", "NSI"))
    db.session.commit()
    return payment


@pytest.fixture
def staff_client(client, login):
    return login(client, ASSISTANTE)


def test_pending_transfers_are_listed_and_searchable(staff_client, pending):
    html = staff_client.get("/dashboard/assistante/paiements").get_data(as_text=True)
    assert pending.reference in html and "Nadia Ben Ali" in html and "Hybride" in html
    found = staff_client.get(f"/dashboard/assistante/paiements?q={pending.reference}", headers=HX)
    assert pending.reference in found.get_data(as_text=True) and "<html" not in found.get_data(as_text=True)
    none = staff_client.get("/dashboard/assistante/paiements?q=zzz", headers=HX).get_data(as_text=True)
    assert pending.reference not in none


def test_approve_in_the_row_returns_the_new_row(staff_client, pending):
    response = staff_client.post(
        f"/dashboard/assistante/paiements/{pending.id}/valider", data={"confirm": "1"}, headers=HX
    )
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert row.startswith(f'<tr id="payment-{pending.id}"') and "Validé" in row
    db.session.refresh(pending)
    assert pending.status is PaymentStatus.COMPLETED
    assert credits.balance(pending.student_id) == 4
    again = staff_client.post(
        f"/dashboard/assistante/paiements/{pending.id}/valider", data={"confirm": "1"}, headers=HX
    )
    assert "Déjà traité" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Invoice.payment_id == pending.id)) == 1
    assert db.session.scalar(select(func.count()).where(AuditLog.action == "payment.approve")) == 1


def test_without_javascript_approval_asks_for_confirmation_first(staff_client, pending):
    page = staff_client.post(f"/dashboard/assistante/paiements/{pending.id}/valider")
    assert page.status_code == 200 and "Oui, valider" in page.get_data(as_text=True)
    db.session.refresh(pending)
    assert pending.status is PaymentStatus.PENDING
    done = staff_client.post(f"/dashboard/assistante/paiements/{pending.id}/valider", data={"confirm": "1"})
    assert done.status_code == 303


def test_rejection_requires_a_reason_and_sends_it(staff_client, pending, run_jobs, smtp):
    empty = staff_client.post(
        f"/dashboard/assistante/paiements/{pending.id}/refuser",
        data={"reason": "", "confirm": "1"},  # what the row posts after hx-confirm
        headers=HX,
    )
    assert empty.status_code == 422 and "motif" in empty.get_data(as_text=True)
    db.session.refresh(pending)
    assert pending.status is PaymentStatus.PENDING
    ok = staff_client.post(
        f"/dashboard/assistante/paiements/{pending.id}/refuser",
        data={"reason": "Aucun virement reçu", "confirm": "1"},
        headers=HX,
    )
    assert ok.status_code == 200 and "Refusé" in ok.get_data(as_text=True)
    run_jobs()
    mail = smtp.wait_for(PARENT)
    assert "Aucun virement reçu" in mail.get_body(preferencelist=("plain",)).get_content()


def test_only_staff_may_decide_and_unknown_ids_are_404(client, login, pending):
    login(client, PARENT)
    assert (
        client.post(
            f"/dashboard/assistante/paiements/{pending.id}/valider", data={"confirm": "1"}
        ).status_code
        == 403
    )
    client.post("/auth/signout")
    login(client, ADMIN)
    assert (
        client.post("/dashboard/assistante/paiements/999999/valider", data={"confirm": "1"}).status_code
        == 404
    )
    assert client.get("/dashboard/assistante/paiements").status_code == 200


@pytest.fixture
def pending_card():
    """A card payment waiting for the ClicToPay return: only the gateway's answer settles it."""
    parent = db.session.scalar(select(User).where(User.email == PARENT))
    yasmine = factories.student(YASMINE)
    order = billing.build_order(parent, yasmine.id, "CREDITS_5", None)
    payment = billing.create_pending(parent, order, PaymentMethod.CLICTOPAY, billing.new_reference())
    db.session.commit()
    return payment


def _untouched(payment) -> None:
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.PENDING
    assert credits.balance(payment.student_id) == 0
    assert db.session.scalar(select(func.count()).where(Invoice.payment_id == payment.id)) == 0
    assert db.session.scalar(select(func.count()).where(AuditLog.action.like("payment.%"))) == 0


def test_staff_cannot_approve_or_reject_a_card_payment(pending_card):
    staff = db.session.scalar(select(User).where(User.email == ASSISTANTE))
    with pytest.raises(ServiceError, match="carte"):
        billing.approve(pending_card.id, staff)
    db.session.rollback()
    with pytest.raises(ServiceError, match="carte"):
        billing.reject(pending_card.id, staff, "Aucun virement reçu")
    db.session.rollback()
    _untouched(pending_card)


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "plain"])
def test_the_staff_routes_refuse_a_card_payment_in_french(staff_client, pending_card, headers):
    url = f"/dashboard/assistante/paiements/{pending_card.id}"
    answers = [
        staff_client.post(f"{url}/valider", data=data, headers=headers, follow_redirects=True)
        for data in ({"confirm": "1"}, {})  # confirmed, and the no-JavaScript first step
    ]
    answers.append(
        staff_client.post(
            f"{url}/refuser", data={"reason": "Aucun virement reçu"}, headers=headers, follow_redirects=True
        )
    )
    for response in answers:
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 422) and "ClicToPay" in html, html
        assert "Oui, valider" not in html
    _untouched(pending_card)


def test_the_transfers_decided_this_week_are_listed_with_who_decided(staff_client, pending):
    staff_client.post(f"/dashboard/assistante/paiements/{pending.id}/valider", data={"confirm": "1"})
    page = staff_client.get("/dashboard/assistante/paiements").get_data(as_text=True)
    queue, recent = page.split("Traités ces 7 derniers jours")
    assert pending.reference not in queue
    assert pending.reference in recent and "Leïla Trabelsi" in recent and "Nadia Ben Ali" in recent


def test_a_transfer_refused_by_a_colleague_meanwhile_is_a_conflict(staff_client, pending):
    colleague = db.session.scalar(select(User).where(User.email == "admin@nexus-reussite.tn"))
    billing.reject(pending.id, colleague, "Aucun virement reçu")
    response = staff_client.post(
        f"/dashboard/assistante/paiements/{pending.id}/valider", data={"confirm": "1"}, headers=HX
    )
    assert response.status_code == 409 and "Déjà traité" in response.get_data(as_text=True)
    db.session.refresh(pending)
    assert pending.status is PaymentStatus.FAILED


def test_without_javascript_a_rejection_asks_first_and_keeps_the_reason(staff_client, pending):
    back = f"/dashboard/assistante/paiements?q={pending.reference}"
    url = f"/dashboard/assistante/paiements/{pending.id}/refuser"
    page = staff_client.post(url, data={"reason": "Aucun virement reçu", "retour": back})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"Refuser le virement {pending.reference} ?" in html
    assert "Aucun virement reçu</textarea>" in html and f'value="{back}"' in html
    short = staff_client.post(url, data={"reason": "Non", "confirm": "1", "retour": back})
    assert short.status_code == 422 and "5 caractères" in short.get_data(as_text=True)
    done = staff_client.post(url, data={"reason": "Aucun virement reçu", "confirm": "1", "retour": back})
    assert done.status_code == 303 and done.headers["Location"] == back
    db.session.refresh(pending)
    assert pending.status is PaymentStatus.FAILED
