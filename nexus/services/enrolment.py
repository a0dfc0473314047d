"""Staff turn a request (a free bilan, a contact message) into a family space: one per request.

The request row is locked first and re-read under its lock, so a second click, a retry or fifty
concurrent clicks on "Ouvrir l'espace famille" find it linked and return the family already
opened; `family.open_family` serialises creations per address (an address has one account).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.identity import User
from nexus.models.notifications import ContactMessage
from nexus.services import ServiceError, audit, command, family, locked, utcnow
from nexus.services.family import ChildDraft, EmailTaken, ParentDraft
from nexus.services.identity import normalize_email

__all__ = [
    "ChildEmailRefused",
    "EmailTaken",
    "Opened",
    "get_contact",
    "linked_parents",
    "open_from_bilan",
    "open_from_contact",
    "taken_message",
]

Row = TypeVar("Row", BilanRequest, ContactMessage)

CLOSED_REQUEST = "Cette demande est close : l'espace famille ne s'ouvre pas depuis une demande close."


@dataclass(frozen=True)
class Opened:
    parent: User
    created: bool  # False: the request was already linked (a second click, a retry)


class ChildEmailRefused(ServiceError):
    """A child's address cannot be given (`index`: the child's position among the drafts)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message, field="email")
        self.index = index


def taken_message(owner: User) -> str:
    """Who already holds an address, said plainly: staff see every account anyway."""
    return (
        f"Cette adresse e-mail est déjà utilisée par le compte de {owner.full_name} "
        f"({owner.role.label.lower()})."
    )


def _request(model: type[Row], row_id: int) -> tuple[Row | None, Opened | None]:
    """The request row, locked and re-read (None if unknown), and the family it was already
    turned into, if any (a second click, a retry)."""
    row = locked(model, row_id)
    if row is None or row.parent_user_id is None:
        return row, None
    parent = db.session.get(User, row.parent_user_id)
    return row, Opened(parent, created=False) if parent is not None else None


def _check_children(draft: ParentDraft, kids: Sequence[ChildDraft]) -> None:
    """Refuse, next to the child's field, an address that cannot become that child's login."""
    seen = {normalize_email(draft.email)}
    for index, kid in enumerate(kids):
        if not kid.email:
            continue
        address = normalize_email(kid.email)
        if address == normalize_email(draft.email):
            raise ChildEmailRefused(index, "C'est l'adresse du parent : chaque compte a sa propre adresse.")
        if address in seen:
            raise ChildEmailRefused(index, "Deux enfants ne peuvent pas avoir la même adresse e-mail.")
        seen.add(address)
        owner = db.session.scalar(select(User).where(User.email == address))
        if owner is not None:
            raise ChildEmailRefused(index, taken_message(owner))


def _open(draft: ParentDraft, kids: Sequence[ChildDraft], actor: User) -> User:
    _check_children(draft, kids)
    return family.open_family(draft, kids, actor)


@command
def open_from_bilan(
    bilan_id: int, draft: ParentDraft, kids: Sequence[ChildDraft], actor: User
) -> Opened | None:
    """Open the family of a bilan request, link it and mark it "Inscrite"; None if unknown.

    Raises EmailTaken (the parent's address has an account), ChildEmailRefused, ServiceError.
    """
    bilan, done = _request(BilanRequest, bilan_id)
    if bilan is None or done is not None:
        return done
    if bilan.status is BilanStatus.CLOSED:
        raise ServiceError(CLOSED_REQUEST)
    # The school was asked about the child of the request: the first group, prefilled from it.
    if kids and bilan.school and not kids[0].school:
        kids = [replace(kids[0], school=bilan.school), *kids[1:]]
    parent = _open(draft, kids, actor)
    before = {"status": bilan.status.value, "parent_user_id": None}
    bilan.parent_user_id = parent.id
    bilan.status = BilanStatus.CONVERTED
    audit.record(
        "bilan.family_opened",
        actor.id,
        bilan,
        before=before,
        after={"status": bilan.status.value, "parent_user_id": parent.id, "children": len(kids)},
    )
    return Opened(parent, created=True)


@command
def open_from_contact(
    message_id: int, draft: ParentDraft, kids: Sequence[ChildDraft], actor: User
) -> Opened | None:
    """Open the family of a contact message, link it and mark it handled; None if unknown.

    Raises EmailTaken (the parent's address has an account), ChildEmailRefused.
    """
    message, done = _request(ContactMessage, message_id)
    if message is None or done is not None:
        return done
    parent = _open(draft, kids, actor)
    handled_at = message.handled_at
    message.parent_user_id = parent.id
    message.handled_at = handled_at or utcnow()
    audit.record(
        "contact.family_opened",
        actor.id,
        message,
        before={"handled_at": _iso(handled_at), "parent_user_id": None},
        after={
            "handled_at": _iso(message.handled_at),
            "parent_user_id": parent.id,
            "children": len(kids),
        },
    )
    return Opened(parent, created=True)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def get_contact(message_id: int) -> ContactMessage | None:
    return db.session.get(ContactMessage, message_id)


def linked_parents(rows: Iterable[BilanRequest | ContactMessage]) -> dict[int, User]:
    """The parents requests were turned into, by id, in one query (for a table's rows)."""
    ids = {row.parent_user_id for row in rows if row.parent_user_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}
