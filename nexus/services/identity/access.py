"""Who may sign in: deactivating and reactivating an account, and the rule that one active
administrator always remains (erasure.anonymise keeps it too, under the same lock)."""

from __future__ import annotations

from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.identity import User
from nexus.services import ServiceError, audit, command, locked


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


def lock_user(user_id: int) -> User:
    """The account row, locked and re-read under the lock; LookupError if there is none."""
    user = locked(User, user_id)
    if user is None:
        raise LookupError(user_id)
    return user


@command
def set_active(user_id: int, active: bool, actor: User) -> User:
    """Deactivate (ending every session at once) or reactivate an account; audited."""
    if user_id == actor.id:
        raise ServiceError("Vous ne pouvez pas désactiver votre propre compte.")
    if not active:
        lock_admins()  # before the row lock, as erasure.anonymise takes them
    # Re-read under the lock: the caller may have loaded this user already (the coaches desk
    # does); the state compared below must be the one read under the lock.
    user = lock_user(user_id)
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
