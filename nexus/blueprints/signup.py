"""/inscription: a family signs up by itself, one question group at a time, then confirms its
address from the link e-mailed to the parent.

Works without JavaScript exactly like /bilan-gratuit: every step is a plain POST and the answers
of the other steps travel as hidden fields (never the password: it is asked on the last step
only). With htmx only the form fragment is swapped. The answer page is the same whatever the
address (no enumeration); the account is created only when the link is used.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from limits import parse

from nexus import policy, steps
from nexus.blueprints.auth import end_session
from nexus.extensions import client_ip, limiter
from nexus.forms.signup import SignupForm
from nexus.models.diagnostics import BilanRequest
from nexus.models.family import FamilySignup
from nexus.services import ServiceError, family, signup
from nexus.services.identity import TokenState
from nexus.web import is_fragment_request

bp = Blueprint("signup", __name__, url_prefix="/inscription")

# The bilan request sent from this browser (set by /bilan-gratuit): the only source of the link
# between a sign-up and a request, never a posted field.
BILAN_KEY = "bilan_request_id"
LAST_STEP = 3
SEND_LIMIT = parse("5/hour")
TOO_MANY = (
    "Plusieurs inscriptions ont déjà été envoyées depuis cette connexion. Réessayez dans une heure : "
    "vos réponses restent ci-dessous (retapez seulement le mot de passe)."
)
FROM_BILAN = (
    "Nous avons repris les réponses de votre demande de bilan. Vérifiez-les, puis choisissez "
    "votre mot de passe."
)
STEP_TITLES = {1: "Vous", 2: "Vos enfants", 3: "Mot de passe et envoi"}


def _render(
    form: SignupForm, step: int, status: int = 200, notice: str | None = None, focus: bool = True
) -> Any:
    target = form.focus(step) if focus and request.method == "POST" else None
    if target is not None:
        target.render_kw = {**(target.render_kw or {}), "autofocus": True}
    context = steps.context(form, step, STEP_TITLES, notice)
    template = "signup/_form.html" if is_fragment_request() else "signup/form.html"
    return render_template(template, **context), status


def _sent(email: str | None) -> Any:
    """The one answer page, whatever happened to the sign-up."""
    session["signup_email"] = (email or "").strip()[:254]
    target = url_for("signup.sent")
    if is_fragment_request():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)


def _bilan() -> BilanRequest | None:
    """The bilan request this browser sent, if it still exists."""
    value = session.get(BILAN_KEY)
    return signup.bilan_prefill(value if isinstance(value, int) else None)


def _start() -> Any:
    """The first page: empty, or filled from the bilan request sent from this browser."""
    bilan = _bilan() if request.args.get("depuis") == "bilan" else None
    if bilan is None:
        return _render(SignupForm(), 1)
    form = SignupForm(
        first_name=bilan.parent_first_name,
        last_name=bilan.parent_last_name,
        email=bilan.parent_email,
        phone=bilan.parent_phone,
        children=[
            {
                "first_name": bilan.student_first_name,
                "last_name": bilan.student_last_name,
                "grade": bilan.grade.value,
                "email": "",
            }
        ],
    )
    # Straight to the password when the answers hold; else to the first step to correct.
    failed = form.first_invalid_step(2)
    return _render(form, failed or LAST_STEP, notice=FROM_BILAN)


@bp.route("", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
def form() -> Any:
    if current_user.is_authenticated:  # a signed-in family already has its space
        return redirect(url_for("dashboard.home"), code=303 if request.method == "POST" else 302)
    if request.method == "GET":
        return _start()
    form = SignupForm()
    if form.website.data:  # a filled honeypot gets the same answer, and nothing is kept
        return _sent(form.email.data)
    if form.change_children(request.form):
        added = request.form.get("enfant") == "ajouter"
        if added:
            form.children.entries[-1].form.first_name.render_kw = {"autofocus": True}
        return _render(form, 2, focus=False)
    back = steps.navigation(LAST_STEP)
    if back is not None:
        return _render(form, back, focus=False)
    shown = steps.advance(form, LAST_STEP, SEND_LIMIT, "inscription", TOO_MANY)
    if shown is not None:
        return _render(form, *shown)
    bilan = _bilan()
    signup.register(form.draft(bilan.id if bilan else None), form.password.data or "")
    session.pop(BILAN_KEY, None)
    return _sent(form.email.data)


@bp.get("/envoyee")
@policy.access(policy.PUBLIC)
def sent() -> Any:
    return render_template("signup/sent.html", email=session.pop("signup_email", None))


def _link_page(state: TokenState, row: FamilySignup | None, token: str) -> Any:
    """The page a link leads to: the confirmation button, or why it cannot be used."""
    if state is TokenState.VALID and row is not None:
        return render_template("signup/confirm.html", row=row, token=token, children=signup.children_of(row))
    status = 200 if state is TokenState.USED else 410
    return render_template(
        "signup/link_problem.html",
        state=state.value,
        row=row,
        token=token,
        can_renew=row is not None and signup.can_renew(row),
    ), status


@bp.route("/confirmer", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
@limiter.limit("20/15 minutes", methods=["POST"], key_func=client_ip)
def confirm() -> Any:
    """GET only shows the page (mail scanners open links); the button (POST) confirms."""
    token = request.args.get("token", "")[:300]
    state, row = signup.state_of(token)
    if request.method == "GET" or row is None:
        return _link_page(state, row, token)
    try:
        confirmed = signup.confirm(token)
    except family.EmailTaken:
        return render_template("signup/email_taken.html", email=row.email), 409
    except signup.SignupExpired:
        return _link_page(TokenState.EXPIRED, row, token)
    except (LookupError, ServiceError):
        return _link_page(TokenState.UNKNOWN, None, token)
    email = confirmed.email
    if current_user.is_authenticated:  # someone else was signed in on this device
        end_session()
    flash("Adresse confirmée, votre espace est prêt. Connectez-vous.", "success")
    return redirect(url_for("auth.signin", email=email), code=303)


@bp.post("/nouveau-lien")
@policy.access(policy.PUBLIC)
@limiter.limit("3/hour", key_func=client_ip)
def renew() -> Any:
    """An expired link asks for a fresh one, sent to the same address (at most 3 times)."""
    signup.renew(request.form.get("token", "")[:300])
    return render_template("signup/renewed.html")
