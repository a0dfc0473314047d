"""One session's page: details and terms, the video room, cancelling (a page, or the staff's
table row swapped in place)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.blueprints.sessions.common import bp, party_booking
from nexus.models.common import Role
from nexus.models.scheduling import SessionBooking
from nexus.services import ServiceError, scheduling, utcnow
from nexus.services.scheduling import slots, video
from nexus.web import is_fragment_request


@bp.get("/dashboard/sessions/<int:booking_id>")
@policy.access(policy.SESSION_PARTIES)
def detail(booking_id: int) -> Any:
    booking = party_booking(booking_id)
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
@policy.access(policy.SESSION_PARTIES)
def join(booking_id: int) -> Any:
    """Open the video room (in a new tab): the same room for coach and student, in its time window."""
    booking = party_booking(booking_id)
    if not video.is_open(booking):
        if video.has_room(booking) and booking.starts_at > utcnow():
            flash(f"La salle ouvrira le {slots.when_label(video.opens_at(booking))}.", "info")
        else:
            flash("La salle de cette séance n'est pas ouverte.", "info")
        return redirect(url_for("sessions.detail", booking_id=booking.id))
    name = booking.coach.pseudonym if current_user.role is Role.COACH else current_user.first_name
    return redirect(video.join_url(booking, name))


@bp.route("/dashboard/sessions/<int:booking_id>/annuler", methods=["GET", "POST"])
@policy.access(policy.SESSION_PARTIES)
def cancel(booking_id: int) -> Any:
    booking = party_booking(booking_id)
    if request.method == "GET":
        terms = scheduling.cancel_terms(booking, current_user)
        return render_template("sessions/cancel.html", b=booking, terms=terms)
    try:
        done = scheduling.cancel(current_user, booking.id, request.form.get("reason"))
    except ServiceError as err:
        return _cancel_refused(booking_id, err)
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
    booking = party_booking(booking_id)
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
    if policy.is_staff(current_user) and request.form.get("retour") == "liste":
        return url_for("sessions.staff_sessions")
    return url_for("sessions.detail", booking_id=booking.id)
