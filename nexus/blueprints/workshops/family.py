"""A family's workshops: those open to the student's level as cards (a phone first), each with
its state and action: book a seat, join the waiting list or leave it, cancel a seat after reading
the terms. A student acts for themself; a parent for one child at a time (?eleve=, or the `eleve`
field of a form): another family's child is not found (404). Every action is a plain form POST
answered with a 303 back to the page it came from and a French flash (htmx boosts it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy, rows
from nexus.blueprints.sessions.common import student_in
from nexus.blueprints.workshops.common import bp, reason_problem, visible
from nexus.models.common import Role
from nexus.models.family import Student
from nexus.models.scheduling import SessionBooking
from nexus.models.workshops import Workshop
from nexus.services import ServiceError, credits, family, utcnow, workshops

ELEVE, PARENT = "/dashboard/eleve/ateliers", "/dashboard/parent/ateliers"


def _is_parent() -> bool:
    return current_user.role is Role.PARENT


def page_url(endpoint: str, student: Student, **values: Any) -> str:
    """A family page's URL: the parent's carries the child (?eleve=)."""
    prefix = "workshops.parent_" if _is_parent() else "workshops.eleve_"
    if _is_parent():
        values["eleve"] = student.id
    return url_for(prefix + endpoint, **values)


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"family_url": page_url}


# -- the list and a workshop's page --------------------------------------------------------------


def _index(student: Student) -> Any:
    now = utcnow()
    children = family.children(current_user) if _is_parent() else []
    return render_template(
        "workshops/family_index.html",
        student=student,
        children=children,
        cards=workshops.open_for(student, now=now),
        balance=credits.balance(student.id),
    )


@bp.get(ELEVE)
@policy.access(policy.ELEVE)
def eleve_index() -> Any:
    return _index(student_in(request.args))


@bp.get(PARENT)
@policy.access(policy.PARENT)
def parent_index() -> Any:
    """One child at a time: the one asked for (?eleve=), else the first."""
    if not request.args.get("eleve"):
        children = family.children(current_user)
        if not children:
            return render_template("workshops/family_index.html", student=None, children=[], cards=[])
        return _index(children[0])
    return _index(student_in(request.args))


def _detail(workshop_id: int, student: Student) -> Any:
    workshop = visible(workshop_id)
    return render_template(
        "workshops/family_detail.html",
        w=workshop,
        student=student,
        card=workshops.card_for(student, workshop),
        balance=credits.balance(student.id),
        now=utcnow(),
    )


@bp.get(f"{ELEVE}/<int:workshop_id>")
@policy.access(policy.ELEVE)
def eleve_detail(workshop_id: int) -> Any:
    return _detail(workshop_id, student_in(request.args))


@bp.get(f"{PARENT}/<int:workshop_id>")
@policy.access(policy.PARENT)
def parent_detail(workshop_id: int) -> Any:
    return _detail(workshop_id, student_in(request.args))


# -- actions -------------------------------------------------------------------------------------


def _act(workshop_id: int, action: Callable[[Student, Workshop], str]) -> Any:
    """Run one action for the student of the form; a flash says what happened, then back."""
    student = student_in(request.form)
    workshop = visible(workshop_id)
    try:
        flash(action(student, workshop), "success")
    except LookupError:
        abort(404)
    except ServiceError as err:
        flash(err.message, "error")
    return _back(student, workshop)


def _back(student: Student, workshop: Workshop) -> Any:
    if request.form.get("depuis") == "liste":
        return redirect(page_url("index", student) + f"#atelier-{workshop.id}", code=303)
    return redirect(page_url("detail", student, workshop_id=workshop.id), code=303)


def _book(student: Student, workshop: Workshop) -> str:
    booking = workshops.book_seat(current_user, student, workshop.id)
    cost = fr.credits(booking.credits_cost)
    when = fr.when(workshop.starts_at)
    return f"Place réservée pour {student.user.first_name} : {workshop.title}, {when} ({cost})."


def _join(student: Student, workshop: Workshop) -> str:
    workshops.join_waitlist(current_user, student, workshop.id)
    position = workshops.card_for(student, workshop).waiting_position
    rank = f" : n° {position}" if position else ""
    name = student.user.first_name
    return f"{name} est sur la liste d'attente{rank}. Une place libérée lui est attribuée automatiquement."


def _leave(student: Student, workshop: Workshop) -> str:
    workshops.leave_waitlist(current_user, student, workshop.id)
    return f"{student.user.first_name} a quitté la liste d'attente."


@bp.post(f"{ELEVE}/<int:workshop_id>/reserver")
@policy.access(policy.ELEVE)
def eleve_book(workshop_id: int) -> Any:
    return _act(workshop_id, _book)


@bp.post(f"{PARENT}/<int:workshop_id>/reserver")
@policy.access(policy.PARENT)
def parent_book(workshop_id: int) -> Any:
    return _act(workshop_id, _book)


@bp.post(f"{ELEVE}/<int:workshop_id>/attente")
@policy.access(policy.ELEVE)
def eleve_join(workshop_id: int) -> Any:
    return _act(workshop_id, _join)


@bp.post(f"{PARENT}/<int:workshop_id>/attente")
@policy.access(policy.PARENT)
def parent_join(workshop_id: int) -> Any:
    return _act(workshop_id, _join)


@bp.post(f"{ELEVE}/<int:workshop_id>/attente/quitter")
@policy.access(policy.ELEVE)
def eleve_leave(workshop_id: int) -> Any:
    return _leave_asked(workshop_id)


@bp.post(f"{PARENT}/<int:workshop_id>/attente/quitter")
@policy.access(policy.PARENT)
def parent_leave(workshop_id: int) -> Any:
    return _leave_asked(workshop_id)


def _leave_asked(workshop_id: int) -> Any:
    """The place in line is lost for good: asked first (hx-confirm, or this page without JavaScript)."""
    if rows.confirmed():
        return _act(workshop_id, _leave)
    student = student_in(request.form)
    workshop = visible(workshop_id)
    fields = {"depuis": request.form.get("depuis", "")}
    if current_user.is_parent:
        fields["eleve"] = str(student.id)
    return rows.confirm_page(
        f"Quitter la liste d'attente de l'atelier « {workshop.title} » ?",
        page_url("leave", student, workshop_id=workshop.id),
        button="Oui, quitter la liste",
        back=page_url("detail", student, workshop_id=workshop.id),
        facts={"Élève": student.user.full_name, "Atelier": workshop.title, "Le": fr.when(workshop.starts_at)},
        warning="Si vous revenez plus tard, ce sera en fin de liste.",
        fields=fields,
    )


# -- cancelling a seat: the terms first ------------------------------------------------------------


def _cancel(workshop_id: int) -> Any:
    values = request.form if request.method == "POST" else request.args
    student = student_in(values)
    workshop = visible(workshop_id)
    seat = workshops.card_for(student, workshop).booking
    if seat is None:
        flash(f"{student.user.first_name} n'a pas de place dans cet atelier.", "info")
        return redirect(page_url("detail", student, workshop_id=workshop.id), code=303)
    reason = request.form.get("reason", "")
    if request.method == "GET" or not rows.confirmed():
        return _terms_page(workshop, student, seat, reason)
    problem = reason_problem(reason)
    if problem:
        return _terms_page(workshop, student, seat, reason, problem, 422)
    try:
        done = workshops.cancel_seat(current_user, seat.id, reason or None)
    except LookupError:
        abort(404)
    except ServiceError as err:
        if err.field in ("reason", "motif"):
            return _terms_page(workshop, student, seat, reason, err.message, 422)
        flash(err.message, "error")
        return redirect(page_url("detail", student, workshop_id=workshop.id), code=303)
    given = (
        fr.plural(done.refunded, "crédit rendu", "crédits rendus") if done.refunded else "crédits non rendus"
    )
    flash(f"Place annulée ({given}).", "success")
    return redirect(page_url("index", student), code=303)


def _terms_page(
    workshop: Workshop,
    student: Student,
    seat: SessionBooking,
    reason: str,
    reason_error: str | None = None,
    status: int = 200,
) -> Any:
    terms = workshops.seat_terms(seat, current_user, utcnow())
    page = render_template(
        "workshops/cancel.html",
        w=workshop,
        student=student,
        seat=seat,
        terms=terms,
        reason=reason,
        reason_error=reason_error,
    )
    return page, status


@bp.route(f"{ELEVE}/<int:workshop_id>/annuler", methods=["GET", "POST"])
@policy.access(policy.ELEVE)
def eleve_cancel(workshop_id: int) -> Any:
    return _cancel(workshop_id)


@bp.route(f"{PARENT}/<int:workshop_id>/annuler", methods=["GET", "POST"])
@policy.access(policy.PARENT)
def parent_cancel(workshop_id: int) -> Any:
    return _cancel(workshop_id)
