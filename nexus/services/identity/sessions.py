"""Signed-in browsers: each sign-in is recorded on the server (its cookie carries a token whose
hash is kept), so signing out, a changed password or a deactivation ends it for good."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from nexus.extensions import db
from nexus.models.identity import User, UserSession
from nexus.services import command, utcnow
from nexus.services.identity.passwords import authenticate
from nexus.services.identity.tokens import hash_token

SESSION_TTL = timedelta(hours=12)
REMEMBERED_TTL = timedelta(days=14)
SEEN_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # what the browser's cookie carries


def open_session(user: User, remember: bool, user_agent: str | None) -> str:
    """Record a new signed-in browser; return the token its cookie carries."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=hash_token(raw),
            expires_at=now + (REMEMBERED_TTL if remember else SESSION_TTL),
            last_seen_at=now,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    return raw


@command
def sign_in(email: str, password: str, remember: bool, user_agent: str | None) -> SignedIn | None:
    """Check the address and password, then record the browser's session (12 h, or 14 days if
    asked); None for any failure, all alike (no account enumeration)."""
    user = authenticate(email, password)
    if user is None:
        return None
    return SignedIn(user, open_session(user, remember, user_agent))


@command
def close_session(raw: str | None) -> None:
    """Sign out: the server forgets this browser's session, so a copied cookie is useless."""
    if raw:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == hash_token(raw), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def load_session_user(session_id: str, raw_token: str | None) -> User | None:
    """Flask-Login loader: '<id>:<session_version>' plus the browser's session token.

    A stale version (password changed, account deactivated) or a revoked or expired session
    (signed out, timed out) ends it.
    """
    user_id, _, version = session_id.partition(":")
    if not user_id.isdecimal() or not version.isdecimal() or len(user_id) > 19 or not raw_token:
        return None
    # One round trip for the account and this browser's session (on every signed-in request).
    found = db.session.execute(
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(User.id == int(user_id), UserSession.token_hash == hash_token(raw_token))
    ).first()
    if found is None:
        return None
    user, browser = found
    if not user.can_sign_in or str(user.session_version) != version:
        return None
    now = utcnow()
    if browser.revoked_at is not None or browser.expires_at <= now:
        return None
    if now - browser.last_seen_at > SEEN_EVERY:  # not a write on every request
        _seen(browser)
    return user


@command
def _seen(browser: UserSession) -> None:
    browser.last_seen_at = utcnow()
