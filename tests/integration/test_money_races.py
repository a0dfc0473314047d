"""Money state changes under 50 concurrent attempts, on committed data (DESIGN.md rule 4).

Each attempt runs as its view would: in its own app context and session, the row it acts on
read first where the view reads it first, committed on success, a ServiceError a refusal.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.billing import (
    Entitlement,
    Invoice,
    InvoiceAccessToken,
    InvoiceEvent,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from nexus.models.common import Role
from nexus.models.credits import CreditLot
from nexus.models.identity import User
from nexus.models.notifications import Notification, OutboxEmail
from nexus.services import billing, credits, invoice_links, invoices
from tests import factories
from tests.helpers import FIFTY, at_once, refusals, user
from tests.people import ASSISTANTE, PARENT, YASMINE

DECLARED_ALREADY = (
    "Un virement pour cette commande est déjà en attente de validation. "
    "Nous vous prévenons dès qu'il est validé."
)
SENT_THREE_TIMES = "Cette facture a déjà été envoyée 3 fois en 24 heures. Réessayez demain."


def _count(*where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).where(*where)) or 0


def _audit_lines(action: str, object_id: int) -> int:
    return _count(AuditLog.action == action, AuditLog.object_id == object_id)


def _outbox(template: str, to: str) -> int:
    return _count(OutboxEmail.template == template, OutboxEmail.to_email == to)


def _events(invoice_id: int, kind: str) -> int:
    return _count(InvoiceEvent.invoice_id == invoice_id, InvoiceEvent.kind == kind)


def _staff_members() -> int:
    return _count(User.role.in_([Role.ADMIN, Role.ASSISTANTE]), User.is_active)


# -- declared transfers ------------------------------------------------------------------------


@pytest.mark.committed
def test_fifty_concurrent_rejections_of_one_transfer_reject_it_once(app):
    with app.app_context():
        parent = user(PARENT)
        yasmine = factories.student(YASMINE)
        order = billing.build_order(parent, yasmine.id, "HYBRIDE", "MATHEMATIQUES")
        payment_id = billing.declare_transfer(parent, order).id
        staff_id = user(ASSISTANTE).id
        parent_id = parent.id
        db.session.commit()

    def reject(_: int) -> int:
        shown = db.session.get_one(Payment, payment_id)  # the view loads the row first (404 if unknown)
        staff = db.session.get_one(User, staff_id)
        rejected = billing.reject(payment_id, staff, "Virement introuvable sur le relevé")
        assert rejected is shown
        return rejected.id

    results = at_once(app, reject)

    refused = refusals(results)
    assert len(refused) == FIFTY - 1
    assert all(isinstance(r, billing.AlreadyProcessed) for r in refused)
    assert {r.message for r in refused} == {"Ce paiement a déjà été traité."}
    assert [r for r in results if r not in refused] == [payment_id]
    with app.app_context():
        payment = db.session.get_one(Payment, payment_id)
        assert payment.status is PaymentStatus.FAILED
        assert payment.rejection_reason == "Virement introuvable sur le relevé"
        assert payment.processed_by_id == staff_id
        assert _outbox("payment_rejected", PARENT) == 1
        assert _count(Notification.user_id == parent_id, Notification.kind == "PAYMENT_REJECTED") == 1
        assert _audit_lines("payment.reject", payment_id) == 1
        assert _count(Entitlement.payment_id == payment_id) == 0
        assert _count(Invoice.payment_id == payment_id) == 0


@pytest.mark.committed
def test_fifty_concurrent_declarations_of_one_order_record_one_pending_transfer(app):
    with app.app_context():
        parent_id = user(PARENT).id
        student_id = factories.student(YASMINE).id
        staff_members = _staff_members()
        notices_before = _count(Notification.kind == "BANK_TRANSFER_DECLARED")

    def declare(_: int) -> int:
        parent = db.session.get_one(User, parent_id)
        order = billing.build_order(parent, student_id, "HYBRIDE", "MATHEMATIQUES")
        return billing.declare_transfer(parent, order).id

    results = at_once(app, declare)

    refused = refusals(results)
    assert len(refused) == FIFTY - 1
    assert {r.message for r in refused} == {DECLARED_ALREADY}
    with app.app_context():
        payments = db.session.scalars(
            select(Payment).where(Payment.student_id == student_id, Payment.offer_code == "HYBRIDE")
        ).all()
        assert [p.id for p in payments] == [r for r in results if r not in refused]
        assert payments[0].status is PaymentStatus.PENDING
        assert payments[0].amount_millimes == 450_000
        assert _audit_lines("payment.declared", payments[0].id) == 1
        notices = _count(Notification.kind == "BANK_TRANSFER_DECLARED") - notices_before
        assert notices == staff_members  # one notice per staff member, not fifty
        # The family may still pay the order once staff have answered: the next declaration
        # after a rejection is a new pending transfer, with a new reference.
        billing.reject(payments[0].id, user(ASSISTANTE), "Virement introuvable sur le relevé")
        parent = db.session.get_one(User, parent_id)
        again = billing.declare_transfer(
            parent, billing.build_order(parent, student_id, "HYBRIDE", "MATHEMATIQUES")
        )
        assert again.status is PaymentStatus.PENDING and again.reference != payments[0].reference
        db.session.rollback()


# -- invoices ------------------------------------------------------------------------------------


def _sent_invoice() -> tuple[int, int, int]:
    """A SENT invoice for Yasmine's parent (committed): its id, total, and the staff member's id."""
    parent = user(PARENT)
    staff = user(ASSISTANTE)
    invoice = invoices.create(
        parent.full_name,
        [invoices.Line("Séance individuelle de mathématiques", 2, 60_000)],
        status=InvoiceStatus.SENT,
        actor_id=staff.id,
        customer_email=parent.email,
        beneficiary_id=parent.id,
        student_id=factories.student(YASMINE).id,
    )
    db.session.commit()
    return invoice.id, invoice.total_millimes, staff.id


def _grants_of(student_id: int) -> tuple[int, int, Decimal]:
    return (
        _count(Entitlement.student_id == student_id),
        _count(CreditLot.student_id == student_id),
        credits.balance(student_id),
    )


@pytest.mark.committed
def test_fifty_concurrent_marks_as_paid_pay_the_invoice_once(app):
    with app.app_context():
        invoice_id, total, staff_id = _sent_invoice()
        student_id = factories.student(YASMINE).id
        grants_before = _grants_of(student_id)

    def mark_paid(_: int) -> str:
        shown = db.session.get_one(Invoice, invoice_id)  # read before the lock, as a view may
        staff = db.session.get_one(User, staff_id)
        invoice = invoices.change_status(
            invoice_id,
            InvoiceStatus.PAID,
            staff,
            method=PaymentMethod.BANK_TRANSFER,
            paid_amount_millimes=total,
            reference="VIR-2030-0042",
        )
        assert invoice is shown
        return invoice.status.value

    results = at_once(app, mark_paid)

    # The same target again changes nothing and is no error (a double click is not refused).
    assert results == ["PAID"] * FIFTY
    with app.app_context():
        invoice = db.session.get_one(Invoice, invoice_id)
        assert invoice.status is InvoiceStatus.PAID
        assert invoice.paid_amount_millimes == total
        assert invoice.payment_reference == "VIR-2030-0042"
        assert _events(invoice_id, "INVOICE_PAID") == 1
        assert _events(invoice_id, "TOKENS_REVOKED") == 1
        assert _audit_lines("invoice.status", invoice_id) == 1
        assert _grants_of(student_id) == grants_before  # nothing granted, nothing twice


@pytest.mark.committed
def test_fifty_concurrent_cancellations_cancel_the_invoice_once(app):
    with app.app_context():
        invoice_id, _, staff_id = _sent_invoice()
        student_id = factories.student(YASMINE).id
        grants_before = _grants_of(student_id)

    def cancel(_: int) -> str:
        shown = db.session.get_one(Invoice, invoice_id)  # read before the lock, as a view may
        staff = db.session.get_one(User, staff_id)
        invoice = invoices.change_status(
            invoice_id, InvoiceStatus.CANCELLED, staff, reason="Facture émise en double"
        )
        assert invoice is shown
        return invoice.status.value

    results = at_once(app, cancel)

    assert results == ["CANCELLED"] * FIFTY
    with app.app_context():
        invoice = db.session.get_one(Invoice, invoice_id)
        assert invoice.status is InvoiceStatus.CANCELLED
        assert invoice.cancel_reason == "Facture émise en double"
        assert _events(invoice_id, "INVOICE_CANCELLED") == 1
        assert _events(invoice_id, "TOKENS_REVOKED") == 1
        assert _audit_lines("invoice.status", invoice_id) == 1
        assert _grants_of(student_id) == grants_before


@pytest.mark.committed
def test_fifty_concurrent_sends_of_an_invoice_link_send_three(app):
    with app.app_context():
        invoice_id, _, staff_id = _sent_invoice()

    def send(_: int) -> int:
        shown = db.session.get_one(Invoice, invoice_id)  # read before the lock, as a view may
        staff = db.session.get_one(User, staff_id)
        sent = invoice_links.send_link(invoice_id, staff)
        assert sent is shown
        return sent.id

    results = at_once(app, send)

    refused = refusals(results)
    assert len(refused) == FIFTY - invoice_links.MAX_SENDS_PER_DAY
    assert {r.message for r in refused} == {SENT_THREE_TIMES}
    with app.app_context():
        assert _outbox("invoice_link", PARENT) == invoice_links.MAX_SENDS_PER_DAY
        assert _events(invoice_id, "INVOICE_SENT_EMAIL") == invoice_links.MAX_SENDS_PER_DAY
        assert _count(InvoiceAccessToken.invoice_id == invoice_id) == invoice_links.MAX_SENDS_PER_DAY
