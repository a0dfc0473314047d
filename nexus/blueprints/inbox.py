"""The staff inbox (every thread with families), answering the contact form and bilan requests,
message reports, and every user's e-mail preferences."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.forms.inbox import PreferencesForm
from nexus.services import preferences

bp = Blueprint("inbox", __name__)


# -- e-mail preferences (every signed-in user) ---------------------------------------------------


def _preferences_form() -> PreferencesForm:
    form = PreferencesForm()
    events = preferences.events_for(current_user.role)
    form.events.choices = [(event.code, event.label) for event in events if not event.locked]
    return form


@bp.route("/compte/notifications", methods=["GET", "POST"])
@policy.access(policy.SIGNED_IN)
def preferences_page() -> Any:
    """A plain form of checkboxes: what reaches me by e-mail (the bell always shows everything)."""
    form = _preferences_form()
    user = current_user._get_current_object()
    if request.method == "POST":
        if form.validate():
            preferences.save(user, form.events.data or [])
            flash("Préférences enregistrées.", "success")
            return redirect(url_for("inbox.preferences_page"), code=303)
        chosen = {code: code in (form.events.data or []) for code in preferences.BY_CODE}
        return _preferences(form, chosen), 422
    return _preferences(form, preferences.choices_of(user))


def _preferences(form: PreferencesForm, chosen: dict[str, bool]) -> str:
    return render_template(
        "preferences/index.html",
        form=form,
        events=preferences.events_for(current_user.role),
        chosen=chosen,
        nav_current="auth.account",
    )
