"""The parent's offers and paying: the order summary priced from the catalog, the declared
transfer or the card payment (and the return from the gateway), the family's payments."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.blueprints.parent.common import bp
from nexus.extensions import client_ip, limiter
from nexus.models.billing import PaymentStatus
from nexus.models.catalog import OfferKind
from nexus.models.common import Subject
from nexus.services import ServiceError, billing, catalog, clictopay, dashboards, family, invoices, parse_id
from nexus.services.billing import Order
from nexus.web import or_404

UNKNOWN_OFFER = "Cette offre n'existe pas ou n'est plus proposée : choisissez-en une ci-dessous."


@bp.get("/abonnements")
@policy.access(policy.PARENT)
def offers() -> Any:
    return _offer_choice()


def _offer_choice(error: str | None = None, status: int = 200) -> Any:
    """The offers for each child (also where a payment without a known offer leads)."""
    return (
        render_template(
            "parent/offers.html",
            cards=dashboards.children_summary(current_user),
            kinds=[(kind, catalog.offers_of(kind)) for kind in OfferKind],
            error=error,
        ),
        status,
    )


def _order_from(values: Any) -> Order:
    """The order described by offre/eleve/aria_subject; someone else's child → 404."""
    student_id = or_404(parse_id(values.get("eleve")))
    try:
        return billing.build_order(
            current_user, student_id, values.get("offre", ""), values.get("aria_subject")
        )
    except LookupError:
        abort(404)


def _order_for_form(order: Order | None, err: ServiceError, values: Any) -> Order | None:
    """For showing the form again: an order refused only for its ARIA subject is shown without
    one, so that the page asks for it next to the field (nothing is declared with it)."""
    if order is not None or err.field != "aria_subject":
        return order
    offer = catalog.find(values.get("offre"))
    child = family.child_of(current_user, parse_id(values.get("eleve")))
    return Order(offer, child, None) if offer is not None and child is not None else None


def _refused_payment(order: Order | None, err: ServiceError) -> Any:
    """The payment page again with the refusal (next to its field when it has one)."""
    order = _order_for_form(order, err, request.form)
    offer, child = (order.offer, order.student) if order else (None, None)
    return _render_payment(order, err.message, 422, err.field, offer=offer, child=child)


def _render_payment(
    order: Order | None,
    error: str | None = None,
    status: int = 200,
    error_field: str | None = None,
    **extra: Any,
) -> Any:
    student = order.student if order else extra.get("child")
    return (
        render_template(
            "parent/payment.html",
            order=order,
            error=error,
            error_field=error_field,
            subjects=Subject.choices(),
            subscription=billing.active_subscription(student.id) if student else None,
            bank=billing.BANK,
            reference=billing.transfer_reference(order) if order else None,
            card_enabled=clictopay.enabled(),
            **extra,
        ),
        status,
    )


@bp.get("/paiement")
@policy.access(policy.PARENT)
def payment() -> Any:
    """The order summary: amount computed here from the catalog, then the payment choice."""
    child = None
    if request.args.get("eleve"):  # someone else's child (or no id at all) is not found
        child = or_404(family.child_of(current_user, parse_id(request.args.get("eleve"))))
    offer = catalog.find(request.args.get("offre"))
    if offer is None:
        if request.args.get("offre"):
            return _offer_choice(UNKNOWN_OFFER, 422)
        anchor = f"enfant-{child.id}" if child else None
        return redirect(url_for("parent.offers", _anchor=anchor), code=303)
    if child is None:  # ask which child first
        children = family.children(current_user)
        return render_template("parent/choose_child.html", offer=offer, children=children)
    try:
        order = billing.build_order(
            current_user, child.id, offer.code.value, request.args.get("aria_subject")
        )
    except ServiceError as err:
        if err.field != "aria_subject":
            return _render_payment(None, err.message, 422, offer=offer, child=child)
        if offer.kind is OfferKind.ARIA_ADDON and billing.active_subscription(child.id) is None:
            # Said before the family makes a transfer, not after (declaring would be refused).
            message = "Une option ARIA s'ajoute à une formule active : choisissez d'abord une formule."
            return _render_payment(None, message, 422, offer=offer, child=child)
        order = Order(offer, child, None)  # the form asks for the subject
    pending = billing.pending_for(order)
    return _render_payment(order, offer=offer, child=child, pending=pending)


@bp.post("/paiement/virement")
@policy.access(policy.PARENT)
@limiter.limit("20/hour", key_func=client_ip)
def declare_transfer() -> Any:
    order = None
    try:
        order = _order_from(request.form)
        payment = billing.declare_transfer(current_user, order)
    except ServiceError as err:
        return _refused_payment(order, err)
    flash(
        f"Merci ! Votre virement (référence {payment.reference}) est enregistré. "
        "Nous le validons sous 24 à 48 h ouvrées et vous prévenons par e-mail.",
        "success",
    )
    return redirect(url_for("parent.payments"), code=303)


@bp.post("/paiement/carte")
@policy.access(policy.PARENT)
@limiter.limit("20/hour", key_func=client_ip)
def pay_by_card() -> Any:
    if not clictopay.enabled():
        abort(404)
    order = None
    try:
        order = _order_from(request.form)
        url = clictopay.start(current_user, order)
    except ServiceError as err:
        return _refused_payment(order, err)
    return redirect(url, code=303)


@bp.get("/paiement/carte/retour")
@policy.access(policy.PARENT)
def card_return() -> Any:
    """Back from the gateway: its answer is asked for server-side, never read from the URL."""
    order_id = request.args.get("orderId", "")
    try:
        payment = clictopay.confirm(order_id, current_user)
    except LookupError:  # no such card order, or someone else's
        abort(404)
    except ServiceError as err:
        flash(err.message, "error")
        return redirect(url_for("parent.payments"), code=303)
    if payment.status is PaymentStatus.COMPLETED:
        flash("Paiement accepté : c'est actif dès maintenant. La facture est dans vos documents.", "success")
    else:
        flash(f"Le paiement par carte n'a pas abouti : {payment.rejection_reason}.", "error")
    return redirect(url_for("parent.payments"), code=303)


@bp.get("/paiements")
@policy.access(policy.PARENT)
def payments() -> Any:
    return render_template(
        "parent/payments.html",
        payments=billing.payments_of_parent(current_user),
        invoices=invoices.of_user(current_user),
        label=catalog.order_label,
    )
