"""What a next step may point to that had no page yet: the e-mails given up on, for staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from nexus import policy
from nexus.services import next_steps

bp = Blueprint("next_steps", __name__)


@bp.get("/dashboard/assistante/emails-non-remis")
@policy.access(policy.STAFF)
def failed_emails() -> Any:
    return render_template(
        "next_steps/failed_emails.html",
        emails=next_steps.failed_emails(),
        days=next_steps.team.FAILED_EMAIL_DAYS,
    )
