"""The admin's settings: the centre's legal identity and the mentions its invoices carry, and
the coach pay rules (a form of its own on the same page)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.forms.invoicing import CentreSettingsForm
from nexus.numbers import parse_count
from nexus.services import ServiceError, centre_settings, coach_pay

bp = Blueprint("settings", __name__, url_prefix="/dashboard/admin/parametres")


def _page(form: CentreSettingsForm, status: int = 200, pay_errors: dict[str, str] | None = None) -> Any:
    pay = request.form if pay_errors else None
    return render_template(
        "settings/centre.html",
        form=form,
        pay=coach_pay.pay_settings(),
        pay_form=pay,
        pay_errors=pay_errors or {},
    ), status


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


@bp.post("/remuneration")
@policy.access(policy.ADMIN)
def pay() -> Any:
    """The coach pay rules: whether a student's no-show is paid, the share of a late cancellation."""
    share = parse_count(request.form.get("late_cancel_share"), 0, 100)
    try:
        if share is None:
            raise ServiceError("Une part de 0 à 100 %, par exemple 50.", "late_cancel_share")
        coach_pay.set_pay_settings(current_user, request.form.get("pay_no_show") == "y", share)
    except ServiceError as err:
        form = CentreSettingsForm(formdata=None)
        form.fill_from(centre_settings.current())
        return _page(form, 422, {err.field or "pay_form": err.message})
    flash("Règles de rémunération enregistrées : les relevés à valider les reprendront.", "success")
    return redirect(url_for("settings.centre", _anchor="remuneration"), code=303)
