"""The assistante's tables: contact messages, bilan requests, students. Rows act in place
(nexus/rows.py); beside the contacts and bilans queues, what was processed this week."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from nexus import policy, rows
from nexus.forms.family import ActivationForm
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.family import Student
from nexus.services import ServiceError, diagnostics, enrolment, identity, recent, staff
from nexus.services.paging import Page
from nexus.web import is_fragment_request, or_404, page_arg

bp = Blueprint("staff", __name__, url_prefix="/dashboard/assistante")

# The button that moves a bilan request to each status.
STATUS_ACTIONS = {
    BilanStatus.CONTACTED: "Famille contactée",
    BilanStatus.CONVERTED: "Inscrite",
    BilanStatus.CLOSED: "Clore",
}
CONTACTS, BILANS, STUDENTS = "staff.contacts", "staff.bilans", "staff.students"


@bp.context_processor
def table_helpers() -> dict[str, Any]:
    return {"topic_label": staff.topic_label, "status_actions": STATUS_ACTIONS}


def _choice(name: str, options: dict[str, str], default: str) -> str:
    value = request.args.get(name, default)
    return value if value in options else default


def _query() -> str:
    return request.args.get("q", "").strip()[:100]


def _list(page_template: str, table_template: str, **context: Any) -> Any:
    """The list page, or (a search with htmx) its table fragment alone."""
    context["back_url"] = request.full_path.rstrip("?")
    if is_fragment_request():
        return render_template(table_template, **context)
    return render_template(page_template, **context)


def _queue(
    name: str,
    filters: dict[str, str],
    search: Callable[[str, str, int], Page[Any]],
    processed: Callable[[], list[recent.Processed]],
    **counts: int,
) -> Any:
    """A work queue (contacts, bilans): its rows by state and search, the families they became,
    and beside them (on the page, not in a search's fragment) what was processed this week."""
    filter_key = _choice("filtre", filters, "a-traiter")
    page = search(filter_key, _query(), page_arg())
    return _list(
        f"staff/{name}.html",
        f"staff/_{name}_table.html",
        page=page,
        filters=filters,
        filter_key=filter_key,
        q=_query(),
        parents=enrolment.linked_parents(page.items),
        recent=[] if is_fragment_request() else processed(),
        **counts,
    )


# -- contact messages -------------------------------------------------------------------------


@bp.get("/contacts")
@policy.access(policy.STAFF)
def contacts() -> Any:
    return _queue(
        "contacts",
        staff.CONTACT_FILTERS,
        staff.list_contacts,
        staff.recently_handled_contacts,
        open_count=staff.open_contacts_count(),
    )


@bp.post("/contacts/<int:message_id>/traite")
@policy.access(policy.STAFF)
def contact_handled(message_id: int) -> Any:
    result = or_404(staff.mark_contact_handled(message_id, current_user))
    already = f"{rows.ALREADY_DONE} : ce message était déjà traité."
    notice = "Marqué comme traité." if result.changed else already
    return rows.answer(
        "staff/_contact_row.html",
        notice,
        back=CONTACTS,
        m=result.message,
        back_url=rows.back_url(CONTACTS),
        oob_open_count=staff.open_contacts_count(),
        parents=enrolment.linked_parents([result.message]),
    )


# -- bilan requests ---------------------------------------------------------------------------


@bp.get("/bilans")
@policy.access(policy.STAFF)
def bilans() -> Any:
    return _queue(
        "bilans",
        diagnostics.BILAN_FILTERS,
        diagnostics.list_bilan_requests,
        diagnostics.recently_processed_bilans,
        new_count=diagnostics.new_requests_count(),
    )


def _status(name: str) -> BilanStatus | None:
    value = request.form.get(name, "")
    return BilanStatus(value) if value in BilanStatus.__members__ else None


@bp.post("/bilans/<int:bilan_id>/statut")
@policy.access(policy.STAFF)
def bilan_status(bilan_id: int) -> Any:
    """Move a request on; there is no way back, so it asks first (a page without JavaScript)."""
    bilan = or_404(diagnostics.get_bilan(bilan_id))
    expected, target = _status("expected"), _status("status")
    if expected is None or target is None:
        return _bilan_answer(bilan, "Statut inconnu : rechargez la page.", rows.REFUSED)
    if not rows.confirmed() and bilan.status is expected and target in bilan.next_statuses:
        return _confirm_bilan(bilan, target)
    try:
        change = diagnostics.change_bilan_status(bilan_id, expected, target, current_user)
    except ServiceError as err:
        return _bilan_answer(diagnostics.get_bilan(bilan_id) or bilan, err.message, rows.REFUSED)
    if change is None:
        abort(404)
    notice, status = rows.status_notice(change.changed, change.bilan.status, target, "cette demande")
    return _bilan_answer(change.bilan, notice, status)


def _confirm_bilan(bilan: BilanRequest, target: BilanStatus) -> Any:
    page = rows.confirm_page(
        f"Passer cette demande à « {target.label} » ?",
        url_for("staff.bilan_status", bilan_id=bilan.id),
        button=f"Oui, passer à « {target.label} »",
        back=rows.back_url(BILANS),
        facts={
            "Demande": f"n° {bilan.id}, statut « {bilan.status.label} »",
            "Parent": f"{bilan.parent_first_name} {bilan.parent_last_name}",
            "Élève": f"{bilan.student_first_name} {bilan.student_last_name}",
        },
        warning="Ce changement ne se défait pas.",
        fields={"expected": bilan.status.value, "status": target.value},
        danger=target is BilanStatus.CLOSED,
    )
    return page


def _bilan_answer(bilan: BilanRequest, notice: str, status: int) -> Any:
    return rows.answer(
        "staff/_bilan_row.html",
        notice,
        back=BILANS,
        status=status,
        b=bilan,
        back_url=rows.back_url(BILANS),
        oob_new_count=diagnostics.new_requests_count(),
        parents=enrolment.linked_parents([bilan]),
    )


# -- students ---------------------------------------------------------------------------------


@bp.get("/eleves")
@policy.access(policy.STAFF)
def students() -> Any:
    filter_key = _choice("filtre", staff.STUDENT_FILTERS, "tous")
    return _list(
        "staff/eleves.html",
        "staff/_students_table.html",
        page=staff.list_students(filter_key, _query(), page_arg()),
        filters=staff.STUDENT_FILTERS,
        filter_key=filter_key,
        q=_query(),
    )


@bp.post("/eleves/<int:student_id>/activation")
@policy.access(policy.STAFF)
def student_activation(student_id: int) -> Any:
    """Send (or re-send) a student's activation link, giving them an address if needed."""
    student = or_404(staff.get_student(student_id))
    form = ActivationForm()
    error = _send_activation(student, form)
    if error is not None:
        return _refused_row(student_id, error, form.email.data or "")
    notice = f"Lien d'activation envoyé à {student.user.email}. Il est valable 72 heures."
    return rows.answer("staff/_student_row.html", notice, back=STUDENTS, **_student_context(student_id))


def _send_activation(student: Student, form: ActivationForm) -> str | None:
    """Validate and send; the French reason for a refusal, or None."""
    if not form.validate():
        return next(iter(form.email.errors), "Formulaire expiré : rechargez la page.")
    try:
        identity.send_activation(student, form.email.data, current_user)
    except ServiceError as err:
        return err.message
    return None


def _student_context(student_id: int) -> dict[str, Any]:
    student = or_404(staff.get_student(student_id))
    return {"row": staff.student_row(student), "back_url": rows.back_url(STUDENTS)}


def _refused_row(student_id: int, error: str, typed: str) -> Any:
    """The refusal next to the address field: in the row with htmx, on a page of its own without."""
    context = _student_context(student_id) | {"error": error, "typed": typed}
    if is_fragment_request():
        return render_template("staff/_student_row.html", **context), rows.REFUSED
    return render_template("staff/eleve_activation.html", **context), rows.REFUSED
