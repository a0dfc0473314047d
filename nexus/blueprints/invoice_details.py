"""Invoice-details requests: the family asks from its space, staff apply or refuse in a table.

A family's request for someone else's invoice is the 404 of any missing page; a second request
while one is pending, or a request handled meanwhile by a colleague, answers 409 in French.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy, rows
from nexus.extensions import db
from nexus.forms.invoicing import DetailsRequestForm
from nexus.models.billing_care import DetailsRequestStatus, InvoiceDetailsRequest
from nexus.services import ServiceError, invoice_details
from nexus.web import is_fragment_request, or_404

bp = Blueprint("invoice_details", __name__)
DESK = "invoice_details.staff_index"


# -- the family ------------------------------------------------------------------------------


def _family_page(invoice: Any, form: DetailsRequestForm, status: int = 200, notice: str | None = None) -> Any:
    page = render_template(
        "invoices/details_request.html",
        invoice=invoice,
        form=form,
        pending=invoice_details.pending_for(invoice.id),
        latest=invoice_details.of_family(current_user).get(invoice.id),
        Status=DetailsRequestStatus,
        notice=notice,
    )
    return page, status


@bp.route("/dashboard/parent/factures/<int:invoice_id>/coordonnees", methods=["GET", "POST"])
@policy.access(policy.PARENT)
def family_request(invoice_id: int) -> Any:
    invoice = or_404(invoice_details.family_invoice(current_user, invoice_id))
    form = DetailsRequestForm()
    if request.method == "GET":
        return _family_page(invoice, form)
    if not form.validate():
        return _family_page(invoice, form, 422)
    try:
        invoice_details.ask(
            current_user, invoice.id, form.company_name.data or "", form.tax_id.data or "", form.address.data
        )
    except LookupError:
        abort(404)
    except invoice_details.Conflict as err:
        return _family_page(invoice, form, 409, notice=err.message)
    except ServiceError as err:
        target = getattr(form, err.field or "", None)
        if target is None:
            return _family_page(invoice, form, 422, notice=err.message)
        target.errors = [err.message]
        return _family_page(invoice, form, 422)
    flash("Demande envoyée : vous serez prévenu dès que la facture est mise à jour.", "success")
    return redirect(url_for("parent.payments"), code=303)


# -- staff --------------------------------------------------------------------------------------


@bp.get("/dashboard/admin/factures/demandes")
@policy.access(policy.STAFF)
def staff_index() -> Any:
    return render_template(
        "invoices/details_requests.html",
        requests=invoice_details.pending(),
        handled=invoice_details.recent_handled(),
        Status=DetailsRequestStatus,
    )


@bp.post("/dashboard/admin/factures/demandes/<int:request_id>/<any(appliquer, refuser):decision>")
@policy.access(policy.STAFF)
def decide(request_id: int, decision: str) -> Any:
    apply = decision == "appliquer"
    row = db.get_or_404(InvoiceDetailsRequest, request_id)
    reason = request.form.get("reason", "")
    pending = row.status is DetailsRequestStatus.PENDING
    if not rows.confirmed() and pending:
        return _confirm(row, apply, reason)
    try:
        if apply:
            row = invoice_details.apply(request_id, current_user)
        else:
            row = invoice_details.refuse(request_id, current_user, reason)
    except LookupError:
        abort(404)
    except invoice_details.Conflict as err:
        row = db.get_or_404(InvoiceDetailsRequest, request_id)
        same = row.status is (DetailsRequestStatus.APPLIED if apply else DetailsRequestStatus.REFUSED)
        return _answer(row, f"{err.message} ({row.status.label})", rows.DONE if same else rows.CONFLICT)
    except ServiceError as err:
        row = db.get_or_404(InvoiceDetailsRequest, request_id)
        if err.field and not is_fragment_request():
            return _confirm(row, apply, reason, err.message)
        return _answer(row, err.message, rows.REFUSED)
    return _answer(
        row, "Demande appliquée : la facture est à jour." if apply else "Demande refusée.", rows.DONE
    )


def _confirm(row: InvoiceDetailsRequest, apply: bool, reason: str, error: str | None = None) -> Any:
    """Without JavaScript, the question the row's hx-confirm asks (and the reason of a refusal)."""
    refusal = {
        "reason_label": "Motif du refus",
        "reason_hint": "Transmis à la famille, 5 à 500 caractères.",
        "reason_required": True,
        "reason": reason,
        "reason_error": error,
    }
    page = rows.confirm_page(
        f"Appliquer ces coordonnées à la facture {row.invoice.number} ?"
        if apply
        else f"Refuser la demande pour la facture {row.invoice.number} ?",
        url_for("invoice_details.decide", request_id=row.id, decision="appliquer" if apply else "refuser"),
        button="Oui, appliquer" if apply else "Oui, refuser",
        back=rows.back_url(DESK),
        facts={
            "Facture": row.invoice.number,
            "Client actuel": row.invoice.customer_name,
            "Entreprise": row.company_name,
            "Matricule fiscal": row.tax_id,
            "Adresse": row.address or "—",
        },
        warning="La facture et son PDF sont mis à jour ; la famille est prévenue."
        if apply
        else "La famille est prévenue, avec le motif.",
        danger=not apply,
        **({} if apply else refusal),
    )
    return page, rows.REFUSED if error else rows.DONE


def _answer(row: InvoiceDetailsRequest, notice: str, status: int) -> Any:
    return rows.answer(
        "invoices/_details_row.html", notice, back=DESK, status=status, r=row, Status=DetailsRequestStatus
    )
