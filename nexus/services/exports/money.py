"""Exports of the money tables: the transfers waiting for staff, the invoices."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import aliased, contains_eager, joinedload

from nexus.csv_export import Millimes
from nexus.models.billing import Invoice, InvoiceStatus, Payment
from nexus.models.common import Subject
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.services import catalog, clictopay, invoices
from nexus.services.billing.cards import card_filter, card_payments_stmt
from nexus.services.billing.orders import pending_transfers_stmt
from nexus.services.exports.base import Filters, Table, query, stream

_StudentUser = aliased(User, name="export_student_user")

# -- payments (the transfers to validate) ------------------------------------------------------


def _payment_filters(args: Mapping[str, str]) -> Filters:
    return {"q": query(args)}


def _subject(value: str | None) -> str | None:
    return Subject(value).label if value in Subject._value2member_map_ else value


def _payment_rows(filters: Filters) -> Iterator[Sequence[Any]]:
    # The desk's statement joins the payer (User); the student's account is a second user.
    stmt = (
        pending_transfers_stmt(filters["q"])
        .with_only_columns(
            Payment.reference,
            Payment.declared_at,
            User.first_name + " " + User.last_name,
            User.email,
            _StudentUser.first_name + " " + _StudentUser.last_name,
            Payment.offer_code,
            Payment.aria_subject,
            Payment.amount_millimes,
            Payment.method,
            Payment.status,
            Payment.created_at,
            maintain_column_froms=True,
        )
        .join(Student, Payment.student_id == Student.id)
        .join(_StudentUser, Student.user_id == _StudentUser.id)
    )
    for ref, declared, payer, email, student, offer, subject, amount, method, status, created in stream(stmt):
        yield (
            ref,
            declared,
            payer,
            email,
            student,
            offer,
            _subject(subject),
            Millimes(amount),
            method,
            status,
            created,
        )


PAYMENTS = Table(
    "paiements",
    (
        "Référence",
        "Déclaré le",
        "Payeur",
        "E-mail du payeur",
        "Élève",
        "Offre",
        "Matière ARIA",
        "Montant (TND)",
        "Mode",
        "Statut",
        "Créé le",
    ),
    _payment_filters,
    _payment_rows,
)

# -- card payments (pending, or refused lately) ------------------------------------------------


def _card_filters(args: Mapping[str, str]) -> Filters:
    return {"carte": card_filter(args.get("carte"))}


def _card_rows(filters: Filters) -> Iterator[Sequence[Any]]:
    stmt = card_payments_stmt(filters["carte"]).options(
        contains_eager(Payment.payer), joinedload(Payment.student).joinedload(Student.user)
    )
    for (p,) in stream(stmt):
        yield (
            p.reference,
            p.created_at,
            p.payer.full_name,
            p.payer.email,
            catalog.order_label(p),
            Millimes(p.amount_millimes),
            p.status,
            clictopay.card_status_label(p),
            clictopay.bank_words(p),
            p.checked_at,
        )


CARD_PAYMENTS = Table(
    "paiements-carte",
    (
        "Référence",
        "Commencé le",
        "Payeur",
        "E-mail du payeur",
        "Commande",
        "Montant (TND)",
        "Statut",
        "Réponse de la banque",
        "Motif donné par la banque",
        "Vérifié auprès de la banque le",
    ),
    _card_filters,
    _card_rows,
)

# -- invoices ---------------------------------------------------------------------------------


def _invoice_filters(args: Mapping[str, str]) -> Filters:
    status = InvoiceStatus.__members__.get(args.get("statut", ""))
    return {"statut": status.value if status else "", "q": query(args)}


def _invoice_rows(filters: Filters) -> Iterator[Sequence[Any]]:
    status = InvoiceStatus.__members__.get(filters["statut"])
    stmt = invoices.search_stmt(filters["q"], status).with_only_columns(
        Invoice.number,
        Invoice.issued_at,
        Invoice.status,
        Invoice.customer_name,
        Invoice.customer_email,
        Invoice.customer_tax_id,
        Invoice.subtotal_millimes,
        Invoice.discount_millimes,
        Invoice.tax_millimes,
        Invoice.stamp_millimes,
        Invoice.total_millimes,
        Invoice.payment_method,
        Invoice.paid_at,
        Invoice.paid_amount_millimes,
        Invoice.payment_reference,
        Invoice.due_at,
    )
    for row in stream(stmt):
        number, issued, state, name, email, tax_id, *amounts, method, paid_at, paid, ref, due = row
        yield (
            number, issued, state, name, email, tax_id, *(Millimes(a) for a in amounts),
            method, paid_at, None if paid is None else Millimes(paid), ref, due,
        )  # fmt: skip


INVOICES = Table(
    "factures",
    (
        "Numéro",
        "Émise le",
        "Statut",
        "Client",
        "E-mail du client",
        "Matricule fiscal du client",
        "Sous-total (TND)",
        "Remise (TND)",
        "TVA (TND)",
        "Droit de timbre (TND)",
        "Total (TND)",
        "Mode de paiement",
        "Payée le",
        "Montant payé (TND)",
        "Référence du paiement",
        "Échéance",
    ),
    _invoice_filters,
    _invoice_rows,
)
