"""Account jobs: the password-reset e-mail, prepared off the request (same answer time for all),
and forgetting the sign-ups never confirmed."""

from __future__ import annotations

from nexus.extensions import db
from nexus.queue import enqueue_after_commit, job
from nexus.services import identity, signup


def request_password_reset(email: str) -> None:
    """Hand a reset request to the job, whatever the address: the request does the same work, and
    so takes the same time, whether an account exists or not (no enumeration by timing)."""
    enqueue_after_commit("emails", "nexus.jobs.identity.send_password_reset", identity.normalize_email(email))


@job
def send_password_reset(email: str) -> str:
    """Issue and e-mail a reset link if the address has an account that may sign in."""
    sent = identity.mail_password_reset(email)
    db.session.commit()
    return "sent" if sent else "skipped"


@job
def purge_stale_signups() -> str:
    """Forget the family sign-ups whose link was never used, a while after it expired."""
    removed = signup.purge_stale()
    db.session.commit()
    return f"{removed} removed"
