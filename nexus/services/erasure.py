"""Deleting an account = anonymising it: personal data erased, money records (payments,
invoices, the credit ledger) and session history kept, every signed-in session ended.

The last-admin rule holds here and in identity.set_active: both take identity.lock_admins before
counting the other active admins, so two admins acting on each other at the same moment queue up
and one of them always remains.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, or_, select, update

from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.family import CoParent, FamilySignup, ParentProfile, Student
from nexus.models.identity import CoachProfile, User, UserSession, UserToken
from nexus.models.notifications import Notification, OutboxEmail, OutboxStatus
from nexus.models.scheduling import SessionBooking
from nexus.services import ServiceError, audit, command, family, identity, locked, utcnow

ERASED_FIRST, ERASED_LAST = "Compte", "supprimé"


def _sole_family(user: User) -> ParentProfile | None:
    """The family of which this parent is the last parent still present, if any."""
    profile = family.parent_profile(user)
    if profile is None:
        return None
    others = [g for g in profile.guardians if g.id != user.id and g.anonymised_at is None]
    return None if others else profile


def upcoming_sessions(user: User, children: Sequence[Student] = ()) -> int:
    """Booked sessions not over yet of the person, or of the children given."""
    student_ids = [s.id for s in children]
    own = db.session.scalar(select(Student.id).where(Student.user_id == user.id))
    if own is not None:
        student_ids.append(own)
    coach_id = db.session.scalar(select(CoachProfile.id).where(CoachProfile.user_id == user.id))
    who = []
    if student_ids:
        who.append(SessionBooking.student_id.in_(student_ids))
    if coach_id is not None:
        who.append(SessionBooking.coach_id == coach_id)
    if not who:
        return 0
    stmt = select(func.count()).where(
        or_(*who), SessionBooking.is_holding, SessionBooking.ends_at > utcnow()
    )
    return db.session.scalar(stmt) or 0


def anonymise_refusal(user: User, actor: User, kids: Sequence[Student] | None = None) -> str | None:
    """Why this account may not be deleted now, in French, or None. Under anonymise's locks it
    decides; on the confirmation page it only warns ahead."""
    if user.id == actor.id:
        return "Vous ne pouvez pas supprimer votre propre compte."
    if user.role is Role.ADMIN and user.is_active and identity.other_active_admins(user.id) == 0:
        return "C'est le dernier administrateur actif : il ne peut pas être supprimé."
    if kids is None:
        profile = _sole_family(user) if user.role is Role.PARENT else None
        kids = list(profile.children) if profile else []
    count = upcoming_sessions(user, kids)
    whose = " de ce compte et de ses enfants" if kids else " de ce compte"
    if count == 1:
        return f"Annulez d'abord la séance à venir{whose}."
    if count:
        return f"Annulez d'abord les {count} séances à venir{whose}."
    return None


@command
def anonymise(user_id: int, actor: User) -> tuple[User, bool]:
    """Delete an account: personal data erased, money records and session history kept.

    Returns (user, False) when it was already done (nothing more happens).
    """
    identity.lock_admins()  # before the row lock, in the same order as set_active
    user = locked(User, user_id)
    if user is None:
        raise LookupError(user_id)
    if user.anonymised_at is not None:
        return user, False
    profile = _sole_family(user) if user.role is Role.PARENT else None
    kids = list(profile.children) if profile else []
    kid_users = [locked(User, k.user_id) for k in kids]  # the children's rows too, parent first
    problem = anonymise_refusal(user, actor, kids)
    if problem:
        raise ServiceError(problem)
    role = user.role.value
    _erase(user)
    if user.role is Role.PARENT:
        if profile is not None:
            profile.address = profile.city = None
        # A co-parent leaves the family; the family stays with the parent who opened it.
        db.session.execute(delete(CoParent).where(CoParent.user_id == user.id))
    for kid, kid_user in zip(kids, kid_users, strict=True):
        if kid_user is not None and kid_user.anonymised_at is None:
            _erase(kid_user)
            kid.school, kid.birth_date = None, None
            audit.record(
                "account.anonymised", actor.id, kid_user, after={"role": "ELEVE", "with_parent": user.id}
            )
    if user.role is Role.ELEVE:
        db.session.execute(
            update(Student).where(Student.user_id == user.id).values(school=None, birth_date=None)
        )
    if user.role is Role.COACH:
        coach = db.session.scalar(select(CoachProfile).where(CoachProfile.user_id == user.id))
        if coach is not None:
            coach.title = coach.tag = coach.description = coach.philosophy = coach.expertise = None
            coach.pseudonym = f"Coach supprimé {coach.id}"
    audit.record("account.anonymised", actor.id, user, after={"role": role, "children": len(kids)})
    return user, True


def _erase(user: User) -> None:
    """Erase one account's personal data and end everything that lets it act or be reached."""
    old_email = user.email
    now = utcnow()
    user.first_name, user.last_name = ERASED_FIRST, ERASED_LAST
    user.email = user.phone = user.password_hash = None
    user.is_active = False
    user.anonymised_at = now
    user.session_version += 1
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    # Used links too: they carry the addresses the account had.
    db.session.execute(delete(UserToken).where(UserToken.user_id == user.id))
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    db.session.execute(delete(FamilySignup).where(FamilySignup.user_id == user.id))
    to_them = OutboxEmail.to_user_id == user.id
    if old_email:
        to_them = or_(to_them, OutboxEmail.to_email == old_email)
    db.session.execute(
        update(OutboxEmail)
        .where(to_them, OutboxEmail.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.DISCARDED, last_error="Annulé : compte anonymisé.")
    )
