"""Messages: my threads, a thread with its reply form, new messages as they come, attachments.

Every page works without JavaScript (plain forms, 303 back); htmx polls a small fragment for the
messages newer than the last one shown. A thread, its fragment and its files answer 404 to anyone
who may not read it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.blueprints import inbox
from nexus.forms.messaging import NewThreadForm, ReplyForm
from nexus.models.messaging import MessageThread
from nexus.services import ServiceError, parse_id
from nexus.services.messaging import access, answers, attachments, safeguarding, threads
from nexus.services.messaging.attachments import Upload
from nexus.web import download_response, is_fragment_request, or_404, page_arg

bp = Blueprint("messages", __name__, url_prefix="/messages")


def _upload(form: ReplyForm) -> Upload | None:
    data = form.file.data
    if data is None or not getattr(data, "filename", ""):
        return None
    return Upload(data.filename, data.read())


def _new_form() -> NewThreadForm:
    form = NewThreadForm()
    form.to.choices = [("", "Choisissez…")] + [(c.key, c.label) for c in access.recipients_for(current_user)]
    if request.method == "GET" and request.args.get("a"):
        form.to.data = request.args["a"][:80]
    return form


def _index(form: NewThreadForm, status: int = 200) -> Any:
    page = threads.threads_of(current_user, page_arg())
    return render_template("messages/index.html", page=page, form=form), status


@bp.get("")
@policy.access(policy.SIGNED_IN)
def index() -> Any:
    if policy.is_staff(current_user):
        # The staff inbox (nexus.blueprints.inbox) takes this branch over: every thread with families.
        return inbox.render_inbox()
    return _index(_new_form())


def _new_page(form: NewThreadForm, status: int = 200) -> Any:
    return render_template("messages/new.html", form=form, nav_current="messages.index"), status


@bp.get("/nouveau")
@policy.access(policy.SIGNED_IN)
def new() -> Any:
    """The "Nouveau message" form alone (staff, whose /messages is the inbox; links from other
    pages with ?a= choosing the recipient, e.g. a coach's student page)."""
    return _new_page(_new_form())


@bp.post("")
@policy.access(policy.SIGNED_IN)
def create() -> Any:
    form = _new_form()
    if not form.validate():
        return _new_page(form, 422)
    try:
        thread = threads.start(current_user, form.to.data, form.subject.data, form.body.data, _upload(form))
    except ServiceError as err:
        getattr(form, err.field or "body").errors = [err.message]
        return _new_page(form, 422)
    flash("Message envoyé.", "success")
    return redirect(url_for("messages.thread", thread_id=thread.id), code=303)


def _thread_page(thread: MessageThread, form: ReplyForm, status: int = 200) -> Any:
    """The thread; shown on a GET, it is read (a refused reply changes nothing, not even that)."""
    user = current_user._get_current_object()
    messages = threads.messages_of(thread.id)
    me = access.participant(user.id, thread.id)
    newest = messages[-1].created_at if messages else None
    if status == 200 and newest and (me is None or me.last_read_at is None or me.last_read_at < newest):
        threads.mark_read(user, thread, newest)
        me = access.participant(user.id, thread.id)
    if status == 200 and policy.is_staff(user):  # safeguarding: a read by staff not a party, audited daily
        safeguarding.staff_read(user, thread.id)
    return render_template(
        "messages/thread.html",
        thread=thread,
        messages=messages,
        authors=threads.authors_of(messages),
        people=threads.people_of([thread.id], exclude=user.id).get(thread.id, ""),
        about=threads.student_name(thread.student_id),
        can_reply=access.can_reply(user, thread, me),
        observer=me is not None and me.observer,
        last_id=messages[-1].id if messages else 0,
        form=form,
        nav_current="messages.index",
    ), status


@bp.get("/<int:thread_id>")
@policy.access(policy.SIGNED_IN)
def thread(thread_id: int) -> Any:
    found = or_404(access.visible_thread(current_user, thread_id))
    return _thread_page(found, ReplyForm(formdata=None))


@bp.post("/<int:thread_id>")
@policy.access(policy.SIGNED_IN)
def reply(thread_id: int) -> Any:
    found = or_404(access.visible_thread(current_user, thread_id))
    form = ReplyForm()
    if not form.validate():
        return _thread_page(found, form, 422)
    try:
        answers.reply(current_user, found.id, form.body.data, _upload(form))  # e-mails an external family
    except ServiceError as err:
        getattr(form, err.field or "body").errors = [err.message]
        return _thread_page(found, form, 422)
    except LookupError:
        abort(404)
    return redirect(url_for("messages.thread", thread_id=found.id, _anchor="fin"), code=303)


@bp.get("/<int:thread_id>/nouveaux")
@policy.access(policy.SIGNED_IN)
def poll(thread_id: int) -> Any:
    """The messages after ?apres= (htmx polls it): 204 when there is none."""
    found = or_404(access.visible_thread(current_user, thread_id))
    if not is_fragment_request():
        return redirect(url_for("messages.thread", thread_id=found.id), code=303)
    after = parse_id(request.args.get("apres")) or 0
    messages = threads.messages_of(found.id, after)
    if not messages:
        return "", 204
    threads.mark_read(current_user._get_current_object(), found, messages[-1].created_at)
    return render_template(
        "messages/_poll.html",
        thread=found,
        messages=messages,
        authors=threads.authors_of(messages),
        last_id=messages[-1].id,
        oob=True,
    )


@bp.get("/pieces/<int:attachment_id>")
@policy.access(policy.SIGNED_IN)
def attachment(attachment_id: int) -> Any:
    found = or_404(attachments.visible_attachment(current_user, attachment_id))
    path = or_404(attachments.stored_path(found))
    return download_response(path, found.mime_type, found.original_name)
