"""/dashboard and each role's home page; sidebar pages not built yet say "bientôt"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from nexus import policy
from nexus.charts import progress as progress_chart
from nexus.extensions import limiter
from nexus.forms.family import ActivationForm
from nexus.models.family import Student
from nexus.services import ServiceError, dashboards, family, identity
from nexus.services.dashboards import progress
from nexus.web import is_fragment_request, or_404

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
    homes = dashboards.parent_home(current_user)
    cards = [home.card for home in homes]
    return render_template(
        "dashboard/parent.html",
        children=homes,
        waiting=dashboards.waiting_for(current_user),
        next_step=dashboards.next_step(current_user, cards),
        form=form,
        # The address each child's last link was given for, shown again in its field.
        addresses=identity.activation_addresses([card.student.user_id for card in cards]),
        **extra,
    )


@bp.get("/parent")
@policy.access(policy.PARENT)
def parent() -> Any:
    return _parent_page(ActivationForm())


@bp.get("/eleve")
@policy.access(policy.ELEVE)
def eleve() -> Any:
    data = dashboards.student_summary(current_user)
    conversations = dashboards.recent_conversations(data.card.student.id) if data else []
    return render_template("dashboard/eleve.html", data=data, conversations=conversations)


def _progress_panel(student: Student, audience: str) -> Any:
    """The lazy progress panel (htmx), or the same as a page of its own (without JavaScript)."""
    view = progress.progress_of(student)
    name = student.user.first_name
    context = {
        "p": view,
        "audience": audience,
        "chart": progress_chart.chart(view.series, f"Progression de {name}"),
        "table": progress_chart.table_of(view.series),
    }
    if is_fragment_request():
        return render_template("dashboard/_progress.html", **context)
    return render_template("dashboard/progress.html", **context)


@bp.get("/parent/enfants/<int:student_id>/progression")
@policy.access(policy.PARENT)
def child_progress(student_id: int) -> Any:
    """One child's index, badges, trajectory and chart (404 for another family's child)."""
    return _progress_panel(or_404(family.child_of(current_user, student_id)), "parent")


@bp.get("/eleve/progression")
@policy.access(policy.ELEVE)
def my_progress() -> Any:
    """The student's own index, badges, trajectory and chart."""
    student = or_404(family.student_of(current_user))
    return _progress_panel(student, "eleve")


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
