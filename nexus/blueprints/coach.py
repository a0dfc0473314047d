"""The coach's pages: sessions (today, this week, history), reports and no-shows, the weekly
availability grid with dated exceptions, and their students with past reports.

The grid is a table whose rows are separate forms (the `form` attribute ties each row's inputs
to its own form): without JavaScript a row saves with a plain POST and a 303; with htmx the row
is swapped in place.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy, rows
from nexus.blueprints.sessions.common import party_booking
from nexus.forms.coach import ReportForm
from nexus.models.identity import CoachProfile
from nexus.models.scheduling import ExceptionKind
from nexus.services import ServiceError, scheduling, utcnow, workshops
from nexus.services.scheduling import availability
from nexus.web import is_fragment_request, or_404

bp = Blueprint("coach", __name__, url_prefix="/dashboard/coach")


def _profile() -> CoachProfile:
    return or_404(scheduling.coach_profile_of(current_user))


# -- sessions ----------------------------------------------------------------------------------


@bp.get("/sessions")
@policy.access(policy.COACH)
def sessions() -> Any:
    profile = _profile()
    agenda = scheduling.coach_agenda(profile.id)
    groups = workshops.to_close(profile)
    return render_template("coach/sessions.html", agenda=agenda, workshops_to_close=groups, profile=profile)


@bp.route("/sessions/<int:booking_id>/rapport", methods=["GET", "POST"])
@policy.access(policy.COACH)
def report(booking_id: int) -> Any:
    booking = party_booking(booking_id)
    form = ReportForm()
    error = None
    if request.method == "POST" and form.validate():
        try:
            scheduling.write_report(current_user, booking.id, form.to_input())
        except ServiceError as err:
            error = err.message
        else:
            flash("Compte rendu enregistré et envoyé au parent.", "success")
            return redirect(url_for("coach.sessions"), code=303)
    status = 422 if request.method == "POST" else 200
    history = [b for b in scheduling.sessions_with(booking.coach_id, booking.student_id) if b.report]
    return (
        render_template(
            "coach/report.html",
            b=booking,
            form=form,
            error=error,
            history=history,
            started=booking.starts_at <= utcnow(),
        ),
        status,
    )


@bp.post("/sessions/<int:booking_id>/absence")
@policy.access(policy.COACH)
def no_show(booking_id: int) -> Any:
    """hx-confirm asks first in the browser; without JavaScript, a confirmation page does."""
    booking = party_booking(booking_id)
    if not rows.confirmed() and booking.is_holding and booking.starts_at <= utcnow():
        return rows.confirm_page(
            "Signaler une absence",
            url_for("coach.no_show", booking_id=booking.id),
            button="Signaler l'absence",
            back=url_for("coach.sessions"),
            facts={
                "Élève": booking.student.user.full_name,
                "Matière": booking.subject.label,
                "Quand": f"{fr.when(booking.starts_at)} (heure de Tunis)",
            },
            warning="La séance sera close : les crédits ne sont pas rendus et la famille en est prévenue.",
            danger=True,
        )
    try:
        scheduling.mark_no_show(current_user, booking.id)
    except ServiceError as err:
        flash(err.message, "error")
    else:
        flash(f"Absence de {booking.student.user.first_name} enregistrée.", "success")
    return redirect(url_for("coach.sessions"), code=303)


# -- availability ------------------------------------------------------------------------------


def _availability_page(**extra: Any) -> Any:
    profile = _profile()
    today = fr.local_today(utcnow())
    valid_from, valid_until = availability.validity(profile.id, today)
    return render_template(
        "coach/availability.html",
        rows=availability.week_grid(profile.id),
        slots_per_day=availability.WINDOWS_PER_DAY,
        valid_from=valid_from,
        valid_until=valid_until,
        exceptions=availability.upcoming_exceptions(profile.id, today),
        kinds=ExceptionKind,
        today=today,
        last_date=availability.date_window(today)[1],
        **extra,
    )


@bp.get("/availability")
@policy.access(policy.COACH)
def availability_page() -> Any:
    return _availability_page()


@bp.post("/availability/jour/<day>")
@policy.access(policy.COACH)
def save_day(day: str) -> Any:
    profile = _profile()
    if day not in availability.WEEKDAY_KEYS:  # '0'…'6' only: the int converter takes '٣' too
        abort(404)
    weekday = int(day)
    pairs = [
        (request.form.get(f"start_{i}"), request.form.get(f"end_{i}"))
        for i in range(availability.WINDOWS_PER_DAY)
    ]
    today = fr.local_today(utcnow())
    try:
        row = availability.set_day(profile.id, weekday, availability.parse_windows(pairs), today)
    except ServiceError as err:
        return _day_refused(profile, weekday, pairs, err)
    notice = f"{row.name} enregistré."
    if is_fragment_request():
        return render_template(
            "coach/_day_row.html", row=row, slots_per_day=availability.WINDOWS_PER_DAY, notice=notice
        )
    flash(notice, "success")
    return redirect(url_for("coach.availability_page"), code=303)


def _day_refused(profile: CoachProfile, weekday: int, pairs: list[Any], err: ServiceError) -> Any:
    """The row again with what was typed, and the French message next to it."""
    row = availability.day_row(profile.id, weekday)
    typed = {f"start_{i}": s or "" for i, (s, _) in enumerate(pairs)}
    typed |= {f"end_{i}": e or "" for i, (_, e) in enumerate(pairs)}
    if is_fragment_request():
        return (
            render_template(
                "coach/_day_row.html",
                row=row,
                slots_per_day=availability.WINDOWS_PER_DAY,
                typed=typed,
                row_error=err.message,
            ),
            422,
        )
    return _availability_page(failed_day=weekday, typed=typed, row_error=err.message), 422


@bp.post("/availability/validite")
@policy.access(policy.COACH)
def save_validity() -> Any:
    profile = _profile()
    today = fr.local_today(utcnow())
    try:
        valid_from = availability.parse_date(request.form.get("valid_from"), "valid_from", today)
        valid_until = availability.parse_date(request.form.get("valid_until"), "valid_until", today)
        availability.set_validity(profile.id, valid_from, valid_until, today)
    except ServiceError as err:
        return _availability_page(validity_error=err.message), 422
    flash("Période de validité enregistrée.", "success")
    return redirect(url_for("coach.availability_page"), code=303)


@bp.post("/availability/exceptions")
@policy.access(policy.COACH)
def add_exception() -> Any:
    profile = _profile()
    form = request.form
    today = fr.local_today(utcnow())
    try:
        row = availability.add_exception(
            profile.id,
            availability.parse_date(form.get("on_date"), "on_date", today),
            ExceptionKind.__members__.get(form.get("kind", "")),
            availability.parse_time(form.get("start"), "start"),
            availability.parse_time(form.get("end"), "end"),
            form.get("note"),
            today,
        )
        booked = availability.sessions_on(profile.id, row.on_date)
    except ServiceError as err:
        return _availability_page(exception_error=err, typed_exception=form), 422
    message = "Exception enregistrée."
    if row.kind is ExceptionKind.UNAVAILABLE and booked:
        still = fr.plural(booked, "séance reste réservée", "séances restent réservées")
        message += f" Attention : {still} ce jour-là ; annulez-les si besoin."
    flash(message, "success" if not booked else "info")
    return redirect(url_for("coach.availability_page"), code=303)


@bp.post("/availability/exceptions/<int:exception_id>/supprimer")
@policy.access(policy.COACH)
def delete_exception(exception_id: int) -> Any:
    profile = _profile()
    if not availability.delete_exception(profile.id, exception_id):
        abort(404)
    flash("Exception supprimée.", "success")
    return redirect(url_for("coach.availability_page"), code=303)


# -- students ----------------------------------------------------------------------------------


@bp.get("/eleves")
@policy.access(policy.COACH)
def students() -> Any:
    profile = _profile()
    return render_template("coach/students.html", rows=scheduling.coach_students(profile.id))


@bp.get("/eleves/<int:student_id>")
@policy.access(policy.COACH)
def student(student_id: int) -> Any:
    profile = _profile()
    found = or_404(scheduling.coach_student(profile.id, student_id))
    return render_template(
        "coach/student.html", student=found, sessions=scheduling.sessions_with(profile.id, found.id)
    )
