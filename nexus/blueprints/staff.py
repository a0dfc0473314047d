"""The assistante's tables: contact messages, bilan requests, students. Rows act in place.

An inline action answers htmx with the new <tr> (plus out-of-band counters); without
JavaScript the same form POST redirects (303) back to the list with a flash message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import EmailField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional

from nexus import policy
from nexus.extensions import db
from nexus.forms import NAME, ActivationForm, ChildrenMixin, Form, Phone, children_list
from nexus.models.common import Role
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.notifications import ContactMessage
from nexus.services import ServiceError, diagnostics, enrolment, identity, staff
from nexus.services.family import ChildDraft, ParentDraft
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
def _table_helpers() -> dict[str, Any]:
    return {"topic_label": staff.topic_label, "status_actions": STATUS_ACTIONS}


def _choice(name: str, options: dict[str, str], default: str) -> str:
    value = request.args.get(name, default)
    return value if value in options else default


def _query() -> str:
    return request.args.get("q", "").strip()[:100]


def _back_url(endpoint: str, sent: str | None = None) -> str:
    """Where a plain POST returns: the list it came from (same filters), never elsewhere."""
    base = url_for(endpoint)
    target = request.form.get("retour", "") if sent is None else sent
    if target == base or (target.startswith(base + "?") and "\\" not in target and target.isprintable()):
        return target
    return base


def _done(endpoint: str, message: str, category: str) -> Any:
    flash(message, category)
    return redirect(_back_url(endpoint), code=303)


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
    db.session.commit()
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
        back_url=_back_url("staff.contacts"),
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
        db.session.rollback()
        return _bilan_response(diagnostics.get_bilan(bilan_id) or bilan, err.message, 422)
    if change is None:
        abort(404)
    db.session.commit()
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
        back_url=_back_url("staff.bilans"),
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
    """Validate, send and commit; the French reason for a refusal, or None."""
    if not form.validate():
        return next(iter(form.email.errors), "Formulaire expiré : rechargez la page.")
    try:
        identity.send_activation(student, form.email.data, current_user)
    except ServiceError as err:
        db.session.rollback()
        return err.message
    db.session.commit()
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
        "back_url": _back_url("staff.students"),
    }
    if is_fragment_request():
        return render_template("staff/_student_row.html", **context), status
    # Without JavaScript the error is shown next to the field, on a page of its own.
    return render_template("staff/eleve_activation.html", **context), status


# -- "Ouvrir l'espace famille": a family space from a bilan request or a contact message --------
#
# Status rule (GET and POST on /<bilans|contacts>/<id>/espace-famille):
# - unknown request: 404;
# - GET: the confirmation page (the form prefilled from the request's answers, editable); with
#   htmx the same form as a <tr> that replaces the row;
# - POST, opened now or already opened (a second click, a retry, a colleague first): with htmx
#   200 and the new row with its notice; without JavaScript 303 back to the list with a flash;
# - POST refused (a field, an address already in use, a closed request): 422 and the form again
#   with the errors next to the fields (the <tr> with htmx, the full page without);
# - POST "Ajouter un autre enfant" / "Retirer": 200 and the form again, nothing saved.

OPENED = "Espace famille ouvert : lien d'activation envoyé à {email}."
ALREADY_OPEN = "Déjà fait : l'espace de cette famille est ouvert."
EXPIRED = "Formulaire expiré : rechargez la page."


class OpenFamilyForm(ChildrenMixin, Form):
    """What will be created, from the request's answers, as staff confirm or correct it."""

    first_name = StringField("Prénom du parent", validators=[DataRequired("Indiquez le prénom."), NAME])
    last_name = StringField("Nom du parent", validators=[DataRequired("Indiquez le nom."), NAME])
    email = EmailField(
        "E-mail du parent",
        validators=[
            DataRequired("Indiquez l'adresse e-mail."),
            Email("Adresse e-mail invalide.", check_deliverability=False),
            Length(max=254, message="254 caractères au plus."),
        ],
    )
    phone = TelField("Téléphone (facultatif)", validators=[Optional(), Phone()])
    children = children_list(minimum=1)

    def parent_draft(self) -> ParentDraft:
        return ParentDraft(
            first_name=(self.first_name.data or "").strip(),
            last_name=(self.last_name.data or "").strip(),
            email=(self.email.data or "").strip(),
            phone=(self.phone.data or "").strip() or None,
        )


class ContactFamilyForm(OpenFamilyForm):
    """From a contact message nothing is known of the children: a family may start without."""

    min_children = 0
    children = children_list(minimum=0)


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
    "staff.bilan_family",
    "staff.bilan_row",
    "bilan_id",
    diagnostics.get_bilan,
    OpenFamilyForm,
    _from_bilan,
    enrolment.open_from_bilan,
)
CONTACT_SOURCE = _Source(
    "contact",
    "staff.contacts",
    "staff.contact_family",
    "staff.contact_row",
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
    row = source.load(row_id)
    if row is None:
        abort(404)
    back = _list_url(source)
    if not is_fragment_request():
        return redirect(back, code=303)
    return _source_row(source, row, back)


def _list_url(source: _Source) -> str:
    """The list the staff member came from, with its filters ("retour", or htmx's current URL)."""
    if request.method == "POST":
        return _back_url(source.list_endpoint)
    sent = request.args.get("retour", "")
    if not sent and is_fragment_request():
        try:
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
        except ValueError:
            current = urlsplit("")
        sent = current.path + (f"?{current.query}" if current.query else "")
    return _back_url(source.list_endpoint, sent)


def _open_family(source: _Source, row_id: int) -> Any:
    row = source.load(row_id)
    if row is None:
        abort(404)
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
    """Open the family, commit, answer; a refusal shows the form again with its reason."""
    try:
        actor = current_user._get_current_object()  # the User row, not the proxy
        opened = source.opener(row_id, form.parent_draft(), form.child_drafts(), actor)
    except enrolment.EmailTaken as err:
        db.session.rollback()
        form.email.errors = [enrolment.taken_message(err.owner)]
        return _form_answer(source, _reload(source, row_id), form, back, 422, taken=err.owner)
    except enrolment.ChildEmailRefused as err:
        db.session.rollback()
        form.children.entries[err.index].form.email.errors = [err.message]
        return _form_answer(source, _reload(source, row_id), form, back, 422)
    except ServiceError as err:
        db.session.rollback()
        return _form_answer(source, _reload(source, row_id), form, back, 422, error=err.message)
    if opened is None:
        abort(404)
    db.session.commit()
    if opened.created:
        notice = OPENED.format(email=opened.parent.email)
        return _settled(source, _reload(source, row_id), back, notice, ok=True)
    return _settled(source, _reload(source, row_id), back, ALREADY_OPEN, ok=True, category="info")


def _reload(source: _Source, row_id: int) -> Any:
    row = source.load(row_id)
    if row is None:
        abort(404)
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
    context |= {"m": row, "oob_open_count": staff.open_contacts_count()}
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
    if current_user.role is Role.ADMIN:
        # The accounts page of issue 9 (admin blueprint); built by path, it lands with it.
        return f"/dashboard/admin/utilisateurs/{owner.id}"
    if owner.role is Role.PARENT and owner.email:
        return url_for("staff.students", q=owner.email)
    return None
