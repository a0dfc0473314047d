"""Credits: the staff desk (requests, manual grants), the parent's request, the student's ledger.

A parent's request is decided in its row (nexus/rows.py), after a confirmation (a page without
JavaScript); below the queue, the requests decided this week.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy, rows
from nexus.extensions import db
from nexus.models.credits import CreditRequest
from nexus.numbers import parse_count, parse_credits
from nexus.services import ServiceError, credits, family, parse_id, staff
from nexus.web import is_fragment_request, or_404, page_arg

bp = Blueprint("credits", __name__)
DESK = "credits.desk"


def _query() -> str:
    return request.args.get("q", "").strip()[:100]


def _desk(form: Any = None, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    """The staff desk; after a refused adjustment, the form again with the error by its field."""
    # The form offers the students of the balances table's page (its search narrows both), not
    # every student: at ten times the centre, 8,000 options and their balances took a second.
    page = credits.students_page(_query(), page_arg())
    students = list(page.items)
    chosen_id = parse_id((form or {}).get("eleve"))
    chosen = staff.get_student(chosen_id) if chosen_id else None
    if chosen is not None and chosen not in students:
        students.insert(0, chosen)  # a refused adjustment keeps its student
    balances = credits.balances([s.id for s in students])  # one query for the page
    return (
        render_template(
            "credits/desk.html",
            requests=credits.pending_requests(),
            recent=credits.recently_decided_requests(),
            students=students,
            balances=balances,
            page=page,
            q=_query(),
            back_url=url_for(DESK),
            form=form or {},
            errors=errors or {},
        ),
        status,
    )


@bp.get("/dashboard/assistante/credits")
@policy.access(policy.STAFF)
def desk() -> Any:
    if is_fragment_request():  # a search in the balances table
        page = credits.students_page(_query(), page_arg())
        balances = credits.balances([s.id for s in page.items])
        return render_template("credits/_table.html", page=page, balances=balances, q=_query())
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
    approve = decision == "approuver"
    row = db.get_or_404(CreditRequest, request_id)
    reason = request.form.get("reason", "")
    if not rows.confirmed() and row.is_pending:
        return _confirm_decision(row, approve, reason)
    try:
        row = credits.decide_request(request_id, approve, current_user.id, reason)
    except LookupError:
        abort(404)
    except ServiceError as err:
        row = db.get_or_404(CreditRequest, request_id)
        if row.is_pending:  # the reason was refused: nothing decided
            if not is_fragment_request():
                return _confirm_decision(row, approve, reason, err.message)
            return _answer(row, err.message, rows.REFUSED)
        # Already decided: by this same decision, or by the other one (status: nexus/rows.py).
        status = rows.DONE if row.is_approved == approve else rows.CONFLICT
        return _answer(row, f"{err.message} ({row.status.label})", status)
    return _answer(row, "Demande traitée.", rows.DONE)


def _confirm_decision(row: CreditRequest, approve: bool, reason: str, error: str | None = None) -> Any:
    """Without JavaScript, the question the row's hx-confirm asks (and the reason of a refusal)."""
    amount = fr.credits(row.amount)
    refusal = {
        "reason_label": "Motif du refus",
        "reason_hint": "Transmis à la famille, 5 à 255 caractères.",
        "reason_required": True,
        "reason": reason,
        "reason_error": error,
    }
    page = rows.confirm_page(
        f"Accorder {amount} ?" if approve else "Refuser cette demande de crédits ?",
        url_for("credits.decide", request_id=row.id, decision="approuver" if approve else "refuser"),
        button="Oui, accorder" if approve else "Oui, refuser",
        back=rows.back_url(DESK),
        facts={
            "Élève": row.student.user.full_name,
            "Demandé par": row.requested_by.full_name if row.requested_by else "—",
            "Crédits": amount,
            "Motif de la demande": row.reason or "—",
        },
        warning="Les crédits sont ajoutés au solde de l'élève." if approve else "La famille est prévenue.",
        danger=not approve,
        **({} if approve else refusal),
    )
    return page, rows.REFUSED if error else rows.DONE


def _answer(row: CreditRequest, notice: str, status: int) -> Any:
    return rows.answer("credits/_request_row.html", notice, back=DESK, status=status, r=row)


@bp.post("/dashboard/parent/credits/demande")
@policy.access(policy.PARENT)
def request_credits() -> Any:
    child = or_404(family.child_of(current_user, parse_id(request.form.get("eleve"))))
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
    student = or_404(family.student_of(current_user))
    return render_template(
        "credits/mine.html",
        balance=credits.balance(student.id),
        lots=credits.open_lots(student.id),
        history=credits.history(student.id),
    )
