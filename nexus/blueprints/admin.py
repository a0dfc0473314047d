"""Admin pages: accounts (list, create, manage, delete = anonymise), the audit log, plans (their
status and end corrected by hand, with a reason)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy, rows
from nexus.extensions import db
from nexus.forms.admin import AccountForm, NewAccountForm
from nexus.forms.base import Form
from nexus.forms.subscriptions import SubscriptionEditForm
from nexus.models.billing import SubscriptionStatus
from nexus.models.common import Role
from nexus.models.identity import User
from nexus.services import ServiceError, accounts, audit, billing, erasure, family, identity
from nexus.web import is_fragment_request, or_404, page_arg

bp = Blueprint("admin", __name__, url_prefix="/dashboard/admin")
USERS = "admin.users"


def _refused(form: Form, err: ServiceError) -> None:
    """Put the service's French refusal next to its field, or above the form."""
    target = getattr(form, err.field, None) if err.field else None
    if target is not None and not isinstance(target, (list, dict)):
        target.errors = [err.message]
    else:
        form.form_errors.append(err.message)


def _user_or_404(user_id: int) -> User:
    return or_404(accounts.get(user_id))


@bp.get("/utilisateurs")
@policy.access(policy.ADMIN)
def users() -> Any:
    query = request.args.get("q", "")[:100]
    role = Role.__members__.get(request.args.get("role", ""))
    state = request.args.get("etat", "")
    state = state if state in accounts.STATE_FILTERS else ""
    page = accounts.search(query, role, state, page_arg())
    template = "admin/_users_table.html" if is_fragment_request() else "admin/users.html"
    return render_template(
        template,
        back_url=request.full_path.rstrip("?"),
        page=page,
        query=query,
        role=role,
        role_options=[("", "Tous"), *((r.value, r.label) for r in Role)],
        state=state,
        states=accounts.STATE_FILTERS,
    )


@bp.route("/utilisateurs/nouveau", methods=["GET", "POST"])
@policy.access(policy.ADMIN)
def new_user() -> Any:
    form = NewAccountForm()
    if request.method == "GET":
        form.role.data = request.args.get("role", "")[:20] or None
        return render_template("admin/user_new.html", form=form)
    if form.change_children(request.form):
        return render_template("admin/user_new.html", form=form)
    if form.check():
        try:
            user = accounts.create_account(
                form.draft(), form.kids(), current_user._get_current_object(), form.password.data
            )
        except family.EmailTaken as err:
            form.email.errors = [err.message]
            return render_template("admin/user_new.html", form=form, taken=err.owner), 422
        except ServiceError as err:
            if err.field == "email":  # a child's address (the parent's is EmailTaken above)
                form.form_errors.append(f"Adresse d'un enfant : {err.message}")
            else:
                _refused(form, err)
        else:
            flash(
                f"Compte de {user.full_name} créé. Un lien d'activation valable 72 heures "
                f"a été envoyé à {user.email}.",
                "success",
            )
            return redirect(url_for("admin.user_page", user_id=user.id), code=303)
    return render_template("admin/user_new.html", form=form), 422


def _account_page(user: User, form: AccountForm, status: int = 200, taken: User | None = None) -> Any:
    links = identity.pending_activation_links([user.id])
    return (
        render_template(
            "admin/user_edit.html",
            user=user,
            form=form,
            taken=taken,
            link_expires_at=links.get(user.id),
            pending_email=accounts.pending_email_change(user.id),
            family=accounts.family_of(user),
            student_family=accounts.student_parent(user) if user.role is Role.ELEVE else None,
        ),
        status,
    )


@bp.route("/utilisateurs/<int:user_id>", methods=["GET", "POST"])
@policy.access(policy.ADMIN)
def user_page(user_id: int) -> Any:
    user = _user_or_404(user_id)
    form = AccountForm(obj=user) if request.method == "GET" else AccountForm()
    if request.method == "GET":
        return _account_page(user, form)
    if user.anonymised_at is not None:
        form.form_errors.append("Ce compte a été supprimé : il ne peut plus être modifié.")
        return _account_page(user, form, 409)
    if not form.validate():
        return _account_page(user, form, 422)
    if not form.email.data and user.email:
        form.email.errors = ["Indiquez l'adresse e-mail."]
        return _account_page(user, form, 422)
    actor = current_user._get_current_object()
    try:
        changed, asked = accounts.update_account(
            user.id,
            form.first_name.data or "",
            form.last_name.data or "",
            form.phone.data,
            form.email.data,
            actor,
        )
    except family.EmailTaken as err:
        form.email.errors = [err.message]
        return _account_page(user, form, 422, taken=err.owner)
    except ServiceError as err:
        _refused(form, err)
        return _account_page(user, form, 422)
    if asked:
        flash(
            f"Un lien de confirmation a été envoyé à {form.email.data}. L'adresse actuelle reste "
            "valable jusqu'à ce qu'il soit utilisé.",
            "success",
        )
    if changed or not asked:
        flash("Modifications enregistrées." if changed else "Aucune modification.", "success")
    return redirect(url_for("admin.user_page", user_id=user.id), code=303)


def _small_action(user_id: int, action: Any, done: str) -> Any:
    """A button of the account page: do it, then back to the page with a flash (PRG)."""
    _user_or_404(user_id)
    try:
        result = action(user_id, current_user._get_current_object())
    except ServiceError as err:
        flash(err.message, "error")
    else:
        flash(
            done if result is not False else "Rien à annuler.", "success" if result is not False else "info"
        )
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/utilisateurs/<int:user_id>/email/annuler")
@policy.access(policy.ADMIN)
def cancel_email_change(user_id: int) -> Any:
    return _small_action(
        user_id, accounts.cancel_email_change, "Changement d'adresse annulé : le lien ne fonctionne plus."
    )


@bp.post("/utilisateurs/<int:user_id>/activation")
@policy.access(policy.ADMIN)
def resend_activation(user_id: int) -> Any:
    return _small_action(user_id, accounts.resend_activation, "Nouveau lien d'activation envoyé (72 heures).")


@bp.route("/utilisateurs/<int:user_id>/anonymiser", methods=["GET", "POST"])
@policy.access(policy.ADMIN)
def anonymise(user_id: int) -> Any:
    user = _user_or_404(user_id)
    if request.method == "GET":
        actor = current_user._get_current_object()
        problem = None if user.anonymised_at else erasure.anonymise_refusal(user, actor)
        return render_template(
            "admin/user_anonymise.html", user=user, family=accounts.family_of(user), error=problem
        )
    try:
        user, done = erasure.anonymise(user_id, current_user._get_current_object())
    except LookupError:
        abort(404)
    except ServiceError as err:
        db.session.refresh(user)
        page = render_template(
            "admin/user_anonymise.html", user=user, family=accounts.family_of(user), error=err.message
        )
        return page, 409
    if done:
        flash("Compte supprimé : ses données personnelles sont effacées.", "success")
    else:
        flash("Ce compte est déjà supprimé.", "info")
    return redirect(url_for("admin.user_page", user_id=user_id), code=303)


@bp.post("/utilisateurs/<int:user_id>/<any(activer, desactiver):action>")
@policy.access(policy.ADMIN)
def toggle_active(user_id: int, action: str) -> Any:
    """From the table (a row action) or the account page; it asks first, without JavaScript on a
    confirmation page, and goes back where it came from."""
    user = _user_or_404(user_id)
    active = action == "activer"
    page = url_for("admin.user_page", user_id=user_id)
    back = page if request.form.get("retour") == page else rows.back_url(USERS)
    changes = user.is_active != active and user.id != current_user.id and user.anonymised_at is None
    if changes and not rows.confirmed():
        return _confirm_toggle(user, action, back)
    try:
        user = identity.set_active(user_id, active, current_user)
    except LookupError:
        abort(404)
    except ServiceError as err:
        return _toggle_answer(user_id, err.message, rows.REFUSED, back)
    notice = f"Compte de {user.full_name} {'réactivé' if user.is_active else 'désactivé'}."
    return _toggle_answer(user_id, notice, rows.DONE, back)


def _confirm_toggle(user: User, action: str, back: str) -> Any:
    deactivate = action == "desactiver"
    return rows.confirm_page(
        f"{'Désactiver' if deactivate else 'Réactiver'} le compte de {user.full_name} ?",
        url_for("admin.toggle_active", user_id=user.id, action=action),
        button="Oui, désactiver" if deactivate else "Oui, réactiver",
        back=back,
        facts={"Nom": user.full_name, "E-mail": user.email or "—", "Profil": user.role.label},
        warning=(
            "Ses sessions ouvertes sont fermées et il ne pourra plus se connecter."
            if deactivate
            else "Il pourra de nouveau se connecter."
        ),
        danger=deactivate,
    )


def _toggle_answer(user_id: int, notice: str, status: int, back: str) -> Any:
    """The row for htmx; without JavaScript, back to the account page or to the table."""
    if back == url_for("admin.user_page", user_id=user_id) and not is_fragment_request():
        flash(notice, "success" if status == rows.DONE else "error")
        return redirect(back, code=303)
    context = {"user": db.get_or_404(User, user_id), "back_url": back}
    return rows.answer("admin/_user_row.html", notice, back=USERS, status=status, **context)


@bp.get("/audit")
@policy.access(policy.ADMIN)
def audit_log() -> Any:
    prefix = request.args.get("action", "")[:40]
    return render_template("admin/audit.html", page=audit.recent(prefix, page_arg()), prefix=prefix)


@bp.get("/abonnements")
@policy.access(policy.ADMIN)
def subscriptions() -> Any:
    status = SubscriptionStatus.__members__.get(request.args.get("statut", "ACTIVE"))
    return render_template(
        "admin/subscriptions.html",
        page=billing.subscriptions(status, page_arg()),
        status=status,
        statuses=list(SubscriptionStatus),
        back_url=request.full_path.rstrip("?"),
    )


SUBSCRIPTIONS = "admin.subscriptions"


@bp.route("/abonnements/<int:subscription_id>/modifier", methods=["GET", "POST"])
@policy.access(policy.ADMIN)
def edit_subscription(subscription_id: int) -> Any:
    """Correct a plan's status and end with a reason; ending a running plan asks first."""
    sub = or_404(billing.find_subscription(subscription_id))
    back = rows.back_url(SUBSCRIPTIONS, None if request.method == "POST" else request.args.get("retour", ""))
    form = SubscriptionEditForm(
        data={"status": sub.status.value, "ends_on": fr.local_today(sub.current_period_end)}
    )
    if request.method == "POST" and form.validate():
        status = SubscriptionStatus(form.status.data)
        if billing.ends_plan(sub, status) and not rows.confirmed():
            return _confirm_end(sub, form, back)
        try:
            billing.edit_subscription(sub.id, current_user, status, form.ends_on.data, form.reason.data or "")
        except ServiceError as err:
            _refused(form, err)
        else:
            flash(f"Abonnement de {sub.student.user.full_name} modifié : {status.label.lower()}.", "success")
            return redirect(back, code=303)
    code = 422 if request.method == "POST" else 200
    return render_template("admin/subscription_edit.html", sub=sub, form=form, back=back), code


def _confirm_end(sub: Any, form: SubscriptionEditForm, back: str) -> Any:
    """Without JavaScript, the question before a running plan ends (its rights end with it)."""
    status = SubscriptionStatus(form.status.data)
    return rows.confirm_page(
        f"Mettre fin à la formule de {sub.student.user.full_name} ?",
        url_for("admin.edit_subscription", subscription_id=sub.id),
        button="Oui, mettre fin à la formule",
        back=back,
        facts={
            "Formule": sub.plan.label,
            "Nouveau statut": status.label,
            "Fin de période": fr.short_date(form.ends_on.data),
        },
        warning="Les droits de l'élève (séances, ARIA) prennent fin aussitôt ; l'audit garde le motif.",
        fields={"status": status.value, "ends_on": form.ends_on.data.isoformat()},  # type: ignore[union-attr]
        reason_label="Motif",
        reason_hint="5 à 500 caractères, gardé dans le journal d'audit.",
        reason_required=True,
        reason=form.reason.data,
        danger=True,
    )
