"""Passwords: argon2id hashes, what a password may be, checking one (sign-in, re-confirmation),
changing it, and the forgotten-password link."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from nexus import links
from nexus.extensions import db
from nexus.models.identity import TokenPurpose, User
from nexus.queue import enqueue_after_commit
from nexus.services import ServiceError, audit, command, notifications, utcnow
from nexus.services.identity.tokens import consume_token, issue_token

hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
# Verified when the e-mail is unknown, so that both cases take the same time.
_DUMMY_HASH = hasher.hash("nexus-timing-equaliser")

RESET_TTL = timedelta(minutes=60)
PASSWORD_MIN, PASSWORD_MAX = 8, 128
COMMON_PASSWORDS = frozenset(
    [
        "password",
        "password1",
        "password123",
        "motdepasse",
        "12345678",
        "123456789",
        "1234567890",
        "azerty123",
        "azertyuiop",
        "qwerty123",
        "qwertyuiop",
        "11111111",
        "00000000",
        "iloveyou",
        "admin123",
        "nexus123",
        "nexus2026",
        "bonjour123",
        "soleil123",
        "tunisie123",
        "tunis123",
        "abc12345",
        "abcd1234",
        "letmein1",
    ]
)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def password_problem(password: str, email: str | None = None) -> str | None:
    """A French reason why the password is refused, or None. No composition rules (ASVS 6.2.5)."""
    if len(password) < PASSWORD_MIN:
        return f"Le mot de passe doit contenir au moins {PASSWORD_MIN} caractères."
    if len(password) > PASSWORD_MAX:
        return f"Le mot de passe ne peut pas dépasser {PASSWORD_MAX} caractères."
    if password.lower() in COMMON_PASSWORDS:
        return "Ce mot de passe est trop courant : choisissez-en un autre."
    if email and password.lower() == normalize_email(email):
        return "Le mot de passe ne doit pas être votre adresse e-mail."
    return None


def hash_password(password: str) -> str:
    return hasher.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Whether the password matches the stored hash; without one, a stand-in hash is verified,
    so that every path does the same work (no telling by the time taken)."""
    try:
        return bool(hasher.verify(stored or _DUMMY_HASH, password)) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(email: str, password: str) -> User | None:
    """The user if the e-mail and password match an account that may sign in, else None.

    Every failure looks the same to the caller (no account enumeration).
    """
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.can_sign_in:
        return None
    if hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record("auth.signin", user.id, user)
    return user


def set_password(user: User, password: str) -> None:
    """Store a new hash and end every open session of the user."""
    user.password_hash = hash_password(password)
    user.session_version += 1


def choose_password(user: User, password: str) -> None:
    """Set the password the person chose; refused (next to the password field) when it cannot be."""
    problem = password_problem(password, user.email)
    if problem:
        raise ServiceError(problem, field="password")
    set_password(user, password)


@command
def change_password(user: User, current: str, new: str) -> None:
    try:
        hasher.verify(user.password_hash or _DUMMY_HASH, current)
    except (VerificationError, InvalidHashError):
        raise ServiceError("Le mot de passe actuel est incorrect.", field="current") from None
    choose_password(user, new)
    audit.record("auth.password_changed", user.id, user)


# -- password reset -------------------------------------------------------------------------


@command
def request_password_reset(email: str) -> None:
    """Hand a reset request to the job, whatever the address: the request does the same work, and
    so takes the same time, whether an account exists or not (no enumeration by timing)."""
    enqueue_after_commit("emails", "nexus.jobs.identity.send_password_reset", normalize_email(email))


@command
def mail_password_reset(email: str) -> bool:
    """E-mail a reset link if the account exists and may sign in; silent otherwise."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.can_sign_in:
        return False
    raw = issue_token(user, TokenPurpose.PASSWORD_RESET, RESET_TTL)
    notifications.queue_email(
        user.email or "",
        "password_reset",
        "Réinitialisation de votre mot de passe — Nexus Réussite",
        {
            "first_name": user.first_name,
            "url": links.external("auth.reset_password", token=raw),
            "minutes": 60,
        },
        user_id=user.id,
    )
    audit.record("auth.reset_requested", user.id, user)
    return True


@command
def reset_password(raw: str, password: str) -> User:
    user = consume_token(raw, TokenPurpose.PASSWORD_RESET)
    choose_password(user, password)
    audit.record("auth.password_reset", user.id, user)
    return user
