"""Trajectories: the student and their parents read them; the student's coach and staff set them.

The coach's page lists the live trajectory with its milestones (tick and untick in place with
htmx, a plain POST and a 303 without), the states it may move to (abandoning asks first, with a
confirmation page when there is no JavaScript) and the past ones. Someone else's student, or a
trajectory of one, is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy, rows
from nexus.forms.trajectory import TrajectoryForm
from nexus.models.common import Role
from nexus.models.family import Student
from nexus.models.progress import Milestone, Trajectory, TrajectoryStatus
from nexus.services import ServiceError, family
from nexus.services.progress import trajectory as service
from nexus.web import is_fragment_request, or_404

bp = Blueprint("trajectories", __name__)

# Who sets a student's trajectory: their coach (the loader answers 404 to another one) and staff.
EDITORS = policy.roles(Role.COACH, Role.ADMIN, Role.ASSISTANTE)
STATUS_BUTTONS = {
    TrajectoryStatus.PAUSED: "Mettre en pause",
    TrajectoryStatus.ACTIVE: "Reprendre",
    TrajectoryStatus.COMPLETED: "Objectif atteint",
    TrajectoryStatus.ABANDONED: "Abandonner",
}


@bp.context_processor
def _nav_current() -> dict[str, Any]:
    """The sidebar entry these pages belong to."""
    if not current_user.is_authenticated:
        return {}
    if current_user.is_coach:
        return {"nav_current": "coach.students"}
    if policy.is_staff(current_user):
        return {"nav_current": "staff.students"}
    if current_user.is_parent:
        return {"nav_current": "trajectories.children"}
    return {}


def _read_page(student: Student, back: str | None = None) -> Any:
    return render_template(
        "trajectories/read.html",
        student=student,
        trajectories=service.of_student(student.id),
        progress=service.progress,
        domain_label=service.domain_label,
        back=back,
    )


# ---- the family reads ----


@bp.get("/dashboard/eleve/trajectoire")
@policy.access(policy.ELEVE)
def mine() -> Any:
    return _read_page(or_404(family.student_of(current_user)))


@bp.get("/dashboard/parent/trajectoires")
@policy.access(policy.PARENT)
def children() -> Any:
    kids = family.children(current_user)
    return render_template(
        "trajectories/children.html",
        children=[(kid, service.live_of(kid.id)) for kid in kids],
        progress=service.progress,
    )


@bp.get("/dashboard/parent/enfants/<int:student_id>/trajectoire")
@policy.access(policy.PARENT)
def child(student_id: int) -> Any:
    student = or_404(family.child_of(current_user, student_id))
    return _read_page(student, back=url_for("trajectories.children"))


# ---- the coach and staff set ----


def _student(student_id: int) -> Student:
    return or_404(service.editable_student(current_user, student_id))


def _trajectory(trajectory_id: int) -> Trajectory:
    return or_404(service.editable(current_user, trajectory_id))


def _milestone(milestone_id: int) -> Milestone:
    return or_404(service.editable_milestone(current_user, milestone_id))


@bp.get("/dashboard/eleves/<int:student_id>/trajectoire")
@policy.access(EDITORS)
def manage(student_id: int) -> Any:
    student = _student(student_id)
    trajectories = service.of_student(student.id)
    live = next((t for t in trajectories if t.is_live), None)
    return render_template(
        "trajectories/manage.html",
        student=student,
        live=live,
        past=[t for t in trajectories if not t.is_live],
        progress=service.progress,
        domain_label=service.domain_label,
        moves=_moves(live),
        proposal=None if live else service.proposal(student.id),
    )


def _moves(live: Trajectory | None) -> list[tuple[TrajectoryStatus, str, bool]]:
    """(state, button, asks first?) for each state the live trajectory may move to."""
    if live is None:
        return []
    targets = service.TRANSITIONS.get(live.status, ())
    return [(s, STATUS_BUTTONS[s], s is TrajectoryStatus.ABANDONED) for s in targets]


def _form_page(student: Student, form: TrajectoryForm, **context: Any) -> str:
    form.setup(student.grade)
    return render_template("trajectories/form.html", student=student, form=form, **context)


@bp.route("/dashboard/eleves/<int:student_id>/trajectoire/nouvelle", methods=["GET", "POST"])
@policy.access(EDITORS)
def new(student_id: int) -> Any:
    student = _student(student_id)
    if request.method == "GET" and service.live_of(student.id) is not None:
        flash(service.LIVE_EXISTS, "info")
        return redirect(url_for("trajectories.manage", student_id=student.id), code=303)
    proposal = service.proposal(student.id)
    if request.method == "GET":
        form = TrajectoryForm(formdata=None)
        form.fill(proposal.draft)
        return _form_page(student, form, proposal=proposal)
    form = TrajectoryForm()
    form.setup(student.grade)
    error = None
    if form.check():
        try:
            service.create(current_user, student.id, form.draft(proposal.draft.assessment_id))
        except ServiceError as err:
            error = err.message
        else:
            flash("Trajectoire enregistrée. L'élève et ses parents la voient dans leur espace.", "success")
            return redirect(url_for("trajectories.manage", student_id=student.id), code=303)
    return _form_page(student, form, proposal=proposal, error=error or _FORM_ERROR), 422


_FORM_ERROR = "Le formulaire contient des erreurs : corrigez les champs signalés."


@bp.route("/dashboard/trajectoires/<int:trajectory_id>/modifier", methods=["GET", "POST"])
@policy.access(EDITORS)
def edit(trajectory_id: int) -> Any:
    trajectory = _trajectory(trajectory_id)
    student = _student(trajectory.student_id)
    if not trajectory.is_live:
        abort(404)
    if request.method == "GET":
        form = TrajectoryForm(formdata=None)
        form.fill(_as_draft(trajectory))
        return _form_page(student, form, trajectory=trajectory)
    form = TrajectoryForm()
    form.setup(student.grade)
    error = None
    if form.check():
        try:
            service.update(current_user, trajectory.id, form.draft())
        except ServiceError as err:
            error = err.message
        else:
            flash("Trajectoire modifiée.", "success")
            return redirect(url_for("trajectories.manage", student_id=student.id), code=303)
    return _form_page(student, form, trajectory=trajectory, error=error or _FORM_ERROR), 422


def _as_draft(t: Trajectory) -> service.Draft:
    return service.Draft(
        title=t.title,
        horizon_months=t.horizon_months,
        starts_on=t.starts_on,
        subject=t.subject,
        target_level=t.target_level,
        target_ssn=t.target_ssn,
        agreed=t.agreed_at is not None,
        milestones=[
            service.MilestoneDraft(m.title, m.due_on, m.subject, m.domain, m.target_mastery, m.id)
            for m in t.milestones
        ],
    )


@bp.post("/dashboard/trajectoires/<int:trajectory_id>/statut")
@policy.access(EDITORS)
def status(trajectory_id: int) -> Any:
    trajectory = _trajectory(trajectory_id)
    back = url_for("trajectories.manage", student_id=trajectory.student_id)
    target = TrajectoryStatus.__members__.get(request.form.get("status", ""))
    if target is None:
        flash("Choisissez un état proposé.", "error")
        return _manage_again(trajectory.student_id, 422)
    if target is TrajectoryStatus.ABANDONED and trajectory.is_live and not rows.confirmed():
        return rows.confirm_page(
            "Abandonner la trajectoire",
            url_for("trajectories.status", trajectory_id=trajectory.id),
            button="Abandonner la trajectoire",
            back=back,
            facts={"Objectif": trajectory.title, "État": trajectory.status.label},
            fields={"status": target.value},
            warning="Elle restera dans l'historique, et vous pourrez ensuite en proposer une nouvelle.",
            danger=True,
        )
    try:
        moved, changed = service.set_status(current_user, trajectory.id, target)
    except ServiceError as err:
        flash(err.message, "error")
        return redirect(back, code=303)
    notice, code = rows.status_notice(changed, moved.status if moved else target, target, "cette trajectoire")
    flash(notice, "success" if code == rows.DONE else "info")
    return redirect(back, code=303)


def _manage_again(student_id: int, code: int) -> Any:
    """The coach's page again, its flash message saying why (a refusal)."""
    response = manage(student_id)
    return response, code


def _milestone_answer(milestone: Milestone, notice: str, code: int) -> Any:
    """The milestone's row again with what happened, for htmx."""
    student = _student(milestone.trajectory.student_id)
    row = render_template(
        "trajectories/_milestone_row.html",
        m=milestone,
        t=milestone.trajectory,
        grade=student.grade,
        domain_label=service.domain_label,
        notice=notice,
        notice_ok=code == rows.DONE,
    )
    summary = render_template(
        "trajectories/_summary.html", trajectory=milestone.trajectory, summary_untitled=True, summary_oob=True
    )
    return row + summary, code


@bp.post("/dashboard/trajectoires/etapes/<int:milestone_id>/cocher")
@policy.access(EDITORS)
def tick(milestone_id: int) -> Any:
    return _tick(_milestone(milestone_id), done=True)


@bp.post("/dashboard/trajectoires/etapes/<int:milestone_id>/decocher")
@policy.access(EDITORS)
def untick(milestone_id: int) -> Any:
    return _tick(_milestone(milestone_id), done=False)


def _tick(milestone: Milestone, *, done: bool) -> Any:
    student_id = milestone.trajectory.student_id
    back = url_for("trajectories.manage", student_id=student_id)
    try:
        row, changed = (service.tick if done else service.untick)(current_user, milestone.id)
    except ServiceError as err:
        if is_fragment_request():
            return _milestone_answer(milestone, err.message, rows.REFUSED)
        flash(err.message, "error")
        return redirect(back, code=303)
    row = or_404(row)
    if changed:
        notice = "Étape cochée : atteinte." if done else "Étape décochée."
    else:
        notice = f"{rows.ALREADY_DONE} : cette étape est déjà {'cochée' if done else 'décochée'}."
    if not is_fragment_request():
        flash(notice, "success")
        return redirect(back, code=303)
    return _milestone_answer(row, notice, rows.DONE)
