"""Domain facts live on the models: each predicate is checked in Python and, where it is a hybrid,
in SQL on real rows, so templates and services can rely on one definition."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.aria import AnswerMode, AriaConversation, AriaMessage, MessageRole
from nexus.models.billing import (
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
)
from nexus.models.catalog import OfferCode, OfferKind, ServiceType
from nexus.models.common import Role, Subject
from nexus.models.credits import CreditEntry, CreditRequest, EntryKind, RequestStatus
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.identity import CoachProfile, User
from nexus.models.knowledge import Document, DocumentStatus
from nexus.models.scheduling import (
    HOLDING,
    AvailabilityException,
    ExceptionKind,
    SessionBooking,
    SessionStatus,
    _holding,
)
from nexus.services import catalog, utcnow
from tests import factories
from tests.integration.aria_support import question_and_answer
from tests.people import PARENT2

TEMPLATES = Path(__file__).resolve().parents[2] / "nexus" / "templates"


def test_templates_compare_no_raw_enum_values():
    stringly = re.compile(r"\.value\s*(==|!=|in\b|not in\b)")
    found = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if stringly.search(line)
    ]
    assert found == []


# -- sessions: one definition of "holding" -------------------------------------------------------


def test_holding_constraint_text_is_generated_from_the_statuses():
    assert HOLDING == (SessionStatus.SCHEDULED, SessionStatus.CONFIRMED, SessionStatus.IN_PROGRESS)
    assert _holding == "status IN ('SCHEDULED', 'CONFIRMED', 'IN_PROGRESS')"


def test_is_holding_in_python_and_in_sql(sami, helios):
    start = utcnow() + timedelta(days=20)
    rows = {
        status: factories.booking(sami.id, helios.id, start + timedelta(hours=2 * n), status=status)
        for n, status in enumerate(SessionStatus)
    }
    for status, row in rows.items():
        assert row.is_holding is (status in HOLDING)
        assert row.is_completed is (status is SessionStatus.COMPLETED)
        assert row.is_no_show is (status is SessionStatus.NO_SHOW)
    ids = [r.id for r in rows.values()]
    held = set(
        db.session.scalars(
            select(SessionBooking.id).where(SessionBooking.id.in_(ids), SessionBooking.is_holding)
        )
    )
    free = set(
        db.session.scalars(
            select(SessionBooking.id).where(SessionBooking.id.in_(ids), ~SessionBooking.is_holding)
        )
    )
    assert held == {rows[s].id for s in HOLDING}
    assert free == set(ids) - held


def test_exception_kind():
    assert AvailabilityException(kind=ExceptionKind.EXTRA).is_extra
    assert not AvailabilityException(kind=ExceptionKind.UNAVAILABLE).is_extra


# -- billing -----------------------------------------------------------------------------------


def _payment(
    student_id: int, payer_id: int, code: OfferCode, status: PaymentStatus, method: PaymentMethod
) -> Payment:
    row = Payment(
        payer_id=payer_id,
        student_id=student_id,
        offer_code=code,
        amount_millimes=1000,
        method=method,
        status=status,
        reference=f"T-{secrets.token_hex(6)}",
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_payment_facts_in_python_and_in_sql(sami):
    payer = db.session.scalar(select(User).where(User.email == PARENT2))
    codes = [OfferCode.CREDITS_5, OfferCode.CREDITS_10, OfferCode.CREDITS_20, OfferCode.GRAND_ORAL]
    rows = {
        status: _payment(sami.id, payer.id, code, status, PaymentMethod.BANK_TRANSFER)
        for code, status in zip(codes, PaymentStatus, strict=True)
    }
    card = _payment(sami.id, payer.id, OfferCode.ORIENTATION, PaymentStatus.PENDING, PaymentMethod.CLICTOPAY)
    for status, row in rows.items():
        assert row.is_pending is (status is PaymentStatus.PENDING)
        assert row.is_completed is (status is PaymentStatus.COMPLETED)
        assert row.is_failed is (status is PaymentStatus.FAILED)
        assert row.is_bank_transfer
    assert card.is_pending and not card.is_bank_transfer
    ids = [r.id for r in rows.values()] + [card.id]
    pending = set(db.session.scalars(select(Payment.id).where(Payment.id.in_(ids), Payment.is_pending)))
    assert pending == {rows[PaymentStatus.PENDING].id, card.id}


def test_subscription_is_active():
    assert Subscription(status=SubscriptionStatus.ACTIVE).is_active
    assert not Subscription(status=SubscriptionStatus.EXPIRED).is_active


@pytest.mark.parametrize(
    ("status", "send", "pay", "cancel", "closed", "paid"),
    [
        (InvoiceStatus.DRAFT, True, False, True, False, False),
        (InvoiceStatus.SENT, False, True, True, False, False),
        (InvoiceStatus.PAID, False, False, False, True, True),
        (InvoiceStatus.CANCELLED, False, False, False, True, False),
    ],
)
def test_invoice_state_machine(status, send, pay, cancel, closed, paid):
    invoice = Invoice(status=status, customer_email="famille@example.tn")
    assert (invoice.can_send, invoice.can_mark_paid, invoice.can_cancel) == (send, pay, cancel)
    assert (invoice.is_closed, invoice.is_paid) == (closed, paid)
    assert invoice.can_email_link is (status in (InvoiceStatus.SENT, InvoiceStatus.PAID))
    assert not Invoice(status=status, customer_email=None).can_email_link


def test_invoice_event_labels_in_french():
    event = InvoiceEvent(kind="INVOICE_PAID", details={"method": "BANK_TRANSFER", "before": "SENT"})
    assert (event.label, event.method_label, event.before_label) == (
        "Marquée comme payée",
        "Virement bancaire",
        "Envoyée",
    )
    sent = InvoiceEvent(kind="INVOICE_SENT_EMAIL", details={"to": "famille@example.tn"})
    assert (sent.label, sent.recipient, sent.method_label, sent.before_label) == (
        "Lien envoyé par e-mail",
        "famille@example.tn",
        None,
        None,
    )
    assert InvoiceEvent(kind="SOMETHING_NEW", details={"before": "ODD"}).label == "SOMETHING_NEW"
    assert InvoiceEvent(kind="X", details={"before": "ODD"}).before_label == "ODD"


# -- catalog -----------------------------------------------------------------------------------


def test_offer_kinds_and_subject_question():
    assert [k.plural for k in OfferKind] == [
        "Formules mensuelles",
        "Options ARIA",
        "Packs spécifiques",
        "Packs de crédits",
    ]
    assert [k for k in OfferKind if k.is_plan] == [OfferKind.PLAN]
    assert [k for k in OfferKind if k.is_aria_addon] == [OfferKind.ARIA_ADDON]
    asking = {o.code for o in catalog.OFFERS if o.needs_subject}
    plans = {o.code for o in catalog.OFFERS if o.kind is OfferKind.PLAN}
    assert asking == plans | {OfferCode.ARIA_MATIERE}


# -- credits -----------------------------------------------------------------------------------


def test_credit_request_is_pending_in_python_and_in_sql(sami, yasmine):
    rows = [
        CreditRequest(student_id=sami.id, amount=Decimal(2), status=RequestStatus.PENDING),
        CreditRequest(student_id=sami.id, amount=Decimal(2), status=RequestStatus.APPROVED),
        CreditRequest(student_id=yasmine.id, amount=Decimal(2), status=RequestStatus.REJECTED),
    ]
    db.session.add_all(rows)
    db.session.flush()
    assert [r.is_pending for r in rows] == [True, False, False]
    assert [r.is_approved for r in rows] == [False, True, False]
    ids = [r.id for r in rows]
    pending = list(
        db.session.scalars(
            select(CreditRequest.id).where(CreditRequest.id.in_(ids), CreditRequest.is_pending)
        )
    )
    assert pending == [rows[0].id]


def test_credit_entry_is_grant():
    assert CreditEntry(kind=EntryKind.GRANT).is_grant
    assert not any(CreditEntry(kind=k).is_grant for k in EntryKind if k is not EntryKind.GRANT)


# -- identity, diagnostics, knowledge ------------------------------------------------------------


def test_user_roles():
    facts = {r: (User(role=r).is_parent, User(role=r).is_student, User(role=r).is_coach) for r in Role}
    assert facts[Role.PARENT] == (True, False, False)
    assert facts[Role.ELEVE] == (False, True, False)
    assert facts[Role.COACH] == (False, False, True)
    assert facts[Role.ADMIN] == facts[Role.ASSISTANTE] == (False, False, False)


def test_coach_services():
    both = CoachProfile(available_online=True, available_in_person=True)
    assert both.services == [ServiceType.COURS_ONLINE, ServiceType.COURS_PRESENTIEL]
    assert CoachProfile(available_online=False, available_in_person=True).services == [
        ServiceType.COURS_PRESENTIEL
    ]
    assert CoachProfile(available_online=False, available_in_person=False).services == []


def test_bilan_follow_up():
    received = BilanRequest(status=BilanStatus.RECEIVED)
    assert received.next_statuses == (BilanStatus.CONTACTED, BilanStatus.CLOSED)
    assert not received.is_closed
    assert BilanRequest(status=BilanStatus.CLOSED).is_closed
    assert BilanRequest(status=BilanStatus.CONVERTED).next_statuses == ()
    assert [s for s in BilanStatus if s.is_closed] == [BilanStatus.CLOSED]


@pytest.mark.parametrize(
    ("status", "error", "indexing", "ready", "retry"),
    [
        (DocumentStatus.PENDING, None, True, False, False),
        (DocumentStatus.PROCESSING, None, True, False, False),
        (DocumentStatus.READY, None, False, True, False),
        (DocumentStatus.READY, "2 passages non indexés", False, True, True),
        (DocumentStatus.FAILED, "PDF illisible", False, False, True),
    ],
)
def test_document_states(status, error, indexing, ready, retry):
    doc = Document(status=status, error=error)
    assert (doc.is_indexing, doc.is_ready, doc.can_retry) == (indexing, ready, retry)


# -- ARIA --------------------------------------------------------------------------------------


def test_message_facts_in_python_and_in_sql(sami):
    conversation = AriaConversation(student_id=sami.id, subject=Subject.MATHEMATIQUES, title="Dérivées")
    db.session.add(conversation)
    db.session.flush()
    question, answer = question_and_answer(
        conversation, "f'(x) ?", "Voici la fiche.", mode=AnswerMode.TOO_LONG
    )
    assert question.is_question and not answer.is_question
    assert not question.is_fallback and answer.is_fallback and answer.is_too_long
    assert not AriaMessage(role=MessageRole.ASSISTANT, mode=AnswerMode.LLM).is_fallback
    assert AriaMessage(role=MessageRole.ASSISTANT, mode=AnswerMode.OFFLINE).is_fallback
    stmt = select(AriaMessage.id).where(
        AriaMessage.conversation_id == conversation.id, AriaMessage.is_question
    )
    assert list(db.session.scalars(stmt)) == [question.id]
