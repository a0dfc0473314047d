"""The next step: one recommendation per person, computed from the real state (first missing
thing first), with a French title, a sentence, a button and a link that answers 200 to them.

Parent: add a child, choose an offer, send the activation link, read the new report, take the
test, a session is coming, book, follow the trajectory (else nothing). Student (signed in, so
activated): resume or take the test, prepare the next session, book, follow the trajectory, else
work on the test's priorities. Coach: complete the profile, write the missing reports, today's
sessions, set availability, else see their students. Assistante: transfers to validate, credit
requests, bilans to retry, failed e-mails, else today's sessions. Admin: the same desk, else the
figures. Rendered by templates/next_steps/_card.html.
"""

from __future__ import annotations

from nexus.models.common import Role
from nexus.models.identity import User
from nexus.services.next_steps import family, team
from nexus.services.next_steps.step import Step
from nexus.services.next_steps.team import failed_emails

__all__ = ["Step", "failed_emails", "for_user"]


def for_user(user: User) -> Step | None:
    """The one thing this person should do next, or None when nothing is waiting."""
    finder = {
        Role.PARENT: family.parent,
        Role.ELEVE: family.student,
        Role.COACH: team.coach,
        Role.ASSISTANTE: team.staff,
        Role.ADMIN: team.admin,
    }.get(user.role)
    return finder(user) if finder else None
