"""Sessions for families and staff: book (subject → coach → slot → confirm), my sessions, one
session's page (video room, report, cancel, reschedule), calendar feeds, the staff's list.

A student books for themself, a parent for their own children: someone else's child or session
is simply not found (404). Every form works without JavaScript; htmx boosts navigation, and the
staff's cancel button swaps its table row in place.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from nexus import policy
from nexus.extensions import db, limiter
from nexus.models.common import Role, Subject
from nexus.models.family import Student
from nexus.models.scheduling import SessionBooking
from nexus.services import ServiceError, catalog, credits, family, parse_id, scheduling, utcnow
from nexus.services.scheduling import BookingChoice, calendar, slots, video
from nexus.web import is_fragment_request

bp = Blueprint("sessions", __name__)

SESSION_PARTIES = policy.roles(Role.ELEVE, Role.PARENT, Role.COACH, Role.ADMIN, Role.ASSISTANTE)
FEED_USERS = policy.roles(*calendar.FEED_ROLES)


@bp.app_template_filter("when")
def _when(value: Any) -> str:
    return slots.when_label(value)


@bp.app_template_filter("hm")
def _hm(value: Any) -> str:
    return value.astimezone(slots.TUNIS).strftime("%H:%M")


# -- whose sessions ----------------------------------------------------------------------------


def _student(values: Any) -> Student:
    """The student the request is about: oneself, or one's own child (else 404)."""
    raw = (values.get("eleve") or "").strip()
    if current_user.role is Role.ELEVE:
        student = family.student_of(current_user)
        if student is None or (raw and raw != str(student.id)):
            abort(404)
        return student
    student_id = parse_id(raw)
    student = family.child_of(current_user, student_id) if student_id else None
    if student is None:
        abort(404)
    return student


def _booking(booking_id: int) -> SessionBooking:
    booking = scheduling.booking_for(current_user, booking_id)
    if booking is None:
        abort(404)
    return booking


def _book_url(student: Student, **params: Any) -> str:
    if current_user.role is Role.PARENT:
        return url_for("sessions.parent_book", eleve=student.id, **params)
    return url_for("sessions.eleve_book", **params)


# -- booking: subject → coach → slot ---------------------------------------------------------


def _first_day(raw: str | None, today: date) -> date:
    """The week asked for (?du=), kept between today and the last week before the horizon."""
    day = scheduling.parse_day(raw)
    if day is None:
        return today
    last_week = today + slots.HORIZON - timedelta(days=6)
    return min(max(day, today), last_week)


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
    today = slots.local_today(now)
    first_day = _first_day(values.get("du"), today)
    days = []
    if coach is not None and service in scheduling.services_of(coach):
        days = slots.free_slots(coach.id, minutes, first_day, 7, student_id=student.id, now=now)
    last_day = slots.booking_bounds(now)[1].astimezone(slots.TUNIS).date()
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
        "first_day": first_day,
        "previous_week": first_day - timedelta(days=7) if first_day > today else None,
        "next_week": first_day + timedelta(days=7) if first_day + timedelta(days=7) <= last_day else None,
        "errors": errors,
        "rates": catalog.CREDIT_COSTS,
        "entitled": scheduling.can_use_credits(student.id),
        "balance": credits.balance(student.id),
    }


def _render_book(student: Student, values: Any, error: str | None = None, status: int = 200) -> Any:
    page = _search(student, values)
    return render_template("sessions/book.html", error=error, book_url=_book_url, **page), status


@bp.get("/dashboard/eleve/sessions")
@policy.access(policy.ELEVE)
def eleve_book() -> Any:
    return _render_book(_student(request.args), request.args)


@bp.get("/dashboard/parent/sessions/reserver")
@policy.access(policy.PARENT)
def parent_book() -> Any:
    if not request.args.get("eleve"):
        return redirect(url_for("sessions.parent_sessions"))
    return _render_book(_student(request.args), request.args)


# -- booking: confirm and book ---------------------------------------------------------------


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
            book_url=_book_url,
        ),
        status,
    )


@bp.get("/dashboard/sessions/confirmer")
@policy.access(policy.FAMILY)
def confirm() -> Any:
    student = _student(request.args)
    try:
        choice = scheduling.parse_choice(request.args)
        scheduling.check_choice(choice)
    except ServiceError as err:
        return _render_book(student, request.args, err.message, 422)
    return _render_confirm(student, choice)


@bp.post("/dashboard/sessions/reserver")
@policy.access(policy.FAMILY)
def book() -> Any:
    student = _student(request.form)
    try:
        choice = scheduling.parse_choice(request.form)
    except ServiceError as err:
        return _render_book(student, request.form, err.message, 422)
    try:
        booking = scheduling.book(current_user, student, choice)
    except scheduling.SlotTaken as err:
        db.session.rollback()
        return _render_book(student, _without_slot(request.form), err.message, 409)
    except ServiceError as err:
        db.session.rollback()
        return _render_confirm(student, choice, err.message, 422)
    db.session.commit()
    flash(f"Séance réservée : {booking.title}, {slots.when_label(booking.starts_at)}.", "success")
    return redirect(url_for("sessions.detail", booking_id=booking.id), code=303)


def _without_slot(values: Any) -> MultiDict[str, str]:
    """The same choices minus the slot just taken, to show the slots still free."""
    kept = MultiDict(values)
    kept.pop("debut", None)
    return kept


# -- my sessions -------------------------------------------------------------------------------


@bp.get("/dashboard/eleve/mes-sessions")
@policy.access(policy.ELEVE)
def eleve_sessions() -> Any:
    student = _student(request.args)
    return render_template(
        "sessions/mine.html",
        upcoming=scheduling.sessions_of_students([student.id], upcoming=True),
        past=scheduling.sessions_of_students([student.id], upcoming=False),
        balance=credits.balance(student.id),
    )


@bp.get("/dashboard/parent/sessions")
@policy.access(policy.PARENT)
def parent_sessions() -> Any:
    children = family.children(current_user)
    ids = [c.id for c in children]
    upcoming = scheduling.sessions_of_students(ids, upcoming=True) if ids else []
    past = scheduling.sessions_of_students(ids, upcoming=False, limit=30) if ids else []
    return render_template(
        "sessions/parent.html",
        children=children,
        balances=credits.balances(ids) if ids else {},
        upcoming=upcoming,
        past=past,
    )


# -- one session -------------------------------------------------------------------------------


@bp.get("/dashboard/sessions/<int:booking_id>")
@policy.access(SESSION_PARTIES)
def detail(booking_id: int) -> Any:
    booking = _booking(booking_id)
    now = utcnow()
    return render_template(
        "sessions/detail.html",
        b=booking,
        terms=scheduling.cancel_terms(booking, current_user, now),
        room_open=video.is_open(booking, now),
        room_opens_at=video.opens_at(booking),
        has_room=video.has_room(booking),
        started=booking.starts_at <= now,
        minutes=slots.minutes_of(booking),
    )


@bp.get("/dashboard/sessions/<int:booking_id>/rejoindre")
@policy.access(SESSION_PARTIES)
def join(booking_id: int) -> Any:
    """Open the video room (in a new tab): the same room for coach and student, in its time window."""
    booking = _booking(booking_id)
    if not video.is_open(booking):
        if video.has_room(booking) and booking.starts_at > utcnow():
            flash(f"La salle ouvrira le {slots.when_label(video.opens_at(booking))}.", "info")
        else:
            flash("La salle de cette séance n'est pas ouverte.", "info")
        return redirect(url_for("sessions.detail", booking_id=booking.id))
    name = booking.coach.pseudonym if current_user.role is Role.COACH else current_user.first_name
    return redirect(video.join_url(booking, name))


@bp.route("/dashboard/sessions/<int:booking_id>/annuler", methods=["GET", "POST"])
@policy.access(SESSION_PARTIES)
def cancel(booking_id: int) -> Any:
    booking = _booking(booking_id)
    if request.method == "GET":
        terms = scheduling.cancel_terms(booking, current_user)
        return render_template("sessions/cancel.html", b=booking, terms=terms)
    try:
        done = scheduling.cancel(current_user, booking.id, request.form.get("reason"))
    except ServiceError as err:
        db.session.rollback()
        return _cancel_refused(booking_id, err)
    db.session.commit()
    refund = (
        f"{scheduling.credits_label(done.refunded)} crédit(s) rendu(s)"
        if done.refunded
        else "crédits non rendus"
    )
    message = f"Séance annulée ({refund})."
    if is_fragment_request():
        return render_template("sessions/_staff_row.html", b=done.booking, notice=message)
    flash(message, "success")
    return redirect(_after_cancel(done.booking), code=303)


def _cancel_refused(booking_id: int, err: ServiceError) -> Any:
    """The refusal in French: next to the reason (kept) when it is the reason, else on top."""
    booking = _booking(booking_id)
    status = 422 if err.field == "reason" else 409
    if is_fragment_request():
        return render_template("sessions/_staff_row.html", b=booking, notice=err.message), status
    terms = scheduling.cancel_terms(booking, current_user)
    return render_template(
        "sessions/cancel.html",
        b=booking,
        terms=terms,
        error=None if err.field == "reason" else err.message,
        reason_error=err.message if err.field == "reason" else None,
        reason=request.form.get("reason", ""),
    ), status


def _after_cancel(booking: SessionBooking) -> str:
    if scheduling.is_staff(current_user) and request.form.get("retour") == "liste":
        return url_for("sessions.staff_sessions")
    return url_for("sessions.detail", booking_id=booking.id)


# -- rescheduling ------------------------------------------------------------------------------


def _reschedulable(booking_id: int) -> SessionBooking:
    if current_user.role is Role.COACH:
        abort(404)
    return _booking(booking_id)


@bp.get("/dashboard/sessions/<int:booking_id>/deplacer")
@policy.access(SESSION_PARTIES)
def reschedule(booking_id: int) -> Any:
    booking = _reschedulable(booking_id)
    return _render_reschedule(booking, request.args)


def _render_reschedule(
    booking: SessionBooking, values: Any, error: str | None = None, status: int = 200
) -> Any:
    now = utcnow()
    terms = scheduling.cancel_terms(booking, current_user, now)
    minutes = slots.minutes_of(booking)
    new_start = None
    if values.get("debut") and error is None:
        try:
            new_start = scheduling.parse_local_start(values.get("debut"))
            moved = BookingChoice(booking.coach, booking.subject, booking.service, minutes, new_start)
            scheduling.check_choice(moved, now, ignoring=booking.id)
        except ServiceError as err:
            error, new_start = err.message, None
    today = slots.local_today(now)
    first_day = _first_day(values.get("du"), today)
    days = []
    if terms.allowed and new_start is None:
        days = slots.free_slots(
            booking.coach_id,
            minutes,
            first_day,
            7,
            student_id=booking.student_id,
            now=now,
            ignoring=booking.id,  # its own slot is free once it moves
        )
        days = _without_start(days, booking.starts_at)
    balance = credits.balance(booking.student_id)
    refund = booking.credits_cost if terms.refund else 0
    return (
        render_template(
            "sessions/reschedule.html",
            b=booking,
            terms=terms,
            days=days,
            first_day=first_day,
            previous_week=first_day - timedelta(days=7) if first_day > today else None,
            next_week=first_day + timedelta(days=7),
            new_start=new_start,
            new_param=values.get("debut", ""),
            balance=balance,
            after=balance + refund - booking.credits_cost,
            error=error,
        ),
        status,
    )


def _without_start(days: list[slots.DaySlots], start: Any) -> list[slots.DaySlots]:
    """The free days minus the session's own time (moving it there would change nothing)."""
    kept = [slots.DaySlots(d.day, [s for s in d.slots if s.starts_at != start]) for d in days]
    return [d for d in kept if d.slots]


@bp.post("/dashboard/sessions/<int:booking_id>/deplacer")
@policy.access(SESSION_PARTIES)
def do_reschedule(booking_id: int) -> Any:
    booking = _reschedulable(booking_id)
    try:
        new_start = scheduling.parse_local_start(request.form.get("debut"))
        new = scheduling.reschedule(current_user, booking.id, new_start)
    except scheduling.SlotTaken as err:
        db.session.rollback()
        return _render_reschedule(_booking(booking_id), _without_slot(request.form), err.message, 409)
    except scheduling.AlreadyClosed as err:
        db.session.rollback()
        return _render_reschedule(_booking(booking_id), {}, err.message, 409)
    except ServiceError as err:
        db.session.rollback()
        return _render_reschedule(_booking(booking_id), request.form, err.message, 422)
    db.session.commit()
    flash(f"Séance déplacée au {slots.when_label(new.starts_at)}.", "success")
    return redirect(url_for("sessions.detail", booking_id=new.id), code=303)


# -- calendar feeds ----------------------------------------------------------------------------


@bp.get("/dashboard/calendrier")
@policy.access(FEED_USERS)
def calendar_page() -> Any:
    token = calendar.feed_token(current_user)
    url = url_for("sessions.feed", token=token, _external=True) if token else None
    return render_template("sessions/calendar.html", feed_url=url)


@bp.post("/dashboard/calendrier")
@policy.access(FEED_USERS)
def regenerate_feed() -> Any:
    had_one = calendar.feed_token(current_user) is not None
    calendar.regenerate(current_user)
    db.session.commit()
    flash(
        "Nouveau lien créé : l'ancien ne fonctionne plus." if had_one else "Votre lien d'agenda est prêt.",
        "success",
    )
    return redirect(url_for("sessions.calendar_page"), code=303)


def _feed_key() -> str:
    return "feed:" + str((request.view_args or {}).get("token", ""))[:80]


@bp.get("/calendrier/<token>.ics")
@policy.access(policy.PUBLIC)
@limiter.limit("60/hour", key_func=_feed_key)
def feed(token: str) -> Any:
    """The private feed: the secret URL is the credential (no cookie, for calendar apps)."""
    user = calendar.user_for_token(token)
    if user is None:
        abort(404)
    response = Response(calendar.feed(user), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="nexus-reussite.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# -- staff -------------------------------------------------------------------------------------


@bp.get("/dashboard/assistante/seances")
@policy.access(policy.STAFF)
def staff_sessions() -> Any:
    return render_template("sessions/staff.html", sessions=scheduling.upcoming_all())
