"""Credits: the staff desk (requests, manual grants), the parent's request, the student's ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.extensions import db
from nexus.models.credits import CreditRequest
from nexus.numbers import parse_count, parse_credits
from nexus.services import ServiceError, credits, family, parse_id, staff
from nexus.web import is_fragment_request

bp = Blueprint("credits", __name__)


def _desk(form: Any = None, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    """The staff desk; after a refused adjustment, the form again with the error by its field."""
    students = credits.desk_students()
    balances = credits.balances([s.id for s in students])  # one query for the whole table
    return (
        render_template(
            "credits/desk.html",
            requests=credits.pending_requests(),
            students=students,
            balances=balances,
            form=form or {},
            errors=errors or {},
        ),
        status,
    )


@bp.get("/dashboard/assistante/credits")
@policy.access(policy.STAFF)
def desk() -> Any:
    return _desk()


def _typed_credits(message: str) -> Decimal:
    """The posted amount of credits, read strictly (nexus.numbers), or a refusal on its field."""
    amount = parse_credits(request.form.get("amount"))
    if amount is None:
        raise ServiceError(message, "amount")
    return amount


@bp.post("/dashboard/assistante/credits/ajustement")
@policy.access(policy.STAFF)
def adjust() -> Any:
    student_id = parse_id(request.form.get("eleve"))
    student = staff.get_student(student_id) if student_id else None
    try:
        if student is None:
            raise ServiceError("Choisissez un élève.", "eleve")
        amount = _typed_credits("Indiquez un nombre de crédits, par exemple 2 ou 1,5.")
        reason = request.form.get("reason", "")
        if request.form.get("direction") == "retirer":
            credits.manual_deduct(student.id, amount, reason, current_user.id)
        else:
            days = parse_count(request.form.get("days", "365"), 1, 730)
            if days is None:
                raise ServiceError("La validité doit être comprise entre 1 et 730 jours.", "days")
            credits.manual_grant(student.id, amount, reason, current_user.id, days)
    except ServiceError as err:
        return _desk(request.form, {err.field or "amount": err.message}, 422)
    flash(f"Crédits de {student.user.full_name} mis à jour : solde {credits.balance(student.id)}.", "success")
    return redirect(url_for("credits.desk"), code=303)


@bp.post("/dashboard/assistante/credits/demandes/<int:request_id>/<any(approuver, refuser):decision>")
@policy.access(policy.STAFF)
def decide(request_id: int, decision: str) -> Any:
    error = None
    try:
        row = credits.decide_request(
            request_id, decision == "approuver", current_user.id, request.form.get("reason")
        )
    except LookupError:
        abort(404)
    except ServiceError as err:
        error = err.message
        row = db.get_or_404(CreditRequest, request_id)
    if is_fragment_request():
        return render_template("credits/_request_row.html", r=row, error=error), 422 if error else 200
    flash(error or "Demande traitée.", "error" if error else "success")
    return redirect(url_for("credits.desk"), code=303)


@bp.post("/dashboard/parent/credits/demande")
@policy.access(policy.PARENT)
def request_credits() -> Any:
    student_id = parse_id(request.form.get("eleve"))
    child = family.child_of(current_user, student_id) if student_id else None
    if child is None:
        abort(404)
    try:
        amount = _typed_credits("Indiquez un nombre de crédits entre 1 et 20, par exemple 2.")
        credits.request_credits(current_user.id, child.id, amount, request.form.get("reason"))
    except ServiceError as err:
        errors = {err.field or "form": err.message}
        return render_template("credits/request.html", child=child, form=request.form, errors=errors), 422
    flash("Demande envoyée : notre équipe vous répond rapidement.", "success")
    return redirect(url_for("parent.children"), code=303)


@bp.get("/dashboard/eleve/credits")
@policy.access(policy.ELEVE)
def mine() -> Any:
    student = family.student_of(current_user)
    if student is None:
        abort(404)
    return render_template(
        "credits/mine.html",
        balance=credits.balance(student.id),
        lots=credits.open_lots(student.id),
        history=credits.history(student.id),
    )
