"""Families signing up by themselves: a pending sign-up, the link e-mailed to the parent, and the
family opened whole when that link is used.

No account exists before the link is used, so nobody can reserve an address they cannot read.
Every answer to the sign-up form is the same whether the address is new or already has an
account (no enumeration): an account's owner is e-mailed "vous avez déjà un espace" instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select

from nexus import links
from nexus.extensions import db
from nexus.models.common import Grade
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.family import FamilySignup
from nexus.models.identity import User
from nexus.services import ServiceError, audit, command, family, identity, locked, notifications, utcnow
from nexus.services.family import ChildDraft, ParentDraft
from nexus.services.identity import TokenState

LINK_TTL = timedelta(hours=72)
SAME_SUBMIT_WINDOW = timedelta(minutes=10)  # a double click or a retry re-uses the pending row
PENDING_PER_ADDRESS, PENDING_WINDOW = 5, timedelta(hours=24)
MAX_RENEWALS = 3
STALE_AFTER = timedelta(days=30)  # an unconfirmed sign-up is forgotten this long after its link expired
OPEN_BILAN = (BilanStatus.RECEIVED, BilanStatus.CONTACTED)


@dataclass(frozen=True)
class SignupDraft:
    """What the family typed (the password is given apart, hashed at once)."""

    parent: ParentDraft
    children: list[ChildDraft]
    bilan_request_id: int | None = None


class SignupExpired(ServiceError):
    """The link's 72 hours are over: a new one may be asked for."""

    def __init__(self) -> None:
        super().__init__("Ce lien a expiré. Demandez-en un nouveau.")


def _children_json(children: list[ChildDraft]) -> list[dict[str, Any]]:
    return [
        {
            "first_name": c.first_name.strip(),
            "last_name": c.last_name.strip(),
            "grade": c.grade.value,
            "email": c.email,
        }
        for c in children
    ]


def _password_matches(stored: str | None, password: str) -> bool:
    """Verify against the stored hash, or a stand-in one: every path does the same work."""
    return identity.check_password(stored, password)


# -- signing up -------------------------------------------------------------------------------


@command
def register(draft: SignupDraft, password: str) -> None:
    """Record a sign-up and e-mail its confirmation link, or tell an account's owner. The same
    outcome for the caller whatever the address (nothing is returned)."""
    password_hash = identity.hash_password(password)  # first, whether the address is known or not
    email = identity.normalize_email(draft.parent.email)
    owner = family.lock_address(email)  # serialises sign-ups and account creations per address
    if owner is not None:
        _password_matches(None, password)
        _mail_known(owner)
        return
    now = utcnow()
    children = _children_json(draft.children)
    same = _recent_same(email, draft, children, now)
    if _password_matches(same.password_hash if same else None, password):
        return  # a double click or a retry: the e-mail already sent holds the link
    if _pending_count(email, now) >= PENDING_PER_ADDRESS:
        return  # someone keeps signing this address up: its owner's inbox is left alone
    row = FamilySignup(
        email=email,
        first_name=draft.parent.first_name.strip(),
        last_name=draft.parent.last_name.strip(),
        phone=(draft.parent.phone or "").strip(),
        password_hash=password_hash,
        children=children,
        bilan_request_id=draft.bilan_request_id,
        token_hash="",
        expires_at=now,
        renewals=0,
        created_at=now,
    )
    db.session.add(row)
    _new_link(row, now)


def _recent_same(
    email: str, draft: SignupDraft, children: list[dict[str, Any]], now: Any
) -> FamilySignup | None:
    """The pending sign-up of the last minutes with exactly these answers, if any."""
    stmt = (
        select(FamilySignup)
        .where(
            FamilySignup.email == email,
            FamilySignup.confirmed_at.is_(None),
            FamilySignup.created_at > now - SAME_SUBMIT_WINDOW,
            FamilySignup.expires_at > now,
            FamilySignup.first_name == draft.parent.first_name.strip(),
            FamilySignup.last_name == draft.parent.last_name.strip(),
            FamilySignup.phone == (draft.parent.phone or "").strip(),
        )
        .order_by(FamilySignup.id.desc())
    )
    return next(
        (
            row
            for row in db.session.scalars(stmt)
            if row.children == children and row.bilan_request_id == draft.bilan_request_id
        ),
        None,
    )


def _pending_count(email: str, now: Any) -> int:
    stmt = select(func.count()).where(
        FamilySignup.email == email,
        FamilySignup.confirmed_at.is_(None),
        FamilySignup.created_at > now - PENDING_WINDOW,
    )
    return db.session.scalar(stmt) or 0


def _new_link(row: FamilySignup, now: Any) -> None:
    """A fresh 72-hour token (only its hash is kept) and the e-mail that carries it."""
    raw, row.token_hash = identity.new_token()
    row.expires_at = now + LINK_TTL
    db.session.flush()
    notifications.queue_email(
        row.email,
        "signup_confirm",
        "Confirmez votre adresse pour ouvrir votre espace — Nexus Réussite",
        {
            "first_name": row.first_name,
            "children": [c["first_name"] for c in row.children],
            "url": links.external("signup.confirm", token=raw),
            "hours": int(LINK_TTL.total_seconds() // 3600),
        },
        dedupe_key=f"signup:{row.id}:{row.renewals}",
    )


def _mail_known(owner: User) -> None:
    """The address has an account: say so to its owner, once a day at most."""
    notifications.queue_email(
        owner.email or "",
        "signup_known",
        "Vous avez déjà un espace Nexus Réussite",
        {
            "first_name": owner.first_name,
            "signin_url": links.external("auth.signin"),
            "forgot_url": links.external("auth.forgot"),
        },
        user_id=owner.id,
        dedupe_key=f"signup-known:{owner.id}:{utcnow().date().isoformat()}",
    )


# -- the link ---------------------------------------------------------------------------------


def state_of(raw: str) -> tuple[TokenState, FamilySignup | None]:
    """What a link leads to, without using it (mail scanners open links before people do).
    A used link is a confirmed sign-up."""
    digest = identity.token_digest(raw)
    row = None
    if digest is not None:
        row = db.session.scalar(select(FamilySignup).where(FamilySignup.token_hash == digest))
    if row is None:
        return TokenState.UNKNOWN, None
    return identity.link_state(row.confirmed_at, row.expires_at), row


def _locked(raw: str) -> FamilySignup | None:
    """The sign-up of a link, locked and re-read (a concurrent confirmation may have won)."""
    digest = identity.token_digest(raw)
    if digest is None:
        return None
    stmt = (
        select(FamilySignup)
        .where(FamilySignup.token_hash == digest)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return db.session.scalar(stmt)


@command
def confirm(raw: str) -> FamilySignup:
    """Open the family of a sign-up exactly once (a second use gives the same outcome).

    Raises LookupError (unknown link), SignupExpired, or family.EmailTaken (an account took the
    address meanwhile), and then nothing is changed.
    """
    row = _locked(raw)
    if row is None:
        raise LookupError("sign-up link")
    if row.confirmed_at is not None:
        return row
    if row.expires_at <= utcnow():
        raise SignupExpired()
    drafts = [
        ChildDraft(
            first_name=c["first_name"],
            last_name=c["last_name"],
            grade=Grade(c["grade"]),
            email=c.get("email"),
        )
        for c in row.children
    ]
    parent = family.open_family(
        ParentDraft(row.first_name, row.last_name, row.email, row.phone or None),
        drafts,
        actor=None,
        password_hash=row.password_hash,
    )
    row.confirmed_at = utcnow()
    row.user_id = parent.id
    row.password_hash = ""  # the account holds it now; no copy lingers here
    if row.bilan_request_id is not None:
        _link_bilan(row.bilan_request_id, parent)
    return row


def _link_bilan(bilan_id: int, parent: User) -> None:
    """The bilan request this sign-up started from now belongs to the family ("Inscrite")."""
    bilan = locked(BilanRequest, bilan_id)
    if bilan is None:
        return
    before = {"status": bilan.status.value, "parent_user_id": bilan.parent_user_id}
    if bilan.parent_user_id is None:
        bilan.parent_user_id = parent.id
    if bilan.status in OPEN_BILAN:
        bilan.status = BilanStatus.CONVERTED
    after = {"status": bilan.status.value, "parent_user_id": bilan.parent_user_id}
    if after != before:
        audit.record("bilan.linked_by_signup", parent.id, bilan, before=before, after=after)


@command
def renew(raw: str) -> None:
    """A fresh link for an expired sign-up, to the same address, at most MAX_RENEWALS times.

    Silent otherwise (the page says alike "if it was waiting, a new link is sent").
    """
    row = _locked(raw)
    if row is None or row.confirmed_at is not None or row.expires_at > utcnow():
        return
    if row.renewals >= MAX_RENEWALS:
        return
    owner = family.lock_address(row.email)
    if owner is not None:  # an account holds the address now: a link could not be used
        _mail_known(owner)
        return
    row.renewals += 1
    _new_link(row, utcnow())


def can_renew(row: FamilySignup) -> bool:
    return row.renewals < MAX_RENEWALS


def children_of(row: FamilySignup) -> list[str]:
    """ "Nour (Terminale)" for each child of a sign-up, for the confirmation page."""
    return [f"{c['first_name']} {c['last_name']} ({Grade(c['grade']).label})" for c in row.children]


def bilan_prefill(bilan_id: int | None) -> BilanRequest | None:
    """The bilan request sent from this browser, to prefill the sign-up."""
    return db.session.get(BilanRequest, bilan_id) if bilan_id else None


@command
def purge_stale() -> int:
    """Forget the sign-ups never confirmed, STALE_AFTER after their link expired (personal data
    and a password hash are kept no longer than a renewal may need them); how many."""
    result = db.session.execute(
        delete(FamilySignup).where(
            FamilySignup.confirmed_at.is_(None), FamilySignup.expires_at < utcnow() - STALE_AFTER
        )
    )
    return result.rowcount or 0
