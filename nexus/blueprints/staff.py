"""The assistante's tables: contact messages, bilan requests, students. Rows act in place.

An inline action answers htmx with the new <tr> (plus out-of-band counters); without
JavaScript the same form POST redirects (303) back to the list with a flash message.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.forms.family import ActivationForm
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.family import Student
from nexus.models.notifications import ContactMessage
from nexus.services import ServiceError, diagnostics, enrolment, identity, staff
from nexus.web import is_fragment_request, page_arg

bp = Blueprint("staff", __name__, url_prefix="/dashboard/assistante")

ALREADY_DONE = "Déjà traité"
# The button that moves a bilan request to each status.
STATUS_ACTIONS = {
    BilanStatus.CONTACTED: "Famille contactée",
    BilanStatus.CONVERTED: "Inscrite",
    BilanStatus.CLOSED: "Clore",
}


@bp.context_processor
def table_helpers() -> dict[str, Any]:
    return {"topic_label": staff.topic_label, "status_actions": STATUS_ACTIONS}


def _choice(name: str, options: dict[str, str], default: str) -> str:
    value = request.args.get(name, default)
    return value if value in options else default


def _query() -> str:
    return request.args.get("q", "").strip()[:100]


def back_url(endpoint: str, sent: str | None = None) -> str:
    """Where a plain POST returns: the list it came from (same filters), never elsewhere."""
    base = url_for(endpoint)
    target = request.form.get("retour", "") if sent is None else sent
    if target == base or (target.startswith(base + "?") and "\\" not in target and target.isprintable()):
        return target
    return base


def _done(endpoint: str, message: str, category: str) -> Any:
    flash(message, category)
    return redirect(back_url(endpoint), code=303)


# -- contact messages -------------------------------------------------------------------------


@bp.get("/contacts")
@policy.access(policy.STAFF)
def contacts() -> Any:
    filter_key = _choice("filtre", staff.CONTACT_FILTERS, "a-traiter")
    page = staff.list_contacts(filter_key, _query(), page_arg())
    return render_template(
        "staff/contacts.html",
        page=page,
        filters=staff.CONTACT_FILTERS,
        filter_key=filter_key,
        q=_query(),
        open_count=staff.open_contacts_count(),
        back_url=request.full_path.rstrip("?"),
        parents=enrolment.linked_parents(page.items),
    )


@bp.post("/contacts/<int:message_id>/traite")
@policy.access(policy.STAFF)
def contact_handled(message_id: int) -> Any:
    result = staff.mark_contact_handled(message_id, current_user)
    if result is None:
        abort(404)
    notice = "Marqué comme traité." if result.changed else f"{ALREADY_DONE} : ce message était déjà traité."
    if not is_fragment_request():
        return _done("staff.contacts", notice, "success" if result.changed else "info")
    return _contact_row(result.message, notice, 200 if result.changed else 409)


def _contact_row(message: ContactMessage, notice: str, status: int) -> Any:
    body = render_template(
        "staff/_contact_row.html",
        m=message,
        notice=notice,
        notice_ok=status < 400,
        back_url=back_url("staff.contacts"),
        oob_open_count=staff.open_contacts_count(),
        parents=enrolment.linked_parents([message]),
    )
    return body, status


# -- bilan requests ---------------------------------------------------------------------------


@bp.get("/bilans")
@policy.access(policy.STAFF)
def bilans() -> Any:
    filter_key = _choice("filtre", diagnostics.BILAN_FILTERS, "a-traiter")
    page = diagnostics.list_bilan_requests(filter_key, _query(), page_arg())
    return render_template(
        "staff/bilans.html",
        page=page,
        filters=diagnostics.BILAN_FILTERS,
        filter_key=filter_key,
        q=_query(),
        new_count=diagnostics.new_requests_count(),
        back_url=request.full_path.rstrip("?"),
        next_statuses=diagnostics.NEXT_STATUSES,
        parents=enrolment.linked_parents(page.items),
    )


def _status(name: str) -> BilanStatus | None:
    value = request.form.get(name, "")
    return BilanStatus(value) if value in BilanStatus.__members__ else None


@bp.post("/bilans/<int:bilan_id>/statut")
@policy.access(policy.STAFF)
def bilan_status(bilan_id: int) -> Any:
    bilan = diagnostics.get_bilan(bilan_id)
    if bilan is None:
        abort(404)
    expected, target = _status("expected"), _status("status")
    if expected is None or target is None:
        return _bilan_response(bilan, "Statut inconnu : rechargez la page.", 422)
    try:
        change = diagnostics.change_bilan_status(bilan_id, expected, target, current_user)
    except ServiceError as err:
        return _bilan_response(diagnostics.get_bilan(bilan_id) or bilan, err.message, 422)
    if change is None:
        abort(404)
    if change.changed:
        return _bilan_response(change.bilan, f"Statut changé : {target.label}.", 200)
    notice = f"{ALREADY_DONE} : cette demande est déjà « {change.bilan.status.label} »."
    return _bilan_response(change.bilan, notice, 409)


def _bilan_response(bilan: BilanRequest, notice: str, status: int) -> Any:
    if not is_fragment_request():
        return _done("staff.bilans", notice, "success" if status < 400 else "error")
    body = render_template(
        "staff/_bilan_row.html",
        b=bilan,
        notice=notice,
        notice_ok=status < 400,
        back_url=back_url("staff.bilans"),
        next_statuses=diagnostics.NEXT_STATUSES,
        oob_new_count=diagnostics.new_requests_count(),
        parents=enrolment.linked_parents([bilan]),
    )
    return body, status


# -- students ---------------------------------------------------------------------------------


@bp.get("/eleves")
@policy.access(policy.STAFF)
def students() -> Any:
    filter_key = _choice("filtre", staff.STUDENT_FILTERS, "tous")
    return render_template(
        "staff/eleves.html",
        page=staff.list_students(filter_key, _query(), page_arg()),
        filters=staff.STUDENT_FILTERS,
        filter_key=filter_key,
        q=_query(),
        back_url=request.full_path.rstrip("?"),
    )


@bp.post("/eleves/<int:student_id>/activation")
@policy.access(policy.STAFF)
def student_activation(student_id: int) -> Any:
    """Send (or re-send) a student's activation link, giving them an address if needed."""
    student = staff.get_student(student_id)
    if student is None:
        abort(404)
    form = ActivationForm()
    error = _send_activation(student, form)
    if error is not None:
        return _student_row(student_id, error=error, typed=form.email.data or "", status=422)
    notice = f"Lien d'activation envoyé à {student.user.email}. Il est valable 72 heures."
    if not is_fragment_request():
        return _done("staff.students", notice, "success")
    return _student_row(student_id, notice=notice)


def _send_activation(student: Student, form: ActivationForm) -> str | None:
    """Validate and send; the French reason for a refusal, or None."""
    if not form.validate():
        return next(iter(form.email.errors), "Formulaire expiré : rechargez la page.")
    try:
        identity.send_activation(student, form.email.data, current_user)
    except ServiceError as err:
        return err.message
    return None


def _student_row(
    student_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    typed: str = "",
    status: int = 200,
) -> Any:
    student = staff.get_student(student_id)
    if student is None:
        abort(404)
    context = {
        "row": staff.student_row(student),
        "notice": notice,
        "error": error,
        "typed": typed,
        "back_url": back_url("staff.students"),
    }
    if is_fragment_request():
        return render_template("staff/_student_row.html", **context), status
    # Without JavaScript the error is shown next to the field, on a page of its own.
    return render_template("staff/eleve_activation.html", **context), status
