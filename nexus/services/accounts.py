"""Admin account management: search, create, edit, confirm a new e-mail, resend the activation
link, and what the account page shows. Deleting (= anonymising) is in erasure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from nexus import fr, links
from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import TokenPurpose, User, UserToken
from nexus.services import ServiceError, audit, command, family, identity, locked, notifications, utcnow
from nexus.services.paging import Page, matches, paginate

EMAIL_CHANGE_TTL = timedelta(hours=72)
RESEND_EVERY = timedelta(minutes=1)
CREATABLE_ROLES = (Role.ADMIN, Role.ASSISTANTE, Role.PARENT)
ADDRESS_IN_USE = "Cette adresse e-mail est déjà utilisée par un autre compte."

# The state filter of the users table: key in the query string → label.
STATE_FILTERS = {
    "": "Tous les états",
    "actifs": "Actifs",
    "desactives": "Désactivés",
    "en-attente": "En attente d'activation",
    "anonymises": "Anonymisés (supprimés)",
}


def search(query: str = "", role: Role | None = None, state: str = "", page: int = 1) -> Page[User]:
    """Accounts matching a name or e-mail fragment, a role and a state, newest first."""
    stmt = select(User).order_by(User.id.desc())
    if role is not None:
        stmt = stmt.where(User.role == role)
    if query.strip():
        stmt = stmt.where(matches(query, User.email, User.first_name + " " + User.last_name))
    live = User.anonymised_at.is_(None)
    if state == "actifs":
        stmt = stmt.where(live, User.is_active, User.activated_at.is_not(None))
    elif state == "desactives":
        stmt = stmt.where(live, User.is_active.is_(False))
    elif state == "en-attente":
        stmt = stmt.where(live, User.is_active, User.activated_at.is_(None))
    elif state == "anonymises":
        stmt = stmt.where(User.anonymised_at.is_not(None))
    return paginate(stmt, page)


def get(user_id: int) -> User | None:
    return db.session.get(User, user_id)


# -- creating an account ----------------------------------------------------------------------


@dataclass(frozen=True)
class AccountDraft:
    role: Role
    first_name: str
    last_name: str
    email: str
    phone: str | None = None


def verify_password(user: User, password: str) -> bool:
    return identity.check_password(user.password_hash, password)


@command
def create_account(
    draft: AccountDraft,
    kids: Sequence[family.ChildDraft],
    actor: User,
    actor_password: str | None = None,
) -> User:
    """An admin, assistante or parent (with children) without password; they get a 72-hour link.

    Creating an admin asks for the creator's password again. Raises family.EmailTaken.
    """
    if draft.role not in CREATABLE_ROLES:
        raise ServiceError("Choisissez un profil dans la liste.", field="role")
    if draft.role is Role.ADMIN and not verify_password(actor, actor_password or ""):
        raise ServiceError(
            "Mot de passe incorrect : il confirme la création d'un administrateur.", "password"
        )
    person = family.ParentDraft(draft.first_name, draft.last_name, draft.email, draft.phone)
    if draft.role is Role.PARENT:
        user = family.open_family(person, kids, actor)
    else:
        owner = family.lock_address(draft.email)
        if owner is not None:
            raise family.EmailTaken(owner)
        user = family.new_account(person, draft.role)
        identity.send_account_activation(user, actor)
    audit.record("account.created", actor.id, user, after={"role": user.role.value, "children": len(kids)})
    return user


# -- editing ----------------------------------------------------------------------------------


@command
def update_profile(user_id: int, first_name: str, last_name: str, phone: str | None, actor: User) -> bool:
    """Change names and phone; audited with before/after. False when nothing changed."""
    user = _editable(user_id)
    after = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "phone": (phone or "").strip() or None,
    }
    before = {key: getattr(user, key) for key in after}
    for key, value in after.items():
        setattr(user, key, value)
    return audit.record_changes("account.updated", actor.id, user, before, after)


@command
def update_account(
    user_id: int, first_name: str, last_name: str, phone: str | None, email: str | None, actor: User
) -> tuple[bool, bool]:
    """The account form, whole or not at all: names and phone, then (if an address is given) the
    confirmation link to a new one. (profile changed, link sent)."""
    changed = update_profile(user_id, first_name, last_name, phone, actor)
    asked = bool(email) and request_email_change(user_id, email or "", actor)
    return changed, asked


def _editable(user_id: int) -> User:
    user = locked(User, user_id)
    if user is None:
        raise LookupError(user_id)
    if user.anonymised_at is not None:
        raise ServiceError("Ce compte a été supprimé : il ne peut plus être modifié.")
    return user


@command
def request_email_change(user_id: int, new_email: str, actor: User) -> bool:
    """E-mail a 72-hour confirmation link to the new address; the old one stays until it is used.

    False when the address is the account's own already (nothing to do).
    """
    user = _editable(user_id)
    address = identity.normalize_email(new_email)
    if address == user.email:
        return False
    owner = family.lock_address(address)
    if owner is not None:
        raise family.EmailTaken(owner)
    raw = identity.issue_token(user, TokenPurpose.EMAIL_CHANGE, EMAIL_CHANGE_TTL, email=address)
    notifications.queue_email(
        address,
        "email_change",
        "Confirmez votre nouvelle adresse e-mail — Nexus Réussite",
        {
            "first_name": user.first_name,
            "url": links.external("auth.confirm_email", token=raw),
            "hours": 72,
            "until": fr.date_time(utcnow() + EMAIL_CHANGE_TTL),
        },
        user_id=user.id,
    )
    audit.record("account.email_change_requested", actor.id, user, after={"email": address})
    return True


@dataclass(frozen=True)
class PendingEmail:
    email: str
    expires_at: datetime


def pending_email_change(user_id: int) -> PendingEmail | None:
    """The new address waiting for its confirmation link to be used, if any."""
    stmt = (
        select(UserToken)
        .where(
            UserToken.user_id == user_id,
            UserToken.purpose == TokenPurpose.EMAIL_CHANGE,
            UserToken.used_at.is_(None),
            UserToken.expires_at > utcnow(),
        )
        .order_by(UserToken.id.desc())
        .limit(1)
    )
    token = db.session.scalar(stmt)
    return PendingEmail(token.email or "", token.expires_at) if token else None


@command
def cancel_email_change(user_id: int, actor: User) -> bool:
    """Revoke the pending confirmation link; False when there was none."""
    user = _editable(user_id)
    revoked = db.session.execute(
        update(UserToken)
        .where(
            UserToken.user_id == user.id,
            UserToken.purpose == TokenPurpose.EMAIL_CHANGE,
            UserToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .returning(UserToken.id)
    ).all()
    if revoked:
        audit.record("account.email_change_cancelled", actor.id, user)
    return bool(revoked)


def email_change_link(raw: str) -> tuple[identity.TokenState, UserToken | None]:
    return identity.inspect_token(raw, TokenPurpose.EMAIL_CHANGE)


@command
def confirm_email_change(raw: str) -> User:
    """Use the link once: the new address replaces the old, which is told. Refusals in French."""
    state, token = email_change_link(raw)
    if state is not identity.TokenState.VALID or token is None or not token.email:
        raise ServiceError("Ce lien n'est plus valable. Demandez à notre équipe d'en envoyer un nouveau.")
    address = token.email
    # The address lock first (as every account creation takes it), then the user row.
    owner = family.lock_address(address)
    user = identity.consume_token(raw, TokenPurpose.EMAIL_CHANGE)
    user = locked(User, user.id)
    if user is None or user.anonymised_at is not None:
        raise ServiceError("Ce compte n'existe plus.")
    if owner is not None and owner.id != user.id:
        raise ServiceError(
            "Cette adresse est désormais utilisée par un autre compte : elle ne peut pas remplacer "
            "la vôtre. Votre adresse actuelle reste valable ; contactez notre équipe."
        )
    old = user.email
    try:
        with db.session.begin_nested():  # the unique index decides against a late creation
            user.email = address
            db.session.flush()
    except IntegrityError:
        raise ServiceError("Cette adresse est désormais utilisée par un autre compte.") from None
    audit.record("account.email_changed", user.id, user, before={"email": old}, after={"email": address})
    if old:
        notifications.queue_email(
            old,
            "email_changed",
            "Votre adresse e-mail a été modifiée — Nexus Réussite",
            {
                "first_name": user.first_name,
                "new_email": address,
                "contact_url": links.external("public.contact_page"),
            },
            user_id=user.id,
        )
    return user


# -- activation link --------------------------------------------------------------------------


@command
def resend_activation(user_id: int, actor: User) -> None:
    """A fresh activation link to the address on file, at most one a minute per account."""
    user = _editable(user_id)
    if user.activated_at is not None:
        raise ServiceError("Ce compte est déjà activé.")
    if not user.is_active:
        raise ServiceError("Ce compte est désactivé : réactivez-le d'abord.")
    if not user.email:
        raise ServiceError("Ce compte n'a pas d'adresse e-mail : indiquez-en une d'abord.")
    last = db.session.scalar(
        select(func.max(UserToken.created_at)).where(
            UserToken.user_id == user.id, UserToken.purpose == TokenPurpose.ACTIVATION
        )
    )
    if last is not None and utcnow() - last < RESEND_EVERY:
        raise ServiceError("Un lien vient d'être envoyé. Patientez une minute avant d'en renvoyer un.")
    identity.resend_activation(user)
    audit.record("account.activation_resent", actor.id, user)


# -- the account page -------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyView:
    children: list[Student]
    guardians: list[User]


def family_of(user: User) -> FamilyView | None:
    """For a parent: the family's children and every parent of it."""
    if user.role is not Role.PARENT:
        return None
    profile = family.parent_profile(user)
    if profile is None:
        return FamilyView([], [user])
    return FamilyView(family.children(user), profile.guardians)


def student_parent(user: User) -> ParentProfile | None:
    student = db.session.scalar(
        select(Student).where(Student.user_id == user.id).options(joinedload(Student.parent))
    )
    return student.parent if student else None
