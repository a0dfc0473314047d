"""/bilan-gratuit: the free-assessment request, one question group at a time.

Works without JavaScript: every step is a plain POST, and the answers of the other steps travel
as hidden fields, so nothing is kept on the server until the last step and nothing is lost on
a validation error or on "Retour". With htmx only the form fragment is swapped.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from limits import parse

from nexus import policy, steps
from nexus.forms.bilan import BilanForm
from nexus.services import diagnostics
from nexus.web import is_fragment_request

bp = Blueprint("bilan", __name__, url_prefix="/bilan-gratuit")

LAST_STEP = 4
SEND_LIMIT = parse("5/hour")
TOO_MANY = (
    "Plusieurs demandes ont déjà été envoyées depuis cette connexion. Réessayez dans une heure : "
    "vos réponses restent ci-dessous."
)
STEP_TITLES = {
    1: "Vos coordonnées",
    2: "L'élève",
    3: "Ses besoins",
    4: "Récapitulatif et envoi",
}


def _render(form: BilanForm, step: int, status: int = 200, notice: str | None = None) -> Any:
    focus = form.focus(step) if request.method == "POST" else None
    if focus and form[focus].type not in ("RadioField", "SubjectsField"):
        form[focus].render_kw = {**(form[focus].render_kw or {}), "autofocus": True}
    context = steps.context(form, step, STEP_TITLES, notice) | {"focus": focus}
    template = "public/_bilan_form.html" if is_fragment_request() else "public/bilan.html"
    return render_template(template, **context), status


def _confirmed() -> Any:
    target = url_for("bilan.confirmation")
    if is_fragment_request():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)


@bp.route("", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
def request_form() -> Any:
    form = BilanForm()
    if request.method == "GET":
        return _render(form, 1)
    if form.website.data:  # a filled honeypot gets the same thanks, and nothing is kept
        return _confirmed()
    back = steps.navigation(LAST_STEP)
    if back is not None:
        return _render(form, back)
    shown = steps.advance(form, LAST_STEP, SEND_LIMIT, "bilan-gratuit", TOO_MANY)
    if shown is not None:
        return _render(form, *shown)
    row = diagnostics.submit_bilan_request(form.answers())
    session["bilan_email"] = row.parent_email
    # The confirmation page offers to create the family space from these answers (/inscription).
    session["bilan_request_id"] = row.id
    return _confirmed()


@bp.get("/confirmation")
@policy.access(policy.PUBLIC)
def confirmation() -> Any:
    return render_template("public/bilan_confirmation.html", email=session.pop("bilan_email", None))
