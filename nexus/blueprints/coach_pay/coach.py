"""A coach's own statements: the validated ones and the current month's draft ("provisoire").

Someone else's statement, or a draft of a past month, is not found (404): the service's
statement_for decides what a coach may read.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template
from flask_login import current_user

from nexus import policy
from nexus.blueprints.coach_pay.common import bp, statement_or_404
from nexus.blueprints.coach_pay.staff import pdf_name
from nexus.models.coach_pay import CoachStatement
from nexus.services import coach_pay, scheduling
from nexus.web import or_404, pdf_response


def _readable(statement: CoachStatement) -> bool:
    """What a coach reads: validated statements, and the draft of the month under way."""
    return statement.status.is_validated or statement.month == coach_pay.current_month()


def _own(statement_id: int) -> CoachStatement:
    """The coach's own statement they may read, else 404."""
    statement = statement_or_404(statement_id)
    return statement if _readable(statement) else abort(404)


@bp.get("/dashboard/coach/remuneration")
@policy.access(policy.COACH)
def coach_index() -> Any:
    profile = or_404(scheduling.coach_profile_of(current_user))
    return render_template(
        "coach_pay/coach_index.html",
        statements=[s for s in coach_pay.statements_of_coach(profile) if _readable(s)],
        month_label_of=coach_pay.month_label,
    )


@bp.get("/dashboard/coach/remuneration/<int:statement_id>")
@policy.access(policy.COACH)
def coach_show(statement_id: int) -> Any:
    return render_template(
        "coach_pay/coach_show.html",
        statement=_own(statement_id),
        month_label_of=coach_pay.month_label,
    )


@bp.get("/dashboard/coach/remuneration/<int:statement_id>.pdf")
@policy.access(policy.COACH)
def coach_pdf(statement_id: int) -> Any:
    statement = _own(statement_id)
    return pdf_response(coach_pay.render_pdf(statement), pdf_name(statement))
