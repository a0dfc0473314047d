"""Invoices: gap-free numbers (YYYYMM-####), their PDFs in the vault, states (the links e-mailed
to a family are `invoice_links`).
The PDF itself is drawn by `invoice_pdf`.

Numbers come from a per-month counter bumped with INSERT … ON CONFLICT DO UPDATE … RETURNING:
the row lock serialises concurrent invoices and a rolled-back transaction gives its number back,
so there is no gap and no duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, select, update
from sqlalchemy.dialects.postgresql import insert

from nexus import fr
from nexus.extensions import db
from nexus.models.billing import (
    Entitlement,
    EntitlementStatus,
    Invoice,
    InvoiceAccessToken,
    InvoiceEvent,
    InvoiceItem,
    InvoiceSequence,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    TaxRegime,
)
from nexus.models.common import Role
from nexus.models.identity import User
from nexus.models.vault import DocumentKind, UserDocument
from nexus.services import (
    ServiceError,
    audit,
    catalog,
    centre_settings,
    command,
    family,
    locked,
    utcnow,
    vault,
)
from nexus.services.invoice_pdf import render_pdf
from nexus.services.paging import Page, matches, paginate
from nexus.text import check_line, check_size, check_text

MAX_ITEMS = 12


def next_number(at: datetime) -> str:
    year_month = int(at.astimezone(fr.TUNIS).strftime("%Y%m"))
    current = db.session.scalar(
        insert(InvoiceSequence)
        .values(year_month=year_month, current=1)
        .on_conflict_do_update(index_elements=["year_month"], set_={"current": InvoiceSequence.current + 1})
        .returning(InvoiceSequence.current)
    )
    return f"{year_month}-{current:04d}"


def event(invoice: Invoice, kind: str, actor_id: int | None, **details: Any) -> None:
    db.session.add(InvoiceEvent(invoice_id=invoice.id, kind=kind, actor_id=actor_id, details=details))


@dataclass(frozen=True)
class Line:
    label: str
    qty: int
    unit_price_millimes: int
    description: str | None = None
    offer_code: str | None = None


def _check_typed_text(
    name: str, email: str | None, address: str | None, notes: str | None, lines: list[Line]
) -> None:
    """No control character in what ends up in headers, PDFs and staff tables (issue 8 item 5)."""
    check_line(name, "customer_name")
    check_size(name, "customer_name", 160)
    check_line(email, "customer_email")
    check_line(address, "customer_address")  # one line on the PDF
    check_size(address, "customer_address", 300)
    check_text(notes, "notes")
    check_size(notes, "notes", 2000)
    for i, line in enumerate(lines):
        check_line(line.label, f"label_{i}")
        check_size(line.label, f"label_{i}", 160)


def _check_beneficiary(beneficiary_id: int | None, student_id: int | None) -> None:
    """A manual invoice's family: an active parent account, and the student one of its children."""
    if beneficiary_id is None:
        if student_id is not None:
            raise ServiceError("Choisissez d'abord la famille de l'élève.", field="beneficiary")
        return
    parent = db.session.get(User, beneficiary_id)
    if parent is None or parent.role is not Role.PARENT or not parent.is_active:
        raise ServiceError("Choisissez une famille dans la liste.", field="beneficiary")
    if student_id is not None and family.child_of(parent, student_id) is None:
        raise ServiceError("Cet élève n'est pas un enfant de la famille choisie.", field="student")


@command
def create(
    customer_name: str,
    lines: list[Line],
    *,
    status: InvoiceStatus,
    actor_id: int | None,
    customer_email: str | None = None,
    customer_address: str | None = None,
    beneficiary_id: int | None = None,
    student_id: int | None = None,
    payment: Payment | None = None,
    discount_millimes: int = 0,
    notes: str | None = None,
    stamp_included: bool = False,
) -> Invoice:
    """A numbered invoice issued by the centre as its settings stand now (identity, mentions and
    droit de timbre copied). `stamp_included`: the lines' amount already holds the stamp (a
    catalog price paid as shown), so the stamp is taken out of the last line, not added."""
    if not lines or len(lines) > MAX_ITEMS:
        raise ServiceError(f"Une facture compte de 1 à {MAX_ITEMS} lignes.")
    _check_typed_text(customer_name, customer_email, customer_address, notes, lines)
    if payment is None:
        _check_beneficiary(beneficiary_id, student_id)
    if any(line.qty <= 0 or line.unit_price_millimes < 0 for line in lines):
        raise ServiceError("Quantités et prix doivent être positifs.")
    stamp = centre_settings.stamp_millimes()
    if stamp_included:
        held = _stamp_out_of(lines, stamp)
        stamp, lines = (stamp if held is not lines else 0), held
    subtotal = sum(line.qty * line.unit_price_millimes for line in lines)
    if not 0 <= discount_millimes <= subtotal:
        raise ServiceError("La remise ne peut pas dépasser le sous-total.", field="discount")
    now = utcnow()
    invoice = Invoice(
        number=next_number(now),
        status=status,
        issued_at=now,
        due_at=None if payment else now + timedelta(days=15),
        customer_name=customer_name,
        customer_email=customer_email,
        customer_address=customer_address,
        beneficiary_id=beneficiary_id,
        student_id=student_id,
        payment_id=payment.id if payment else None,
        subtotal_millimes=subtotal,
        discount_millimes=discount_millimes,
        tax_millimes=0,
        stamp_millimes=stamp,
        total_millimes=subtotal - discount_millimes + stamp,
        tax_regime=TaxRegime.TVA_NON_APPLICABLE,
        notes=notes,
        created_by_id=actor_id,
        **centre_settings.issuer_fields(),
    )
    invoice.items = [
        InvoiceItem(
            label=line.label,
            description=line.description,
            offer_code=line.offer_code,
            qty=line.qty,
            unit_price_millimes=line.unit_price_millimes,
            total_millimes=line.qty * line.unit_price_millimes,
            sort_order=i,
        )
        for i, line in enumerate(lines)
    ]
    db.session.add(invoice)
    db.session.flush()
    event(invoice, "INVOICE_CREATED", actor_id, number=invoice.number)
    return invoice


def _stamp_out_of(lines: list[Line], stamp: int) -> list[Line]:
    """The lines with the stamp taken out of the last one (a single-quantity line that holds it);
    unchanged when it cannot hold it (the invoice then carries no stamp)."""
    last = lines[-1]
    if not stamp or last.qty != 1 or last.unit_price_millimes < stamp:
        return lines
    return [*lines[:-1], replace(last, unit_price_millimes=last.unit_price_millimes - stamp)]


def for_payment(payment: Payment, actor: User | None) -> Invoice:
    """The PAID invoice of an approved payment, rendered and put in the payer's vault. The price
    paid is the invoice's total: a droit de timbre is part of it, not added to it."""
    payer = payment.payer
    offer = catalog.offer(payment.offer_code)
    invoice = create(
        payer.full_name,
        [Line(catalog.order_label(payment), 1, payment.amount_millimes, offer_code=offer.code.value)],
        status=InvoiceStatus.PAID,
        actor_id=actor.id if actor else None,
        customer_email=payer.email,
        beneficiary_id=payer.id,
        student_id=payment.student_id,
        payment=payment,
        stamp_included=True,
    )
    invoice.payment_method = payment.method
    invoice.paid_at = utcnow()
    invoice.paid_amount_millimes = payment.amount_millimes
    invoice.payment_reference = payment.reference
    event(invoice, "INVOICE_PAID", invoice.created_by_id, method=payment.method.value)
    store_pdf(invoice, payer.id)
    return invoice


def store_pdf(invoice: Invoice, owner_id: int) -> None:
    """Put the PDF in the owner's vault (the copy kept up to date by refresh_vault_copy)."""
    document = vault.add(
        owner_id,
        DocumentKind.INVOICE,
        f"Facture {invoice.number}",
        f"facture_{invoice.number}.pdf",
        render_pdf(invoice),
        invoice_id=invoice.id,
    )
    invoice.pdf_path = document.storage_path
    event(invoice, "PDF_RENDERED", invoice.created_by_id)


# -- access --------------------------------------------------------------------------------


def visible_to(user: User, invoice_id: int) -> Invoice | None:
    """Staff see every invoice; anyone else only their own (a parent: their family's)."""
    if user.role.value in ("ADMIN", "ASSISTANTE"):
        return db.session.get(Invoice, invoice_id)
    return db.session.scalar(select(Invoice).where(Invoice.id == invoice_id, _beneficiary_is(user)))


def search_stmt(query: str, status: InvoiceStatus | None) -> Select[tuple[Invoice]]:
    """Invoices newest first, by number, customer name or e-mail, and status: the table's rows,
    and its CSV export's."""
    stmt = select(Invoice).order_by(Invoice.id.desc())
    if status is not None:
        stmt = stmt.where(Invoice.status == status)
    if query.strip():
        stmt = stmt.where(matches(query, Invoice.number, Invoice.customer_name, Invoice.customer_email))
    return stmt


def beneficiary_of(invoice: Invoice) -> User | None:
    """The family account an invoice belongs to (None: a customer outside the platform)."""
    return db.session.get(User, invoice.beneficiary_id) if invoice.beneficiary_id else None


def search(query: str, status: InvoiceStatus | None, page: int) -> Page[Invoice]:
    return paginate(search_stmt(query, status), page)


def _beneficiary_is(user: User) -> Any:
    """The invoices of this user, and for a parent those of every parent of the family; never a
    draft (a manual invoice reaches the family once staff have checked and sent it)."""
    issued = Invoice.status != InvoiceStatus.DRAFT
    if user.role is Role.PARENT:
        return and_(Invoice.beneficiary_id.in_(family.guardian_ids(user.id)), issued)
    return and_(Invoice.beneficiary_id == user.id, issued)


def of_user(user: User) -> list[Invoice]:
    stmt = select(Invoice).where(_beneficiary_is(user)).order_by(Invoice.id.desc())
    return list(db.session.scalars(stmt))


def pdf_bytes(invoice: Invoice) -> bytes:
    """The invoice as it stands now (rendering takes milliseconds; the state is always right)."""
    return render_pdf(invoice)


def refresh_vault_copy(invoice: Invoice) -> None:
    """After a change, the copy in the family's vault shows it too; a manual invoice with a
    beneficiary family gets its copy when it leaves the draft state (it then is theirs to see)."""
    document = db.session.scalar(select(UserDocument).where(UserDocument.invoice_id == invoice.id))
    if document is not None:
        vault.replace(document, render_pdf(invoice))  # the old file goes only once committed
    elif invoice.beneficiary_id and invoice.status in (InvoiceStatus.SENT, InvoiceStatus.PAID):
        store_pdf(invoice, invoice.beneficiary_id)


def receipt_pdf(invoice: Invoice) -> bytes:
    if invoice.status is not InvoiceStatus.PAID or invoice.paid_at is None:
        raise ServiceError("Un reçu n'existe que pour une facture payée.")
    return render_pdf(invoice, receipt=True)


# -- staff actions on invoices ---------------------------------------------------------------


@command
def change_status(
    invoice_id: int,
    target: InvoiceStatus,
    actor: User,
    *,
    reason: str | None = None,
    method: PaymentMethod | None = None,
    paid_amount_millimes: int | None = None,
    reference: str | None = None,
) -> Invoice:
    """DRAFT → SENT → PAID, DRAFT/SENT → CANCELLED; the same target again changes nothing.

    The invoice is locked and re-read: of 50 concurrent clicks, one sees SENT and marks it paid."""
    invoice = locked(Invoice, invoice_id)
    if invoice is None:
        raise LookupError(invoice_id)
    if invoice.status is target:
        return invoice
    if target not in invoice.next_statuses:
        raise ServiceError(f"Une facture « {invoice.status.label} » ne peut pas passer à « {target.label} ».")
    before = invoice.status
    if target is InvoiceStatus.PAID:
        if method is None:
            raise ServiceError("Choisissez le moyen de paiement.", field="method")
        if paid_amount_millimes != invoice.total_millimes:
            raise ServiceError("Le montant payé doit être égal au total de la facture.", field="paid_amount")
        check_line(reference, "reference")
        check_size(reference, "reference", 64)
        invoice.payment_method = method
        invoice.paid_at = utcnow()
        invoice.paid_amount_millimes = paid_amount_millimes
        invoice.payment_reference = reference
    if target is InvoiceStatus.CANCELLED:
        if not reason or len(reason.strip()) < 5:
            raise ServiceError("Indiquez le motif de l'annulation.", field="reason")
        check_line(reason, "reason")
        check_size(reason.strip(), "reason", 500)
        invoice.cancel_reason = reason.strip()
        invoice.cancelled_at = utcnow()
        _suspend_grants(invoice)
    if target in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED):
        revoke_tokens(invoice, actor.id)
    invoice.status = target
    refresh_vault_copy(invoice)
    event(invoice, f"INVOICE_{target.value}", actor.id, before=before.value)
    audit.record(
        "invoice.status", actor.id, invoice, before={"status": before.value}, after={"status": target.value}
    )
    return invoice


def _suspend_grants(invoice: Invoice) -> None:
    """Cancelling an invoice suspends what its payment granted."""
    if invoice.payment_id is None:
        return
    db.session.execute(
        update(Entitlement)
        .where(Entitlement.payment_id == invoice.payment_id, Entitlement.status == EntitlementStatus.ACTIVE)
        .values(status=EntitlementStatus.SUSPENDED, suspended_at=utcnow(), suspend_reason="Facture annulée")
    )


def revoke_tokens(invoice: Invoice, actor_id: int | None) -> None:
    db.session.execute(
        update(InvoiceAccessToken)
        .where(InvoiceAccessToken.invoice_id == invoice.id, InvoiceAccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    event(invoice, "TOKENS_REVOKED", actor_id)
