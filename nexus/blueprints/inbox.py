"""The staff inbox (every thread with families), answering the contact form and bilan requests,
message reports, and every user's e-mail preferences."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import fr, policy, rows
from nexus.forms.inbox import PreferencesForm, ReplyForm, ReportForm
from nexus.models.identity import User
from nexus.models.messaging import Message, MessageThread, ThreadStatus
from nexus.services import ServiceError, parse_id, preferences
from nexus.services.messaging import answers, inbox, safeguarding, threads
from nexus.web import is_fragment_request, or_404, page_arg

bp = Blueprint("inbox", __name__)


# -- e-mail preferences (every signed-in user) ---------------------------------------------------


def _preferences_form() -> PreferencesForm:
    form = PreferencesForm()
    events = preferences.events_for(current_user.role)
    form.events.choices = [(event.code, event.label) for event in events if not event.locked]
    return form


@bp.route("/compte/notifications", methods=["GET", "POST"])
@policy.access(policy.SIGNED_IN)
def preferences_page() -> Any:
    """A plain form of checkboxes: what reaches me by e-mail (the bell always shows everything)."""
    form = _preferences_form()
    user = current_user._get_current_object()
    if request.method == "POST":
        if form.validate():
            preferences.save(user, form.events.data or [])
            flash("Préférences enregistrées.", "success")
            return redirect(url_for("inbox.preferences_page"), code=303)
        chosen = {code: code in (form.events.data or []) for code in preferences.BY_CODE}
        return _preferences(form, chosen), 422
    return _preferences(form, preferences.choices_of(user))


def _preferences(form: PreferencesForm, chosen: dict[str, bool]) -> str:
    return render_template(
        "preferences/index.html",
        form=form,
        events=preferences.events_for(current_user.role),
        chosen=chosen,
    )


# -- the staff inbox -------------------------------------------------------------------------------

INBOX, REPORTS = "inbox.index", "inbox.reports"
# The button that moves a thread to each status, and whether it asks first.
STATUS_ACTIONS = {ThreadStatus.HANDLED: ("Marquer traitée", True), ThreadStatus.OPEN: ("Rouvrir", False)}
EXPIRED = "Formulaire expiré : rechargez la page."


def _staff_only() -> User:
    """The signed-in staff member; anyone else gets 404 (the inbox does not exist for them)."""
    if not policy.is_staff(current_user):
        abort(404)
    return current_user._get_current_object()


def _query() -> str:
    return request.args.get("q", "").strip()[:100]


def _choice(name: str, options: dict[str, str], default: str) -> str:
    value = request.args.get(name, default)
    return value if value in options else default


def render_inbox() -> Any:
    """The inbox page (GET /messages for staff, and /messages/boite), or its table for htmx."""
    user = _staff_only()
    filter_key = _choice("filtre", inbox.FILTERS, "a-traiter")
    context = {
        "page": inbox.search(user, filter_key, _query(), page_arg()),
        "filters": inbox.FILTERS,
        "filter_key": filter_key,
        "q": _query(),
        "back_url": request.full_path.rstrip("?"),
        "colleagues": inbox.colleagues(),
        "status_actions": STATUS_ACTIONS,
        "nav_current": "messages.index" if "messages.index" in current_app.view_functions else INBOX,
    }
    if is_fragment_request():
        return render_template("inbox/_table.html", **context)
    return render_template(
        "inbox/index.html",
        open_count=inbox.open_count(),
        open_reports=safeguarding.open_reports_count(),
        **context,
    )


@bp.get("/messages/boite")
@policy.access(policy.SIGNED_IN)
def index() -> Any:
    return render_inbox()


def _list_endpoint() -> str:
    """Where a plain POST returns: /messages (staff's view of it) or /messages/boite."""
    sent = request.form.get("retour", "")
    if sent.startswith(url_for(INBOX)) or "messages.index" not in current_app.view_functions:
        return INBOX
    return "messages.index"


def _row(thread: MessageThread, notice: str, status: int = rows.DONE) -> Any:
    user = current_user._get_current_object()
    back = _list_endpoint()
    return rows.answer(
        "inbox/_row.html",
        notice,
        back=back,
        status=status,
        row=inbox.rows_for(user, [thread])[0],
        back_url=rows.back_url(back),
        colleagues=inbox.colleagues(),
        status_actions=STATUS_ACTIONS,
        oob_open_count=inbox.open_count(),
    )


def _expected_assignee() -> tuple[bool, int | None]:
    """(valid, id) of the assignee the person saw: "" is nobody."""
    raw = request.form.get("attendu", "")
    if raw == "":
        return True, None
    found = parse_id(raw)
    return found is not None, found


def _assignment(thread_id: int, assignee_id: int | None, ask: bool) -> Any:
    user = _staff_only()
    thread = or_404(inbox.get_thread(thread_id))
    valid, expected = _expected_assignee()
    if not valid:
        return _row(thread, EXPIRED, rows.REFUSED)
    taking_over = thread.assignee_id not in (None, assignee_id) and thread.assignee_id == expected
    if ask and taking_over and not rows.confirmed():
        return rows.confirm_page(
            "Attribuer cette conversation à quelqu'un d'autre ?",
            request.path,
            button="Oui, l'attribuer",
            back=rows.back_url(_list_endpoint()),
            facts={"Conversation": thread.subject, "Attribuée à": inbox.assignee_name(thread) or "—"},
            fields={"attendu": str(expected or ""), "assignee": str(assignee_id or "")},
        )
    try:
        change = or_404(inbox.assign(thread.id, user, assignee_id, expected))
    except ServiceError as err:
        return _row(inbox.get_thread(thread_id) or thread, err.message, rows.REFUSED)
    now_name = inbox.assignee_name(change.thread) or "personne"
    if change.changed:
        return _row(change.thread, f"Attribuée à {now_name}.")
    if change.thread.assignee_id == assignee_id:
        return _row(
            change.thread, f"{rows.ALREADY_DONE} : cette conversation est déjà attribuée à {now_name}."
        )
    notice = f"Quelqu'un a changé l'attribution entre-temps : cette conversation est attribuée à {now_name}."
    return _row(change.thread, notice, rows.CONFLICT)


@bp.post("/messages/boite/<int:thread_id>/prendre")
@policy.access(policy.SIGNED_IN)
def take(thread_id: int) -> Any:
    """ "Je m'en occupe": the thread is mine, unless a colleague took it meanwhile (409)."""
    return _assignment(thread_id, _staff_only().id, ask=True)


@bp.post("/messages/boite/<int:thread_id>/attribuer")
@policy.access(policy.SIGNED_IN)
def assign(thread_id: int) -> Any:
    _staff_only()
    return _assignment(thread_id, parse_id(request.form.get("assignee")), ask=True)


def _thread_status(name: str) -> ThreadStatus | None:
    value = request.form.get(name, "")
    return ThreadStatus(value) if value in ThreadStatus.__members__ else None


@bp.post("/messages/boite/<int:thread_id>/statut")
@policy.access(policy.SIGNED_IN)
def status(thread_id: int) -> Any:
    """Mark handled (asks first: it leaves the "à traiter" list) or reopen."""
    user = _staff_only()
    thread = or_404(inbox.get_thread(thread_id))
    expected, target = _thread_status("attendu"), _thread_status("statut")
    if expected is None or target is None or expected is target:
        return _row(thread, EXPIRED, rows.REFUSED)
    if target is ThreadStatus.HANDLED and thread.status is expected and not rows.confirmed():
        return rows.confirm_page(
            "Marquer cette conversation comme traitée ?",
            url_for("inbox.status", thread_id=thread.id),
            button="Oui, marquer traitée",
            back=rows.back_url(_list_endpoint()),
            facts={"Conversation": thread.subject, "Dernier message": fr.date_time(thread.last_message_at)},
            warning="Elle quitte la liste « À traiter » ; un nouveau message de la famille la rouvre.",
            fields={"attendu": expected.value, "statut": target.value},
        )
    change = or_404(inbox.set_status(thread.id, user, expected, target))
    notice, code = rows.status_notice(change.changed, change.thread.status, target, "cette conversation")
    return _row(change.thread, notice, code)


# -- answering the contact form and bilan requests ---------------------------------------------------


def _answer_page(kind: str, row_id: int) -> Any:
    """GET: the family's words and the reply form (a family with an account already answered:
    their thread). POST: the reply, then the thread (account) or this page again (e-mail)."""
    user = _staff_only()
    source = or_404(answers.contact_source(row_id) if kind == "contact" else answers.bilan_source(row_id))
    if request.method == "GET" and source.thread is not None and not source.thread.external_email:
        return redirect(url_for("messages.thread", thread_id=source.thread.id), code=303)
    form = ReplyForm(formdata=None) if request.method == "GET" else ReplyForm()
    if request.method == "GET":
        form.subject.data = source.subject
    if request.method == "POST":
        if source.thread is not None and not form.subject.data:
            form.subject.data = source.thread.subject  # the thread keeps its subject
        if form.validate():
            try:
                done = or_404(answers.answer(kind, row_id, user, form.subject.data, form.body.data))
            except ServiceError as err:
                getattr(form, err.field or "body").errors = [err.message]
            else:
                if done.thread.external_email:
                    flash(f"Réponse envoyée par e-mail à {done.thread.external_email}.", "success")
                    return redirect(request.path, code=303)
                flash("Réponse envoyée : la famille la lit dans sa messagerie.", "success")
                return redirect(url_for("messages.thread", thread_id=done.thread.id), code=303)
        return _render_answer(source, form), 422
    return _render_answer(source, form)


def _render_answer(source: answers.Source, form: ReplyForm) -> str:
    history = threads.messages_of(source.thread.id) if source.thread is not None else []
    return render_template(
        "inbox/answer.html",
        source=source,
        form=form,
        account=source.account,
        history=history,
        authors=threads.authors_of(history),
        back=url_for("staff.contacts" if source.kind == "contact" else "staff.bilans"),
        nav_current="staff.contacts" if source.kind == "contact" else "staff.bilans",
    )


@bp.route("/messages/boite/contact/<int:message_id>/repondre", methods=["GET", "POST"])
@policy.access(policy.SIGNED_IN)
def answer_contact(message_id: int) -> Any:
    return _answer_page("contact", message_id)


@bp.route("/messages/boite/bilan/<int:bilan_id>/repondre", methods=["GET", "POST"])
@policy.access(policy.SIGNED_IN)
def answer_bilan(bilan_id: int) -> Any:
    return _answer_page("bilan", bilan_id)


# -- safeguarding: reporting a message, the staff's list of reports ----------------------------------


@bp.route("/messages/signaler/<int:message_id>", methods=["GET", "POST"])
@policy.access(policy.SIGNED_IN)
def report(message_id: int) -> Any:
    """Any participant reports a message to the staff (a reason, once per message)."""
    user = current_user._get_current_object()
    message = or_404(safeguarding.reportable(user, message_id))
    form = ReportForm(formdata=None) if request.method == "GET" else ReportForm()
    if request.method == "POST":
        if form.validate():
            try:
                done = or_404(safeguarding.report(user, message.id, form.reason.data))
            except ServiceError as err:
                form.reason.errors = [err.message]
            else:
                if done.created:
                    flash("Message signalé à l'équipe. Merci : nous regardons au plus vite.", "success")
                else:
                    flash("Vous aviez déjà signalé ce message : l'équipe l'a bien reçu.", "info")
                return redirect(
                    url_for("messages.thread", thread_id=message.thread_id, _anchor=f"m{message.id}"), 303
                )
        return _render_report(message, form), 422
    return _render_report(message, form)


def _render_report(message: Message, form: ReportForm) -> str:
    return render_template(
        "inbox/report.html",
        message=message,
        author=threads.authors_of([message]).get(message.author_id or 0, "Compte supprimé"),
        already=message.id in safeguarding.reported_messages(current_user.id, message.thread_id),
        form=form,
        nav_current="messages.index",
    )


@bp.get("/messages/boite/signalements")
@policy.access(policy.SIGNED_IN)
def reports() -> Any:
    _staff_only()
    filter_key = _choice("filtre", safeguarding.REPORT_FILTERS, "a-traiter")
    context = {
        "page": safeguarding.list_reports(filter_key, page_arg()),
        "filters": safeguarding.REPORT_FILTERS,
        "filter_key": filter_key,
        "q": "",
        "back_url": request.full_path.rstrip("?"),
        "nav_current": "messages.index" if "messages.index" in current_app.view_functions else INBOX,
    }
    if is_fragment_request():
        return render_template("inbox/_reports_table.html", **context)
    return render_template("inbox/reports.html", open_reports=safeguarding.open_reports_count(), **context)


@bp.post("/messages/boite/signalements/<int:report_id>/traite")
@policy.access(policy.SIGNED_IN)
def report_handled(report_id: int) -> Any:
    user = _staff_only()
    found = or_404(safeguarding.get_report(report_id))
    if found.report.handled_at is None and not rows.confirmed():
        return rows.confirm_page(
            "Marquer ce signalement comme traité ?",
            url_for("inbox.report_handled", report_id=report_id),
            button="Oui, marquer traité",
            back=rows.back_url(REPORTS),
            facts={
                "Conversation": found.thread.subject,
                "Signalé par": found.reporter,
                "Raison": found.report.reason,
            },
            warning="Le signalement quitte la liste « À traiter ». La conversation reste lisible.",
        )
    result = or_404(safeguarding.handle_report(report_id, user))
    notice = (
        "Signalement traité."
        if result.changed
        else f"{rows.ALREADY_DONE} : ce signalement était déjà traité."
    )
    return rows.answer(
        "inbox/_report_row.html",
        notice,
        back=REPORTS,
        r=or_404(safeguarding.get_report(report_id)),
        back_url=rows.back_url(REPORTS),
    )
