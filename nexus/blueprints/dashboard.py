"""/dashboard and each role's home page; sidebar pages not built yet say "bientôt"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from nexus import policy
from nexus.extensions import limiter
from nexus.forms.family import ActivationForm
from nexus.services import ServiceError, dashboards, family, identity
from nexus.web import or_404

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("")
@policy.access(policy.SIGNED_IN)
def home() -> Any:
    return redirect(url_for(f"dashboard.{current_user.role.slug}"))


@bp.get("/admin")
@policy.access(policy.ADMIN)
def admin() -> Any:
    return render_template("dashboard/admin.html", data=dashboards.admin_summary())


@bp.get("/assistante")
@policy.access(policy.STAFF)
def assistante() -> Any:
    return render_template("dashboard/assistante.html", data=dashboards.staff_summary())


@bp.get("/coach")
@policy.access(policy.COACH)
def coach() -> Any:
    return render_template("dashboard/coach.html", data=dashboards.coach_summary(current_user))


def _parent_page(form: ActivationForm, **extra: Any) -> str:
    children = dashboards.children_summary(current_user)
    return render_template(
        "dashboard/parent.html",
        children=children,
        waiting=dashboards.waiting_for(current_user),
        next_step=dashboards.next_step(current_user, children),
        form=form,
        # The address each child's last link was given for, shown again in its field.
        addresses=identity.activation_addresses([card.student.user_id for card in children]),
        **extra,
    )


@bp.get("/parent")
@policy.access(policy.PARENT)
def parent() -> Any:
    return _parent_page(ActivationForm())


@bp.get("/eleve")
@policy.access(policy.ELEVE)
def eleve() -> Any:
    return render_template("dashboard/eleve.html", data=dashboards.student_summary(current_user))


def _signed_in_key() -> str:
    return f"user:{current_user.id}"


@bp.post("/parent/enfants/<int:student_id>/activation")
@policy.access(policy.PARENT)
@limiter.limit("20/hour", key_func=_signed_in_key)
def send_activation(student_id: int) -> Any:
    """The parent sends (or re-sends) the child's activation link."""
    student = or_404(family.child_of(current_user, student_id))
    form = ActivationForm()
    if form.validate():
        try:
            address = identity.send_activation(student, form.email.data, current_user)
        except ServiceError as err:
            if err.field:
                form.email.errors = [err.message]
            else:  # about the account, not the address typed: shown above the cards
                flash(err.message, "error")
        else:
            flash(
                f"Lien d'activation envoyé à {address}. Il est valable 72 heures.",
                "success",
            )
            return redirect(url_for("dashboard.parent"), code=303)
    return _parent_page(form, failed_id=student_id), 422
