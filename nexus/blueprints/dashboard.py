"""/dashboard and each role's home page; sidebar pages not built yet say "bientôt"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_login import current_user

from nexus import policy
from nexus.charts import figures as figure_charts
from nexus.charts import progress as progress_chart
from nexus.extensions import limiter
from nexus.forms.family import ActivationForm
from nexus.models.family import Student
from nexus.services import ServiceError, dashboards, family, identity, next_steps
from nexus.services.dashboards import figures as dashboard_figures
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
    figures = dashboard_figures.admin_figures()
    return render_template(
        "dashboard/admin.html",
        data=dashboards.admin_summary(),
        figures=figures,
        revenue_chart=figure_charts.revenue_by_month(figures.revenue),
        sessions_chart=figure_charts.sessions_by_month(figures.sessions),
        step=next_steps.for_user(current_user),
    )


@bp.get("/assistante")
@policy.access(policy.STAFF)
def assistante() -> Any:
    return render_template(
        "dashboard/assistante.html",
        data=dashboards.staff_summary(),
        figures=dashboard_figures.assistante_figures(),
        step=next_steps.for_user(current_user),
    )


@bp.get("/coach")
@policy.access(policy.COACH)
def coach() -> Any:
    return render_template(
        "dashboard/coach.html",
        data=dashboards.coach_summary(current_user),
        step=next_steps.for_user(current_user),
    )


def _parent_page(form: ActivationForm, **extra: Any) -> str:
    homes = dashboards.parent_home(current_user)
    cards = [home.card for home in homes]
    summaries = progress.summaries([card.student for card in cards])
    return render_template(
        "dashboard/parent.html",
        children=homes,
        progress={view.student.id: view for view in summaries},
        waiting=dashboards.waiting_for(current_user),
        step=next_steps.for_user(current_user),
        form=form,
        # The address each child's last link was given for, shown again in its field (only a
        # child not activated yet has that field: no query when every child is).
        addresses=identity.activation_addresses(
            [c.student.user_id for c in cards if c.student.user.activated_at is None]
        ),
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
    summary = progress.summaries([data.card.student])[0] if data else None
    return render_template(
        "dashboard/eleve.html",
        data=data,
        conversations=conversations,
        p=summary,
        audience="eleve",
        step=next_steps.for_user(current_user),
    )


def _chart(student: Student, series: list[Any]) -> tuple[Student, Any, Any]:
    title = f"Progression de {student.user.first_name}"
    return student, progress_chart.chart(series, title), progress_chart.table_of(series)


def _progress(students: list[Student], audience: str, fragment: str) -> Any:
    """With htmx, the lazy chart panel of each student (the rest of the progress is on the home
    already); without JavaScript, a page with the whole progress of each student."""
    if is_fragment_request():
        g.bare_fragment = True  # nexus.web: no bell counts for a fragment that shows no bell
        series = progress.series_of(students)
        items = [_chart(student, series[student.id]) for student in students]
        return render_template(fragment, items=items, audience=audience)
    views = progress.progress_of(students)
    pages = [(view, *_chart(view.student, view.series)[1:]) for view in views]
    return render_template("dashboard/progress.html", items=pages, audience=audience)


@bp.get("/parent/progression")
@policy.access(policy.PARENT)
def children_progress() -> Any:
    """Every child's chart in one request, each swapped into its card (out of band)."""
    return _progress(family.children(current_user), "parent", "dashboard/_charts_all.html")


@bp.get("/parent/enfants/<int:student_id>/progression")
@policy.access(policy.PARENT)
def child_progress(student_id: int) -> Any:
    """One child's progress (404 for another family's child)."""
    child = or_404(family.child_of(current_user, student_id))
    return _progress([child], "parent", "dashboard/_charts_one.html")


@bp.get("/eleve/progression")
@policy.access(policy.ELEVE)
def my_progress() -> Any:
    """The student's own progress."""
    student = or_404(family.student_of(current_user))
    return _progress([student], "eleve", "dashboard/_charts_one.html")


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
