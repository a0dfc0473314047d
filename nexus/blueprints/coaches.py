"""The assistante's coaches table: list, "Nouveau coach", edit, deactivate/reactivate inline.

A row action answers htmx with the new <tr>; without JavaScript the same form POST redirects
(303) back to the list with a flash message. Create and edit are full pages, kept on error.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.forms.base import Form
from nexus.forms.coaches import CoachForm
from nexus.services import ServiceError, coaching
from nexus.web import is_fragment_request, page_arg

bp = Blueprint("coaches", __name__, url_prefix="/dashboard/assistante/coachs")

LIST = "coaches.index"


def _query() -> str:
    return request.args.get("q", "").strip()[:100]


def _back_url() -> str:
    """Where a plain POST returns: the list it came from (same filters), never elsewhere."""
    base = url_for(LIST)
    target = request.form.get("retour", "")
    if target == base or (target.startswith(base + "?") and "\\" not in target):
        return target
    return base


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
    return render_template(
        "coaches/index.html",
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
    profile = coaching.get_coach(coach_id) or abort(404)
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
    profile = coaching.get_coach(coach_id) or abort(404)
    return render_template("coaches/form.html", form=form, profile=profile), 422


# -- row actions ------------------------------------------------------------------------------


@bp.post("/<int:coach_id>/<any(activer, desactiver):action>")
@policy.access(policy.STAFF)
def toggle_active(coach_id: int, action: str) -> Any:
    active = action == "activer"
    try:
        profile = coaching.set_coach_active(coach_id, active, current_user)
    except LookupError:
        abort(404)
    except ServiceError as err:
        return _row_response(coach_id, err.message, ok=False)
    verb = "réactivé" if active else "désactivé"
    return _row_response(coach_id, f"Compte de {profile.pseudonym} {verb}.", ok=True)


@bp.post("/<int:coach_id>/invitation")
@policy.access(policy.STAFF)
def invitation(coach_id: int) -> Any:
    try:
        profile = coaching.resend_invitation(coach_id, current_user)
    except LookupError:
        abort(404)
    except ServiceError as err:
        return _row_response(coach_id, err.message, ok=False)
    notice = f"Nouvelle invitation envoyée à {profile.user.email}. Elle est valable 72 heures."
    return _row_response(coach_id, notice, ok=True)


def _row_response(coach_id: int, notice: str, *, ok: bool) -> Any:
    """htmx: the new <tr> with its notice; without JavaScript: back to the list with a flash."""
    if not is_fragment_request():
        flash(notice, "success" if ok else "error")
        return redirect(_back_url(), code=303)
    profile = coaching.get_coach(coach_id) or abort(404)
    body = render_template(
        "coaches/_row.html",
        row=coaching.coach_row(profile),
        notice=notice,
        notice_ok=ok,
        back_url=_back_url(),
    )
    return body, 200 if ok else 422
