"""The family's second parent: invited by the first, with their own PARENT account and the same
rights (at most two parents per family), activated from an e-mailed link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from nexus import links
from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.common import Role
from nexus.models.family import CoParent, ParentProfile
from nexus.models.identity import User
from nexus.services import ServiceError, audit, command, identity, notifications, utcnow
from nexus.services.family import ParentDraft, family_ids, lock_address, new_account, parent_profile

INVITED, RENEWED = "family.co_parent_invited", "family.co_parent_link_renewed"
CANCELLED = "family.co_parent_invitation_cancelled"
RESEND_EVERY = timedelta(minutes=1)


def _locked_family(parent: User) -> ParentProfile:
    """The family's profile row, locked: invitations to one family are made one at a time."""
    stmt = (
        select(ParentProfile)
        .where(ParentProfile.id.in_(family_ids(parent.id)))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    profile = db.session.scalar(stmt)
    if profile is None:  # a parent account whose family is not opened yet
        raise ServiceError("L'espace de votre famille n'est pas encore ouvert : écrivez-nous.")
    return profile


def _co_parent_of(profile: ParentProfile) -> CoParent | None:
    return db.session.scalar(select(CoParent).where(CoParent.profile_id == profile.id).limit(1))


def _last_invitation(profile: ParentProfile) -> AuditLog | None:
    """The newest invitation line of the family (sent, renewed or cancelled)."""
    return db.session.scalar(
        select(AuditLog)
        .where(
            AuditLog.action.in_([INVITED, RENEWED, CANCELLED]),
            AuditLog.object_type == "parent_profiles",
            AuditLog.object_id == profile.id,
        )
        .order_by(AuditLog.id.desc())
        .limit(1)
    )


def _stand_in(profile: ParentProfile) -> dict[str, Any] | None:
    """An invitation given an address that already has an account, if it is the family's last.

    No account is made for it (nor can one be: the address is taken), yet the family must see the
    same page as for any invitation, or the page would tell which addresses have accounts. With no
    table for an invitation without an account (schema frozen), its audit line is what is shown.
    """
    line = _last_invitation(profile)
    if line is None or line.action == CANCELLED or not line.after:
        return None
    if line.after.get("account") != "address_in_use":
        return None
    return line.after


def _mail_co_parent_address_in_use(owner: User, inviter: User) -> None:
    """Tell the owner of the address that it was given for a second parent's account."""
    notifications.queue_email(
        owner.email or "",
        "co_parent_address_in_use",
        "Votre adresse e-mail a été indiquée pour un espace famille — Nexus Réussite",
        {
            "first_name": owner.first_name,
            "inviter": inviter.first_name,
            "forgot_url": links.external("auth.forgot"),
        },
        user_id=owner.id,
        dedupe_key=f"co-parent-address-in-use:{owner.id}:{utcnow().date().isoformat()}",  # one a day
    )


def _invitation_line(
    action: str, parent: User, profile: ParentProfile, draft: ParentDraft, account: str
) -> None:
    """The audit line of an invitation (also what shows one given an address in use)."""
    after = {
        "first_name": draft.first_name.strip(),
        "last_name": draft.last_name.strip(),
        "email": identity.normalize_email(draft.email),
        "account": account,
        "expires_at": (utcnow() + identity.ACTIVATION_TTL).isoformat(),
    }
    audit.record(action, parent.id, profile, after=after)


@command
def invite(parent: User, draft: ParentDraft) -> None:
    """Invite the family's second parent: their own PARENT account, activated from an e-mailed link.

    At most two parents per family: the profile row is locked, then the family's co-parent (or an
    invitation waiting) looked for. An address that already has an account gets the same answer as
    any other: no account is made, its owner is told by e-mail (once a day at most).
    """
    profile = _locked_family(parent)
    if _co_parent_of(profile) is not None or _stand_in(profile) is not None:
        raise ServiceError("Votre famille a déjà deux parents : vous ne pouvez pas en inviter un autre.")
    owner = lock_address(draft.email)
    if owner is not None:
        _mail_co_parent_address_in_use(owner, parent)
        _invitation_line(INVITED, parent, profile, draft, "address_in_use")
        return
    user = new_account(draft, Role.PARENT)
    db.session.add(CoParent(profile_id=profile.id, user_id=user.id))
    db.session.flush()
    _invitation_line(INVITED, parent, profile, draft, "created")
    identity.send_account_activation(user, parent)


@command
def resend_link(parent: User) -> str:
    """A fresh activation link for the waiting second parent (once a minute); the address used."""
    profile = _locked_family(parent)
    last = _last_invitation(profile)
    if last is not None and last.created_at > utcnow() - RESEND_EVERY:
        raise ServiceError("Un lien vient d'être envoyé : attendez une minute avant d'en demander un autre.")
    co_parent = _co_parent_of(profile)
    stand_in = _stand_in(profile) if co_parent is None else None
    if stand_in is not None:
        draft = ParentDraft(stand_in["first_name"], stand_in["last_name"], stand_in["email"])
        owner = lock_address(draft.email)
        if owner is not None:
            _mail_co_parent_address_in_use(owner, parent)
        _invitation_line(RENEWED, parent, profile, draft, "address_in_use")
        return draft.email
    if co_parent is None or co_parent.user.activated_at is not None or not co_parent.user.email:
        raise ServiceError("Aucune invitation n'attend d'activation.")
    user = co_parent.user
    draft = ParentDraft(user.first_name, user.last_name, user.email)
    _invitation_line(RENEWED, parent, profile, draft, "created")
    # The same e-mail as the first one ("à l'initiative de …"), with a new link.
    identity.send_account_activation(user, parent)
    return user.email


@command
def cancel_invitation(parent: User) -> str:
    """Withdraw the invitation of a second parent who has not activated their account: the account
    and its link are deleted (an invitation given an address in use is closed alike), and the
    family may invite someone else. Returns the first name of the person who was invited."""
    profile = _locked_family(parent)
    co_parent = _co_parent_of(profile)
    stand_in = _stand_in(profile) if co_parent is None else None
    if co_parent is not None and co_parent.user.activated_at is None:
        invited = co_parent.user
        first_name, user_id = invited.first_name, invited.id
        email = invited.email
        db.session.execute(delete(User).where(User.id == user_id))  # its co_parents row, its link
    elif stand_in is not None:
        first_name, email = stand_in["first_name"], stand_in["email"]
    else:
        raise ServiceError("Aucune invitation n'attend d'activation.")
    audit.record(CANCELLED, parent.id, profile, after={"first_name": first_name, "email": email})
    return first_name


@dataclass(frozen=True)
class SecondParent:
    """The family's other parent as the page shows it."""

    first_name: str
    last_name: str
    email: str
    active: bool
    link_expires_at: datetime | None  # waiting: when the newest link expires (None: expired)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Parents:
    """Who the parents of a family are, seen by one of them."""

    opener: User
    second: SecondParent | None
    viewer_opened: bool


def parents_of(user: User) -> Parents | None:
    """The family's two parents (the second one waiting or active), as `user` sees them."""
    profile = parent_profile(user)
    if profile is None:
        return None
    co_parent = _co_parent_of(profile)
    second = None
    if co_parent is not None:
        other = co_parent.user
        expires = identity.pending_activation_links([other.id]).get(other.id)
        active = other.activated_at is not None
        second = SecondParent(other.first_name, other.last_name, other.email or "", active, expires)
    elif (line := _stand_in(profile)) is not None:
        expires_at = datetime.fromisoformat(line["expires_at"])
        second = SecondParent(
            line["first_name"],
            line["last_name"],
            line["email"],
            False,
            expires_at if expires_at > utcnow() else None,
        )
    return Parents(profile.user, second, profile.user_id == user.id)
