"""The assistante's coaches table: list, "Nouveau coach", edit, deactivate/reactivate inline.

Row actions answer as every staff row does (nexus/rows.py); deactivating or reactivating asks
first, without JavaScript on a confirmation page. Create and edit are full pages, kept on error.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy, rows
from nexus.forms.base import Form
from nexus.forms.coaches import CoachForm
from nexus.models.identity import CoachProfile
from nexus.services import ServiceError, coaching
from nexus.web import is_fragment_request, or_404, page_arg

bp = Blueprint("coaches", __name__, url_prefix="/dashboard/assistante/coachs")

LIST = "coaches.index"
DEACTIVATE_WARNING = "Il ne pourra plus se connecter et disparaîtra de la page publique « L'équipe »."
REACTIVATE_WARNING = "Il pourra de nouveau se connecter et sera visible des familles."


def _query() -> str:
    return request.args.get("q", "").strip()[:100]


def _refused(form: Form, err: ServiceError) -> None:
    """Put the service's French refusal next to its field (or above the form)."""
    target = getattr(form, err.field, None) if err.field else None
    if target is not None:
        target.errors = [err.message]
    else:
        flash(err.message, "error")


# -- list -------------------------------------------------------------------------------------


@bp.get("")
@policy.access(policy.STAFF)
def index() -> Any:
    filter_key = request.args.get("filtre", "tous")
    if filter_key not in coaching.COACH_FILTERS:
        filter_key = "tous"
    template = "coaches/_table.html" if is_fragment_request() else "coaches/index.html"
    return render_template(
        template,
        page=coaching.list_coaches(filter_key, _query(), page_arg()),
        filters=coaching.COACH_FILTERS,
        filter_key=filter_key,
        q=_query(),
        back_url=request.full_path.rstrip("?"),
    )


# -- create and edit --------------------------------------------------------------------------


@bp.route("/nouveau", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def create() -> Any:
    form = CoachForm()
    if request.method == "GET":
        return render_template("coaches/form.html", form=form, profile=None)
    if form.validate():
        try:
            profile = coaching.create_coach(form.email.data or "", form.fields_data(), current_user)
        except ServiceError as err:
            _refused(form, err)
        else:
            flash(
                f"Coach « {profile.pseudonym} » créé. Une invitation valable 72 heures a été envoyée "
                f"à {profile.user.email} pour choisir son mot de passe.",
                "success",
            )
            return redirect(url_for(LIST), code=303)
    return render_template("coaches/form.html", form=form, profile=None), 422


@bp.route("/<int:coach_id>/modifier", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def edit(coach_id: int) -> Any:
    profile = or_404(coaching.get_coach(coach_id))
    form = CoachForm()
    if profile.user.activated_at is not None:
        del form.email  # the login of an activated account is not changed from here
    if request.method == "GET":
        form.fill_from(profile)
        return render_template("coaches/form.html", form=form, profile=profile)
    if form.validate():
        email = form.email.data if form.email else None
        try:
            invited = coaching.update_coach(coach_id, form.fields_data(), current_user, email)
        except ServiceError as err:
            _refused(form, err)
        else:
            notice = f"Profil de « {form.pseudonym.data} » enregistré."
            if invited:
                notice += " Une nouvelle invitation a été envoyée à la nouvelle adresse."
            flash(notice, "success")
            return redirect(url_for(LIST), code=303)
    profile = or_404(coaching.get_coach(coach_id))
    return render_template("coaches/form.html", form=form, profile=profile), 422


# -- row actions ------------------------------------------------------------------------------


@bp.post("/<int:coach_id>/<any(activer, desactiver):action>")
@policy.access(policy.STAFF)
def toggle_active(coach_id: int, action: str) -> Any:
    active = action == "activer"
    profile = or_404(coaching.get_coach(coach_id))
    if not rows.confirmed() and profile.user.is_active != active:
        return _confirm_toggle(profile, action)
    try:
        profile = coaching.set_coach_active(coach_id, active, current_user)
    except LookupError:
        abort(404)
    except ServiceError as err:
        return _row_answer(coach_id, err.message, rows.REFUSED)
    verb = "réactivé" if active else "désactivé"
    return _row_answer(coach_id, f"Compte de {profile.pseudonym} {verb}.", rows.DONE)


def _confirm_toggle(profile: CoachProfile, action: str) -> Any:
    """Without JavaScript, the question the row's hx-confirm asks."""
    deactivate = action == "desactiver"
    return rows.confirm_page(
        f"{'Désactiver' if deactivate else 'Réactiver'} le coach {profile.pseudonym} ?",
        url_for("coaches.toggle_active", coach_id=profile.id, action=action),
        button="Oui, désactiver" if deactivate else "Oui, réactiver",
        back=rows.back_url(LIST),
        facts={"Coach": profile.pseudonym, "Nom": profile.user.full_name, "E-mail": profile.user.email},
        warning=DEACTIVATE_WARNING if deactivate else REACTIVATE_WARNING,
        danger=deactivate,
    )


@bp.post("/<int:coach_id>/invitation")
@policy.access(policy.STAFF)
def invitation(coach_id: int) -> Any:
    try:
        profile = coaching.resend_invitation(coach_id, current_user)
    except LookupError:
        abort(404)
    except ServiceError as err:
        return _row_answer(coach_id, err.message, rows.REFUSED)
    notice = f"Nouvelle invitation envoyée à {profile.user.email}. Elle est valable 72 heures."
    return _row_answer(coach_id, notice, rows.DONE)


def _row_answer(coach_id: int, notice: str, status: int) -> Any:
    profile = or_404(coaching.get_coach(coach_id))
    context = {"row": coaching.coach_row(profile), "back_url": rows.back_url(LIST)}
    return rows.answer("coaches/_row.html", notice, back=LIST, status=status, **context)
