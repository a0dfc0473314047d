"""One session's page: details and terms, the video room, cancelling (a page, or the staff's
table row swapped in place)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy, rows
from nexus.blueprints.sessions.common import bp, party_booking
from nexus.models.common import Role
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.services import ServiceError, scheduling, utcnow
from nexus.services.scheduling import slots, video
from nexus.web import is_fragment_request


@bp.get("/dashboard/sessions/<int:booking_id>")
@policy.access(policy.SESSION_PARTIES)
def detail(booking_id: int) -> Any:
    booking = party_booking(booking_id)
    now = utcnow()
    scheduling.mark_read_by_family(current_user, booking)  # the first opening by the family
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
            flash(f"La salle ouvrira le {fr.when(video.opens_at(booking))}.", "info")
        else:
            flash("La salle de cette séance n'est pas ouverte.", "info")
        return redirect(url_for("sessions.detail", booking_id=booking.id))
    name = booking.coach.pseudonym if current_user.role is Role.COACH else current_user.first_name
    return redirect(video.join_url(booking, name))


@bp.route("/dashboard/sessions/<int:booking_id>/annuler", methods=["GET", "POST"])
@policy.access(policy.SESSION_PARTIES)
def cancel(booking_id: int) -> Any:
    """The cancel page asks first (it posts confirm=1); the staff's row asks with hx-confirm, or,
    without JavaScript, with a confirmation page whose reason goes to the family."""
    booking = party_booking(booking_id)
    from_list = _from_staff_list()
    if request.method == "GET" or (not rows.confirmed() and booking.is_holding):
        if from_list:
            return _confirm_from_list(booking, request.form.get("reason", ""))
        terms = scheduling.cancel_terms(booking, current_user)
        return render_template("sessions/cancel.html", b=booking, terms=terms)
    try:
        done = scheduling.cancel(current_user, booking.id, request.form.get("reason"))
    except ServiceError as err:
        return _row_refused(booking_id, err) if from_list else _cancel_refused(booking_id, err)
    refund = (
        fr.plural(done.refunded, "crédit rendu", "crédits rendus")
        if done.refunded
        else "crédits non rendus"
    )
    message = f"Séance annulée ({refund})."
    if from_list:
        return rows.answer(STAFF_ROW, message, back=STAFF_LIST, b=done.booking)
    flash(message, "success")
    return redirect(url_for("sessions.detail", booking_id=done.booking.id), code=303)


STAFF_ROW, STAFF_LIST = "sessions/_staff_row.html", "sessions.staff_sessions"


def _from_staff_list() -> bool:
    """The staff's row action (it says where to return); the page's form does not."""
    return policy.is_staff(current_user) and "retour" in request.form


def _confirm_from_list(
    booking: SessionBooking, reason: str = "", reason_error: str | None = None, status: int = 200
) -> Any:
    """Without JavaScript, the question the row's hx-confirm asks, with the reason for the family."""
    terms = scheduling.cancel_terms(booking, current_user)
    page = rows.confirm_page(
        "Annuler la séance",
        url_for("sessions.cancel", booking_id=booking.id),
        button="Confirmer l'annulation",
        back=rows.back_url(STAFF_LIST),
        facts={
            "Élève": booking.student.user.full_name,
            "Coach": booking.coach.pseudonym,
            "Matière": booking.subject.label,
            "Quand": f"{fr.when(booking.starts_at)} (heure de Tunis)",
        },
        warning=f"{terms.message} L'élève et ses parents sont prévenus par e-mail.",
        reason_label="Motif, transmis à la famille",
        reason_hint="Facultatif, 500 caractères au plus.",
        reason=reason,
        reason_error=reason_error,
        danger=True,
    )
    return page, status


def _row_refused(booking_id: int, err: ServiceError) -> Any:
    """The staff's row after a refusal: already cancelled is done (200), changed meanwhile is a
    conflict (409), a refused reason is said next to it, kept (422)."""
    booking = party_booking(booking_id)
    reason = request.form.get("reason", "")
    if err.field == "reason":
        if not is_fragment_request():
            return _confirm_from_list(booking, reason, err.message, rows.REFUSED)
        kept = {"reason": reason, "reason_refused": True}
        return rows.answer(STAFF_ROW, err.message, back=STAFF_LIST, status=rows.REFUSED, b=booking, **kept)
    already = booking.status is SessionStatus.CANCELLED and scheduling.moved_to(booking) is None
    status = rows.DONE if already else rows.CONFLICT
    return rows.answer(STAFF_ROW, err.message, back=STAFF_LIST, status=status, b=booking)


def _cancel_refused(booking_id: int, err: ServiceError) -> Any:
    """The refusal in French: next to the reason (kept) when it is the reason, else on top."""
    booking = party_booking(booking_id)
    status = 422 if err.field == "reason" else 409
    terms = scheduling.cancel_terms(booking, current_user)
    return render_template(
        "sessions/cancel.html",
        b=booking,
        terms=terms,
        error=None if err.field == "reason" else err.message,
        reason_error=err.message if err.field == "reason" else None,
        reason=request.form.get("reason", ""),
    ), status
