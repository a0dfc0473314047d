"""The admin's settings: the centre's legal identity and the mentions its invoices carry."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.forms.invoicing import CentreSettingsForm
from nexus.services import ServiceError, centre_settings

bp = Blueprint("settings", __name__, url_prefix="/dashboard/admin/parametres")


def _page(form: CentreSettingsForm, status: int = 200) -> Any:
    return render_template("settings/centre.html", form=form), status


@bp.route("", methods=["GET", "POST"])
@policy.access(policy.ADMIN)
def centre() -> Any:
    form = CentreSettingsForm()
    if request.method == "GET":
        form.fill_from(centre_settings.current())
        return _page(form)
    if not form.validate():
        return _page(form, 422)
    try:
        centre_settings.update(form.values(), current_user.id)
    except ServiceError as err:
        target = getattr(form, err.field or "", None)
        if target is None:
            form.form_errors.append(err.message)
        else:
            target.errors = [err.message]
        return _page(form, 422)
    flash("Paramètres enregistrés : les prochaines factures les reprendront.", "success")
    return redirect(url_for("settings.centre"), code=303)
