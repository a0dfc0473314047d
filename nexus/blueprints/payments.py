"""Staff: pending bank transfers, approved or rejected in the row (ASSISTANTE and ADMIN).

Both decisions are final, so both ask first (nexus/rows.py): hx-confirm in the browser, a
confirmation page without JavaScript. Beside the queue, the transfers decided this week, and the
card payments pending or refused, each with the bank's last answer; "Vérifier auprès de la
banque" asks the gateway at once (the reconciliation job's own command, audited).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy, rows
from nexus.extensions import db
from nexus.models.billing import Payment
from nexus.services import ServiceError, billing, catalog, clictopay
from nexus.web import is_fragment_request

bp = Blueprint("payments", __name__, url_prefix="/dashboard/assistante/paiements")

LIST, ROW, CARD_ROW = "payments.index", "payments/_row.html", "payments/_card_row.html"
CARDS_TARGET = "card-payments"  # the card table's id: its filter asks for that fragment alone
CHECKED = {
    clictopay.PAID_OUT: ("Payé : la banque le confirme. L'offre est activée et la facture émise.", rows.DONE),
    clictopay.FAILED_OUT: ("Non abouti d'après la banque : le paiement est marqué refusé.", rows.DONE),
    clictopay.WAITING: ("La banque n'a pas encore reçu ce paiement : il reste en attente.", rows.DONE),
    clictopay.UNREACHABLE: (clictopay.NO_ANSWER, rows.REFUSED),
    clictopay.SETTLED: (f"{rows.ALREADY_DONE} : ce paiement est déjà réglé.", rows.DONE),
}


@bp.get("")
@policy.access(policy.STAFF)
def index() -> Any:
    search = request.args.get("q", "").strip()[:100]
    carte = billing.card_filter(request.args.get("carte"))
    back = request.full_path.rstrip("?")
    cards = {"cards": billing.card_payments(carte), "carte": carte, **_card_context(back)}
    if is_fragment_request() and request.headers.get("HX-Target") == CARDS_TARGET:
        return render_template("payments/_cards.html", **cards)
    context = {
        "rows": billing.pending_transfers(search),
        "q": search,
        "label": catalog.order_label,
        "back_url": back,
    }
    if is_fragment_request():
        return render_template("payments/_table.html", **context)
    return render_template(
        "payments/index.html",
        **(context | cards),
        card_filters=billing.CARD_FILTERS,
        recent=billing.recently_decided(),
    )


def _card_context(back: str) -> dict[str, Any]:
    """What a card row shows: the order, the bank's last word on it, where a plain POST returns."""
    return {
        "label": catalog.order_label,
        "card_status": clictopay.card_status_label,
        "bank_words": clictopay.bank_words,
        "back_url": back,
    }


@bp.post("/<int:payment_id>/verifier")
@policy.access(policy.STAFF)
def check_card(payment_id: int) -> Any:
    """Ask the bank now about a pending card payment and settle it from its answer."""
    try:
        check = clictopay.reconcile(payment_id, current_user)
    except LookupError:  # no such payment, or a transfer
        abort(404)
    except ServiceError as err:  # e.g. an ARIA option whose plan ended since: nothing changed
        payment = db.get_or_404(Payment, payment_id)
        return rows.answer(
            CARD_ROW,
            err.message,
            back=LIST,
            status=rows.REFUSED,
            p=payment,
            **_card_context(rows.back_url(LIST)),
        )
    notice, status = CHECKED[check.outcome]
    if check.outcome == clictopay.FAILED_OUT and check.payment.rejection_reason:
        notice = f"Non abouti d'après la banque : {check.payment.rejection_reason}."
    context = _card_context(rows.back_url(LIST))
    return rows.answer(CARD_ROW, notice, back=LIST, status=status, p=check.payment, **context)


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
