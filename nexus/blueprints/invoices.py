"""Staff invoices: list and search, manual invoices, their states, e-mailed links.

A change of state cannot be undone, so it asks first: hx-confirm in the browser, a confirmation
page without JavaScript (nexus/rows.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy, rows
from nexus.extensions import db
from nexus.fr import tnd
from nexus.models.billing import Invoice, InvoiceStatus, PaymentMethod
from nexus.numbers import parse_count, parse_tnd
from nexus.services import ServiceError, invoice_details, invoice_links, invoices, parse_id
from nexus.text import line_problem
from nexus.web import is_fragment_request, or_404, page_arg

bp = Blueprint("invoices", __name__, url_prefix="/dashboard/admin/factures")
LINES = 4


@bp.get("")
@policy.access(policy.STAFF)
def index() -> Any:
    query = request.args.get("q", "").strip()[:100]
    status = InvoiceStatus.__members__.get(request.args.get("statut", ""))
    return render_template(
        "invoices/_table.html" if is_fragment_request() else "invoices/index.html",
        page=invoices.search(query, status, page_arg()),
        q=query,
        status=status,
        status_options=[("", "Tous"), *((option.value, option.label) for option in InvoiceStatus)],
        can_edit_settings=policy.ADMIN.allows_role(current_user.role),
    )


def _lines_from_form() -> list[invoices.Line]:
    """The filled lines of the form; a refusal names the field (qty_2, price_0…)."""
    lines = []
    for i in range(LINES):
        label = request.form.get(f"label_{i}", "").strip()
        if not label:
            continue
        if problem := line_problem(label):
            raise ServiceError(problem, f"label_{i}")
        qty = parse_count(request.form.get(f"qty_{i}", "1"), 1, 100)
        if qty is None:
            raise ServiceError(f"Ligne {i + 1} : une quantité de 1 à 100.", f"qty_{i}")
        price = parse_tnd(request.form.get(f"price_{i}"))
        if price is None:
            raise ServiceError(f"Ligne {i + 1} : un prix en TND, par exemple 450 ou 60,500.", f"price_{i}")
        lines.append(invoices.Line(label, qty, price))
    return lines


def _customer_email() -> str | None:
    """The optional customer e-mail, a real address or a refusal (links are e-mailed to it)."""
    raw = (request.form.get("customer_email") or "").strip()
    if not raw:
        return None
    if problem := line_problem(raw):
        raise ServiceError(problem, "customer_email")
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ServiceError("Adresse e-mail invalide.", "customer_email") from None


def _new_form(errors: dict[str, str] | None = None) -> Any:
    form = request.form if errors else {}
    search = (request.values.get("famille") or "").strip()[:100]
    return render_template(
        "invoices/new.html",
        form=form,
        errors=errors or {},
        lines=LINES,
        families=invoice_details.family_choices(search),
        family_limit=invoice_details.FAMILY_CHOICES,
        famille=search,
    )


def _chosen_id(name: str, message: str) -> int | None:
    """An optional id chosen in a select: None when left blank, a refusal when it cannot be one."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    chosen = parse_id(raw)
    if chosen is None:
        raise ServiceError(message, name)
    return chosen


@bp.route("/nouvelle", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def create() -> Any:
    if request.method == "GET":
        return _new_form()
    name = request.form.get("customer_name", "").strip()
    try:
        if len(name) < 2:
            raise ServiceError("Indiquez le nom du client.", "customer_name")
        discount = parse_tnd(request.form.get("discount") or "0")
        if discount is None:
            raise ServiceError("Un montant en TND, par exemple 50.", "discount")
        invoice = invoices.create(
            name,
            _lines_from_form(),
            status=InvoiceStatus.DRAFT,
            actor_id=current_user.id,
            customer_email=_customer_email(),
            customer_address=(request.form.get("customer_address") or "").strip() or None,
            beneficiary_id=_chosen_id("beneficiary", "Choisissez une famille dans la liste."),
            student_id=_chosen_id("student", "Choisissez un élève dans la liste."),
            discount_millimes=discount,
            notes=(request.form.get("notes") or "").strip() or None,
        )
    except ServiceError as err:
        return _new_form({err.field or "form": err.message}), 422
    flash(f"Facture {invoice.number} créée (brouillon).", "success")
    return redirect(url_for("invoices.show", invoice_id=invoice.id), code=303)


def _show(invoice: Invoice, errors: dict[str, str] | None = None) -> Any:
    return render_template(
        "invoices/show.html",
        invoice=invoice,
        beneficiary=invoices.beneficiary_of(invoice),
        details=invoice_details.pending_for(invoice.id),
        methods=list(PaymentMethod),
        form=request.form if errors else {},
        errors=errors or {},
    )


@bp.get("/<int:invoice_id>")
@policy.access(policy.STAFF)
def show(invoice_id: int) -> Any:
    return _show(db.get_or_404(Invoice, invoice_id))


@bp.post("/<int:invoice_id>/statut")
@policy.access(policy.STAFF)
def change_status(invoice_id: int) -> Any:
    target = or_404(InvoiceStatus.__members__.get(request.form.get("target", "")))
    invoice = db.get_or_404(Invoice, invoice_id)
    if not rows.confirmed() and target in invoice.next_statuses:
        return _confirm_status(invoice, target)
    return _act(
        invoice_id,
        lambda: invoices.change_status(
            invoice_id,
            target,
            current_user,
            reason=request.form.get("reason"),
            method=PaymentMethod.__members__.get(request.form.get("method", "")),
            paid_amount_millimes=parse_tnd(request.form.get("paid_amount")),
            reference=(request.form.get("reference") or "").strip() or None,
        ),
        lambda invoice: f"Facture : {target.label.lower()}.",
    )


@bp.post("/<int:invoice_id>/envoyer")
@policy.access(policy.STAFF)
def send(invoice_id: int) -> Any:
    return _act(
        invoice_id,
        lambda: invoice_links.send_link(invoice_id, current_user),
        lambda invoice: f"Lien envoyé à {invoice.customer_email} (valable 72 h).",
    )


QUESTIONS = {
    InvoiceStatus.SENT: ("Marquer la facture {number} comme envoyée ?", "Oui, marquer comme envoyée"),
    InvoiceStatus.PAID: ("Marquer la facture {number} comme payée ?", "Oui, marquer comme payée"),
    InvoiceStatus.CANCELLED: ("Annuler définitivement la facture {number} ?", "Oui, annuler la facture"),
}


def _confirm_status(invoice: Invoice, target: InvoiceStatus) -> Any:
    """Without JavaScript, the question the page's hx-confirm asks, with what was typed."""
    question, button = QUESTIONS.get(target, ("Changer l'état de la facture {number} ?", "Confirmer"))
    form = request.form
    facts = {"Client": invoice.customer_name, "Total": tnd(invoice.total_millimes), "État": target.label}
    kept = {"target": target.value}
    if target is InvoiceStatus.PAID:
        method = PaymentMethod.__members__.get(form.get("method", ""))
        facts["Moyen"] = method.label if method else "—"
        facts["Montant reçu"] = form.get("paid_amount", "") or "—"
        kept |= {name: form.get(name, "") for name in ("method", "paid_amount", "reference")}
    reason = {"reason_label": "Motif d'annulation", "reason_required": True, "reason": form.get("reason", "")}
    return rows.confirm_page(
        question.format(number=invoice.number),
        url_for("invoices.change_status", invoice_id=invoice.id),
        button=button,
        back=url_for("invoices.show", invoice_id=invoice.id),
        facts=facts,
        warning="Ce changement ne se défait pas.",
        fields=kept,
        danger=target is InvoiceStatus.CANCELLED,
        **(reason if target is InvoiceStatus.CANCELLED else {}),
    )


def _act(invoice_id: int, action: Callable[[], Invoice], done: Callable[[Invoice], str]) -> Any:
    """Run a staff action on an invoice, say how it went, and go back to the invoice."""
    try:
        invoice = action()
    except LookupError:
        abort(404)
    except ServiceError as err:
        if err.field:  # a typed value refused: the page again, the message by its field
            return _show(db.get_or_404(Invoice, invoice_id), {err.field: err.message}), 422
        flash(err.message, "error")
    else:
        flash(done(invoice), "success")
    return redirect(url_for("invoices.show", invoice_id=invoice_id), code=303)
