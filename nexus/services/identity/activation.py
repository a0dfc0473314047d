"""Activation: the e-mailed link with which a student, a parent, a staff member or a coach
chooses their first password, its limits, its renewal, and using it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError

from nexus import links
from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.family import Student
from nexus.models.identity import TokenPurpose, User, UserToken
from nexus.services import ServiceError, audit, command, notifications, utcnow
from nexus.services.identity.access import lock_user
from nexus.services.identity.passwords import choose_password, normalize_email
from nexus.services.identity.tokens import consume_token, issue_token

ACTIVATION_TTL = timedelta(hours=72)

# A parent may send a child's link this often (each e-mail goes to an address they typed).
LINKS_PER_CHILD, LINKS_PER_PARENT, LINKS_WINDOW = 3, 10, timedelta(hours=24)


@command
def send_activation(student: Student, email: str | None, actor: User) -> str:
    """Give the student an address (if new) and e-mail a 72-hour activation link; the address used.

    For a parent, an address that already has an account gets the same answer as any other (no
    probing which addresses have accounts): its owner is told instead, and no usable link exists.
    """
    if actor.role is Role.PARENT:
        lock_user(actor.id)  # one parent's sends are counted one at a time
    user = lock_user(student.user_id)
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


@command
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
            "url": links.external("auth.activate", token=raw),
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
        {"first_name": owner.first_name, "forgot_url": links.external("auth.forgot")},
        user_id=owner.id,
        dedupe_key=f"address-in-use:{owner.id}:{utcnow().date().isoformat()}",  # one a day at most
    )


@command
def activate(raw: str, password: str) -> User:
    user = consume_token(raw, TokenPurpose.ACTIVATION)
    choose_password(user, password)
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
                links.internal("dashboard.parent"),
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
            "url": links.external("auth.activate", token=raw),
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
            "url": links.external("auth.activate", token=raw),
            "hours": 72,
        },
        user_id=user.id,
    )
    audit.record("account.activation_sent", actor.id if actor else None, user, after={"email": user.email})


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

