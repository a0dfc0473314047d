"""Invoice-details requests: a family asks that one of its invoices name a company (its name and
matricule fiscal); staff apply it (the invoice and its PDF follow) or refuse it with a reason.

One pending request per invoice (a partial unique index: a double click or a second tab is told
so); a request is handled once (a conditional UPDATE … WHERE status = 'PENDING' RETURNING: of two
staff, or fifty clicks, one applies it and the others are told it was handled meanwhile).
"""

from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from nexus import links
from nexus.extensions import db
from nexus.models.billing import Invoice, InvoiceStatus
from nexus.models.billing_care import DetailsRequestStatus, InvoiceDetailsRequest
from nexus.models.common import Role
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import User
from nexus.services import (
    ServiceError,
    audit,
    centre_settings,
    command,
    family,
    invoices,
    notifications,
    utcnow,
)
from nexus.services.paging import matches
from nexus.text import check_line, check_size

PENDING_TWICE = "Une demande est déjà en cours pour cette facture : notre équipe la traite."
HANDLED = "Cette demande a déjà été traitée entre-temps."
LIST_LIMIT = 200
FAMILY_CHOICES = 300  # the manual invoice's list of families; a search narrows it


class Conflict(ServiceError):
    """The request is already pending, or already handled: the view answers 409."""


def _family_invoice(user: User, invoice_id: int) -> Invoice:
    invoice = invoices.visible_to(user, invoice_id) if user.role is Role.PARENT else None
    if invoice is None:
        raise LookupError(invoice_id)
    return invoice


def pending_for(invoice_id: int) -> InvoiceDetailsRequest | None:
    return db.session.scalar(
        select(InvoiceDetailsRequest).where(
            InvoiceDetailsRequest.invoice_id == invoice_id,
            InvoiceDetailsRequest.status == DetailsRequestStatus.PENDING,
        )
    )


def family_invoice(user: User, invoice_id: int) -> Invoice | None:
    """One of this parent's family's invoices, or None (someone else's: the view answers 404)."""
    try:
        return _family_invoice(user, invoice_id)
    except LookupError:
        return None


@command
def ask(
    user: User, invoice_id: int, company_name: str, tax_id: str, address: str | None
) -> InvoiceDetailsRequest:
    """A parent's request for one of its family's invoices (LookupError: not theirs)."""
    invoice = _family_invoice(user, invoice_id)
    if invoice.status is InvoiceStatus.CANCELLED:
        raise ServiceError("Cette facture est annulée : elle ne peut plus être modifiée.")
    company_name = company_name.strip()
    address = (address or "").strip() or None
    if len(company_name) < 2:
        raise ServiceError("Indiquez le nom de l'entreprise.", field="company_name")
    check_line(company_name, "company_name")
    check_size(company_name, "company_name", 160)
    check_line(address, "address")
    check_size(address, "address", 300)
    normalised = centre_settings.normalise_tax_id(tax_id)
    if normalised is None:
        raise ServiceError("Indiquez le matricule fiscal de l'entreprise.", field="tax_id")
    row_id = db.session.scalar(
        insert(InvoiceDetailsRequest)
        .values(
            invoice_id=invoice.id,
            requester_id=user.id,
            company_name=company_name,
            tax_id=normalised,
            address=address,
            status=DetailsRequestStatus.PENDING,
        )
        .on_conflict_do_nothing(index_elements=["invoice_id"], index_where=text("status = 'PENDING'"))
        .returning(InvoiceDetailsRequest.id)
    )
    if row_id is None:
        raise Conflict(PENDING_TWICE)
    notifications.notify_staff(
        "INVOICE_DETAILS_REQUESTED",
        f"Coordonnées de facturation demandées — facture {invoice.number}",
        f"{company_name} ({normalised})",
        links.internal("invoice_details.staff_index"),
    )
    return db.session.get(InvoiceDetailsRequest, row_id)  # type: ignore[return-value]


def of_family(user: User) -> dict[int, InvoiceDetailsRequest]:
    """The latest request of each of the family's invoices, by invoice id."""
    stmt = (
        select(InvoiceDetailsRequest)
        .join(Invoice, Invoice.id == InvoiceDetailsRequest.invoice_id)
        .where(Invoice.beneficiary_id.in_(family.guardian_ids(user.id)))
        .order_by(InvoiceDetailsRequest.id)
    )
    return {row.invoice_id: row for row in db.session.scalars(stmt)}


def pending() -> list[InvoiceDetailsRequest]:
    """The requests to handle, oldest first (the staff's table)."""
    stmt = (
        select(InvoiceDetailsRequest)
        .where(InvoiceDetailsRequest.status == DetailsRequestStatus.PENDING)
        .options(joinedload(InvoiceDetailsRequest.invoice))
        .order_by(InvoiceDetailsRequest.created_at, InvoiceDetailsRequest.id)
        .limit(LIST_LIMIT)
    )
    return list(db.session.scalars(stmt))


def recent_handled(limit: int = 20) -> list[InvoiceDetailsRequest]:
    stmt = (
        select(InvoiceDetailsRequest)
        .where(InvoiceDetailsRequest.status != DetailsRequestStatus.PENDING)
        .options(joinedload(InvoiceDetailsRequest.invoice))
        .order_by(InvoiceDetailsRequest.handled_at.desc(), InvoiceDetailsRequest.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def _claim(
    request_id: int, target: DetailsRequestStatus, actor: User, reason: str | None
) -> InvoiceDetailsRequest:
    """PENDING → target for exactly one caller; LookupError if none, Conflict if handled."""
    won = db.session.scalar(
        update(InvoiceDetailsRequest)
        .where(
            InvoiceDetailsRequest.id == request_id,
            InvoiceDetailsRequest.status == DetailsRequestStatus.PENDING,
        )
        .values(status=target, handled_by_id=actor.id, handled_at=utcnow(), refusal_reason=reason)
        .returning(InvoiceDetailsRequest.id)
        .execution_options(synchronize_session=False)
    )
    row = db.session.get(InvoiceDetailsRequest, request_id, populate_existing=True)
    if row is None:
        raise LookupError(request_id)
    if won is None:
        raise Conflict(HANDLED)
    return row


@command
def apply(request_id: int, actor: User) -> InvoiceDetailsRequest:
    """The invoice names the company: its customer, tax id (and address when given) change, the
    PDF is rendered again, the family is told."""
    row = _claim(request_id, DetailsRequestStatus.APPLIED, actor, None)
    invoice = db.session.get(Invoice, row.invoice_id, with_for_update=True, populate_existing=True)
    assert invoice is not None  # the request goes with its invoice (ON DELETE CASCADE)
    if invoice.status is InvoiceStatus.CANCELLED:
        raise ServiceError("Cette facture est annulée : refusez la demande en l'expliquant à la famille.")
    before = {"customer_name": invoice.customer_name, "customer_tax_id": invoice.customer_tax_id}
    invoice.customer_name = row.company_name
    invoice.customer_tax_id = row.tax_id
    if row.address:
        before["customer_address"] = invoice.customer_address
        invoice.customer_address = row.address
    after = {key: getattr(invoice, key) for key in before}
    invoices.refresh_vault_copy(invoice)
    invoices.event(invoice, "DETAILS_APPLIED", actor.id, request_id=row.id)
    audit.record("invoice.details_applied", actor.id, invoice, before=before, after=after)
    _tell(row, "Votre facture {number} porte désormais le nom de votre entreprise.", None)
    return row


@command
def refuse(request_id: int, actor: User, reason: str | None) -> InvoiceDetailsRequest:
    """Refused with a reason the family reads."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ServiceError("Indiquez le motif du refus (5 caractères au moins).", field="reason")
    check_line(reason, "reason")
    check_size(reason, "reason", 500)
    row = _claim(request_id, DetailsRequestStatus.REFUSED, actor, reason)
    audit.record(
        "invoice.details_refused", actor.id, row.invoice, after={"reason": reason, "tax_id": row.tax_id}
    )
    _tell(row, "Votre demande pour la facture {number} n'a pas été retenue.", reason)
    return row


def _tell(row: InvoiceDetailsRequest, title: str, body: str | None) -> None:
    if row.requester_id:
        notifications.notify(
            row.requester_id,
            "INVOICE_DETAILS_DECIDED",
            title.format(number=row.invoice.number),
            body,
            links.internal("parent.payments"),
        )


# -- manual invoices: the beneficiary family ------------------------------------------------------


def family_choices(query: str = "", limit: int = FAMILY_CHOICES) -> list[ParentProfile]:
    """The families whose opening parent's account is active, by name (a name or e-mail typed
    narrows them), their children loaded: the manual invoice's choice."""
    stmt = (
        select(ParentProfile)
        .join(User, User.id == ParentProfile.user_id)
        .where(User.is_active)
        .options(
            contains_eager(ParentProfile.user), selectinload(ParentProfile.children).joinedload(Student.user)
        )
        .order_by(User.last_name, User.first_name, User.id)
        .limit(limit)
    )
    if query.strip():
        stmt = stmt.where(matches(query, User.first_name, User.last_name, User.email))
    return list(db.session.scalars(stmt))
