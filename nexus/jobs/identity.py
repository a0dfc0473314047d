"""Account jobs: the password-reset e-mail, prepared off the request (same answer time for all)."""

from __future__ import annotations

from nexus.extensions import db
from nexus.jobs.queue import job
from nexus.services import identity


@job
def send_password_reset(email: str) -> str:
    """Issue and e-mail a reset link if the address has an account that may sign in."""
    sent = identity.mail_password_reset(email)
    db.session.commit()
    return "sent" if sent else "skipped"
