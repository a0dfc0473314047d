"""Card payments reconciled with ClicToPay (a local fake over HTTP): the job, a new attempt at
the same order, staff's check, and the family's return crossing the job, exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.jobs.billing import reconcile_card_payments
from nexus.jobs.schedule import PERIODIC
from nexus.models.audit import AuditLog
from nexus.models.billing import Invoice, Payment, PaymentStatus
from nexus.models.notifications import Notification, OutboxEmail
from nexus.services import ServiceError, billing, clictopay, credits, utcnow
from tests import factories
from tests.conftest import CLOCK_START, travel
from tests.fakes.clictopay import PASSWORD, USERNAME
from tests.helpers import ASSISTANTE, HX, PARENT, YASMINE, at_once, html, user


def order(code: str = "CREDITS_5") -> billing.Order:
    return billing.build_order(user(PARENT), factories.student(YASMINE).id, code, None)


def started(code: str = "CREDITS_5") -> tuple[Payment, str]:
    """A card payment sent to the gateway, the family still on its page: (payment, orderId)."""
    url = clictopay.start(user(PARENT), order(code))
    order_id = url.rsplit("=", 1)[1]
    payment = db.session.scalar(select(Payment).where(Payment.external_id == order_id))
    return payment, order_id


def later(minutes: float) -> travel:
    return travel(CLOCK_START + timedelta(minutes=minutes))


def fresh(payment: Payment) -> Payment:
    return db.session.get_one(Payment, payment.id, populate_existing=True)


def invoices_of(payment: Payment) -> int:
    return db.session.scalar(select(func.count()).where(Invoice.payment_id == payment.id)) or 0


def approved_emails() -> int:
    stmt = select(func.count()).where(
        OutboxEmail.template == "payment_approved", OutboxEmail.to_user_id == user(PARENT).id
    )
    return db.session.scalar(stmt) or 0


def audits(action: str, payment: Payment) -> list[AuditLog]:
    stmt = select(AuditLog).where(AuditLog.action == action, AuditLog.object_id == payment.id)
    return list(db.session.scalars(stmt))


def test_the_job_runs_every_five_minutes_at_most():
    assert {f.__name__: s for f, s in PERIODIC}["reconcile_card_payments"] <= 300


# -- the job ----------------------------------------------------------------------------------------


def test_a_card_payment_is_not_asked_about_in_its_first_15_minutes(card):
    payment, order_id = started()
    card.set_status(order_id, "paid")
    with later(14):
        assert reconcile_card_payments() == 0
        assert payment.id not in clictopay.card_payments_to_check()
    assert card.asked.get(order_id, 0) == 0
    assert fresh(payment).is_pending
    with later(16):
        assert clictopay.card_payments_to_check() == [payment.id]


def test_the_job_fulfils_a_paid_order_whose_family_never_came_back(card):
    payment, order_id = started()
    card.set_status(order_id, "paid")
    with later(16):
        assert reconcile_card_payments() == 1
        assert reconcile_card_payments() == 0
    payment = fresh(payment)
    assert payment.status is PaymentStatus.COMPLETED
    assert payment.checked_at is not None
    assert credits.balance(payment.student_id) == 5
    assert invoices_of(payment) == 1
    assert approved_emails() == 1
    assert card.asked[order_id] == 1  # settled: never asked again
    assert len(audits("payment.approve", payment)) == 1


@pytest.mark.parametrize("status", [3, 4, 6])
def test_the_job_fails_a_refused_order_with_the_banks_words(card, status):
    payment, order_id = started()
    card.set_status(order_id, status, description="Carte expirée")
    with later(16):
        assert reconcile_card_payments() == 1
    payment = fresh(payment)
    assert payment.status is PaymentStatus.FAILED
    assert payment.rejection_reason == "Carte expirée"
    assert credits.balance(payment.student_id) == 0
    assert invoices_of(payment) == 0
    assert len(audits("payment.card_failed", payment)) == 1
    told = db.session.scalars(
        select(Notification).where(
            Notification.user_id == payment.payer_id, Notification.kind == "PAYMENT_FAILED"
        )
    ).all()
    assert [n.title for n in told] == ["Paiement par carte non abouti"]  # the family left before the answer


def test_an_unpaid_order_is_asked_every_ten_minutes_then_expires_after_an_hour(card):
    payment, order_id = started()
    with later(16):
        assert reconcile_card_payments() == 0
    assert fresh(payment).is_pending
    assert fresh(payment).checked_at is not None
    with later(24):  # asked 8 minutes ago: not again yet
        reconcile_card_payments()
    assert card.asked[order_id] == 1
    with later(27):
        reconcile_card_payments()
    assert card.asked[order_id] == 2
    assert fresh(payment).is_pending
    assert clictopay.card_status_label(fresh(payment)) == "Enregistrée, non payée"
    with later(61):
        assert reconcile_card_payments() == 1
    payment = fresh(payment)
    assert payment.status is PaymentStatus.FAILED
    assert "expirée" in payment.rejection_reason


def test_a_3d_secure_step_in_progress_is_left_pending(card):
    payment, order_id = started()
    card.set_status(order_id, clictopay.ACS_STARTED)
    with later(16):
        assert reconcile_card_payments() == 0
    assert fresh(payment).is_pending


@pytest.mark.parametrize("failure", ["error", "down"])
def test_a_gateway_error_leaves_the_payment_pending_never_failed(card, failure, caplog):
    payment, order_id = started()
    card.set_status(order_id, "paid")
    card.failure = failure
    with later(16):
        assert reconcile_card_payments() == 0
    assert fresh(payment).is_pending
    assert fresh(payment).checked_at is not None  # asked: not again for ten minutes
    assert "left pending" in caplog.text
    card.failure = None
    with later(27):
        assert reconcile_card_payments() == 1
    assert fresh(payment).status is PaymentStatus.COMPLETED


def test_a_gateway_that_does_not_answer_ends_the_run_early(card):
    orders = [started(code)[1] for code in ("CREDITS_5", "CREDITS_10", "CREDITS_20", "GRAND_ORAL")]
    card.failure = "down"
    with later(16):
        assert reconcile_card_payments() == 0
    assert sum(card.asked.get(o, 0) for o in orders) == 3  # the fourth waits for the next run


def test_an_order_the_gateway_does_not_know_is_failed(card):
    payment, order_id = started()
    card.forget(order_id)
    with later(16):
        assert reconcile_card_payments() == 1
    assert fresh(payment).status is PaymentStatus.FAILED
    assert fresh(payment).rejection_reason == "Commande inconnue de la banque"


def test_a_paid_amount_that_differs_is_not_a_payment(card):
    payment, order_id = started()
    card.set_status(order_id, "paid")
    card.orders[order_id].amount = 1_000
    with later(16):
        reconcile_card_payments()
    assert fresh(payment).status is PaymentStatus.FAILED
    assert credits.balance(payment.student_id) == 0


def test_the_familys_late_return_after_the_job_changes_nothing(card):
    payment, order_id = started()
    card.set_status(order_id, "paid")
    with later(16):
        reconcile_card_payments()
        again = clictopay.confirm(order_id, user(PARENT))
    assert again.status is PaymentStatus.COMPLETED
    assert invoices_of(payment) == 1
    assert approved_emails() == 1


def test_a_return_during_3d_secure_stays_pending_and_says_so(card):
    payment, order_id = started()
    card.set_status(order_id, clictopay.ACS_STARTED)
    with pytest.raises(ServiceError, match="en cours de vérification"):
        clictopay.confirm(order_id, user(PARENT))
    assert fresh(payment).is_pending


# -- a new attempt at the same order ---------------------------------------------------------------


def test_a_new_attempt_after_a_paid_one_fulfils_it_and_is_refused(card):
    payment, order_id = started()
    card.set_status(order_id, "paid")  # paid, but the family closed the tab before the return
    registered = len(card.orders)
    with pytest.raises(ServiceError, match="déjà été reçu"):
        clictopay.start(user(PARENT), order())
    assert fresh(payment).status is PaymentStatus.COMPLETED
    assert credits.balance(payment.student_id) == 5
    assert invoices_of(payment) == 1
    assert len(card.orders) == registered  # no second gateway order
    count = select(func.count()).where(Payment.student_id == payment.student_id)
    assert db.session.scalar(count) == 1


@pytest.mark.parametrize(
    ("status", "reason"), [("declined", "Fonds insuffisants"), ("registered", "abandonné")]
)
def test_a_new_attempt_asks_before_failing_the_earlier_one(card, status, reason):
    payment, order_id = started()
    card.set_status(order_id, status, description="Fonds insuffisants")
    clictopay.start(user(PARENT), order())
    assert card.asked[order_id] == 1
    earlier = fresh(payment)
    assert earlier.status is PaymentStatus.FAILED
    assert reason in earlier.rejection_reason
    pending = billing.pending_for(order())
    assert pending is not None and pending.id != payment.id


@pytest.mark.parametrize("failure", ["error", "down"])
def test_a_new_attempt_is_refused_when_the_gateway_cannot_say(card, failure):
    payment, _ = started()
    card.failure = failure
    with pytest.raises(ServiceError, match="indisponible"):
        clictopay.start(user(PARENT), order())
    assert fresh(payment).is_pending
    assert billing.pending_for(order()).id == payment.id


def test_a_new_attempt_waits_while_the_earlier_one_is_being_paid(card):
    payment, order_id = started()
    card.set_status(order_id, clictopay.ACS_STARTED)
    with pytest.raises(ServiceError, match="en cours"):
        clictopay.start(user(PARENT), order())
    assert fresh(payment).is_pending


def test_a_new_attempt_page_says_it_was_already_paid(card, client, auth):
    payment, order_id = started()
    card.set_status(order_id, "paid")
    auth.login(PARENT)
    form = {"eleve": str(payment.student_id), "offre": "CREDITS_5"}
    response = client.post("/dashboard/parent/paiement/carte", data=form, follow_redirects=True)
    assert "déjà été reçu" in html(response)
    assert fresh(payment).status is PaymentStatus.COMPLETED


# -- staff ------------------------------------------------------------------------------------------


def test_staff_see_pending_and_refused_card_payments_beside_transfers(card, client, auth):
    waiting, _ = started()
    refused, refused_id = started("CREDITS_10")
    card.set_status(refused_id, "declined", description="Carte refusée par l'émetteur")
    with later(16):
        reconcile_card_payments()
    auth.login(ASSISTANTE)
    page = html(client.get("/dashboard/assistante/paiements"))
    assert "Paiements par carte" in page and waiting.reference in page
    assert "Pas encore vérifié" in page or "Vérifié le" in page
    assert refused.reference not in page
    refused_page = html(client.get("/dashboard/assistante/paiements?carte=refuses"))
    assert refused.reference in refused_page and "Carte refusée par l'émetteur" in refused_page
    assert "ClicToPay : Refusée" in refused_page
    fragment = client.get(
        "/dashboard/assistante/paiements?carte=refuses", headers={**HX, "HX-Target": "card-payments"}
    )
    assert 'id="card-payments"' in html(fragment) and "<h1>" not in html(fragment)


def test_staff_check_with_the_bank_settles_the_row_and_is_audited(card, client, auth):
    payment, order_id = started()
    card.set_status(order_id, "paid")
    auth.login(ASSISTANTE)
    response = client.post(f"/dashboard/assistante/paiements/{payment.id}/verifier", headers=HX)
    assert response.status_code == 200
    row = html(response)
    assert f'id="card-payment-{payment.id}"' in row and "Payé : la banque le confirme" in row
    assert fresh(payment).status is PaymentStatus.COMPLETED
    line = audits("payment.card_checked", payment)
    assert len(line) == 1 and line[0].actor_id == user(ASSISTANTE).id
    assert line[0].after["status"] == "COMPLETED"
    again = client.post(f"/dashboard/assistante/paiements/{payment.id}/verifier", headers=HX)
    assert again.status_code == 200 and "déjà réglé" in html(again)
    assert invoices_of(payment) == 1


def test_staff_check_when_the_bank_does_not_answer(card, client, auth):
    payment, _ = started()
    card.failure = "down"
    auth.login(ASSISTANTE)
    response = client.post(f"/dashboard/assistante/paiements/{payment.id}/verifier", headers=HX)
    assert response.status_code == 422
    assert "ne répond pas" in html(response)
    assert fresh(payment).is_pending
    plain = client.post(f"/dashboard/assistante/paiements/{payment.id}/verifier")
    assert plain.status_code == 303


def test_staff_check_is_for_card_payments_and_staff_only(card, client, auth, login, app):
    payment, _ = started()
    transfer = billing.declare_transfer(user(PARENT), order("CREDITS_10"))
    auth.login(ASSISTANTE)
    assert client.post(f"/dashboard/assistante/paiements/{transfer.id}/verifier").status_code == 404
    parent = login(app.test_client(), PARENT)
    assert parent.post(f"/dashboard/assistante/paiements/{payment.id}/verifier").status_code in (403, 404)
    assert fresh(payment).checked_at is None


# -- the family's return and the job, at the same time ----------------------------------------------


@pytest.mark.committed
def test_fifty_returns_and_checks_at_once_fulfil_once(app, gateway):
    with app.app_context():
        app.config.update(
            CLICTOPAY_URL=gateway.api_url, CLICTOPAY_USERNAME=USERNAME, CLICTOPAY_PASSWORD=PASSWORD
        )
        gateway.failure = None
        payment, order_id = started()
        payment_id, student_id, payer = payment.id, payment.student_id, user(PARENT)
        db.session.commit()
        parent_id = payer.id
    gateway.set_status(order_id, "paid")

    def attempt(i: int) -> str:
        if i % 2:
            return clictopay.reconcile(payment_id).payment.status.value
        return clictopay.confirm(order_id).status.value

    try:
        results = at_once(app, attempt)
    finally:
        app.config.update(CLICTOPAY_URL=None, CLICTOPAY_USERNAME=None, CLICTOPAY_PASSWORD=None)
    assert results == ["COMPLETED"] * 50
    with app.app_context():
        assert credits.balance(student_id) == 5
        assert db.session.scalar(select(func.count()).where(Invoice.student_id == student_id)) == 1
        emails = select(func.count()).where(
            OutboxEmail.template == "payment_approved", OutboxEmail.to_user_id == parent_id
        )
        assert db.session.scalar(emails) == 1
        approvals = select(func.count()).where(
            AuditLog.action == "payment.approve", AuditLog.object_id == payment_id
        )
        assert db.session.scalar(approvals) == 1
        assert db.session.get_one(Payment, payment_id).processed_at <= utcnow()


@pytest.mark.committed
def test_fifty_new_attempts_returns_and_checks_of_a_paid_order_fulfil_it_once(app, gateway):
    """The family paid, closed the tab, and comes back to pay again while the job runs."""
    with app.app_context():
        app.config.update(
            CLICTOPAY_URL=gateway.api_url, CLICTOPAY_USERNAME=USERNAME, CLICTOPAY_PASSWORD=PASSWORD
        )
        gateway.failure = None
        payment, order_id = started()
        payment_id, student_id = payment.id, payment.student_id
        db.session.commit()
    gateway.set_status(order_id, "paid")
    registered = len(gateway.orders)

    def attempt(i: int) -> str:
        if i % 3 == 0:
            return clictopay.start(user(PARENT), order())
        if i % 3 == 1:
            return clictopay.reconcile(payment_id).payment.status.value
        return clictopay.confirm(order_id).status.value

    try:
        results = at_once(app, attempt)
    finally:
        app.config.update(CLICTOPAY_URL=None, CLICTOPAY_USERNAME=None, CLICTOPAY_PASSWORD=None)
    starts, settles = results[0::3], [r for i, r in enumerate(results) if i % 3]
    assert settles == ["COMPLETED"] * len(settles)
    # A start that found the earlier attempt pending learnt it was paid and was refused; one that
    # came after the job had settled it is a new purchase of the pack (a later one abandons it).
    new = [r for r in starts if isinstance(r, str)]
    refused = [r.message for r in starts if isinstance(r, ServiceError)]
    assert len(gateway.orders) == registered + len(new)
    assert all("déjà été reçu" in m or "déjà en attente" in m for m in refused), set(refused)
    with app.app_context():
        assert credits.balance(student_id) == 5
        assert db.session.scalar(select(func.count()).where(Invoice.payment_id == payment_id)) == 1
        approvals = select(func.count()).where(
            AuditLog.action == "payment.approve", AuditLog.object_id == payment_id
        )
        assert db.session.scalar(approvals) == 1
        assert db.session.scalar(select(func.count()).where(Payment.student_id == student_id)) == 1 + len(new)
        pending = select(func.count()).where(Payment.student_id == student_id, Payment.is_pending)
        assert db.session.scalar(pending) == min(len(new), 1)


def test_the_order_page_offers_the_card_again_while_an_attempt_waits_for_the_bank(card, client, auth):
    """A family that left the gateway is not told of a transfer, nor blocked: the card form stays
    (a new attempt asks the bank about the earlier one first)."""
    payment, _ = started()
    auth.login(PARENT)
    page = html(client.get(f"/dashboard/parent/paiement?offre=CREDITS_5&eleve={payment.student_id}"))
    assert "Un paiement par carte de cette commande" in page
    assert payment.reference in page
    assert "Un virement pour cette commande" not in page
    assert "par carte</button>" in page
    assert "J'ai effectué le virement" not in page  # one pending payment per order: the card only
