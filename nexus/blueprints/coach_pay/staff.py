"""Staff: the month's statements, one statement (adjust, validate), its PDF and CSV.

Validating freezes a statement for good, so it asks first on a page that works without
JavaScript; that page carries the total it showed, and the service refuses when the statement
changed meanwhile (a new session counted, an adjustment by someone else).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import csv_export, fr, policy, rows
from nexus.blueprints.coach_pay.common import (
    bp,
    parse_signed_tnd,
    parse_total,
    statement_or_404,
)
from nexus.models.coach_pay import CoachStatement
from nexus.services import ServiceError, coach_pay
from nexus.text import check_line, check_size
from nexus.web import pdf_response

LIST = "coach_pay.staff_index"
SHOW = "coach_pay.staff_show"


def _month(raw: str | None) -> tuple[str, str | None]:
    """The month asked for ("YYYY-MM"), or the current one and a French message when it is odd."""
    if not (raw or "").strip():
        return coach_pay.current_month(), None
    try:
        return coach_pay.parse_month(raw), None
    except ServiceError as err:
        return coach_pay.current_month(), err.message


@bp.get("/dashboard/admin/remuneration")
@policy.access(policy.STAFF)
def staff_index() -> Any:
    month, problem = _month(request.args.get("mois"))
    previous, following = coach_pay.shift(month, -1), coach_pay.shift(month, 1)
    statements = coach_pay.statements_of_month(month)
    return render_template(
        "coach_pay/staff_index.html",
        month=month,
        label=coach_pay.month_label(month),
        previous=previous,
        previous_label=coach_pay.month_label(previous),
        next=following if following <= coach_pay.current_month() else None,
        next_label=coach_pay.month_label(following),
        problem=problem,
        statements=statements,
        unrated=_unrated(statements),
        pay=coach_pay.pay_settings(),
        is_admin=policy.ADMIN.allows_role(current_user.role),
        month_label_of=coach_pay.month_label,
    )


@dataclass(frozen=True)
class Unrated:
    id: int
    pseudonym: str
    missing: list[str]


def _unrated(statements: list[CoachStatement]) -> list[Unrated]:
    """The month's drafts that need a rate not set yet (validation refuses them until it is)."""
    found = []
    for statement in statements:
        missing = {m.modality.label: None for m in coach_pay.missing_rates(statement)}
        if missing:
            found.append(Unrated(statement.coach_id, statement.coach.pseudonym, list(missing)))
    return found


@bp.post("/dashboard/admin/remuneration/calculer")
@policy.access(policy.STAFF)
def refresh_month() -> Any:
    month, problem = _month(request.form.get("mois"))
    if problem:
        flash(problem, "error")
        return redirect(url_for(LIST), code=303)
    try:
        done = coach_pay.refresh_month(current_user, month)
    except ServiceError as err:
        flash(err.message, "error")
    else:
        flash(
            f"Relevés de {coach_pay.month_label(month)} calculés : {fr.plural(len(done), 'relevé')} à jour.",
            "success",
        )
    return redirect(url_for(LIST, mois=month), code=303)


def _show(statement: CoachStatement, errors: dict[str, str] | None = None) -> Any:
    return render_template(
        "coach_pay/staff_show.html",
        statement=statement,
        missing=coach_pay.missing_rates(statement),
        month_label_of=coach_pay.month_label,
        form=request.form if errors else {},
        errors=errors or {},
    )


@bp.get("/dashboard/admin/remuneration/<int:statement_id>")
@policy.access(policy.STAFF)
def staff_show(statement_id: int) -> Any:
    return _show(statement_or_404(statement_id))


@bp.post("/dashboard/admin/remuneration/<int:statement_id>/ajuster")
@policy.access(policy.STAFF)
def adjust(statement_id: int) -> Any:
    statement = statement_or_404(statement_id)
    reason = (request.form.get("reason") or "").strip()
    try:
        amount = parse_signed_tnd(request.form.get("amount"))
        if not reason:
            raise ServiceError("Indiquez le motif de l'ajustement.", "reason")
        check_line(reason, "reason")
        check_size(reason, "reason", 500)
        coach_pay.adjust(current_user, statement_id, amount, reason)
    except LookupError:
        abort(404)
    except ServiceError as err:
        if err.field in ("amount", "reason"):
            return _show(statement_or_404(statement_id), {err.field: err.message}), 422
        flash(err.message, "error")
    else:
        flash(f"Ajustement de {fr.tnd(amount)} enregistré.", "success")
    return redirect(url_for(SHOW, statement_id=statement.id), code=303)


@bp.route("/dashboard/admin/remuneration/<int:statement_id>/valider", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def validate(statement_id: int) -> Any:
    statement = statement_or_404(statement_id)
    if statement.status.is_validated:
        flash(f"Ce relevé est déjà validé ({statement.number}).", "info")
        return redirect(url_for(SHOW, statement_id=statement.id), code=303)
    if request.method == "GET" or not rows.confirmed():
        return _confirm_validation(statement)
    expected = parse_total(request.form.get("expected_total"))
    try:
        if expected is None:
            raise ServiceError(
                "Le total confirmé est illisible : relisez le relevé puis validez-le à nouveau."
            )
        statement = coach_pay.validate(current_user, statement_id, expected)
    except LookupError:
        abort(404)
    except ServiceError as err:
        flash(err.message, "error")
    else:
        flash(f"Relevé validé : n° {statement.number}, {fr.tnd(statement.total_millimes)}.", "success")
    return redirect(url_for(SHOW, statement_id=statement_id), code=303)


def _confirm_validation(statement: CoachStatement) -> str:
    return rows.confirm_page(
        f"Valider le relevé de {statement.coach.pseudonym} ?",
        url_for("coach_pay.validate", statement_id=statement.id),
        button="Oui, valider le relevé",
        back=url_for(SHOW, statement_id=statement.id),
        facts={
            "Coach": statement.coach.pseudonym,
            "Mois": coach_pay.month_label(statement.month),
            "Lignes": str(len(statement.lines)),
            "Total": fr.tnd(statement.total_millimes),
        },
        warning="Un relevé validé est figé et numéroté : il ne pourra plus être recalculé ni ajusté.",
        fields={"expected_total": str(statement.total_millimes)},
    )


@bp.get("/dashboard/admin/remuneration/<int:statement_id>.pdf")
@policy.access(policy.STAFF)
def staff_pdf(statement_id: int) -> Any:
    statement = statement_or_404(statement_id)
    return pdf_response(coach_pay.render_pdf(statement), pdf_name(statement))


@bp.get("/dashboard/admin/remuneration/<int:statement_id>.csv")
@policy.access(policy.STAFF)
def staff_csv(statement_id: int) -> Any:
    statement = statement_or_404(statement_id)
    return csv_export.response(
        f"{file_stem(statement)}.csv", coach_pay.CSV_HEADER, coach_pay.csv_rows(statement)
    )


def file_stem(statement: CoachStatement) -> str:
    """'releve_REM-203003-0001', or 'releve_provisoire_2030-03' for a draft."""
    return f"releve_{statement.number}" if statement.number else f"releve_provisoire_{statement.month}"


def pdf_name(statement: CoachStatement) -> str:
    return f"{file_stem(statement)}.pdf"
