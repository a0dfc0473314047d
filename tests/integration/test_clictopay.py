"""Card payment against a local fake of the ClicToPay API, over HTTP."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.billing import Invoice, Payment, PaymentStatus
from nexus.models.identity import User
from nexus.services import ServiceError, billing, clictopay, credits
from tests import factories
from tests.fakes.clictopay import PASSWORD, USERNAME
from tests.people import PARENT, YASMINE


def order(code="CREDITS_5"):
    parent = db.session.scalar(select(User).where(User.email == PARENT))
    yasmine = factories.student(YASMINE)
    return parent, billing.build_order(parent, yasmine.id, code, None)


def test_card_is_offered_only_when_configured(app, card, monkeypatch):
    assert clictopay.enabled()
    monkeypatch.setitem(app.config, "CLICTOPAY_URL", None)
    assert not clictopay.enabled()


def test_register_sends_millimes_in_tnd_and_returns_the_gateway_page(card):
    parent, wanted = order()
    url = clictopay.start(parent, wanted)
    assert url.startswith(f"http://127.0.0.1:{card.port}/payment/merchants/pay")
    gateway_order = next(iter(o for o in card.orders.values() if url.endswith(o.order_id)))
    assert gateway_order.amount == 300_000
    assert gateway_order.currency == "788"


def test_a_paid_order_is_fulfilled_once_however_many_returns(card):
    parent, wanted = order()
    url = clictopay.start(parent, wanted)
    order_id = url.rsplit("=", 1)[1]
    card.pay(order_id)
    first = clictopay.confirm(order_id)
    again = clictopay.confirm(order_id)
    assert first.status is PaymentStatus.COMPLETED
    assert again.id == first.id
    assert credits.balance(wanted.student.id) == 5
    assert db.session.scalar(select(func.count()).where(Invoice.payment_id == first.id)) == 1


def test_the_query_string_is_not_trusted(card):
    """Returning to the site without paying does not fulfil anything."""
    parent, wanted = order()
    order_id = clictopay.start(parent, wanted).rsplit("=", 1)[1]
    payment = clictopay.confirm(order_id)  # the gateway still says "registered, not paid"
    assert payment.status is PaymentStatus.FAILED
    assert credits.balance(wanted.student.id) == 0


def test_declined_card_keeps_the_reason(card):
    parent, wanted = order()
    order_id = clictopay.start(parent, wanted).rsplit("=", 1)[1]
    card.pay(order_id, status=6)
    payment = clictopay.confirm(order_id)
    assert payment.status is PaymentStatus.FAILED
    assert payment.rejection_reason == "Paiement refusé"


def test_an_abandoned_card_attempt_does_not_block_a_new_one(card):
    parent, wanted = order()
    clictopay.start(parent, wanted)
    clictopay.start(parent, wanted)
    statuses = sorted(
        s.value
        for s in db.session.scalars(select(Payment.status).where(Payment.student_id == wanted.student.id))
    )
    assert statuses == ["FAILED", "PENDING"]


def test_gateway_down_gives_a_french_message(app, card, monkeypatch):
    monkeypatch.setitem(app.config, "CLICTOPAY_URL", "http://127.0.0.1:9/payment/rest")
    parent, wanted = order()
    with pytest.raises(ServiceError, match="indisponible"):
        clictopay.start(parent, wanted)


def test_unknown_order_id_is_not_found(card):
    with pytest.raises(LookupError):
        clictopay.confirm("not-an-order")


@pytest.mark.committed
def test_fifty_concurrent_returns_fulfil_once(app, gateway):
    with app.app_context():
        app.config.update(
            CLICTOPAY_URL=gateway.api_url, CLICTOPAY_USERNAME=USERNAME, CLICTOPAY_PASSWORD=PASSWORD
        )
        parent, wanted = order()
        order_id = clictopay.start(parent, wanted).rsplit("=", 1)[1]
        student_id = wanted.student.id
        db.session.commit()
    gateway.pay(order_id)

    def attempt(_: int) -> str:
        with app.app_context():
            try:
                payment = clictopay.confirm(order_id)
                db.session.commit()
                return payment.status.value
            finally:
                db.session.remove()

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(attempt, range(50)))
    finally:
        app.config.update(CLICTOPAY_URL=None, CLICTOPAY_USERNAME=None, CLICTOPAY_PASSWORD=None)
    assert set(results) == {"COMPLETED"}
    with app.app_context():
        assert credits.balance(student_id) == 5
        assert db.session.scalar(select(func.count()).where(Invoice.student_id == student_id)) == 1
