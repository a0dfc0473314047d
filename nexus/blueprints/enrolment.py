"""Staff open a family space ("Ouvrir l'espace famille") from a bilan request or a contact
message, in the request's row (the tables are the staff blueprint's; the rows render alike).

Status rule (GET and POST on /<bilans|contacts>/<id>/espace-famille):
- unknown request: 404;
- GET: the confirmation page (the form prefilled from the request's answers, editable); with
  htmx the same form as a <tr> that replaces the row;
- POST, opened now or already opened (a second click, a retry, a colleague first): with htmx
  200 and the new row with its notice; without JavaScript 303 back to the list with a flash;
- POST refused (a field, an address already in use, a closed request): 422 and the form again
  with the errors next to the fields (the <tr> with htmx, the full page without);
- POST "Ajouter un autre enfant" / "Retirer": 200 and the form again, nothing saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy, rows
from nexus.blueprints.staff import table_helpers
from nexus.forms.enrolment import ContactFamilyForm, OpenFamilyForm
from nexus.models.common import Role
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.identity import User
from nexus.models.notifications import ContactMessage
from nexus.services import ServiceError, diagnostics, enrolment
from nexus.services import staff as staff_service
from nexus.services.family import ChildDraft, ParentDraft
from nexus.web import is_fragment_request, or_404

bp = Blueprint("enrolment", __name__, url_prefix="/dashboard/assistante")
bp.context_processor(table_helpers)  # the rows are the staff tables' rows

OPENED = "Espace famille ouvert : lien d'activation envoyé à {email}."
ALREADY_OPEN = "Déjà fait : l'espace de cette famille est ouvert."
EXPIRED = "Formulaire expiré : rechargez la page."


@dataclass(frozen=True)
class _Source:
    """A kind of request a family space is opened from, and how its table shows it."""

    kind: str  # "bilan" or "contact"
    list_endpoint: str
    family_endpoint: str
    row_endpoint: str
    id_arg: str
    load: Callable[[int], Any]
    form_class: type[OpenFamilyForm]
    prefill: Callable[[Any], dict[str, Any]]
    opener: Callable[[int, ParentDraft, list[ChildDraft], User], enrolment.Opened | None]


def _from_bilan(bilan: BilanRequest) -> dict[str, Any]:
    child = {
        "first_name": bilan.student_first_name,
        "last_name": bilan.student_last_name,
        "grade": bilan.grade.value,
    }
    return {
        "first_name": bilan.parent_first_name,
        "last_name": bilan.parent_last_name,
        "email": bilan.parent_email,
        "phone": bilan.parent_phone,
        "children": [child],
    }


def _from_contact(message: ContactMessage) -> dict[str, Any]:
    # "Nadia Ben Ali": the first word is the first name, the rest the last name.
    first, _, last = message.name.strip().partition(" ")
    return {
        "first_name": first,
        "last_name": last.strip(),
        "email": message.email,
        "phone": message.phone or "",
    }


BILAN_SOURCE = _Source(
    "bilan",
    "staff.bilans",
    "enrolment.bilan_family",
    "enrolment.bilan_row",
    "bilan_id",
    diagnostics.get_bilan,
    OpenFamilyForm,
    _from_bilan,
    enrolment.open_from_bilan,
)
CONTACT_SOURCE = _Source(
    "contact",
    "staff.contacts",
    "enrolment.contact_family",
    "enrolment.contact_row",
    "message_id",
    enrolment.get_contact,
    ContactFamilyForm,
    _from_contact,
    enrolment.open_from_contact,
)


@bp.route("/bilans/<int:bilan_id>/espace-famille", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def bilan_family(bilan_id: int) -> Any:
    return _open_family(BILAN_SOURCE, bilan_id)


@bp.route("/contacts/<int:message_id>/espace-famille", methods=["GET", "POST"])
@policy.access(policy.STAFF)
def contact_family(message_id: int) -> Any:
    return _open_family(CONTACT_SOURCE, message_id)


@bp.get("/bilans/<int:bilan_id>/ligne")
@policy.access(policy.STAFF)
def bilan_row(bilan_id: int) -> Any:
    """The row as it is ("Annuler" on the row's form); without htmx, the list."""
    return _row_again(BILAN_SOURCE, bilan_id)


@bp.get("/contacts/<int:message_id>/ligne")
@policy.access(policy.STAFF)
def contact_row(message_id: int) -> Any:
    return _row_again(CONTACT_SOURCE, message_id)


def _row_again(source: _Source, row_id: int) -> Any:
    row = or_404(source.load(row_id))
    back = _list_url(source)
    if not is_fragment_request():
        return redirect(back, code=303)
    return _source_row(source, row, back)


def _list_url(source: _Source) -> str:
    """The list the staff member came from, with its filters ("retour", or htmx's current URL)."""
    if request.method == "POST":
        return rows.back_url(source.list_endpoint)
    sent = request.args.get("retour", "")
    if not sent and is_fragment_request():
        try:
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
        except ValueError:
            current = urlsplit("")
        sent = current.path + (f"?{current.query}" if current.query else "")
    return rows.back_url(source.list_endpoint, sent)


def _open_family(source: _Source, row_id: int) -> Any:
    row = or_404(source.load(row_id))
    back = _list_url(source)
    if row.parent_user_id is not None:
        return _settled(source, row, back, ALREADY_OPEN, ok=True, category="info")
    if source.kind == "bilan" and row.status is BilanStatus.CLOSED:
        return _settled(source, row, back, enrolment.CLOSED_REQUEST, ok=False)
    if request.method == "GET":
        form = source.form_class(data=source.prefill(row))
        return _form_answer(source, row, form, back, 200)
    form = source.form_class()
    if form.change_children(request.form):
        return _form_answer(source, row, form, back, 200)
    if not form.validate():
        return _form_answer(source, row, form, back, 422)
    return _submit(source, row_id, form, back)


def _submit(source: _Source, row_id: int, form: OpenFamilyForm, back: str) -> Any:
    """Open the family, answer; a refusal shows the form again with its reason."""
    try:
        actor = current_user._get_current_object()  # the User row, not the proxy
        opened = source.opener(row_id, form.parent_draft(), form.child_drafts(), actor)
    except enrolment.EmailTaken as err:
        form.email.errors = [enrolment.taken_message(err.owner)]
        return _form_answer(source, _reload(source, row_id), form, back, 422, taken=err.owner)
    except enrolment.ChildEmailRefused as err:
        form.children.entries[err.index].form.email.errors = [err.message]
        return _form_answer(source, _reload(source, row_id), form, back, 422)
    except ServiceError as err:
        return _form_answer(source, _reload(source, row_id), form, back, 422, error=err.message)
    if opened is None:
        abort(404)
    if opened.created:
        notice = OPENED.format(email=opened.parent.email)
        return _settled(source, _reload(source, row_id), back, notice, ok=True)
    return _settled(source, _reload(source, row_id), back, ALREADY_OPEN, ok=True, category="info")


def _reload(source: _Source, row_id: int) -> Any:
    row = or_404(source.load(row_id))
    return row


def _settled(
    source: _Source, row: Any, back: str, notice: str, *, ok: bool, category: str = "success"
) -> Any:
    """The request is linked (or closed): the new row with htmx; the list, or a page, without."""
    posted = request.method == "POST"
    status = 422 if posted and not ok else 200
    if is_fragment_request():
        return _source_row(source, row, back, notice=notice, ok=ok, status=status)
    if posted:
        flash(notice, category if ok else "error")
        return redirect(back, code=303)
    context = _page_context(source, row, back)
    return render_template("staff/open_family.html", **context, notice=notice, notice_ok=ok), 200


def _source_row(
    source: _Source, row: Any, back: str, *, notice: str | None = None, ok: bool = True, status: int = 200
) -> Any:
    """The request's <tr> as its table shows it, with a notice and the out-of-band counter."""
    context: dict[str, Any] = {
        "notice": notice,
        "notice_ok": ok,
        "back_url": back,
        "parents": enrolment.linked_parents([row]),
    }
    if source.kind == "bilan":
        context |= {
            "b": row,
            "next_statuses": diagnostics.NEXT_STATUSES,
            "oob_new_count": diagnostics.new_requests_count(),
        }
        return render_template("staff/_bilan_row.html", **context), status
    context |= {"m": row, "oob_open_count": staff_service.open_contacts_count()}
    return render_template("staff/_contact_row.html", **context), status


def _page_context(source: _Source, row: Any, back: str) -> dict[str, Any]:
    return {
        "source": source.kind,
        "request_row": row,
        "back_url": back,
        "family_endpoint": source.family_endpoint,
        "row_endpoint": source.row_endpoint,
        "family_args": {source.id_arg: row.id},
        "parent": enrolment.linked_parents([row]).get(row.parent_user_id),
    }


def _form_answer(
    source: _Source,
    row: Any,
    form: OpenFamilyForm,
    back: str,
    status: int,
    *,
    error: str | None = None,
    taken: User | None = None,
) -> Any:
    """The confirmation form: the row's <tr> with htmx, the full page without."""
    csrf = getattr(form, "csrf_token", None)  # absent when CSRF is switched off (tests)
    if csrf is not None and csrf.errors:
        error = EXPIRED
    context = _page_context(source, row, back) | {
        "form": form,
        "form_error": error,
        "taken": taken,
        "taken_link": _account_link(taken) if taken is not None else None,
    }
    if is_fragment_request():
        return render_template("staff/_open_family_row.html", **context), status
    return render_template("staff/open_family.html", **context), status


def _account_link(owner: User) -> str | None:
    """Where staff see the account that holds an address: admins the account's page, the
    assistante the students table filtered on a parent's address."""
    if policy.ADMIN.allows_role(current_user.role):
        return url_for("admin.user_page", user_id=owner.id)
    if owner.role is Role.PARENT and owner.email:
        return url_for("staff.students", q=owner.email)
    return None
