"""Trajectories: an objective agreed with the family within 3, 6 or 12 months, and its milestones.

A trajectory is proposed from the priorities of the student's latest completed positioning test,
then created and edited by a coach of the student (a session held or to come) or by staff, and
read by the student and their parents. A student has at most one live trajectory (active or
paused: a partial unique index). Milestones are ticked by the coach, or by a completed test whose
domain mastery reaches their target (`tick_from_test`, run by the test's job).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from nexus import fr, links, policy
from nexus.extensions import db
from nexus.models.assessments import Assessment
from nexus.models.common import Grade
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.progress import LIVE_TRAJECTORY, Milestone, Trajectory, TrajectoryStatus
from nexus.services import (
    ServiceError,
    audit,
    claim,
    command,
    family,
    locked,
    notifications,
    scheduling,
    utcnow,
)
from nexus.services.progress.trajectory_plan import (
    HORIZONS,
    MAX_MILESTONES,
    Draft,
    MilestoneDraft,
    Proposal,
    check,
    domain_choices,
    domain_label,
    ends_on,
    latest_test,
    proposal,
)

__all__ = [
    "HORIZONS",
    "MAX_MILESTONES",
    "Draft",
    "MilestoneDraft",
    "Proposal",
    "can_edit",
    "create",
    "domain_choices",
    "domain_label",
    "editable",
    "editable_milestone",
    "editable_student",
    "ends_on",
    "latest_test",
    "live_of",
    "of_student",
    "progress",
    "proposal",
    "set_status",
    "tick",
    "tick_from_test",
    "untick",
    "update",
]

LIVE_EXISTS = (
    "Cet élève a déjà une trajectoire en cours ou en pause : terminez-la ou abandonnez-la "
    "avant d'en créer une nouvelle."
)
# Who may move a trajectory from one state to another.
TRANSITIONS: dict[TrajectoryStatus, tuple[TrajectoryStatus, ...]] = {
    TrajectoryStatus.ACTIVE: (
        TrajectoryStatus.PAUSED,
        TrajectoryStatus.COMPLETED,
        TrajectoryStatus.ABANDONED,
    ),
    TrajectoryStatus.PAUSED: (
        TrajectoryStatus.ACTIVE,
        TrajectoryStatus.COMPLETED,
        TrajectoryStatus.ABANDONED,
    ),
}


@dataclass(frozen=True)
class Progress:
    """Milestones done out of all, and the next one to reach."""

    done: int
    total: int
    next: Milestone | None

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress(trajectory: Trajectory) -> Progress:
    done = [m for m in trajectory.milestones if m.is_done]
    upcoming = [m for m in trajectory.milestones if not m.is_done]
    return Progress(len(done), len(trajectory.milestones), upcoming[0] if upcoming else None)


# ---- reading ----


def _with_milestones(stmt: Any) -> Any:
    return stmt.options(selectinload(Trajectory.milestones))


def live_of(student_id: int) -> Trajectory | None:
    """The student's active or paused trajectory, if any."""
    stmt = select(Trajectory).where(
        Trajectory.student_id == student_id, Trajectory.status.in_(LIVE_TRAJECTORY)
    )
    return db.session.scalar(_with_milestones(stmt))


def of_student(student_id: int) -> list[Trajectory]:
    """Every trajectory of the student, the newest first."""
    stmt = select(Trajectory).where(Trajectory.student_id == student_id)
    stmt = stmt.order_by(Trajectory.created_at.desc(), Trajectory.id.desc())
    return list(db.session.scalars(_with_milestones(stmt)))


def can_edit(user: User, student: Student) -> bool:
    """Staff, or a coach with a session held or to come with the student."""
    if policy.is_staff(user):
        return True
    if not user.is_coach:
        return False
    profile = scheduling.coach_profile_of(user)
    return profile is not None and scheduling.coach_student(profile.id, student.id) is not None


def editable_student(user: User, student_id: int | None) -> Student | None:
    """The student if this user may set their trajectory, else None (answer 404)."""
    student = db.session.get(Student, student_id) if student_id else None
    return student if student is not None and can_edit(user, student) else None


def editable(user: User, trajectory_id: int) -> Trajectory | None:
    trajectory = db.session.get(Trajectory, trajectory_id)
    if trajectory is None or editable_student(user, trajectory.student_id) is None:
        return None
    return trajectory


def editable_milestone(user: User, milestone_id: int) -> Milestone | None:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or editable(user, milestone.trajectory_id) is None:
        return None
    return milestone


def _snapshot(t: Trajectory) -> dict[str, Any]:
    return {
        "title": t.title,
        "subject": t.subject.value if t.subject else None,
        "target_level": t.target_level,
        "target_ssn": t.target_ssn,
        "horizon_months": t.horizon_months,
        "starts_on": t.starts_on.isoformat(),
        "ends_on": t.ends_on.isoformat(),
        "agreed": t.agreed_at is not None,
        "milestones": [m.title for m in t.milestones],
    }


def _apply(t: Trajectory, draft: Draft, actor: User) -> None:
    t.title = draft.title.strip()
    t.subject = draft.subject
    t.target_level = (draft.target_level or "").strip() or None
    t.target_ssn = draft.target_ssn
    t.horizon_months = draft.horizon_months
    t.starts_on = draft.starts_on
    t.ends_on = ends_on(draft.starts_on, draft.horizon_months)
    if draft.agreed and t.agreed_at is None:
        t.agreed_by_id, t.agreed_at = actor.id, utcnow()
    elif not draft.agreed:
        t.agreed_by_id, t.agreed_at = None, None


def _set_milestones(t: Trajectory, drafts: list[MilestoneDraft]) -> None:
    """Replace the milestones by the drafts, in order; one kept by id keeps its tick. Positions
    are unique, so the kept ones step aside (negative) before taking their new place."""
    existing = {m.id: m for m in t.milestones}
    kept_ids = {d.id for d in drafts if d.id in existing}
    for m in list(t.milestones):
        if m.id not in kept_ids:
            t.milestones.remove(m)
    for n, m in enumerate(t.milestones, start=1):
        m.position = -n
    db.session.flush()
    ordered = []
    for position, d in enumerate(drafts, start=1):
        m = existing[d.id] if d.id in kept_ids else Milestone(position=position)
        m.position, m.title, m.due_on = position, d.title.strip(), d.due_on
        m.subject, m.domain, m.target_mastery = d.subject, d.domain, d.target_mastery
        ordered.append(m)
    t.milestones[:] = ordered


def _flush_live() -> None:
    """Flush in a savepoint; a second live trajectory (two coaches at once) gets the French answer."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as err:
        if getattr(getattr(err.orig, "diag", None), "constraint_name", None) == "uq_trajectories_one_live":
            raise ServiceError(LIVE_EXISTS) from err
        raise


def _family_ids(student: Student) -> list[int]:
    """The student's account and every parent of the family."""
    parents = db.session.scalars(family.guardian_ids(student.parent.user_id))
    return [student.user_id, *parents]


def _tell_family(student: Student, kind: str, title: str, body: str) -> None:
    for user_id in _family_ids(student):
        if user_id == student.user_id:
            link = links.internal("trajectories.mine")
        else:
            link = links.internal("trajectories.child", student_id=student.id)
        notifications.notify(user_id, kind, title, body, link)


# ---- commands ----


@command
def create(actor: User, student_id: int, draft: Draft) -> Trajectory:
    student = db.session.get(Student, student_id)
    if student is None:
        raise ServiceError("Élève introuvable.")
    check(draft, student.grade)
    if live_of(student_id) is not None:
        raise ServiceError(LIVE_EXISTS)
    test = db.session.get(Assessment, draft.assessment_id) if draft.assessment_id else None
    trajectory = Trajectory(
        student_id=student_id,
        status=TrajectoryStatus.ACTIVE,
        created_by_id=actor.id,
        assessment_id=test.id if test is not None and test.student_id == student_id else None,
    )
    _apply(trajectory, draft, actor)
    trajectory.milestones = [
        Milestone(
            position=n,
            title=d.title.strip(),
            due_on=d.due_on,
            subject=d.subject,
            domain=d.domain,
            target_mastery=d.target_mastery,
        )
        for n, d in enumerate(draft.milestones, start=1)
    ]
    db.session.add(trajectory)
    _flush_live()
    audit.record("trajectory.created", actor.id, trajectory, after=_snapshot(trajectory))
    _tell_family(
        student,
        "TRAJECTORY",
        f"Nouvelle trajectoire pour {student.user.first_name} : {trajectory.title}",
        f"Objectif à atteindre d'ici le {fr.short_date(trajectory.ends_on)}.",
    )
    return trajectory


@command
def update(actor: User, trajectory_id: int, draft: Draft) -> Trajectory:
    trajectory = locked(Trajectory, trajectory_id)
    if trajectory is None:
        raise ServiceError("Trajectoire introuvable.")
    if not trajectory.is_live:
        raise ServiceError("Cette trajectoire est close : elle ne se modifie plus.")
    check(draft, _grade(trajectory))
    before = _snapshot(trajectory)
    _apply(trajectory, draft, actor)
    _set_milestones(trajectory, draft.milestones)
    db.session.flush()
    audit.record_changes("trajectory.updated", actor.id, trajectory, before, _snapshot(trajectory))
    return trajectory


def _grade(trajectory: Trajectory) -> Grade:
    student = db.session.get(Student, trajectory.student_id)
    return student.grade if student else Grade.TERMINALE


@command
def set_status(actor: User, trajectory_id: int, target: TrajectoryStatus) -> tuple[Trajectory | None, bool]:
    """Move to `target` from a state that allows it; (the trajectory, whether this call moved it)."""
    sources = [s for s, targets in TRANSITIONS.items() if target in targets]
    before = db.session.get(Trajectory, trajectory_id)
    was = before.status if before is not None else None
    trajectory, changed = claim(Trajectory, trajectory_id, Trajectory.status.in_(sources), status=target)
    if trajectory is not None and changed:
        audit.record(
            "trajectory.status",
            actor.id,
            trajectory,
            before={"status": was.value if was else None},
            after={"status": target.value},
        )
    return trajectory, changed


@command
def tick(actor: User, milestone_id: int) -> tuple[Milestone | None, bool]:
    """Mark a milestone reached (a second click changes nothing)."""
    milestone, changed = claim(
        Milestone, milestone_id, Milestone.done_at.is_(None), done_at=utcnow(), done_by_id=actor.id
    )
    if milestone is not None and not milestone.trajectory.is_live:
        raise ServiceError("Cette trajectoire est close : ses étapes ne changent plus.")
    if milestone is not None and changed:
        audit.record("trajectory.milestone_ticked", actor.id, milestone, after={"title": milestone.title})
    return milestone, changed


@command
def untick(actor: User, milestone_id: int) -> tuple[Milestone | None, bool]:
    """Mark a milestone not reached yet."""
    milestone, changed = claim(
        Milestone,
        milestone_id,
        Milestone.done_at.is_not(None),
        done_at=None,
        done_by_id=None,
        done_by_assessment_id=None,
    )
    if milestone is not None and not milestone.trajectory.is_live:
        raise ServiceError("Cette trajectoire est close : ses étapes ne changent plus.")
    if milestone is not None and changed:
        audit.record("trajectory.milestone_unticked", actor.id, milestone, before={"title": milestone.title})
    return milestone, changed


def _masteries(test: Assessment) -> dict[tuple[str, str], Decimal]:
    """(subject, domain) → mastery on 0–1, for the domains the test measured."""
    found = {}
    for part in (test.results or {}).get("subjects") or []:
        for domain in part.get("domains") or []:
            if domain.get("mastery") is not None:
                found[(part["subject"], domain["key"])] = Decimal(domain["mastery"]) / 100
    return found


@command
def tick_from_test(assessment_id: int) -> list[int]:
    """Tick the live trajectory's milestones whose domain this completed test shows at their
    target mastery or above; tell the student and parents. The ids ticked (none on a rerun)."""
    test = db.session.get(Assessment, assessment_id)
    if test is None or not test.is_completed or test.student_id is None:
        return []
    trajectory = live_of(test.student_id)
    if trajectory is None:
        return []
    reached = _masteries(test)
    ticked = []
    for m in trajectory.milestones:
        if m.is_done or m.domain is None or m.subject is None or m.target_mastery is None:
            continue
        mastery = reached.get((m.subject.value, m.domain))
        if mastery is None or mastery < m.target_mastery:
            continue
        row, changed = claim(
            Milestone, m.id, Milestone.done_at.is_(None), done_at=utcnow(), done_by_assessment_id=test.id
        )
        if row is not None and changed:
            ticked.append(row.id)
            _tell_family(
                test.student,
                "MILESTONE",
                f"Étape atteinte : {row.title}",
                f"Le test « {test.title} » montre une maîtrise de {fr.percent(float(mastery) * 100)}.",
            )
    return ticked
