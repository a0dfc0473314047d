"""The "sessions" blueprint and what its pages share: whose sessions a request is about, the
booking page's week, the date filters."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from nexus.models.common import Role
from nexus.models.family import Student
from nexus.models.scheduling import SessionBooking
from nexus.services import family, parse_id, scheduling
from nexus.services.scheduling import slots
from nexus.web import or_404

bp = Blueprint("sessions", __name__)

# -- whose sessions ----------------------------------------------------------------------------


def student_in(values: Any) -> Student:
    """The student the request is about: oneself, or one's own child (else 404)."""
    raw = (values.get("eleve") or "").strip()
    if current_user.role is Role.ELEVE:
        student = family.student_of(current_user)
        if student is None or (raw and raw != str(student.id)):
            abort(404)
        return student
    return or_404(family.child_of(current_user, parse_id(raw)))


def party_booking(booking_id: int) -> SessionBooking:
    """A session the signed-in person takes part in (the family's, or the coach's own), else 404."""
    return or_404(scheduling.booking_for(current_user, booking_id))


def book_url(student: Student, **params: Any) -> str:
    if current_user.role is Role.PARENT:
        return url_for("sessions.parent_book", eleve=student.id, **params)
    return url_for("sessions.eleve_book", **params)


# -- the week shown ----------------------------------------------------------------------------


def first_day(raw: str | None, today: date) -> date:
    """The week asked for (?du=), kept between today and the last week before the horizon."""
    day = scheduling.parse_day(raw)
    if day is None:
        return today
    last_week = today + slots.HORIZON - timedelta(days=6)
    return min(max(day, today), last_week)


def without_slot(values: Any) -> MultiDict[str, str]:
    """The same choices minus the slot just taken, to show the slots still free."""
    kept = MultiDict(values)
    kept.pop("debut", None)
    return kept
