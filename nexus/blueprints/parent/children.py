"""The parent's children and their care: adding a child, a child's details, removing a child
without history, and the family's second parent (invitation, new link, withdrawal)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.blueprints.parent.common import bp
from nexus.extensions import limiter
from nexus.forms.parent import ChildEditForm, ChildForm, CoParentForm
from nexus.models.common import Grade
from nexus.services import ServiceError, co_parents, dashboards, family
from nexus.web import or_404


def _parent_key() -> str:
    return f"user:{current_user.id}"


@bp.route("/enfants", methods=["GET", "POST"])
@policy.access(policy.PARENT)
@limiter.limit("20/hour", methods=["POST"], key_func=_parent_key)  # each child may mean an e-mail
def children() -> Any:
    form = ChildForm()
    if request.method == "POST":
        if form.validate():
            try:
                student = family.add_child(
                    current_user,
                    form.first_name.data or "",
                    form.last_name.data or "",
                    Grade(form.grade.data),
                    form.school.data,
                    form.email.data,
                )
            except ServiceError as err:
                getattr(form, err.field or "email").errors = [err.message]
            else:
                sent = " Le lien d'activation lui a été envoyé." if form.email.data else ""
                flash(f"{student.user.first_name} est ajouté(e) à votre famille.{sent}", "success")
                return redirect(url_for("parent.children"), code=303)
        status = 422
    else:
        status = 200
    return _children_page(form=form, status=status)


def _children_page(
    form: ChildForm | None = None,
    co_form: CoParentForm | None = None,
    co_error: str | None = None,
    status: int = 200,
) -> Any:
    """The children page: a card per child, adding a child, the family's second parent."""
    return (
        render_template(
            "parent/children.html",
            cards=dashboards.children_summary(current_user),
            form=form or ChildForm(formdata=None),
            parents=co_parents.parents_of(current_user),
            co_form=co_form or CoParentForm(formdata=None),
            co_error=co_error,
        ),
        status,
    )


@bp.route("/enfants/<int:student_id>/modifier", methods=["GET", "POST"])
@policy.access(policy.PARENT)
def edit_child(student_id: int) -> Any:
    """Change a child's first name, last name and class."""
    student = or_404(family.child_of(current_user, student_id))
    current = {"first_name": student.user.first_name, "last_name": student.user.last_name}
    form = ChildEditForm(data={**current, "grade": student.grade.value})
    if request.method == "GET":
        return render_template("parent/child_edit.html", student=student, form=form, name=current)
    if not form.validate():
        return render_template("parent/child_edit.html", student=student, form=form, name=current), 422
    first_name = (form.first_name.data or "").strip()  # as stored: nothing read after the commit
    try:
        family.update_child(
            current_user, student_id, first_name, form.last_name.data or "", Grade(form.grade.data)
        )
    except LookupError:  # removed meanwhile
        abort(404)
    flash(f"Modifications enregistrées pour {first_name}.", "success")
    return redirect(url_for("parent.children", _anchor=f"enfant-{student_id}"), code=303)


def _already_removed(first_name: str) -> Any:
    flash(f"{first_name} a déjà été retiré(e) de votre famille.", "info")
    return redirect(url_for("parent.children"), code=303)


@bp.route("/enfants/<int:student_id>/retirer", methods=["GET", "POST"])
@policy.access(policy.PARENT)
def remove_child(student_id: int) -> Any:
    """The confirmation page (GET), then the removal (POST) of a child without history."""
    student = family.child_of(current_user, student_id)
    if student is None:  # a second click says so; someone else's child is not found
        removed = or_404(family.removed_child_name(current_user, student_id))
        return _already_removed(removed)
    first_name = student.user.first_name
    if request.method == "GET":
        history = family.child_history(student)
        return render_template("parent/child_remove.html", student=student, history=history)
    try:
        family.remove_child(current_user, student_id)
    except LookupError:  # another click removed the child while this one waited for the lock
        return _already_removed(first_name)
    except ServiceError as err:
        student = or_404(family.child_of(current_user, student_id))
        history = family.child_history(student)
        return render_template(
            "parent/child_remove.html", student=student, history=history, error=err.message
        ), 409
    flash(f"{first_name} a été retiré(e) de votre famille.", "success")
    return redirect(url_for("parent.children"), code=303)


@bp.post("/enfants/second-parent")
@policy.access(policy.PARENT)
@limiter.limit("10/hour", key_func=_parent_key)  # each invitation is an e-mail
def invite_co_parent() -> Any:
    """Invite the family's second parent; an address in use answers like any other."""
    co_form = CoParentForm()
    if not co_form.validate():
        return _children_page(co_form=co_form, status=422)
    address = (co_form.email.data or "").strip().lower()
    draft = family.ParentDraft(
        co_form.first_name.data or "", co_form.last_name.data or "", address, co_form.phone.data
    )
    try:
        co_parents.invite(current_user, draft)
    except ServiceError as err:
        return _children_page(co_form=co_form, co_error=err.message, status=409)
    flash(f"Invitation envoyée à {address}. Le lien est valable 72 heures.", "success")
    return redirect(url_for("parent.children", _anchor="second-parent"), code=303)


@bp.post("/enfants/second-parent/renvoyer")
@policy.access(policy.PARENT)
@limiter.limit("10/hour", key_func=_parent_key)
def resend_co_parent() -> Any:
    """A new activation link for the second parent who has not activated their account yet."""
    try:
        address = co_parents.resend_link(current_user)
    except ServiceError as err:
        return _children_page(co_error=err.message, status=409)
    flash(f"Nouveau lien envoyé à {address}. Il est valable 72 heures.", "success")
    return redirect(url_for("parent.children", _anchor="second-parent"), code=303)


@bp.route("/enfants/second-parent/annuler", methods=["GET", "POST"])
@policy.access(policy.PARENT)
def cancel_co_parent() -> Any:
    """The confirmation page (GET), then the withdrawal (POST) of a waiting invitation."""
    parents = co_parents.parents_of(current_user)
    second = parents.second if parents and parents.viewer_opened else None
    if second is None or second.active:  # nothing waits (a second click, an old tab)
        flash("Aucune invitation n'attend d'activation.", "info")
        return redirect(url_for("parent.children", _anchor="second-parent"), code=303)
    if request.method == "GET":
        return render_template("parent/co_parent_cancel.html", second=second)
    try:
        first_name = co_parents.cancel_invitation(current_user)
    except ServiceError as err:  # withdrawn by another click meanwhile
        flash(err.message, "info")
        return redirect(url_for("parent.children", _anchor="second-parent"), code=303)
    flash(f"L'invitation de {first_name} est annulée : son lien ne fonctionne plus.", "success")
    return redirect(url_for("parent.children", _anchor="second-parent"), code=303)
