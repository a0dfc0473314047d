"""Account jobs: the password-reset e-mail, prepared off the request (same answer time for all),
and forgetting the sign-ups never confirmed."""

from __future__ import annotations

from nexus.queue import job
from nexus.services import identity, signup


@job
def send_password_reset(email: str) -> str:
    """Issue and e-mail a reset link if the address has an account that may sign in."""
    return "sent" if identity.mail_password_reset(email) else "skipped"


@job
def purge_stale_signups() -> str:
    """Forget the family sign-ups whose link was never used, a while after it expired."""
    return f"{signup.purge_stale()} removed"
