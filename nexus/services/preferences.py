"""Which kinds of events reach a user by e-mail (in the app, the bell always shows them).

Each e-mail about an event passes its kind to `notifications.queue_email(event=…)`; no row in
notification_preferences means the event's default. E-mails about the account itself
(activation, password, address change) and replies to a family without an account carry no
event: they are always sent.

ARIA's safety alerts are always e-mailed too (`locked`): they tell a parent or the staff that a
minor may be in distress. A box unticked by mistake, months earlier, must never be why an adult
was not told; the page says so instead of offering the box.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.identity import User
from nexus.models.notifications import NotificationPreference
from nexus.services import command

STAFF_ROLES = frozenset({Role.ADMIN, Role.ASSISTANTE})
FAMILY_ROLES = frozenset({Role.PARENT, Role.ELEVE})
EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class Event:
    """A kind of e-mail a user may turn off: its code, French label and hint, its default."""

    code: str
    label: str
    hint: str
    default: bool
    roles: frozenset[Role]
    locked: bool = False  # always sent, not a choice (safety alerts)


MESSAGES, SESSIONS, REPORTS, BILLING, PROGRESS, ALERTS = (
    "messages",
    "sessions",
    "reports",
    "billing",
    "progress",
    "alerts",
)

EVENTS: list[Event] = [
    Event(
        MESSAGES,
        "Messages",
        "Un nouveau message dans une conversation (au plus un e-mail par heure et par conversation).",
        True,
        EVERYONE,
    ),
    Event(
        SESSIONS,
        "Séances",
        "Réservations, rappels, déplacements et annulations de séances.",
        True,
        EVERYONE - STAFF_ROLES,
    ),
    Event(
        REPORTS,
        "Comptes rendus et résultats",
        "Comptes rendus de séance, bilans, résultats des tests de positionnement.",
        True,
        FAMILY_ROLES,
    ),
    Event(
        BILLING,
        "Paiements et factures",
        "Paiements validés ou refusés, avec leur facture.",
        True,
        frozenset({Role.PARENT}),
    ),
    Event(
        PROGRESS,
        "Progrès",
        "Badges obtenus et étapes de la trajectoire.",
        False,  # frequent and cheerful: the bell and the home page say it; e-mail on request
        FAMILY_ROLES,
    ),
    Event(
        ALERTS,
        "Alertes de sécurité ARIA",
        "Quand une question posée à ARIA laisse penser qu'un élève a besoin d'aide.",
        True,
        frozenset({Role.PARENT}) | STAFF_ROLES,
        locked=True,
    ),
]
BY_CODE: dict[str, Event] = {event.code: event for event in EVENTS}


def events_for(role: Role) -> list[Event]:
    """The events a user of this role can receive, in the page's order."""
    return [event for event in EVENTS if role in event.roles]


def wants_email(user_id: int, event: str) -> bool:
    """Whether an e-mail about this kind of event may be sent to the user (no row: the default)."""
    known = BY_CODE.get(event)
    if known is not None and known.locked:
        return True
    stored = db.session.scalar(
        select(NotificationPreference.email).where(
            NotificationPreference.user_id == user_id, NotificationPreference.event == event
        )
    )
    if stored is not None:
        return stored
    return known.default if known is not None else True


def choices_of(user: User) -> dict[str, bool]:
    """Every event of the user's role → whether it is e-mailed (stored choice or default)."""
    rows = db.session.execute(
        select(NotificationPreference.event, NotificationPreference.email).where(
            NotificationPreference.user_id == user.id
        )
    )
    stored: dict[str, bool] = {row[0]: row[1] for row in rows}
    return {
        event.code: True if event.locked else stored.get(event.code, event.default)
        for event in events_for(user.role)
    }


@command
def save(user: User, choices: Iterable[str]) -> dict[str, bool]:
    """Store the ticked events (every other event of the role is off); unknown codes are
    ignored, locked events stay on. The stored choices."""
    wanted = set(choices)
    saved: dict[str, bool] = {}
    for event in events_for(user.role):
        if event.locked:
            continue
        value = event.code in wanted
        stmt = insert(NotificationPreference).values(user_id=user.id, event=event.code, email=value)
        db.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[NotificationPreference.user_id, NotificationPreference.event],
                set_={"email": value},
            )
        )
        saved[event.code] = value
    return saved
