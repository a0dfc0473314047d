"""Staff: pending bank transfers, approved or rejected in the row (ASSISTANTE and ADMIN)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.extensions import db
from nexus.models.billing import Payment
from nexus.services import ServiceError, billing, catalog
from nexus.web import is_fragment_request

bp = Blueprint("payments", __name__, url_prefix="/dashboard/assistante/paiements")


def _row(payment: Payment, message: str | None = None, error: str | None = None, status: int = 200) -> Any:
    return (
        render_template(
            "payments/_row.html", p=payment, label=catalog.order_label, message=message, error=error
        ),
        status,
    )


def _answer(payment: Payment, message: str, category: str, status: int = 200) -> Any:
    """The new row for htmx; a redirect to the table with a flash message otherwise."""
    if is_fragment_request():
        error = message if category == "error" else None
        return _row(payment, None if error else message, error, status)
    flash(message, category)
    return redirect(url_for("payments.index"), code=303)


@bp.get("")
@policy.access(policy.STAFF)
def index() -> Any:
    search = request.args.get("q", "").strip()[:100]
    rows = billing.pending_transfers(search)
    template = "payments/_table.html" if is_fragment_request() else "payments/index.html"
    return render_template(template, rows=rows, q=search, label=catalog.order_label)


@bp.post("/<int:payment_id>/valider")
@policy.access(policy.STAFF)
def approve(payment_id: int) -> Any:
    payment = db.get_or_404(Payment, payment_id)
    if request.form.get("confirm") != "1" and billing.staff_decides(payment):
        # Without JavaScript: a confirmation page first (a card payment is refused at once).
        return render_template("payments/confirm.html", p=payment, label=catalog.order_label)
    return _decide(
        payment,
        lambda: billing.approve(payment_id, current_user),
        f"Validé : {catalog.order_label(payment)} est actif.",
    )


@bp.post("/<int:payment_id>/refuser")
@policy.access(policy.STAFF)
def reject(payment_id: int) -> Any:
    payment = db.get_or_404(Payment, payment_id)
    return _decide(
        payment,
        lambda: billing.reject(payment_id, current_user, request.form.get("reason", "")),
        "Refusé : la famille est prévenue par e-mail.",
    )


def _decide(payment: Payment, decision: Callable[[], Payment], done: str) -> Any:
    """Apply a staff decision once; a second click, or a refusal, is said in the row."""
    try:
        decision()
    except billing.AlreadyProcessed:
        return _answer(db.get_or_404(Payment, payment.id), "Déjà traité", "info")
    except ServiceError as err:
        return _answer(db.get_or_404(Payment, payment.id), err.message, "error", 422)
    return _answer(payment, done, "success")
