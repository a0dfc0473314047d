"""Numbers typed into money and credit forms are parsed strictly (issue 8, item 4).

Python's Decimal() and int() accept far more than a person types: NaN, Infinity, exponents,
'٣' or '１'. Every such input gets a French message next to its field, never a 500, and
nothing is written.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.billing import Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from nexus.models.credits import CreditEntry, CreditLot, CreditRequest
from nexus.models.notifications import Notification
from nexus.numbers import parse_count, parse_credits, parse_tnd
from nexus.services import ServiceError, credits
from tests.helpers import user
from tests.people import ASSISTANTE, PARENT

# What Decimal()/int()/float() accept but nobody types, and what overflows or cannot be stored.
ODD = [
    "1e309",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "sNaN",
    "1e-400",
    "2e1",
    "²",
    "٣",
    "１",
    "３,５",
    "9" * 5000,
    "1" + "0" * 30,
    "0x10",
    "1_0",
    "+3",
    "3\x00",
    "",
    " ",
]
ODD_IDS = [repr(raw)[:20] for raw in ODD]
# A NUL byte in any form field is refused before the view runs (400), so the views get the rest.
TYPED = [raw for raw in ODD if "\x00" not in raw]
TYPED_IDS = [repr(raw)[:20] for raw in TYPED]


def count(*where) -> int:
    return db.session.scalar(select(func.count()).where(*where))


# -- the parsers ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ODD, ids=ODD_IDS)
def test_the_parsers_refuse_what_nobody_types(raw):
    assert parse_credits(raw) is None
    assert parse_tnd(raw) is None
    assert parse_count(raw, 1, 100) is None


@pytest.mark.parametrize(
    ("raw", "credits_value", "millimes"),
    [
        ("2", Decimal(2), 2000),
        ("1,5", Decimal("1.5"), 1500),
        (" 1.25 ", Decimal("1.25"), 1250),
        ("0", Decimal(0), 0),
        ("60,500", None, 60_500),  # three decimals: millimes, not hundredths of a credit
        ("1 080,250", None, 1_080_250),
        ("1\u202f080", None, 1_080_000),
        ("1,2345", None, None),
        ("-2", None, None),
        ("12345678", None, None),
    ],
)
def test_the_parsers_read_what_people_type(raw, credits_value, millimes):
    assert parse_credits(raw) == credits_value
    assert parse_tnd(raw) == millimes


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("100", 100), ("007", 7), ("0", None), ("101", None)])
def test_counts_are_bounded(raw, value):
    assert parse_count(raw, 1, 100) == value


# -- the parent's credit request ------------------------------------------------------------


@pytest.mark.parametrize("raw", TYPED, ids=TYPED_IDS)
def test_a_parents_credit_request_with_an_odd_number(client, login, yasmine, raw):
    login(client, PARENT)
    response = client.post(
        "/dashboard/parent/credits/demande", data={"eleve": yasmine.id, "amount": raw, "reason": "Bac"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and 'id="amount-error"' in html
    assert "entre 1 et 20" in html
    assert 'value="Bac"' in html  # the rest of the form is kept
    assert count(CreditRequest.student_id == yasmine.id) == 0
    assert count(Notification.kind == "CREDIT_REQUEST") == 0


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("1e309"),
                                    Decimal("1e-400"), Decimal("2.555")])
def test_the_credit_services_refuse_odd_decimals(yasmine, amount):
    parent, staff = user(PARENT), user(ASSISTANTE)
    credits.manual_grant(yasmine.id, Decimal(3), "Geste commercial", staff.id)
    for call in (
        lambda: credits.request_credits(parent.id, yasmine.id, amount, None),
        lambda: credits.manual_grant(yasmine.id, amount, "Geste commercial", staff.id),
        lambda: credits.manual_deduct(yasmine.id, amount, "Erreur de saisie", staff.id),
    ):
        with pytest.raises(ServiceError) as refused:
            call()
        assert refused.value.field == "amount"
    assert credits.balance(yasmine.id) == 3
    assert count(CreditRequest.student_id == yasmine.id) == 0


# -- the staff credit desk -------------------------------------------------------------------


def _adjust(client, student_id, **data):
    form = {"eleve": student_id, "amount": "2", "reason": "Geste commercial", "days": "30", **data}
    return client.post("/dashboard/assistante/credits/ajustement", data=form)


def _nothing_written(student_id):
    assert count(CreditLot.student_id == student_id) == 0
    assert count(CreditEntry.student_id == student_id) == 0
    assert count(AuditLog.action.like("credits.%")) == 0


@pytest.mark.parametrize("direction", ["ajouter", "retirer"])
@pytest.mark.parametrize("raw", TYPED, ids=TYPED_IDS)
def test_a_staff_adjustment_with_an_odd_amount(client, login, yasmine, raw, direction):
    login(client, ASSISTANTE)
    response = _adjust(client, yasmine.id, amount=raw, direction=direction)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="amount-error"' in html and "nombre de crédits" in html
    assert 'value="Geste commercial"' in html
    _nothing_written(yasmine.id)


@pytest.mark.parametrize("raw", [*TYPED, "0", "731", "-1"], ids=[*TYPED_IDS, "0", "731", "-1"])
def test_a_staff_grant_with_an_odd_validity(client, login, yasmine, raw):
    login(client, ASSISTANTE)
    response = _adjust(client, yasmine.id, days=raw)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="days-error"' in html and "validité" in html
    _nothing_written(yasmine.id)


def test_a_staff_adjustment_with_a_short_reason_says_so_next_to_it(client, login, yasmine):
    login(client, ASSISTANTE)
    response = _adjust(client, yasmine.id, reason="Trop")
    assert response.status_code == 422
    assert 'id="reason-error"' in response.get_data(as_text=True)
    _nothing_written(yasmine.id)


# -- invoices --------------------------------------------------------------------------------


def _new_invoice(client, **data):
    form = {
        "customer_name": "Famille Odd",
        "label_0": "Stage intensif",
        "qty_0": "2",
        "price_0": "300",
        "discount": "0",
        **data,
    }
    return client.post("/dashboard/admin/factures/nouvelle", data=form)


@pytest.mark.parametrize("field", ["qty_0", "price_0", "discount"])
@pytest.mark.parametrize("raw", TYPED[:-2], ids=TYPED_IDS[:-2])  # blank is "no discount", "1 line"
def test_an_invoice_with_an_odd_number(client, login, field, raw):
    login(client, ASSISTANTE)
    response = _new_invoice(client, **{field: raw})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and 'value="Famille Odd"' in html
    assert count(Invoice.customer_name == "Famille Odd") == 0


@pytest.mark.parametrize("raw", TYPED, ids=TYPED_IDS)
def test_marking_an_invoice_paid_with_an_odd_amount(client, login, raw):
    login(client, ASSISTANTE)
    created = _new_invoice(client, qty_0="1", price_0="3")
    assert created.status_code == 303
    url = created.headers["Location"]
    assert client.post(f"{url}/statut", data={"confirm": "1", "target": "SENT"}).status_code == 303
    paid = {"confirm": "1", "target": "PAID", "method": "CASH", "paid_amount": raw}
    response = client.post(f"{url}/statut", data=paid)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="paid_amount-error"' in html and "égal au total" in html
    invoice = db.session.scalar(select(Invoice).where(Invoice.customer_name == "Famille Odd"))
    assert invoice.status is InvoiceStatus.SENT


# -- the card gateway's answer ---------------------------------------------------------------


@pytest.mark.parametrize("amount", ["1e309", "NaN", "300000.0", 300000.0, True, None, "٣٠٠٠٠٠", "9" * 5000])
def test_an_odd_amount_from_the_gateway_is_not_a_payment(app, monkeypatch, yasmine, amount):
    """Only the exact amount, as an integer, settles a card payment; anything else fails it."""
    from nexus.services import billing, clictopay

    parent = user(PARENT)
    order = billing.build_order(parent, yasmine.id, "CREDITS_5", None)
    payment = billing.create_pending(parent, order, PaymentMethod.CLICTOPAY, billing.new_reference())
    payment.external_id = "odd-order"
    answer = {"orderStatus": 2, "errorCode": "0", "amount": amount, "currency": "788"}
    monkeypatch.setattr(clictopay, "_call", lambda method, params: answer)
    assert clictopay.confirm("odd-order").status is PaymentStatus.FAILED
    assert credits.balance(yasmine.id) == 0


# -- ids typed in money forms ------------------------------------------------------------------


def _exotic(number: int) -> str:
    """The same id in full-width digits ('１２'): int() reads it, nobody types it."""
    return "".join(chr(ord("０") + int(d)) for d in str(number))


def test_an_id_in_exotic_digits_is_no_id(client, login, yasmine):
    login(client, PARENT)
    eleve = _exotic(yasmine.id)
    request = client.post("/dashboard/parent/credits/demande", data={"eleve": eleve, "amount": "2"})
    transfer = client.post(
        "/dashboard/parent/paiement/virement", data={"eleve": eleve, "offre": "CREDITS_5"}
    )
    assert request.status_code == transfer.status_code == 404
    assert count(CreditRequest.student_id == yasmine.id) == 0
    assert count(Payment.student_id == yasmine.id) == 0


# -- single-line texts of the money forms (issue 8, item 5 class): no line break ------------------

ONE_LINE = "Ce champ ne peut contenir ni retour à la ligne ni caractère invisible de contrôle."
BROKEN = "Aucun virement\r\nBcc: x@example.tn"


def test_a_parents_credit_request_reason_stays_on_one_line(client, login, yasmine):
    login(client, PARENT)
    response = client.post(
        "/dashboard/parent/credits/demande", data={"eleve": yasmine.id, "amount": "2", "reason": BROKEN}
    )
    assert response.status_code == 422 and ONE_LINE in response.get_data(as_text=True)
    assert 'id="reason-error"' in response.get_data(as_text=True)
    assert count(CreditRequest.student_id == yasmine.id) == 0


def test_staff_reasons_stay_on_one_line(client, login, yasmine):
    parent = user(PARENT)
    request_row = credits.request_credits(parent.id, yasmine.id, Decimal(2), None)
    from nexus.services import billing

    payment = billing.declare_transfer(parent, billing.build_order(parent, yasmine.id, "CREDITS_5", None))
    login(client, ASSISTANTE)
    adjust = _adjust(client, yasmine.id, reason=BROKEN)
    assert adjust.status_code == 422 and 'id="reason-error"' in adjust.get_data(as_text=True)
    hx = {"HX-Request": "true"}
    decide_url = f"/dashboard/assistante/credits/demandes/{request_row.id}/refuser"
    decide = client.post(decide_url, data={"reason": BROKEN, "confirm": "1"}, headers=hx)
    reject = client.post(
        f"/dashboard/assistante/paiements/{payment.id}/refuser",
        data={"reason": BROKEN, "confirm": "1"},
        headers=hx,
    )
    for response in (decide, reject):
        assert response.status_code == 422 and ONE_LINE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CreditRequest, request_row.id).status.value == "PENDING"
    assert db.session.get(Payment, payment.id).status is PaymentStatus.PENDING
    _nothing_written(yasmine.id)


def test_invoice_single_line_fields_stay_on_one_line(client, login):
    login(client, ASSISTANTE)
    address = _new_invoice(client, customer_address=BROKEN)
    assert address.status_code == 422 and 'id="customer_address-error"' in address.get_data(as_text=True)
    assert count(Invoice.customer_name == "Famille Odd") == 0
    url = _new_invoice(client).headers["Location"]
    cancel = client.post(f"{url}/statut", data={"confirm": "1", "target": "CANCELLED", "reason": BROKEN})
    assert cancel.status_code == 422 and 'id="reason-error"' in cancel.get_data(as_text=True)
    client.post(f"{url}/statut", data={"confirm": "1", "target": "SENT"})
    paid = {"confirm": "1", "target": "PAID", "method": "CASH", "paid_amount": "600", "reference": "R\n1"}
    reference = client.post(f"{url}/statut", data=paid)
    assert reference.status_code == 422 and 'id="reference-error"' in reference.get_data(as_text=True)
    invoice = db.session.scalar(select(Invoice).where(Invoice.customer_name == "Famille Odd"))
    assert invoice.status is InvoiceStatus.SENT


# -- over-long texts are refused, never cut silently nor failing on their column -------------------

LONG = "N" * 5000


def test_over_long_reasons_are_refused_next_to_the_field(client, login, yasmine):
    parent = user(PARENT)
    request_row = credits.request_credits(parent.id, yasmine.id, Decimal(2), None)
    from nexus.services import billing

    payment = billing.declare_transfer(parent, billing.build_order(parent, yasmine.id, "CREDITS_5", None))
    login(client, ASSISTANTE)
    adjust = _adjust(client, yasmine.id, reason=LONG)
    assert adjust.status_code == 422 and "caractères au plus" in adjust.get_data(as_text=True)
    hx = {"HX-Request": "true"}
    decide_url = f"/dashboard/assistante/credits/demandes/{request_row.id}/refuser"
    for url in (decide_url, f"/dashboard/assistante/paiements/{payment.id}/refuser"):
        response = client.post(url, data={"reason": LONG, "confirm": "1"}, headers=hx)
        assert response.status_code == 422 and "caractères au plus" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CreditRequest, request_row.id).status.value == "PENDING"
    assert db.session.get(Payment, payment.id).status is PaymentStatus.PENDING
    _nothing_written(yasmine.id)


def test_a_long_but_allowed_refusal_reason_reaches_the_parent(client, login, yasmine):
    """The parent's notice used to carry the reason in its 160-character title: a 500."""
    request_row = credits.request_credits(user(PARENT).id, yasmine.id, Decimal(2), None)
    login(client, ASSISTANTE)
    reason = "Motif détaillé " + "x" * 200
    response = client.post(
        f"/dashboard/assistante/credits/demandes/{request_row.id}/refuser",
        data={"reason": reason, "confirm": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    notice = db.session.scalar(select(Notification).where(Notification.kind == "CREDIT_REQUEST_DECIDED"))
    assert notice.body == reason


def test_a_parents_over_long_request_reason_is_refused(client, login, yasmine):
    login(client, PARENT)
    response = client.post(
        "/dashboard/parent/credits/demande", data={"eleve": yasmine.id, "amount": "2", "reason": LONG}
    )
    assert response.status_code == 422 and 'id="reason-error"' in response.get_data(as_text=True)
    assert count(CreditRequest.student_id == yasmine.id) == 0


@pytest.mark.parametrize(
    ("field", "limit"),
    [("customer_name", 160), ("customer_address", 300), ("label_0", 160), ("notes", 2000)],
)
def test_over_long_invoice_texts_are_refused(client, login, field, limit):
    login(client, ASSISTANTE)
    response = _new_invoice(client, **{field: "N" * (limit + 1)})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert "caractères au plus" in response.get_data(as_text=True)
    assert count(Invoice.customer_name.like("Famille Odd%")) == 0
    assert count(Invoice.customer_name.like("NNN%")) == 0
