"""Staff: pending bank transfers, approved or rejected in the row (ASSISTANTE and ADMIN).

Both decisions are final, so both ask first (nexus/rows.py): hx-confirm in the browser, a
confirmation page without JavaScript. Beside the queue, the transfers decided this week.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy, rows
from nexus.extensions import db
from nexus.models.billing import Payment
from nexus.services import ServiceError, billing, catalog
from nexus.web import is_fragment_request

bp = Blueprint("payments", __name__, url_prefix="/dashboard/assistante/paiements")

LIST, ROW = "payments.index", "payments/_row.html"


@bp.get("")
@policy.access(policy.STAFF)
def index() -> Any:
    search = request.args.get("q", "").strip()[:100]
    context = {
        "rows": billing.pending_transfers(search),
        "q": search,
        "label": catalog.order_label,
        "back_url": request.full_path.rstrip("?"),
    }
    if is_fragment_request():
        return render_template("payments/_table.html", **context)
    return render_template("payments/index.html", **context, recent=billing.recently_decided())


@bp.post("/<int:payment_id>/valider")
@policy.access(policy.STAFF)
def approve(payment_id: int) -> Any:
    payment = db.get_or_404(Payment, payment_id)
    if not rows.confirmed() and billing.staff_decides(payment) and payment.is_pending:
        # Without JavaScript: a confirmation page first (a card payment is refused at once).
        return rows.confirm_page(
            f"Valider le virement {payment.reference} ?",
            url_for("payments.approve", payment_id=payment.id),
            button="Oui, valider",
            back=rows.back_url(LIST),
            facts=_facts(payment),
            warning=(
                "Vérifiez sur le relevé bancaire que le montant et la référence correspondent. En validant, "
                "l'offre est activée, la facture émise et la famille prévenue."
            ),
        )
    return _decide(
        payment,
        lambda: billing.approve(payment_id, current_user),
        f"Validé : {catalog.order_label(payment)} est actif.",
        approving=True,
    )


@bp.post("/<int:payment_id>/refuser")
@policy.access(policy.STAFF)
def reject(payment_id: int) -> Any:
    payment = db.get_or_404(Payment, payment_id)
    reason = request.form.get("reason", "")
    if not rows.confirmed() and billing.staff_decides(payment) and payment.is_pending:
        return _confirm_rejection(payment, reason)
    return _decide(
        payment,
        lambda: billing.reject(payment_id, current_user, reason),
        "Refusé : la famille est prévenue par e-mail.",
        approving=False,
    )


def _facts(payment: Payment) -> dict[str, str]:
    return {
        "Famille": f"{payment.payer.full_name} ({payment.payer.email})",
        "Commande": catalog.order_label(payment),
        "Montant": fr.tnd(payment.amount_millimes),
        "Référence": payment.reference,
        "Déclaré le": fr.date_time(payment.declared_at),
    }


def _confirm_rejection(payment: Payment, reason: str, error: str | None = None) -> Any:
    """Without JavaScript, the question the row asks, with the reason sent to the family."""
    page = rows.confirm_page(
        f"Refuser le virement {payment.reference} ?",
        url_for("payments.reject", payment_id=payment.id),
        button="Oui, refuser",
        back=rows.back_url(LIST),
        facts=_facts(payment),
        warning="La famille recevra le motif par e-mail.",
        reason_label="Motif du refus",
        reason_hint="Transmis à la famille, 5 à 500 caractères.",
        reason_required=True,
        reason=reason,
        reason_error=error,
        danger=True,
    )
    return page, rows.REFUSED if error else rows.DONE


def _decide(payment: Payment, decision: Callable[[], Payment], done: str, *, approving: bool) -> Any:
    """Apply a staff decision once, and say in the row how it went (status: nexus/rows.py)."""
    try:
        decision()
    except billing.AlreadyProcessed:
        now = db.get_or_404(Payment, payment.id)
        same = now.is_completed if approving else not now.is_completed
        status = rows.DONE if same else rows.CONFLICT
        notice = "Déjà traité" if same else f"Déjà traité par ailleurs : {now.status.label.lower()}."
        return _answer(now, notice, status)
    except ServiceError as err:
        now = db.get_or_404(Payment, payment.id)
        if err.field == "reason" and not is_fragment_request():
            return _confirm_rejection(now, request.form.get("reason", ""), err.message)
        return _answer(now, err.message, rows.REFUSED)
    return _answer(payment, done, rows.DONE)


def _answer(payment: Payment, notice: str, status: int) -> Any:
    context = {"p": payment, "label": catalog.order_label, "back_url": rows.back_url(LIST)}
    return rows.answer(ROW, notice, back=LIST, status=status, **context)
