"""Booking: subject → coach → slot on one page, then confirm and book."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy
from nexus.blueprints.sessions.common import book_url, bp, first_day, student_in, without_slot
from nexus.models.common import Subject
from nexus.models.family import Student
from nexus.services import ServiceError, catalog, credits, scheduling, utcnow
from nexus.services.scheduling import BookingChoice, slots

# -- subject → coach → slot ------------------------------------------------------------------


def _search(student: Student, values: Any) -> dict[str, Any]:
    """What the booking page shows for the choices made so far (each step optional)."""
    errors: dict[str, str] = {}
    subject = scheduling.parse_subject(values.get("matiere"))
    try:
        service = scheduling.parse_service(values.get("type"))
    except ServiceError as err:
        service, errors["type"] = scheduling.SELF_BOOKABLE[0], err.message
    try:
        minutes = scheduling.parse_minutes(values.get("duree"))
    except ServiceError as err:
        minutes, errors["duree"] = slots.DURATIONS[0], err.message
    coaches = scheduling.coaches_for(subject) if subject else []
    coach = next((c for c in coaches if str(c.id) == values.get("coach")), None)
    now = utcnow()
    today = fr.local_today(now)
    first = first_day(values.get("du"), today)
    days = []
    if coach is not None and service in scheduling.services_of(coach):
        days = slots.free_slots(coach.id, minutes, first, 7, student_id=student.id, now=now)
    last_day = slots.booking_bounds(now)[1].astimezone(fr.TUNIS).date()
    return {
        "student": student,
        "subjects": Subject,
        "subject": subject,
        "service": service,
        "services": scheduling.SELF_BOOKABLE,
        "minutes": minutes,
        "durations": slots.DURATIONS,
        "coaches": coaches,
        "coach": coach,
        "coach_services": [s.value for s in scheduling.services_of(coach)] if coach else [],
        "days": days,
        "first_day": first,
        "previous_week": first - timedelta(days=7) if first > today else None,
        "next_week": first + timedelta(days=7) if first + timedelta(days=7) <= last_day else None,
        "errors": errors,
        "rates": catalog.CREDIT_COSTS,
        "entitled": scheduling.can_use_credits(student.id),
        "balance": credits.balance(student.id),
    }


def _render_book(student: Student, values: Any, error: str | None = None, status: int = 200) -> Any:
    page = _search(student, values)
    return render_template("sessions/book.html", error=error, book_url=book_url, **page), status


@bp.get("/dashboard/eleve/sessions")
@policy.access(policy.ELEVE)
def eleve_book() -> Any:
    return _render_book(student_in(request.args), request.args)


@bp.get("/dashboard/parent/sessions/reserver")
@policy.access(policy.PARENT)
def parent_book() -> Any:
    if not request.args.get("eleve"):
        return redirect(url_for("sessions.parent_sessions"))
    return _render_book(student_in(request.args), request.args)


# -- confirm and book --------------------------------------------------------------------------


def _render_confirm(
    student: Student, choice: BookingChoice, error: str | None = None, status: int = 200
) -> Any:
    balance = credits.balance(student.id)
    return (
        render_template(
            "sessions/confirm.html",
            student=student,
            choice=choice,
            balance=balance,
            after=balance - choice.cost,
            entitled=scheduling.can_use_credits(student.id),
            error=error,
            book_url=book_url,
        ),
        status,
    )


@bp.get("/dashboard/sessions/confirmer")
@policy.access(policy.FAMILY)
def confirm() -> Any:
    student = student_in(request.args)
    try:
        choice = scheduling.parse_choice(request.args)
        scheduling.check_choice(choice)
    except ServiceError as err:
        return _render_book(student, request.args, err.message, 422)
    return _render_confirm(student, choice)


@bp.post("/dashboard/sessions/reserver")
@policy.access(policy.FAMILY)
def book() -> Any:
    student = student_in(request.form)
    try:
        choice = scheduling.parse_choice(request.form)
    except ServiceError as err:
        return _render_book(student, request.form, err.message, 422)
    try:
        booking = scheduling.book(current_user, student, choice)
    except scheduling.SlotTaken as err:
        return _render_book(student, without_slot(request.form), err.message, 409)
    except ServiceError as err:
        return _render_confirm(student, choice, err.message, 422)
    flash(f"Séance réservée : {booking.title}, {fr.when(booking.starts_at)}.", "success")
    return redirect(url_for("sessions.detail", booking_id=booking.id), code=303)
