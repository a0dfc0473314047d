"""Lists of sessions: a student's, a parent's children's, the staff's coming weeks."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_login import current_user

from nexus import policy
from nexus.blueprints.sessions.common import bp, student_in
from nexus.services import credits, family, scheduling


@bp.get("/dashboard/eleve/mes-sessions")
@policy.access(policy.ELEVE)
def eleve_sessions() -> Any:
    student = student_in(request.args)
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


@bp.get("/dashboard/assistante/seances")
@policy.access(policy.STAFF)
def staff_sessions() -> Any:
    return render_template("sessions/staff.html", sessions=scheduling.upcoming_all())
