"""The money path: orders priced by the server, transfers declared, approved once, invoiced."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.billing import Entitlement, Invoice, Payment, PaymentStatus, SubscriptionStatus
from nexus.models.catalog import Feature
from nexus.models.credits import CreditLot
from nexus.models.identity import User
from nexus.models.vault import UserDocument
from nexus.services import ServiceError, billing, command, credits, invoices
from tests import factories
from tests.people import ASSISTANTE, PARENT, PARENT2, SAMI, YASMINE


def user(email):
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def parent():
    return user(PARENT)


@pytest.fixture
def staff():
    return user(ASSISTANTE)


def declare(parent, student, code="HYBRIDE", subject="MATHEMATIQUES"):
    order = billing.build_order(parent, student.id, code, subject)
    return billing.declare_transfer(parent, order)


def test_order_is_priced_by_the_catalog(parent, yasmine):
    order = billing.build_order(parent, yasmine.id, "IMMERSION", "NSI")
    assert order.amount_millimes == 750_000
    assert order.label == "Immersion — ARIA NSI pour Yasmine"


def test_someone_elses_child_or_unknown_offer_is_not_found(parent):
    sami = factories.student(SAMI)
    with pytest.raises(LookupError):
        billing.build_order(parent, sami.id, "HYBRIDE", "NSI")
    with pytest.raises(LookupError):
        billing.build_order(parent, factories.student(YASMINE).id, "FREE_LUNCH", None)


def test_a_plan_needs_an_aria_subject_and_an_addon_needs_a_plan(parent, yasmine):
    with pytest.raises(ServiceError, match="matière"):
        billing.build_order(parent, yasmine.id, "HYBRIDE", None)
    with pytest.raises(ServiceError, match="formule active"):
        billing.build_order(parent, yasmine.id, "ARIA_MATIERE", "NSI")


def test_a_second_pending_declaration_of_the_same_order_is_refused(parent, yasmine):
    declare(parent, yasmine)
    with pytest.raises(ServiceError, match="déjà en attente"):
        declare(parent, yasmine)
    assert db.session.scalar(select(func.count()).where(Payment.student_id == yasmine.id)) == 1


def test_approval_grants_plan_entitlements_credits_invoice_and_mail(parent, staff, yasmine, run_jobs, smtp):
    payment = declare(parent, yasmine)
    billing.approve(payment.id, staff)
    db.session.commit()

    sub = billing.active_subscription(yasmine.id)
    assert sub.plan.value == "HYBRIDE"
    assert sub.aria_subjects == ["MATHEMATIQUES"]
    assert billing.has_feature(yasmine.id, Feature.CREDITS_USE)
    assert billing.has_feature(yasmine.id, Feature.ARIA, "MATHEMATIQUES")
    assert not billing.has_feature(yasmine.id, Feature.ARIA, "NSI")
    assert credits.balance(yasmine.id) == 4

    invoice = db.session.scalar(select(Invoice).where(Invoice.payment_id == payment.id))
    assert invoice.status.value == "PAID"
    assert invoice.total_millimes == 450_000
    assert invoice.beneficiary_id == parent.id
    assert len(invoice.number) == 11 and invoice.number[6] == "-"
    vault_doc = db.session.scalar(select(UserDocument).where(UserDocument.invoice_id == invoice.id))
    assert vault_doc.owner_id == parent.id

    text = "".join(
        page.extract_text() for page in PdfReader(__import__("io").BytesIO(invoices.pdf_bytes(invoice))).pages
    )
    assert f"Facture n° {invoice.number}" in text
    assert "Hybride — ARIA Mathématiques pour Yasmine".replace("—", "-") in text
    assert "450 TND" in text  # one TND format: the pages', the e-mails' and the PDF's

    run_jobs()
    mail = smtp.wait_for(PARENT)
    assert invoice.number in mail["Subject"]


def test_a_second_approval_or_approval_after_rejection_says_already_processed(parent, staff, yasmine):
    payment = declare(parent, yasmine)
    billing.approve(payment.id, staff)
    with pytest.raises(billing.AlreadyProcessed):
        billing.approve(payment.id, staff)
    other = declare(parent, yasmine, "CREDITS_5", None)
    billing.reject(other.id, staff, "Virement introuvable sur le relevé")
    with pytest.raises(billing.AlreadyProcessed):
        billing.approve(other.id, staff)
    assert db.session.scalar(select(func.count()).where(Invoice.student_id == yasmine.id)) == 1


def test_rejection_needs_a_reason_keeps_it_and_grants_nothing(parent, staff, yasmine):
    payment = declare(parent, yasmine, "CREDITS_10", None)
    with pytest.raises(ServiceError, match="motif"):
        billing.reject(payment.id, staff, "")
    billing.reject(payment.id, staff, "Montant reçu incomplet")
    assert payment.status is PaymentStatus.FAILED
    assert payment.rejection_reason == "Montant reçu incomplet"
    assert credits.balance(yasmine.id) == 0


def test_credit_pack_grants_a_twelve_month_lot_and_booking_rights(parent, staff, yasmine):
    billing.approve(declare(parent, yasmine, "CREDITS_10", None).id, staff)
    assert credits.balance(yasmine.id) == 10
    lot = db.session.scalar(select(CreditLot).where(CreditLot.student_id == yasmine.id))
    assert 364 <= (lot.expires_at - lot.granted_at).days <= 366
    assert billing.has_feature(yasmine.id, Feature.CREDITS_USE)


def test_renewal_extends_and_plan_change_ends_the_previous_plan(staff):
    parent2 = user(PARENT2)
    sami = factories.student(SAMI)
    before = billing.active_subscription(sami.id)
    end = before.current_period_end
    billing.approve(declare(parent2, sami, "HYBRIDE").id, staff)
    assert billing.active_subscription(sami.id).id == before.id
    assert billing.active_subscription(sami.id).current_period_end.month == (end.month % 12) + 1

    billing.approve(declare(parent2, sami, "IMMERSION", "NSI").id, staff)
    new = billing.active_subscription(sami.id)
    assert new.plan.value == "IMMERSION"
    assert set(new.aria_subjects) == {"NSI", "MATHEMATIQUES"}
    db.session.refresh(before)
    assert before.status is SubscriptionStatus.CANCELLED
    assert credits.balance(sami.id) == 12  # 4 carried from HYBRIDE + 8 of IMMERSION


def test_aria_addon_adds_a_subject_to_the_plan(staff):
    parent2 = user(PARENT2)
    sami = factories.student(SAMI)
    billing.approve(declare(parent2, sami, "ARIA_MATIERE", "NSI").id, staff)
    assert billing.aria_subjects(sami.id) == ["MATHEMATIQUES", "NSI"]
    with pytest.raises(ServiceError, match="déjà"):
        billing.build_order(parent2, sami.id, "ARIA_MATIERE", "NSI")


@pytest.mark.committed
def test_fifty_concurrent_approvals_grant_once_and_invoice_once(app):
    with app.app_context():
        parent = user(PARENT)
        yasmine = factories.student(YASMINE)
        payment_id = declare(parent, yasmine).id
        staff_id = user(ASSISTANTE).id
        student_id = yasmine.id
        db.session.commit()
    barrier = Barrier(50)

    def attempt(_: int) -> str:
        with app.app_context():
            barrier.wait()
            try:
                billing.approve(payment_id, db.session.get(User, staff_id))
                db.session.commit()
                return "approved"
            except billing.AlreadyProcessed:
                db.session.rollback()
                return "already"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, range(50)))
    assert results.count("approved") == 1
    assert results.count("already") == 49
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Invoice.payment_id == payment_id)) == 1
        assert db.session.scalar(select(func.count()).where(CreditLot.student_id == student_id)) == 1
        assert credits.balance(student_id) == Decimal(4)
        assert (
            db.session.scalar(
                select(func.count()).where(
                    Entitlement.student_id == student_id, Entitlement.feature == "CREDITS_USE"
                )
            )
            == 1
        )


@pytest.mark.committed
def test_invoice_numbers_have_no_gap_and_no_duplicate_under_concurrency(app):
    barrier = Barrier(50)

    class Failed(Exception):
        pass

    @command
    def invoice_then_maybe_fail(i: int) -> str:
        invoice = invoices.create(  # joins this transaction
            f"Client {i}",
            [invoices.Line("Séance", 1, 60_000)],
            status=invoices.InvoiceStatus.DRAFT,
            actor_id=None,
        )
        if i % 10 == 0:  # some transactions fail after taking a number
            raise Failed
        return invoice.number

    def attempt(i: int) -> str:
        with app.app_context():
            barrier.wait()
            try:
                return invoice_then_maybe_fail(i)
            except Failed:
                return ""
            finally:
                db.session.remove()

    with app.app_context():  # the demo's own invoices (Sami's plan) took the first numbers
        taken = db.session.scalar(select(func.count()).select_from(Invoice))
    with ThreadPoolExecutor(max_workers=50) as pool:
        numbers = [n for n in pool.map(attempt, range(50)) if n]
    assert len(numbers) == 45
    assert len(set(numbers)) == 45
    sequence = sorted(int(n.split("-")[1]) for n in numbers)
    assert sequence == list(range(taken + 1, taken + 46))
