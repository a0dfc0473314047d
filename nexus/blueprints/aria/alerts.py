"""The staff's list of ARIA safety alerts: the question, the student, the category; "pris en
charge" (asks first, audited) once someone called the family or saw the student."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_login import current_user

from nexus import policy, rows
from nexus.blueprints.aria.chat import bp
from nexus.services import aria
from nexus.web import is_fragment_request, or_404, page_arg

TABLE = "aria.alerts"


def _filter() -> str:
    key = request.args.get("filtre", "a-traiter")
    return key if key in aria.alerts.FILTERS else "a-traiter"


@bp.get("/dashboard/assistante/alertes-aria")
@policy.access(policy.STAFF)
def alerts() -> Any:
    filter_key = _filter()
    context = {
        "page": aria.alerts.list_alerts(filter_key, page_arg()),
        "filters": aria.alerts.FILTERS,
        "filter_key": filter_key,
        "open_count": aria.alerts.open_count(),
        "back_url": request.full_path.rstrip("?"),
    }
    if is_fragment_request():
        return render_template("aria/_alerts_table.html", **context)
    return render_template("aria/alerts.html", **context)


def _row(row: aria.alerts.AlertRow, notice: str, status: int = rows.DONE) -> Any:
    return rows.answer(
        "aria/_alert_row.html", notice, back=TABLE, status=status, a=row, back_url=rows.back_url(TABLE)
    )


@bp.post("/dashboard/assistante/alertes-aria/<int:alert_id>/pris-en-charge")
@policy.access(policy.STAFF)
def acknowledge(alert_id: int) -> Any:
    """Mark the alert as taken in hand (asks first; a page without JavaScript)."""
    row = or_404(aria.alerts.alert_row(alert_id))
    if row.alert.acknowledged_at is None and not rows.confirmed():
        return rows.confirm_page(
            "Marquer cette alerte comme prise en charge ?",
            url_for("aria.acknowledge", alert_id=alert_id),
            button="Oui, prise en charge",
            back=rows.back_url(TABLE),
            facts={
                "Alerte": f"n° {alert_id} — {row.alert.category.label}",
                "Élève": row.student.full_name,
            },
            warning="Faites-le une fois l'élève ou sa famille contactés : l'alerte quitte la liste "
            "à traiter.",
        )
    done = or_404(aria.alerts.acknowledge(alert_id, current_user.id))
    fresh = or_404(aria.alerts.alert_row(alert_id))
    if not done[1]:
        return _row(fresh, f"{rows.ALREADY_DONE} : cette alerte est déjà prise en charge.")
    return _row(fresh, "Alerte prise en charge.")
