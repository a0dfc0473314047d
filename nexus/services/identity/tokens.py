"""One-time links: a token e-mailed in a link (only its hash is stored), looked at without being
used, then used exactly once. The link itself is nexus.links.external(endpoint, token=raw)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import select, update

from nexus.extensions import db
from nexus.models.identity import TokenPurpose, User, UserToken
from nexus.services import ServiceError, utcnow

MAX_TOKEN_LENGTH = 200


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh link token: the raw one for the e-mail, its hash for the database."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def token_digest(raw: str) -> str | None:
    """The hash to look a link's token up by; None for a string that cannot be one of ours."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    return hash_token(raw)


def issue_token(user: User, purpose: TokenPurpose, ttl: timedelta, email: str | None = None) -> str:
    """Create a one-time link token (only its hash is stored) and revoke older ones."""
    db.session.execute(
        update(UserToken)
        .where(
            UserToken.user_id == user.id,
            UserToken.purpose == purpose,
            UserToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    raw, digest = new_token()
    now = utcnow()  # one clock for created_at and expires_at (the link quota counts created_at)
    db.session.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=digest,
            expires_at=now + ttl,
            email=email,
            created_at=now,
        )
    )
    return raw


class TokenState(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"


def inspect_token(raw: str, purpose: TokenPurpose) -> tuple[TokenState, UserToken | None]:
    """Look at a link token without consuming it (to show the right page)."""
    digest = token_digest(raw)
    if digest is None:
        return TokenState.UNKNOWN, None
    token = db.session.scalar(
        select(UserToken).where(UserToken.token_hash == digest, UserToken.purpose == purpose)
    )
    if token is None:
        return TokenState.UNKNOWN, None
    return link_state(token.used_at, token.expires_at), token


def link_state(used_at: datetime | None, expires_at: datetime) -> TokenState:
    """A one-time link that exists: used already, expired, or still valid."""
    if used_at is not None:
        return TokenState.USED
    if expires_at <= utcnow():
        return TokenState.EXPIRED
    return TokenState.VALID


def consume_token(raw: str, purpose: TokenPurpose) -> User:
    """Use a token exactly once (conditional UPDATE … RETURNING), or refuse in French."""
    user_id = db.session.scalar(
        update(UserToken)
        .where(
            UserToken.token_hash == hash_token(raw),
            UserToken.purpose == purpose,
            UserToken.used_at.is_(None),
            UserToken.expires_at > utcnow(),
        )
        .values(used_at=utcnow())
        .returning(UserToken.user_id)
    )
    if user_id is None:
        raise ServiceError("Ce lien n'est plus valable. Demandez-en un nouveau.")
    return db.session.get_one(User, user_id)
