"""A coach's workshops: their list, planning one in their own subjects, a workshop's participants,
and the group report once it has started (shared text, then each participant's part)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.blueprints.workshops.common import (
    bp,
    coach_form,
    create_from,
    detail_page,
    form_page,
    visible,
)
from nexus.forms.workshops import GroupReportForm, ParticipantParts, participant_parts
from nexus.models.identity import CoachProfile
from nexus.models.workshops import Workshop
from nexus.services import ServiceError, scheduling, utcnow, workshops
from nexus.services.workshops import report as group_report
from nexus.web import or_404

COACH = "/dashboard/coach/ateliers"


def _profile() -> CoachProfile:
    return or_404(scheduling.coach_profile_of(current_user))


@bp.get(COACH)
@policy.access(policy.COACH)
def coach_index() -> Any:
    profile = _profile()
    return render_template(
        "workshops/coach_index.html", listed=workshops.coach_list(profile, now=utcnow()), now=utcnow()
    )


@bp.route(f"{COACH}/nouveau", methods=["GET", "POST"])
@policy.access(policy.COACH)
def coach_create() -> Any:
    profile = _profile()
    form = coach_form(profile)
    back = url_for("workshops.coach_index")
    if request.method == "GET":
        return form_page(form, back=back, coach=profile)
    if form.validate():
        if form.subject.data not in profile.subjects:
            form.subject.errors = ["Choisissez une de vos matières."]
        elif (done := create_from(form, profile, "workshops.coach_detail")) is not None:
            return done
    return form_page(form, back=back, coach=profile, status=422)


@bp.get(f"{COACH}/<int:workshop_id>")
@policy.access(policy.COACH)
def coach_detail(workshop_id: int) -> Any:
    return detail_page(visible(workshop_id), staff=False)


@bp.route(f"{COACH}/<int:workshop_id>/rapport", methods=["GET", "POST"])
@policy.access(policy.COACH)
def coach_report(workshop_id: int) -> Any:
    workshop = visible(workshop_id)
    form = GroupReportForm()
    seats = group_report.holding_seats(workshop.id)
    parts = ParticipantParts({}, {}, {}, {})
    if request.method == "GET":
        return _report_page(workshop, form, seats, parts)
    parts = participant_parts(request.form, seats)
    if not (form.validate() and not parts.errors):
        return _report_page(workshop, form, seats, parts, status=422)
    try:
        group_report.write_group_report(
            current_user, workshop.id, form.shared(), parts.attendance, parts.notes, parts.ratings
        )
    except ServiceError as err:
        target = getattr(form, err.field, None) if err.field else None
        if target is not None:
            target.errors = [err.message]
        elif err.field:
            parts.errors[err.field] = err.message
        already = err.message == group_report.ALREADY_WRITTEN
        return _report_page(workshop, form, seats, parts, error=err.message, status=409 if already else 422)
    flash("Compte rendu enregistré : chaque famille reçoit la partie de son enfant.", "success")
    return redirect(url_for("workshops.coach_detail", workshop_id=workshop.id), code=303)


def _report_page(
    workshop: Workshop,
    form: GroupReportForm,
    seats: list[Any],
    parts: ParticipantParts,
    error: str | None = None,
    status: int = 200,
) -> Any:
    now = utcnow()
    closed = None
    try:
        group_report.check_open(workshop, now)
    except ServiceError as err:
        closed = err.message
    posted = request.form if request.method == "POST" else None
    return (
        render_template(
            "workshops/report.html",
            w=workshop,
            form=form,
            seats=seats,
            parts=parts,
            posted=posted,
            closed=closed,
            error=error if error != closed else None,
            done=[p for p in workshops.participants(workshop.id) if p.report] if closed else [],
        ),
        status,
    )
