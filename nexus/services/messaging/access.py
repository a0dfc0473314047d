"""Who may write to whom, and who may read a thread.

Writing: a parent writes to the staff or to a coach of their child (a session held or to come);
a student to their coaches or the staff; a coach to the families of their students; staff to
anyone. The "Nouveau message" select is built from these rules (`recipients_for`) and a posted
choice is only accepted if it is one of them (`resolve`): a forged value is refused.

Reading: a thread's participants; staff also read any thread about a student or addressed to the
centre (safeguarding). Anyone else gets None, which the views answer with 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import joinedload

from nexus import policy
from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.family import CoParent, ParentProfile, Student
from nexus.models.identity import CoachProfile, User
from nexus.models.messaging import MessageThread, ThreadParticipant
from nexus.models.scheduling import SessionBooking
from nexus.services import ServiceError, family, utcnow

CENTRE = "L'équipe Nexus Réussite"
UNKNOWN_RECIPIENT = "Choisissez un destinataire dans la liste."


@dataclass(frozen=True)
class Recipient:
    """One choice of the "À" select: who the new thread is with and what it is about."""

    key: str
    label: str
    user_ids: tuple[int, ...] = field(default=())
    student_id: int | None = None
    with_staff: bool = False


def display_name(user: User | None) -> str:
    """How a person is shown in a thread: a coach by their pseudonym, staff as the centre."""
    if user is None:
        return "Compte supprimé"
    if user.is_coach and user.coach_profile is not None:
        return user.coach_profile.pseudonym
    if policy.is_staff(user):
        return f"{user.first_name} ({CENTRE})"
    return user.full_name


# -- who may write to whom ---------------------------------------------------------------------


def _coach_pairs(student_ids: list[int]) -> list[tuple[CoachProfile, Student]]:
    """(coach, student) for every coach who has a session held or to come with these students."""
    if not student_ids:
        return []
    stmt = (
        select(CoachProfile, Student)
        .join(SessionBooking, SessionBooking.coach_id == CoachProfile.id)
        .join(Student, Student.id == SessionBooking.student_id)
        .join(User, User.id == CoachProfile.user_id)
        .where(
            Student.id.in_(student_ids),
            User.is_active,
            SessionBooking.opens_student_to_coach(utcnow()),
        )
        .distinct()
        .order_by(CoachProfile.pseudonym, Student.id)
    )
    return [(coach, student) for coach, student in db.session.execute(stmt)]


def _guardians(profile_ids: set[int]) -> dict[int, tuple[int, ...]]:
    """The active parents (opener, then co-parents) of each family, in one query."""
    if not profile_ids:
        return {}
    openers = (
        select(ParentProfile.id, ParentProfile.user_id)
        .join(User, User.id == ParentProfile.user_id)
        .where(ParentProfile.id.in_(profile_ids), User.is_active)
    )
    co_parents = (
        select(CoParent.profile_id, CoParent.user_id)
        .join(User, User.id == CoParent.user_id)
        .where(CoParent.profile_id.in_(profile_ids), User.is_active)
    )
    found: dict[int, list[int]] = {}
    for profile_id, user_id in db.session.execute(openers.union_all(co_parents)):
        found.setdefault(profile_id, []).append(user_id)
    return {profile_id: tuple(ids) for profile_id, ids in found.items()}


def _family_choices(students: list[Student]) -> list[Recipient]:
    """Writing to each student's family: parents and student, the parents, or the student."""
    guardians = _guardians({s.parent_id for s in students})
    choices = []
    for student in students:
        parents = guardians.get(student.parent_id, ())
        reachable = student.user.is_active and student.user.activated_at is not None
        name = student.full_name
        if parents and reachable:
            family_ids = (*parents, student.user_id)
            choices.append(
                Recipient(
                    f"famille:{student.id}", f"Famille de {name} (parents et élève)", family_ids, student.id
                )
            )
        if parents:
            choices.append(Recipient(f"parents:{student.id}", f"Parents de {name}", parents, student.id))
        if reachable:
            choices.append(
                Recipient(f"eleve:{student.id}", f"{name} (élève)", (student.user_id,), student.id)
            )
    return choices


def _students(stmt_filter: object | None = None) -> list[Student]:
    stmt = select(Student).join(User, User.id == Student.user_id).options(joinedload(Student.user))
    if stmt_filter is not None:
        stmt = stmt.where(stmt_filter)  # type: ignore[arg-type]
    return list(
        db.session.scalars(stmt.where(User.anonymised_at.is_(None)).order_by(User.last_name, User.first_name))
    )


def recipients_for(user: User) -> list[Recipient]:
    """The choices of the "À" select for this user, from the rules above."""
    if user.role is Role.PARENT:
        children = family.children(user)
        choices = [Recipient("centre", f"{CENTRE} (question générale)", with_staff=True)]
        choices += [
            Recipient(
                f"centre:{c.id}",
                f"{CENTRE} — au sujet de {c.user.first_name}",
                student_id=c.id,
                with_staff=True,
            )
            for c in children
        ]
        choices += [
            Recipient(
                f"coach:{coach.user_id}:{student.id}",
                f"{coach.pseudonym}, coach de {student.user.first_name}",
                (coach.user_id,),
                student.id,
            )
            for coach, student in _coach_pairs([c.id for c in children])
        ]
        return choices
    if user.role is Role.ELEVE:
        me = family.student_of(user)
        if me is None:
            return []
        choices = [Recipient("centre", CENTRE, student_id=me.id, with_staff=True)]
        seen: set[int] = set()
        for coach, _student in _coach_pairs([me.id]):
            if coach.user_id not in seen:
                seen.add(coach.user_id)
                choices.append(
                    Recipient(f"coach:{coach.user_id}", f"{coach.pseudonym} (coach)", (coach.user_id,), me.id)
                )
        return choices
    if user.role is Role.COACH:
        profile = db.session.scalar(select(CoachProfile).where(CoachProfile.user_id == user.id))
        if profile is None:
            return []
        mine = select(SessionBooking.student_id).where(
            SessionBooking.coach_id == profile.id, SessionBooking.opens_student_to_coach(utcnow())
        )
        return _family_choices(_students(Student.id.in_(mine)))
    if policy.is_staff(user):
        choices = _family_choices(_students())
        coaches = db.session.scalars(
            select(CoachProfile)
            .join(User, User.id == CoachProfile.user_id)
            .where(User.is_active)
            .order_by(CoachProfile.pseudonym)
        )
        choices += [
            Recipient(f"coach:{c.user_id}", f"{c.pseudonym} (coach)", (c.user_id,), with_staff=True)
            for c in coaches
        ]
        return [Recipient(c.key, c.label, c.user_ids, c.student_id, True) for c in choices]
    return []


def resolve(user: User, key: str | None) -> Recipient:
    """The choice posted, if the rules let this user write to it; else a French refusal."""
    key = (key or "").strip()
    for choice in recipients_for(user) if key else []:
        if choice.key == key:
            return choice
    raise ServiceError(UNKNOWN_RECIPIENT, field="to")


# -- who may read a thread -----------------------------------------------------------------------


def participant(user_id: int, thread_id: int) -> ThreadParticipant | None:
    return db.session.get(ThreadParticipant, (thread_id, user_id))


def staff_may_read(thread: MessageThread) -> bool:
    """Safeguarding: staff read every thread about a student or addressed to the centre."""
    return thread.with_staff or thread.student_id is not None


def visible_thread(user: User, thread_id: int | None) -> MessageThread | None:
    """The thread if this user may read it, else None (answer 404). One query for a participant."""
    if not thread_id:
        return None
    is_party = exists().where(
        ThreadParticipant.thread_id == MessageThread.id, ThreadParticipant.user_id == user.id
    )
    condition = is_party
    if policy.is_staff(user):
        condition = or_(is_party, MessageThread.with_staff, MessageThread.student_id.is_not(None))
    return db.session.scalar(select(MessageThread).where(MessageThread.id == thread_id, condition))


def can_reply(user: User, thread: MessageThread, me: ThreadParticipant | None) -> bool:
    """A party to the thread writes in it; staff also answer a thread addressed to the centre
    (they join it). Staff who only read a coach's thread with a family do not write in it."""
    if me is not None and not me.observer:
        return True
    return policy.is_staff(user) and thread.with_staff


def readable_by(user: User) -> object:
    """The condition on MessageThread for the threads a user is a party to (not an observer)."""
    return MessageThread.id.in_(
        select(ThreadParticipant.thread_id).where(
            and_(ThreadParticipant.user_id == user.id, ThreadParticipant.observer.is_(False))
        )
    )
