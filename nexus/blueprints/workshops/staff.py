"""Staff's workshops: the list (coming, then past), planning one (weekly if asked), a workshop's
participants and waiting list, and cancelling it (a confirmation page, everyone refunded)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy, rows
from nexus.blueprints.workshops.common import (
    bp,
    create_from,
    detail_page,
    form_page,
    reason_problem,
    staff_coach,
    staff_form,
    visible,
)
from nexus.models.workshops import Workshop
from nexus.services import ServiceError, utcnow, workshops

STAFF = "/dashboard/assistante/ateliers"


@bp.get(STAFF)
@policy.access(policy.STAFF)
def staff_index() -> Any:
    now = utcnow()
    return render_template(
        "workshops/staff_index.html",
        upcoming=workshops.staff_list(upcoming=True, now=now),
        past=workshops.staff_list(upcoming=False, now=now),
    )


@bp.route(f"{STAFF}/nouveau", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def staff_create() -> Any:
    form, coaches = staff_form()
    back = url_for("workshops.staff_index")
    if request.method == "GET":
        return form_page(form, back=back, staff=True)
    if form.validate() and (coach := staff_coach(form, coaches)) is not None:
        done = create_from(form, coach, "workshops.staff_detail")
        if done is not None:
            return done
    return form_page(form, back=back, staff=True, status=422)


@bp.get(f"{STAFF}/<int:workshop_id>")
@policy.access(policy.STAFF)
def staff_detail(workshop_id: int) -> Any:
    return detail_page(visible(workshop_id), staff=True)


@bp.route(f"{STAFF}/<int:workshop_id>/annuler", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def staff_cancel(workshop_id: int) -> Any:
    """The confirmation page asks first (it posts confirm=1), with the reason for the families."""
    workshop = visible(workshop_id)
    reason = request.form.get("reason", "")
    if request.method == "GET" or not rows.confirmed():
        return _confirm(workshop, reason)
    problem = reason_problem(reason)
    if problem:
        return _confirm(workshop, reason, problem, 422)
    try:
        workshops.cancel_workshop(current_user, workshop.id, reason or None)
    except ServiceError as err:
        if err.field in ("reason", "motif"):
            return _confirm(workshop, reason, err.message, 422)
        flash(err.message, "error")
        return redirect(url_for("workshops.staff_detail", workshop_id=workshop.id), code=303)
    flash(f"Atelier « {workshop.title} » annulé : chaque participant est remboursé et prévenu.", "success")
    return redirect(url_for("workshops.staff_detail", workshop_id=workshop.id), code=303)


def _confirm(workshop: Workshop, reason: str, reason_error: str | None = None, status: int = 200) -> Any:
    if not workshop.status.is_scheduled:
        flash(f"Cet atelier est déjà « {workshop.status.label} ».", "info")
        return redirect(url_for("workshops.staff_detail", workshop_id=workshop.id), code=303)
    page = rows.confirm_page(
        "Annuler l'atelier",
        url_for("workshops.staff_cancel", workshop_id=workshop.id),
        button="Annuler l'atelier",
        back=url_for("workshops.staff_detail", workshop_id=workshop.id),
        facts={
            "Atelier": workshop.title,
            "Matière": workshop.subject.label,
            "Coach": workshop.coach.pseudonym,
            "Quand": f"{fr.when(workshop.starts_at)} (heure de Tunis)",
        },
        warning=(
            "Chaque participant est remboursé de ses crédits et prévenu par e-mail, ainsi que le coach ; "
            "la liste d'attente est close. Cette annulation ne se défait pas."
        ),
        reason_label="Motif, transmis aux familles",
        reason_hint="Facultatif, 500 caractères au plus.",
        reason=reason,
        reason_error=reason_error,
        danger=True,
    )
    return page, status
