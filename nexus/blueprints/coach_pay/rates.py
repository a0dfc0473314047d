"""Staff: a coach's hourly rates per modality, their history, and a new rate from a date."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy
from nexus.blueprints.coach_pay.common import bp, parse_day
from nexus.models.coach_pay import CoachRate, PayModality
from nexus.models.identity import CoachProfile
from nexus.numbers import parse_tnd
from nexus.services import ServiceError, accounts, coach_pay, coaching
from nexus.web import or_404

HOURLY_MESSAGE = "Un tarif horaire en TND, par exemple 30 ou 27,500."


def _setters(history: list[CoachRate]) -> dict[int, str]:
    """Who set each rate, by user id (a handful of staff members)."""
    found = {}
    for user_id in {rate.set_by_id for rate in history if rate.set_by_id is not None}:
        user = accounts.get(user_id)
        if user is not None:
            found[user_id] = user.full_name
    return found


def _page(profile: CoachProfile, errors: dict[str, str] | None = None) -> Any:
    history = coach_pay.rates_of(profile.id)
    return render_template(
        "coach_pay/rates.html",
        profile=profile,
        current=coach_pay.current_rates(profile.id),
        history=history,
        setters=_setters(history),
        modalities=list(PayModality),
        today=fr.local_today(),
        form=request.form if errors else {},
        errors=errors or {},
    )


@bp.route("/dashboard/assistante/coachs/<int:coach_id>/tarifs", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def rates(coach_id: int) -> Any:
    profile = or_404(coaching.get_coach(coach_id))
    if request.method == "GET":
        return _page(profile)
    try:
        modality = PayModality.__members__.get(request.form.get("modality", ""))
        if modality is None:
            raise ServiceError("Choisissez une modalité dans la liste.", "modality")
        hourly = parse_tnd(request.form.get("hourly"))
        if hourly is None:
            raise ServiceError(HOURLY_MESSAGE, "hourly")
        effective_from = parse_day(request.form.get("effective_from"), "effective_from")
        coach_pay.set_rate(current_user, profile.id, modality, hourly, effective_from)
    except LookupError:
        abort(404)
    except ServiceError as err:
        return _page(profile, {err.field or "form": err.message}), 422
    flash(
        f"Tarif « {modality.label} » de {profile.pseudonym} : {fr.tnd(hourly)} de l'heure "
        f"à partir du {fr.short_date(effective_from)}.",
        "success",
    )
    return redirect(url_for("coach_pay.rates", coach_id=profile.id), code=303)
