"""Staff invoices: list and search, manual invoices, their states, e-mailed links."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.extensions import db
from nexus.models.billing import Invoice, InvoiceStatus, PaymentMethod
from nexus.services import ServiceError, invoices
from nexus.web import page_arg

bp = Blueprint("invoices", __name__, url_prefix="/dashboard/admin/factures")
LINES = 4
TND = re.compile(r"^\s*(\d{1,7})(?:[.,](\d{1,3}))?\s*$")


def parse_tnd(raw: str | None) -> int | None:
    """'450' or '1 080,5' (TND) → millimes; None when it is not an amount."""
    match = TND.match((raw or "").replace(" ", "").replace("\u202f", ""))
    if not match:
        return None
    return int(match.group(1)) * 1000 + int((match.group(2) or "0").ljust(3, "0"))


@bp.get("")
@policy.access(policy.STAFF)
def index() -> Any:
    query = request.args.get("q", "").strip()[:100]
    status = InvoiceStatus.__members__.get(request.args.get("statut", ""))
    return render_template(
        "invoices/index.html",
        page=invoices.search(query, status, page_arg()),
        q=query,
        status=status,
        statuses=list(InvoiceStatus),
    )


def _lines_from_form() -> list[invoices.Line]:
    lines = []
    for i in range(LINES):
        label = request.form.get(f"label_{i}", "").strip()
        if not label:
            continue
        qty = request.form.get(f"qty_{i}", "1")
        price = parse_tnd(request.form.get(f"price_{i}"))
        if not (qty.isdecimal() and len(qty) < 4) or not 1 <= int(qty) <= 100 or price is None:
            raise ServiceError(
                f"Ligne {i + 1} : quantité (1 à 100) et prix en TND (ex. 450 ou 60,500) requis."
            )
        lines.append(invoices.Line(label[:160], int(qty), price))
    return lines


@bp.route("/nouvelle", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def create() -> Any:
    if request.method == "GET":
        return render_template("invoices/new.html", form={}, error=None, lines=LINES)
    name = request.form.get("customer_name", "").strip()
    try:
        if len(name) < 2:
            raise ServiceError("Indiquez le nom du client.")
        discount = parse_tnd(request.form.get("discount") or "0")
        if discount is None:
            raise ServiceError("Remise : un montant en TND, par exemple 50.")
        invoice = invoices.create(
            name[:160],
            _lines_from_form(),
            status=InvoiceStatus.DRAFT,
            actor_id=current_user.id,
            customer_email=(request.form.get("customer_email") or "").strip().lower()[:254] or None,
            customer_address=(request.form.get("customer_address") or "").strip()[:300] or None,
            discount_millimes=discount,
            notes=(request.form.get("notes") or "").strip()[:2000] or None,
        )
    except ServiceError as err:
        db.session.rollback()
        return render_template("invoices/new.html", form=request.form, error=err.message, lines=LINES), 422
    db.session.commit()
    flash(f"Facture {invoice.number} créée (brouillon).", "success")
    return redirect(url_for("invoices.show", invoice_id=invoice.id), code=303)


@bp.get("/<int:invoice_id>")
@policy.access(policy.STAFF)
def show(invoice_id: int) -> Any:
    invoice = db.get_or_404(Invoice, invoice_id)
    return render_template("invoices/show.html", invoice=invoice, methods=list(PaymentMethod))


@bp.post("/<int:invoice_id>/statut")
@policy.access(policy.STAFF)
def change_status(invoice_id: int) -> Any:
    target = InvoiceStatus.__members__.get(request.form.get("target", ""))
    if target is None:
        abort(404)
    return _act(
        invoice_id,
        lambda: invoices.change_status(
            invoice_id,
            target,
            current_user,
            reason=request.form.get("reason"),
            method=PaymentMethod.__members__.get(request.form.get("method", "")),
            paid_amount_millimes=parse_tnd(request.form.get("paid_amount")),
            reference=(request.form.get("reference") or "").strip()[:64] or None,
        ),
        lambda invoice: f"Facture : {target.label.lower()}.",
    )


@bp.post("/<int:invoice_id>/envoyer")
@policy.access(policy.STAFF)
def send(invoice_id: int) -> Any:
    return _act(
        invoice_id,
        lambda: invoices.send_link(invoice_id, current_user, current_app.config["PUBLIC_URL"]),
        lambda invoice: f"Lien envoyé à {invoice.customer_email} (valable 72 h).",
    )


def _act(invoice_id: int, action: Callable[[], Invoice], done: Callable[[Invoice], str]) -> Any:
    """Run a staff action on an invoice, say how it went, and go back to the invoice."""
    try:
        invoice = action()
    except LookupError:
        abort(404)
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        db.session.commit()
        flash(done(invoice), "success")
    return redirect(url_for("invoices.show", invoice_id=invoice_id), code=303)
