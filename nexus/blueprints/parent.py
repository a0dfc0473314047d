"""The parent's pages: children (and their care: details, removal, the second parent), offers,
paying (transfer or card), payments, documents."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import EmailField, SelectField, StringField, TelField
from wtforms.validators import AnyOf, DataRequired, Email, Length, Optional

from nexus import policy
from nexus.extensions import client_ip, limiter
from nexus.forms import Form, Phone
from nexus.models.billing import PaymentStatus
from nexus.models.catalog import OfferKind
from nexus.models.common import Grade, Subject
from nexus.services import (
    ServiceError,
    billing,
    catalog,
    clictopay,
    co_parents,
    dashboards,
    family,
    invoices,
    parse_id,
)
from nexus.services.billing import Order

bp = Blueprint("parent", __name__, url_prefix="/dashboard/parent")
REQUIRED = "Ce champ est obligatoire."
UNKNOWN_OFFER = "Cette offre n'existe pas ou n'est plus proposée : choisissez-en une ci-dessous."


class ChildForm(Form):
    first_name = StringField("Prénom", validators=[DataRequired(REQUIRED), Length(2, 80)])
    last_name = StringField("Nom", validators=[DataRequired(REQUIRED), Length(2, 80)])
    grade = SelectField("Classe", choices=Grade.choices(), validators=[DataRequired(REQUIRED)])
    school = StringField("Établissement (facultatif)", validators=[Optional(), Length(max=120)])
    email = EmailField(
        "E-mail de l'élève (facultatif)",
        validators=[
            Optional(),
            Email("Adresse e-mail invalide.", check_deliverability=False),
            Length(max=254),
        ],
    )


def _parent_key() -> str:
    return f"user:{current_user.id}"


@bp.route("/enfants", methods=["GET", "POST"])
@policy.access(policy.PARENT)
@limiter.limit("20/hour", methods=["POST"], key_func=_parent_key)  # each child may mean an e-mail
def children() -> Any:
    form = ChildForm()
    if request.method == "POST":
        if form.validate():
            try:
                student = family.add_child(
                    current_user,
                    form.first_name.data or "",
                    form.last_name.data or "",
                    Grade(form.grade.data),
                    form.school.data,
                    form.email.data,
                )
            except ServiceError as err:
                getattr(form, err.field or "email").errors = [err.message]
            else:
                sent = " Le lien d'activation lui a été envoyé." if form.email.data else ""
                flash(f"{student.user.first_name} est ajouté(e) à votre famille.{sent}", "success")
                return redirect(url_for("parent.children"), code=303)
        status = 422
    else:
        status = 200
    return _children_page(form=form, status=status)


def _children_page(
    form: ChildForm | None = None,
    co_form: CoParentForm | None = None,
    co_error: str | None = None,
    status: int = 200,
) -> Any:
    """The children page: a card per child, adding a child, the family's second parent."""
    return (
        render_template(
            "parent/children.html",
            cards=dashboards.children_summary(current_user),
            form=form or ChildForm(formdata=None),
            parents=co_parents.parents_of(current_user),
            co_form=co_form or CoParentForm(formdata=None),
            co_error=co_error,
        ),
        status,
    )


# -- a child's care: details, removal ------------------------------------------------------------

NAME_LENGTH = Length(2, 80, "Entre 2 et 80 caractères.")


class ChildEditForm(Form):
    first_name = StringField("Prénom", validators=[DataRequired("Indiquez le prénom."), NAME_LENGTH])
    last_name = StringField("Nom", validators=[DataRequired("Indiquez le nom."), NAME_LENGTH])
    grade = SelectField(
        "Classe",
        choices=Grade.choices(),
        validate_choice=False,
        validators=[
            DataRequired("Choisissez la classe."),
            AnyOf([g.value for g in Grade], "Choisissez une classe dans la liste."),
        ],
    )


@bp.route("/enfants/<int:student_id>/modifier", methods=["GET", "POST"])
@policy.access(policy.PARENT)
def edit_child(student_id: int) -> Any:
    """Change a child's first name, last name and class."""
    student = family.child_of(current_user, student_id)
    if student is None:
        abort(404)
    current = {"first_name": student.user.first_name, "last_name": student.user.last_name}
    form = ChildEditForm(data={**current, "grade": student.grade.value})
    if request.method == "GET":
        return render_template("parent/child_edit.html", student=student, form=form, name=current)
    if not form.validate():
        return render_template("parent/child_edit.html", student=student, form=form, name=current), 422
    first_name = (form.first_name.data or "").strip()  # as stored: nothing read after the commit
    try:
        family.update_child(
            current_user, student_id, first_name, form.last_name.data or "", Grade(form.grade.data)
        )
    except LookupError:  # removed meanwhile
        abort(404)
    flash(f"Modifications enregistrées pour {first_name}.", "success")
    return redirect(url_for("parent.children", _anchor=f"enfant-{student_id}"), code=303)


def _already_removed(first_name: str) -> Any:
    flash(f"{first_name} a déjà été retiré(e) de votre famille.", "info")
    return redirect(url_for("parent.children"), code=303)


@bp.route("/enfants/<int:student_id>/retirer", methods=["GET", "POST"])
@policy.access(policy.PARENT)
def remove_child(student_id: int) -> Any:
    """The confirmation page (GET), then the removal (POST) of a child without history."""
    student = family.child_of(current_user, student_id)
    if student is None:  # a second click says so; someone else's child is not found
        removed = family.removed_child_name(current_user, student_id)
        if removed is None:
            abort(404)
        return _already_removed(removed)
    first_name = student.user.first_name
    if request.method == "GET":
        history = family.child_history(student)
        return render_template("parent/child_remove.html", student=student, history=history)
    try:
        family.remove_child(current_user, student_id)
    except LookupError:  # another click removed the child while this one waited for the lock
        return _already_removed(first_name)
    except ServiceError as err:
        student = family.child_of(current_user, student_id)
        if student is None:
            abort(404)
        history = family.child_history(student)
        return render_template(
            "parent/child_remove.html", student=student, history=history, error=err.message
        ), 409
    flash(f"{first_name} a été retiré(e) de votre famille.", "success")
    return redirect(url_for("parent.children"), code=303)


# -- the second parent ---------------------------------------------------------------------------


class CoParentForm(Form):
    """The second parent; its own ids, since it shares the page with the add-a-child form."""

    first_name = StringField(
        "Prénom", id="co-first-name", validators=[DataRequired("Indiquez le prénom."), NAME_LENGTH]
    )
    last_name = StringField(
        "Nom", id="co-last-name", validators=[DataRequired("Indiquez le nom."), NAME_LENGTH]
    )
    email = EmailField(
        "E-mail",
        id="co-email",
        validators=[
            DataRequired("Indiquez son adresse e-mail."),
            Email("Adresse e-mail invalide.", check_deliverability=False),
            Length(max=254, message="254 caractères au plus."),
        ],
    )
    phone = TelField("Téléphone (facultatif)", id="co-phone", validators=[Optional(), Phone()])


@bp.post("/enfants/second-parent")
@policy.access(policy.PARENT)
@limiter.limit("10/hour", key_func=_parent_key)  # each invitation is an e-mail
def invite_co_parent() -> Any:
    """Invite the family's second parent; an address in use answers like any other."""
    co_form = CoParentForm()
    if not co_form.validate():
        return _children_page(co_form=co_form, status=422)
    address = (co_form.email.data or "").strip().lower()
    draft = family.ParentDraft(
        co_form.first_name.data or "", co_form.last_name.data or "", address, co_form.phone.data
    )
    try:
        co_parents.invite(current_user, draft)
    except ServiceError as err:
        return _children_page(co_form=co_form, co_error=err.message, status=409)
    flash(f"Invitation envoyée à {address}. Le lien est valable 72 heures.", "success")
    return redirect(url_for("parent.children", _anchor="second-parent"), code=303)


@bp.post("/enfants/second-parent/renvoyer")
@policy.access(policy.PARENT)
@limiter.limit("10/hour", key_func=_parent_key)
def resend_co_parent() -> Any:
    """A new activation link for the second parent who has not activated their account yet."""
    try:
        address = co_parents.resend_link(current_user)
    except ServiceError as err:
        return _children_page(co_error=err.message, status=409)
    flash(f"Nouveau lien envoyé à {address}. Il est valable 72 heures.", "success")
    return redirect(url_for("parent.children", _anchor="second-parent"), code=303)


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
    student_id = parse_id(values.get("eleve"))
    if student_id is None:
        abort(404)
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
    student_id = parse_id(values.get("eleve"))
    child = family.child_of(current_user, student_id) if student_id else None
    return Order(offer, child, None) if offer is not None and child is not None else None


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
        student_id = parse_id(request.args.get("eleve"))
        child = family.child_of(current_user, student_id) if student_id else None
        if child is None:
            abort(404)
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
        order = _order_for_form(order, err, request.form)
        offer = catalog.find(request.form.get("offre"))
        child = order.student if order else None
        return _render_payment(order, err.message, 422, err.field, offer=offer, child=child, pending=None)
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
        order = _order_for_form(order, err, request.form)
        child = order.student if order else None
        offer = order.offer if order else None
        return _render_payment(order, err.message, 422, err.field, offer=offer, child=child)
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


@bp.route("/enfants/second-parent/annuler", methods=["GET", "POST"])
@policy.access(policy.PARENT)
def cancel_co_parent() -> Any:
    """The confirmation page (GET), then the withdrawal (POST) of a waiting invitation."""
    parents = co_parents.parents_of(current_user)
    second = parents.second if parents and parents.viewer_opened else None
    if second is None or second.active:  # nothing waits (a second click, an old tab)
        flash("Aucune invitation n'attend d'activation.", "info")
        return redirect(url_for("parent.children", _anchor="second-parent"), code=303)
    if request.method == "GET":
        return render_template("parent/co_parent_cancel.html", second=second)
    try:
        first_name = co_parents.cancel_invitation(current_user)
    except ServiceError as err:  # withdrawn by another click meanwhile
        flash(err.message, "info")
        return redirect(url_for("parent.children", _anchor="second-parent"), code=303)
    flash(f"L'invitation de {first_name} est annulée : son lien ne fonctionne plus.", "success")
    return redirect(url_for("parent.children", _anchor="second-parent"), code=303)
