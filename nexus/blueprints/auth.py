"""Sign in and out, forgotten password, reset and activation links, the account page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from nexus import policy
from nexus.extensions import client_ip, limiter
from nexus.forms.auth import ChangePasswordForm, ForgotForm, NewPasswordForm, SignInForm
from nexus.models.identity import TokenPurpose
from nexus.services import ServiceError, accounts, identity
from nexus.services.identity import TokenState

bp = Blueprint("auth", __name__, url_prefix="/auth")

BAD_CREDENTIALS = "E-mail ou mot de passe incorrect."


def _typed_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:254]


def _account_key() -> str:
    return "account:" + _typed_email()


def _account_ip_key() -> str:
    return f"account-ip:{_typed_email()}|{client_ip()}"


def _login_failed(response: Any) -> bool:
    return bool(g.get("login_failed"))


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def dashboard_url() -> str:
    return url_for("dashboard.home")


def start_session(signed_in: identity.SignedIn) -> None:
    """A fresh session (new identifier) carrying the token of the server's record of it."""
    session.clear()
    login_user(signed_in.user)
    session["sid"] = signed_in.token
    session.permanent = True  # the cookie may live 14 days; the server record decides


def end_session() -> None:
    """Sign out here: the server forgets this session, so a copied cookie is useless."""
    identity.close_session(session.get("sid"))
    logout_user()
    session.pop("sid", None)


@bp.route("/signin", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
# Wrong passwords limit the guesser, not the owner: tight per address and per account-and-address;
# per account only a slower, larger bound (an owner elsewhere still signs in after a guesser's 10).
@limiter.limit("20/15 minutes", methods=["POST"], key_func=client_ip, deduct_when=_login_failed)
@limiter.limit("10/15 minutes", methods=["POST"], key_func=_account_ip_key, deduct_when=_login_failed)
@limiter.limit("100/hour", methods=["POST"], key_func=_account_key, deduct_when=_login_failed)
def signin() -> Any:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or dashboard_url())
    form = SignInForm()
    if request.method == "POST":
        signed_in = (
            identity.sign_in(
                form.email.data or "",
                form.password.data or "",
                bool(form.remember.data),
                request.user_agent.string,
            )
            if form.validate()
            else None
        )
        if signed_in is None:
            g.login_failed = True
            if not form.errors:
                form.form_errors.append(BAD_CREDENTIALS)
            return render_template("auth/signin.html", form=form), 422
        start_session(signed_in)
        return redirect(safe_next(request.args.get("next")) or dashboard_url(), code=303)
    return render_template("auth/signin.html", form=form)


@bp.post("/signout")
@policy.access(policy.PUBLIC)
def signout() -> Any:
    end_session()
    flash("Vous êtes déconnecté. À bientôt !", "info")
    return redirect(url_for("auth.signin"), code=303)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
@limiter.limit("5/15 minutes", methods=["POST"], key_func=client_ip)
# As for sign-in: someone else asking for links to an address does not block its owner at once.
@limiter.limit("3/hour", methods=["POST"], key_func=_account_ip_key)
@limiter.limit("10/hour", methods=["POST"], key_func=_account_key)
def forgot() -> Any:
    form = ForgotForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("auth/forgot.html", form=form), 422
        identity.request_password_reset(form.email.data or "")
        # The same answer whether the account exists or not.
        return render_template("auth/forgot_sent.html", email=form.email.data)
    form.email.data = request.args.get("email", "")[:254] or None
    return render_template("auth/forgot.html", form=form)


def _link_problem(state: TokenState, purpose: TokenPurpose) -> Any:
    return render_template("auth/link_invalid.html", state=state.value, purpose=purpose.value), 410


def _use_link(purpose: TokenPurpose, template: str, use: Callable[[str, str], Any], done: str) -> Any:
    """A one-time link that sets a password: check the link, then the form, then use it once."""
    token = request.args.get("token", "")
    state, row = identity.inspect_token(token, purpose)
    if state is not TokenState.VALID or row is None:
        return _link_problem(state, purpose)
    form = NewPasswordForm()
    if request.method == "POST":
        if form.validate():
            try:
                use(token, form.password.data or "")
            except ServiceError as err:
                form.password.errors = [err.message]
            else:
                end_session()  # whoever was signed in on this device, sign in afresh
                flash(done, "success")
                return redirect(url_for("auth.signin"), code=303)
        return render_template(template, form=form, token=token, user=row.user), 422
    return render_template(template, form=form, token=token, user=row.user)


@bp.route("/reset-password", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
@limiter.limit("20/15 minutes", methods=["POST"], key_func=client_ip)
def reset_password() -> Any:
    return _use_link(
        TokenPurpose.PASSWORD_RESET,
        "auth/reset.html",
        identity.reset_password,
        "Votre mot de passe a été changé. Connectez-vous avec le nouveau.",
    )


@bp.route("/activate", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
@limiter.limit("20/15 minutes", methods=["POST"], key_func=client_ip)
def activate() -> Any:
    return _use_link(
        TokenPurpose.ACTIVATION,
        "auth/activate.html",
        identity.activate,
        "Votre compte est activé. Connectez-vous pour commencer.",
    )


@bp.post("/activate/nouveau-lien")
@policy.access(policy.PUBLIC)
@limiter.limit("3/hour", key_func=client_ip)
def renew_activation() -> Any:
    """An expired activation link can ask for a fresh one, sent to the same address."""
    token = request.form.get("token", "")
    state, row = identity.inspect_token(token, TokenPurpose.ACTIVATION)
    if row is not None and state is TokenState.EXPIRED:
        identity.resend_activation(row.user)
    return render_template("auth/activation_renewed.html")


@bp.route("/confirmer-email", methods=["GET", "POST"])
@policy.access(policy.PUBLIC)
@limiter.limit("20/15 minutes", methods=["POST"], key_func=client_ip)
def confirm_email() -> Any:
    """A new address chosen by staff replaces the old one once its owner confirms it. A GET only
    shows the button (mail scanners open links); the POST uses the link, once."""
    token = request.values.get("token", "")[:200]
    state, row = accounts.email_change_link(token)
    if state is not TokenState.VALID or row is None:
        return render_template("auth/email_confirm.html", state=state.value, row=None), 410
    if request.method == "POST":
        try:
            accounts.confirm_email_change(token)
        except ServiceError as err:
            return render_template(
                "auth/email_confirm.html", state="refused", row=row, error=err.message
            ), 409
        flash("Votre nouvelle adresse e-mail est confirmée : utilisez-la pour vous connecter.", "success")
        return redirect(url_for("auth.signin"), code=303)
    return render_template("auth/email_confirm.html", state=state.value, row=row, token=token)


@bp.route("/compte", methods=["GET", "POST"])
@policy.access(policy.SIGNED_IN)
@limiter.limit("10/15 minutes", methods=["POST"])
def account() -> Any:
    form = ChangePasswordForm()
    user = current_user._get_current_object()  # the User row, not the proxy
    if request.method == "POST":
        if form.validate():
            try:
                identity.change_password(user, form.current.data or "", form.password.data or "")
            except ServiceError as err:
                getattr(form, err.field or "password").errors = [err.message]
            else:
                login_user(user)  # keep this session; the others have ended
                flash("Mot de passe modifié. Vos autres sessions ont été fermées.", "success")
                return redirect(url_for("auth.account"), code=303)
        return render_template("auth/account.html", form=form), 422
    return render_template("auth/account.html", form=form)
