"""The coaches desk: list, create (with an e-mailed invitation), edit, deactivate/reactivate.

A coach is a User (role COACH, no password) plus a CoachProfile. The invitation is an ACTIVATION
link to /auth/activate, where the coach chooses a password. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from nexus.extensions import db
from nexus.models.common import Role, Subject
from nexus.models.identity import CoachProfile, TokenPurpose, User, UserToken
from nexus.models.scheduling import SessionBooking
from nexus.models.workshops import Workshop, WorkshopStatus
from nexus.services import ServiceError, audit, command, identity, utcnow
from nexus.services.paging import Page, matches, paginate

COACH_FILTERS = {
    "tous": "Tous",
    "actifs": "Actifs",
    "en-attente": "Invitation en attente",
    "desactives": "Désactivés",
}
EMAIL_TAKEN = "Cette adresse e-mail est déjà utilisée par un autre compte."
PSEUDONYM_TAKEN = "Ce pseudonyme est déjà pris par un autre coach : choisissez-en un autre."
RESEND_AFTER = timedelta(minutes=1)
# The free texts of the public profile (empty means none).
PROFILE_TEXTS = ("title", "tag", "description", "philosophy", "expertise")
# Unique constraints of the schema, and the form field each one is about.
_UNIQUE_FIELDS = {
    "uq_users_email": ("email", EMAIL_TAKEN),
    "uq_coach_profiles_pseudonym": ("pseudonym", PSEUDONYM_TAKEN),
}


@dataclass(frozen=True)
class CoachFields:
    """What the staff form says about a coach (the e-mail travels apart: it is the login)."""

    first_name: str
    last_name: str
    pseudonym: str
    subjects: list[Subject]
    title: str | None = None
    tag: str | None = None
    description: str | None = None
    philosophy: str | None = None
    expertise: str | None = None
    phone: str | None = None
    available_online: bool = True
    available_in_person: bool = True


@dataclass(frozen=True)
class CoachRow:
    profile: CoachProfile
    upcoming: int  # sessions not yet over that still hold a slot
    link_expires_at: datetime | None = None  # an unused invitation link is valid until then

    @property
    def user(self) -> User:
        return self.profile.user


# -- reading ----------------------------------------------------------------------------------


def _coaches_stmt() -> Select[tuple[CoachProfile]]:
    return (
        select(CoachProfile)
        .join(User, CoachProfile.user_id == User.id)
        .options(contains_eager(CoachProfile.user))
        .order_by(CoachProfile.pseudonym, CoachProfile.id)
    )


def list_coaches(filter_key: str, query: str, number: int) -> Page[CoachRow]:
    """Coaches by pseudonym, by state and by pseudonym, name or e-mail."""
    stmt = _coaches_stmt()
    if filter_key == "actifs":
        stmt = stmt.where(User.is_active, User.activated_at.is_not(None))
    elif filter_key == "en-attente":
        stmt = stmt.where(User.is_active, User.activated_at.is_(None))
    elif filter_key == "desactives":
        stmt = stmt.where(User.is_active.is_(False))
    if query.strip():
        stmt = stmt.where(
            matches(query, CoachProfile.pseudonym, User.first_name + " " + User.last_name, User.email)
        )
    page = paginate(stmt, number)
    return Page(_rows(page.items), page.number, page.per_page, page.total)


def get_coach(coach_id: int) -> CoachProfile | None:
    return db.session.scalar(_coaches_stmt().where(CoachProfile.id == coach_id))


def coach_row(profile: CoachProfile) -> CoachRow:
    return _rows([profile])[0]


def _rows(profiles: list[CoachProfile]) -> list[CoachRow]:
    upcoming = upcoming_counts([p.id for p in profiles])
    links = identity.pending_activation_links([p.user_id for p in profiles])
    return [CoachRow(p, upcoming.get(p.id, 0), links.get(p.user_id)) for p in profiles]


def upcoming_counts(coach_ids: list[int]) -> dict[int, int]:
    """For each coach, how many one-to-one sessions and workshops are not over yet (a workshop
    counts once, whatever its seats)."""
    if not coach_ids:
        return {}
    now = utcnow()
    sessions = select(SessionBooking.coach_id.label("coach_id")).where(
        SessionBooking.coach_id.in_(coach_ids),
        SessionBooking.workshop_id.is_(None),
        SessionBooking.is_holding,
        SessionBooking.ends_at > now,
    )
    groups = select(Workshop.coach_id.label("coach_id")).where(
        Workshop.coach_id.in_(coach_ids), Workshop.status == WorkshopStatus.SCHEDULED, Workshop.ends_at > now
    )
    both = union_all(sessions, groups).subquery()
    stmt = select(both.c.coach_id, func.count()).group_by(both.c.coach_id)
    return dict(db.session.execute(stmt).all())


# -- creating and inviting --------------------------------------------------------------------


@command
def create_coach(email: str, fields: CoachFields, actor: User) -> CoachProfile:
    """A coach account without password, its public profile, and the invitation e-mail."""
    address = identity.normalize_email(email)
    _refuse_taken_email(address)
    _refuse_taken_pseudonym(fields.pseudonym)
    user = User(email=address, role=Role.COACH, first_name="", last_name="")
    profile = CoachProfile(user=user, pseudonym="")
    _apply(profile, fields)
    db.session.add_all([user, profile])
    _flush_unique()
    audit.record("coach.created", actor.id, profile, after=_snapshot(profile))
    identity.invite_coach(user, actor)
    return profile


@command
def resend_invitation(coach_id: int, actor: User) -> CoachProfile:
    """A new link (the previous ones stop working); one at a time, at most one a minute."""
    profile = get_coach(coach_id)
    if profile is None:
        raise LookupError(coach_id)
    user = identity.lock_user(profile.user_id)  # the list page loaded it before this lock
    if not user.is_active:
        raise ServiceError("Ce compte est désactivé : réactivez-le avant de renvoyer l'invitation.")
    if user.activated_at is None:
        _refuse_recent_invitation(user)
    identity.invite_coach(user, actor)
    return profile


def _refuse_recent_invitation(user: User) -> None:
    """A double click, or a second staff member at the same moment, sends one e-mail."""
    last = db.session.scalar(
        select(func.max(UserToken.created_at)).where(
            UserToken.user_id == user.id, UserToken.purpose == TokenPurpose.ACTIVATION
        )
    )
    if last is not None and last > utcnow() - RESEND_AFTER:
        raise ServiceError(
            "Une invitation vient d'être envoyée à ce coach : attendez une minute avant d'en renvoyer une."
        )


# -- editing ----------------------------------------------------------------------------------


@command
def update_coach(coach_id: int, fields: CoachFields, actor: User, email: str | None = None) -> bool:
    """Save the profile; a new address (only before activation) gets a fresh invitation.

    Returns True when an invitation was sent. Raises LookupError for an unknown coach.
    """
    profile = _lock_coach(coach_id)
    before = _snapshot(profile)
    _refuse_taken_pseudonym(fields.pseudonym, profile.id)
    new_address = _new_address(profile.user, email)
    _apply(profile, fields)
    if new_address:
        profile.user.email = new_address
    _flush_unique()
    audit.record_changes("coach.updated", actor.id, profile, before, _snapshot(profile))
    if new_address:
        identity.invite_coach(profile.user, actor)
    return bool(new_address)


def _lock_coach(coach_id: int) -> CoachProfile:
    profile = db.session.scalar(
        _coaches_stmt()
        .where(CoachProfile.id == coach_id)
        .with_for_update(of=CoachProfile)
        .execution_options(populate_existing=True)  # the edit page loaded it before the lock
    )
    if profile is None:
        raise LookupError(coach_id)
    return profile


def _new_address(user: User, email: str | None) -> str | None:
    """The normalised new login address, if it changes; refused once the account is activated."""
    address = identity.normalize_email(email) if email else None
    if not address or address == user.email:
        return None
    if user.activated_at is not None:
        raise ServiceError("L'adresse d'un compte déjà activé ne se change pas ici.", field="email")
    _refuse_taken_email(address, user.id)
    return address


# -- deactivating -----------------------------------------------------------------------------


@command
def set_coach_active(coach_id: int, active: bool, actor: User) -> CoachProfile:
    """Deactivate (refused while sessions are still booked) or reactivate the coach's account."""
    profile = get_coach(coach_id)
    if profile is None:
        raise LookupError(coach_id)
    # Lock the account first, so the count below and the change are one decision.
    db.session.execute(select(User.id).where(User.id == profile.user_id).with_for_update())
    if not active:
        _refuse_with_upcoming(profile)
    identity.set_active(profile.user_id, active, actor)
    return profile


def _refuse_with_upcoming(profile: CoachProfile) -> None:
    count = upcoming_counts([profile.id]).get(profile.id, 0)
    if count:
        sessions = "1 séance à venir" if count == 1 else f"{count} séances à venir"
        raise ServiceError(
            f"Impossible de désactiver {profile.pseudonym} : {sessions}. "
            "Annulez-les ou attendez qu'elles aient eu lieu."
        )


# -- helpers ----------------------------------------------------------------------------------


def _apply(profile: CoachProfile, fields: CoachFields) -> None:
    user = profile.user
    user.first_name = fields.first_name.strip()
    user.last_name = fields.last_name.strip()
    user.phone = _clean(fields.phone)
    profile.pseudonym = fields.pseudonym.strip()
    for key in PROFILE_TEXTS:
        setattr(profile, key, _clean(getattr(fields, key)))
    profile.subjects = [s.value for s in dict.fromkeys(fields.subjects)]
    profile.available_online = fields.available_online
    profile.available_in_person = fields.available_in_person


def _snapshot(profile: CoachProfile) -> dict[str, Any]:
    """What the audit line keeps of a coach."""
    user = profile.user
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        "pseudonym": profile.pseudonym,
        **{key: getattr(profile, key) for key in PROFILE_TEXTS},
        "subjects": list(profile.subjects),
        "available_online": profile.available_online,
        "available_in_person": profile.available_in_person,
    }


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def _refuse_taken_email(address: str, own_id: int | None = None) -> None:
    stmt = select(User.id).where(User.email == address)
    if own_id is not None:
        stmt = stmt.where(User.id != own_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise ServiceError(EMAIL_TAKEN, field="email")


def _refuse_taken_pseudonym(pseudonym: str, own_id: int | None = None) -> None:
    """Pseudonyms are unique whatever the case: "hélios" would be confused with "Hélios"."""
    stmt = select(CoachProfile.id).where(func.lower(CoachProfile.pseudonym) == func.lower(pseudonym.strip()))
    if own_id is not None:
        stmt = stmt.where(CoachProfile.id != own_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise ServiceError(PSEUDONYM_TAKEN, field="pseudonym")


def _flush_unique() -> None:
    """Flush in a savepoint; a unique violation (two staff at once) becomes the French answer."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as err:
        constraint = getattr(getattr(err.orig, "diag", None), "constraint_name", None)
        if constraint in _UNIQUE_FIELDS:
            name, message = _UNIQUE_FIELDS[constraint]
            raise ServiceError(message, field=name) from err
        raise
