"""Moving a session to another free slot of the same coach (families and staff; a coach cancels
instead)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy
from nexus.blueprints.sessions.common import bp, first_day, party_booking, without_slot
from nexus.models.scheduling import SessionBooking
from nexus.services import ServiceError, credits, scheduling, utcnow
from nexus.services.scheduling import BookingChoice, slots


def _reschedulable(booking_id: int) -> SessionBooking:
    if not policy.RESCHEDULERS.allows_role(current_user.role):
        abort(404)
    return party_booking(booking_id)


@bp.get("/dashboard/sessions/<int:booking_id>/deplacer")
@policy.access(policy.SESSION_PARTIES)
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
    today = fr.local_today(now)
    first = first_day(values.get("du"), today)
    days = []
    if terms.allowed and new_start is None:
        days = slots.free_slots(
            booking.coach_id,
            minutes,
            first,
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
            first_day=first,
            previous_week=first - timedelta(days=7) if first > today else None,
            next_week=first + timedelta(days=7),
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
@policy.access(policy.SESSION_PARTIES)
def do_reschedule(booking_id: int) -> Any:
    booking = _reschedulable(booking_id)
    try:
        new_start = scheduling.parse_local_start(request.form.get("debut"))
        new = scheduling.reschedule(current_user, booking.id, new_start)
    except scheduling.SlotTaken as err:
        return _render_reschedule(party_booking(booking_id), without_slot(request.form), err.message, 409)
    except scheduling.AlreadyClosed as err:
        return _render_reschedule(party_booking(booking_id), {}, err.message, 409)
    except ServiceError as err:
        return _render_reschedule(party_booking(booking_id), request.form, err.message, 422)
    flash(f"Séance déplacée au {fr.when(new.starts_at)}.", "success")
    return redirect(url_for("sessions.detail", booking_id=new.id), code=303)
