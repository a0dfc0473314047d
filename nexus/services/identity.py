"""Accounts: passwords (argon2id), sign-in, activation and password-reset links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import Enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError

from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.family import Student
from nexus.models.identity import TokenPurpose, User, UserSession, UserToken
from nexus.services import ServiceError, audit, notifications, utcnow

hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
# Verified when the e-mail is unknown, so that both cases take the same time.
_DUMMY_HASH = hasher.hash("nexus-timing-equaliser")

ACTIVATION_TTL = timedelta(hours=72)
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


SESSION_TTL = timedelta(hours=12)
REMEMBERED_TTL = timedelta(days=14)
SEEN_EVERY = timedelta(minutes=5)


def open_session(user: User, remember: bool, user_agent: str | None) -> str:
    """Record a new signed-in browser; return the token its cookie carries."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_hash_token(raw),
            expires_at=now + (REMEMBERED_TTL if remember else SESSION_TTL),
            last_seen_at=now,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    return raw


def close_session(raw: str | None) -> None:
    if raw:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash_token(raw), UserSession.revoked_at.is_(None))
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
    user = db.session.get(User, int(user_id))
    if user is None or not user.can_sign_in or str(user.session_version) != version:
        return None
    browser = db.session.scalar(
        select(UserSession).where(
            UserSession.token_hash == _hash_token(raw_token), UserSession.user_id == user.id
        )
    )
    now = utcnow()
    if browser is None or browser.revoked_at is not None or browser.expires_at <= now:
        return None
    if now - browser.last_seen_at > SEEN_EVERY:  # not a write on every request
        browser.last_seen_at = now
        db.session.commit()
    return user


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


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
    raw = secrets.token_urlsafe(32)
    now = utcnow()  # one clock for created_at and expires_at (the link quota counts created_at)
    db.session.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash_token(raw),
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
    if not raw or len(raw) > 200:
        return TokenState.UNKNOWN, None
    token = db.session.scalar(
        select(UserToken).where(UserToken.token_hash == _hash_token(raw), UserToken.purpose == purpose)
    )
    if token is None:
        return TokenState.UNKNOWN, None
    if token.used_at is not None:
        return TokenState.USED, token
    if token.expires_at <= utcnow():
        return TokenState.EXPIRED, token
    return TokenState.VALID, token


def consume_token(raw: str, purpose: TokenPurpose) -> User:
    """Use a token exactly once (conditional UPDATE … RETURNING), or refuse in French."""
    user_id = db.session.scalar(
        update(UserToken)
        .where(
            UserToken.token_hash == _hash_token(raw),
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


def pending_activation_links(user_ids: list[int]) -> dict[int, datetime]:
    """For each user, when their newest unused activation link expires (if still valid)."""
    if not user_ids:
        return {}
    stmt = (
        select(UserToken.user_id, func.max(UserToken.expires_at))
        .join(User, User.id == UserToken.user_id)
        .where(
            UserToken.user_id.in_(user_ids),
            UserToken.purpose == TokenPurpose.ACTIVATION,
            UserToken.used_at.is_(None),
            UserToken.expires_at > utcnow(),
            # Not the stand-in row kept when a parent gave an address that has an account.
            or_(UserToken.email.is_(None), UserToken.email == User.email),
        )
        .group_by(UserToken.user_id)
    )
    return dict(db.session.execute(stmt).all())


def link(path: str, token: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}{path}?token={token}"


def link_path(path: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}{path}"


# -- password reset -------------------------------------------------------------------------


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
        {"first_name": user.first_name, "url": link("/auth/reset-password", raw), "minutes": 60},
        user_id=user.id,
    )
    audit.record("auth.reset_requested", user.id, user)
    return True


def reset_password(raw: str, password: str) -> User:
    user = consume_token(raw, TokenPurpose.PASSWORD_RESET)
    problem = password_problem(password, user.email)
    if problem:
        raise ServiceError(problem, field="password")
    set_password(user, password)
    audit.record("auth.password_reset", user.id, user)
    return user


def set_password(user: User, password: str) -> None:
    """Store a new hash and end every open session of the user."""
    user.password_hash = hash_password(password)
    user.session_version += 1


def change_password(user: User, current: str, new: str) -> None:
    try:
        hasher.verify(user.password_hash or _DUMMY_HASH, current)
    except (VerificationError, InvalidHashError):
        raise ServiceError("Le mot de passe actuel est incorrect.", field="current") from None
    problem = password_problem(new, user.email)
    if problem:
        raise ServiceError(problem, field="password")
    set_password(user, new)
    audit.record("auth.password_changed", user.id, user)


# -- student activation ---------------------------------------------------------------------

# A parent may send a child's link this often (each e-mail goes to an address they typed).
LINKS_PER_CHILD, LINKS_PER_PARENT, LINKS_WINDOW = 3, 10, timedelta(hours=24)


def send_activation(student: Student, email: str | None, actor: User) -> str:
    """Give the student an address (if new) and e-mail a 72-hour activation link; the address used.

    For a parent, an address that already has an account gets the same answer as any other (no
    probing which addresses have accounts): its owner is told instead, and no usable link exists.
    """
    if actor.role is Role.PARENT:
        _lock_user(actor.id)  # one parent's sends are counted one at a time
    user = _lock_user(student.user_id)
    if user.activated_at is not None:
        raise ServiceError("Ce compte élève est déjà activé.")
    # Without a typed address: the one of the last link (so a taken one answers alike here too).
    address = normalize_email(email) if email else activation_addresses([user.id]).get(user.id, user.email)
    if not address:
        raise ServiceError("Indiquez l'adresse e-mail de l'élève.", field="email")
    if actor.role is Role.PARENT:
        _check_link_quota(student, actor)
    owner = db.session.scalar(select(User).where(User.email == address, User.id != user.id))
    if owner is None and _claim_address(user, address):
        _mail_activation(user, student, address)
    elif actor.role is Role.PARENT:
        issue_token(user, TokenPurpose.ACTIVATION, ACTIVATION_TTL, email=address)  # never sent
        owner = owner or db.session.scalar(select(User).where(User.email == address))
        if owner is not None:
            _mail_address_in_use(owner)
    else:  # staff see every account anyway: tell them plainly
        raise ServiceError("Cette adresse e-mail est déjà utilisée par un autre compte.", "email")
    audit.record("account.activation_sent", actor.id, user, after={"email": address})
    return address


def _claim_address(user: User, address: str) -> bool:
    """Give the user the address unless another account took it meanwhile (the unique index
    decides between two concurrent claims; the loser's savepoint is rolled back)."""
    if user.email == address:
        return True
    try:
        with db.session.begin_nested():
            user.email = address
            db.session.flush()
    except IntegrityError:
        return False
    return True


def _lock_user(user_id: int) -> User:
    """The user row, locked and re-read (a copy loaded earlier in the request may be stale)."""
    stmt = select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(stmt).one()


def _check_link_quota(student: Student, parent: User) -> None:
    """At most LINKS_PER_CHILD links per child and LINKS_PER_PARENT per parent in 24 hours."""
    since = utcnow() - LINKS_WINDOW
    recent = (
        select(func.count())
        .select_from(UserToken)
        .join(Student, Student.user_id == UserToken.user_id)
        .where(UserToken.purpose == TokenPurpose.ACTIVATION, UserToken.created_at > since)
    )
    if (db.session.scalar(recent.where(Student.id == student.id)) or 0) >= LINKS_PER_CHILD:
        raise ServiceError(
            f"Vous avez déjà envoyé {LINKS_PER_CHILD} liens d'activation à "
            f"{student.user.first_name} ces dernières 24 heures. Réessayez demain.",
            field="email",
        )
    if (db.session.scalar(recent.where(Student.parent_id == student.parent_id)) or 0) >= LINKS_PER_PARENT:
        raise ServiceError(
            f"Vous avez déjà envoyé {LINKS_PER_PARENT} liens d'activation ces dernières 24 heures. "
            "Réessayez demain.",
            field="email",
        )


def resend_activation(user: User) -> None:
    """A fresh link for an account whose activation link expired, to the address on file."""
    if user.role is Role.COACH:
        if user.activated_at is None and user.is_active and user.email:
            invite_coach(user, None)
        return
    if user.activated_at is not None or not user.email or not user.is_active:
        return
    student = db.session.scalar(select(Student).where(Student.user_id == user.id))
    if student is not None:
        _mail_activation(user, student, user.email)
    elif user.role is not Role.ELEVE:
        send_account_activation(user, None)
    audit.record("account.activation_renewed", None, user)


def activation_addresses(user_ids: list[int]) -> dict[int, str]:
    """For each user, the address their newest activation link was given for."""
    if not user_ids:
        return {}
    stmt = (
        select(UserToken.user_id, UserToken.email)
        .where(
            UserToken.user_id.in_(user_ids),
            UserToken.purpose == TokenPurpose.ACTIVATION,
            UserToken.email.is_not(None),
        )
        .order_by(UserToken.user_id, UserToken.id.desc())
        .ext(distinct_on(UserToken.user_id))
    )
    return dict(db.session.execute(stmt).all())


def _mail_activation(user: User, student: Student, address: str) -> None:
    raw = issue_token(user, TokenPurpose.ACTIVATION, ACTIVATION_TTL, email=address)
    notifications.queue_email(
        address,
        "activation",
        "Activez votre compte élève — Nexus Réussite",
        {
            "first_name": user.first_name,
            "parent_name": student.parent.user.full_name,
            "url": link("/auth/activate", raw),
            "hours": 72,
        },
        user_id=user.id,
    )


def _mail_address_in_use(owner: User) -> None:
    """Tell an account's owner that a parent gave their address for a student account."""
    notifications.queue_email(
        owner.email or "",
        "address_in_use",
        "Votre adresse e-mail a été indiquée pour un compte élève — Nexus Réussite",
        {"first_name": owner.first_name, "forgot_url": link_path("/auth/mot-de-passe-oublie")},
        user_id=owner.id,
        dedupe_key=f"address-in-use:{owner.id}:{utcnow().date().isoformat()}",  # one a day at most
    )


def activate(raw: str, password: str) -> User:
    user = consume_token(raw, TokenPurpose.ACTIVATION)
    problem = password_problem(password, user.email)
    if problem:
        raise ServiceError(problem, field="password")
    set_password(user, password)
    user.activated_at = utcnow()
    audit.record("account.activated", user.id, user)
    if user.role is Role.ELEVE:
        student = db.session.scalar(select(Student).where(Student.user_id == user.id))
        for parent in student.parent.guardians if student is not None else []:
            notifications.notify(
                parent.id,
                "STUDENT_ACTIVATED",
                f"{user.first_name} a activé son compte",
                "Votre enfant peut maintenant se connecter à son espace.",
                "/dashboard/parent",
            )
    return user


# Words of the activation e-mail of an account opened for someone (not a student, not a coach).
ACCOUNT_WELCOME = {
    Role.PARENT: "l'espace de votre famille est ouvert",
    Role.ASSISTANTE: "votre compte d'assistante est ouvert",
    Role.ADMIN: "votre compte d'administrateur est ouvert",
}


def invite_coach(user: User, actor: User | None) -> None:
    """E-mail a 72-hour link to /auth/activate where the coach chooses a password; audited."""
    if user.activated_at is not None:
        raise ServiceError("Ce coach a déjà activé son compte : il se connecte avec son mot de passe.")
    raw = issue_token(user, TokenPurpose.ACTIVATION, ACTIVATION_TTL)
    profile = user.coach_profile
    notifications.queue_email(
        user.email or "",
        "coach_invitation",
        "Votre espace coach Nexus Réussite vous attend",
        {
            "first_name": user.first_name,
            "pseudonym": profile.pseudonym if profile else "",
            "url": link("/auth/activate", raw),
            "hours": int(ACTIVATION_TTL.total_seconds() // 3600),
        },
        user_id=user.id,
    )
    audit.record("coach.invitation_sent", actor.id if actor else None, user, after={"email": user.email})


def send_account_activation(user: User, actor: User | None) -> None:
    """E-mail a parent or staff member the 72-hour link to choose their password."""
    raw = issue_token(user, TokenPurpose.ACTIVATION, ACTIVATION_TTL, email=user.email)
    notifications.queue_email(
        user.email or "",
        "account_activation",
        "Votre accès à Nexus Réussite — choisissez votre mot de passe",
        {
            "first_name": user.first_name,
            "welcome": ACCOUNT_WELCOME.get(user.role, "votre compte est ouvert"),
            "opened_by": actor.first_name if actor else None,
            "url": link("/auth/activate", raw),
            "hours": 72,
        },
        user_id=user.id,
    )
    audit.record("account.activation_sent", actor.id if actor else None, user, after={"email": user.email})


# -- staff administration -------------------------------------------------------------------


def lock_admins() -> None:
    """Serialise every change that may remove an active admin (transaction-scoped): two admins
    deactivating or deleting each other queue up, and the second sees the first's change."""
    db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext("active-admins"))))


def other_active_admins(user_id: int) -> int:
    """How many admins but this one may still sign in (call after lock_admins)."""
    stmt = select(func.count()).where(
        User.role == Role.ADMIN, User.is_active, User.anonymised_at.is_(None), User.id != user_id
    )
    return db.session.scalar(stmt) or 0


def set_active(user_id: int, active: bool, actor: User) -> User:
    """Deactivate (ending every session at once) or reactivate an account; audited."""
    if user_id == actor.id:
        raise ServiceError("Vous ne pouvez pas désactiver votre propre compte.")
    if not active:
        lock_admins()  # before the row lock, as erasure.anonymise takes them
    # populate_existing: the caller may have loaded this user already (the coaches desk does);
    # the state compared below must be the one read under the lock.
    user = db.session.scalar(
        select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    )
    if user is None:
        raise LookupError(user_id)
    if user.is_active == active:
        return user  # a second click changes nothing
    if user.anonymised_at is not None:
        raise ServiceError("Ce compte a été supprimé : il ne peut pas être réactivé.")
    if not active and user.role is Role.ADMIN and other_active_admins(user.id) == 0:
        raise ServiceError("C'est le dernier administrateur actif : il ne peut pas être désactivé.")
    user.is_active = active
    if not active:
        user.session_version += 1
    audit.record(
        "account.reactivated" if active else "account.deactivated",
        actor.id,
        user,
        before={"is_active": not active},
        after={"is_active": active},
    )
    return user
