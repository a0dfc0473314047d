"""ARIA pages: the student's chat (SSE), parents' and coaches' read-only views, staff statistics.

A question is posted once (quota charged, question stored); with htmx the page then opens an SSE
stream for its answer: small escaped text chunks, keep-alive pings, then a final event carrying
the stored answer rendered here. A reconnecting stream finds the stored answer and sends it
again. Without JavaScript the same form waits for the whole answer, then shows the conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from limits import parse
from markupsafe import escape

from nexus import policy
from nexus.extensions import db, limiter
from nexus.forms.aria import AskForm, FeedbackForm
from nexus.forms.base import Form
from nexus.models.aria import AriaConversation, AriaMessage
from nexus.models.family import Student
from nexus.richtext import render_markdown
from nexus.services import ServiceError, aria, family, knowledge, parse_id, scheduling
from nexus.services.aria import readers
from nexus.web import is_fragment_request, or_404

log = logging.getLogger(__name__)
bp = Blueprint("aria", __name__)

STUDENT = "/dashboard/eleve/aria"  # nginx streams everything under this prefix unbuffered
ASK_LIMIT = parse("6/minute")
PING_EVERY = 5.0
RATE_LIMITED = "Vous envoyez des questions très vite : patientez une minute avant la suivante."
CONSENT_SAVED = {
    True: "C'est noté : ARIA tiendra compte de votre niveau et des points à travailler de votre "
    "dernier test.",
    False: "C'est noté : ARIA ne tiendra pas compte de vos résultats de test.",
}


@bp.app_template_filter("markdown")
def markdown_filter(source: str, citations: list[dict[str, Any]] | None = None, anchor: str = "src") -> Any:
    return render_markdown(source, {int(c["n"]) for c in citations or []}, anchor)


# -- the student's chat --------------------------------------------------------------------------


def _student() -> Student:
    return or_404(family.student_of(current_user))


def _full_page_only() -> Response | None:
    """hx-boost swaps only <body>, and the SSE extension loads in <head>: load such pages fully."""
    if request.headers.get("HX-Boosted"):
        return Response("", 200, {"HX-Redirect": request.full_path.rstrip("?")})
    return None


def _ask_form(access: aria.Access, conversation: AriaConversation | None) -> AskForm:
    form = AskForm()
    form.subject.choices = [(s.value, s.label) for s in access.subjects]
    if conversation is not None:
        form.conversation.data = str(conversation.id)
    return form


def _chat(
    student: Student,
    conversation: AriaConversation | None,
    form: AskForm | None = None,
    status: int = 200,
    refused_feedback: dict[str, Any] | None = None,
) -> Any:
    access = aria.access_for(student)
    form = form or _ask_form(access, conversation)
    if not form.subject.choices:
        form.subject.choices = [(s.value, s.label) for s in access.subjects]
    messages = conversation.messages if conversation else []
    answered = aria.answered_ids(conversation) if conversation else set()
    pending = [m for m in messages if m.is_question and m.id not in answered]
    page = render_template(
        "aria/chat.html",
        consent=student.aria_uses_results,
        access=access,
        conversations=aria.conversations_of(student.id),
        conversation=conversation,
        messages=messages,
        pending_ids={m.id for m in pending},
        form=form,
        refused_feedback=refused_feedback,
    )
    return page, status


@bp.get(STUDENT)
@policy.access(policy.ELEVE)
def chat() -> Any:
    return _full_page_only() or _chat(_student(), None)


@bp.get(STUDENT + "/conversations/<int:conversation_id>")
@policy.access(policy.ELEVE)
def conversation(conversation_id: int) -> Any:
    if reload := _full_page_only():
        return reload
    student = _student()
    found = or_404(aria.conversation_of(student.id, conversation_id))
    return _chat(student, found)


@bp.post(STUDENT + "/consentement")
@policy.access(policy.ELEVE)
def consent() -> Any:
    """The notice's answer (and its later change): may ARIA use the latest test's results?"""
    student = _student()
    raw = request.form.get("conversation", "")
    conversation = None
    if raw:
        conversation = or_404(aria.conversation_of(student.id, parse_id(raw) or 0))
    if not Form().validate():  # the CSRF token
        flash("Le formulaire a expiré : rechargez la page.", "error")
        return _chat(student, conversation, status=400)
    try:
        used = aria.learner.set_consent(student, request.form.get("choix"))
    except ServiceError as err:
        flash(err.message, "error")
        return _chat(student, conversation, status=422)
    flash(CONSENT_SAVED[used], "success")
    if conversation is not None:
        return redirect(url_for("aria.conversation", conversation_id=conversation.id), code=303)
    return redirect(url_for("aria.chat"), code=303)


def _within_rate_limit() -> bool:
    """At most ASK_LIMIT questions per student; a store outage lets questions through."""
    if not limiter.enabled:
        return True
    try:
        return bool(limiter.limiter.hit(ASK_LIMIT, "aria-ask", str(current_user.id)))
    except Exception:
        log.warning("rate-limit store unavailable for ARIA", exc_info=True)
        return True


def _refused(student: Student, form: AskForm, conversation_id: int | None, message: str, status: int) -> Any:
    """The form again with its French message and the question as typed; nothing stored."""
    form.question.errors = [message]
    conversation = aria.conversation_of(student.id, conversation_id) if conversation_id else None
    if not is_fragment_request():
        return _chat(student, conversation, form, status)
    access = aria.access_for(student)
    form.subject.choices = [(s.value, s.label) for s in access.subjects]
    body = render_template("aria/_ask_form.html", form=form, access=access, conversation=conversation)
    return body, status, {"HX-Retarget": "#ask-form", "HX-Reswap": "outerHTML"}


@bp.post(STUDENT + "/questions")
@policy.access(policy.ELEVE)
def ask() -> Any:
    student = _student()
    form = AskForm()
    raw_id = form.conversation.data or ""
    conversation_id = parse_id(raw_id) if raw_id else None
    if raw_id and conversation_id is None:
        abort(404)
    if not form.validate():  # the CSRF token
        return _refused(student, form, conversation_id, "Le formulaire a expiré : rechargez la page.", 400)
    if not _within_rate_limit():
        return _refused(student, form, conversation_id, RATE_LIMITED, 429)
    try:
        question = aria.ask(student, form.question.data, form.subject.data, conversation_id)
    except LookupError:
        abort(404)
    except ServiceError as err:
        return _refused(student, form, conversation_id, err.message, 422)
    if is_fragment_request():
        return _asked(student, question)
    return _answered(question)  # without JavaScript: wait for the whole answer


def _answered(question: AriaMessage) -> Any:
    """The answer at once, then back to the conversation (or a note if another tab still writes it)."""
    conversation_id = question.conversation_id
    if aria.answer_once(question) is None:
        flash(
            "ARIA rédige encore cette réponse (dans un autre onglet ?) : rechargez la page dans un instant.",
            "info",
        )
    target = url_for("aria.conversation", conversation_id=conversation_id, _anchor="fin")
    return redirect(target, code=303)


def _asked(student: Student, question: AriaMessage) -> Any:
    """The question and its pending answer for the transcript, plus out-of-band updates."""
    conversation = question.conversation
    access = aria.access_for(student)
    body = render_template(
        "aria/_asked.html",
        m=question,
        access=access,
        conversation=conversation,
        conversations=aria.conversations_of(student.id),
        form=_ask_form(access, conversation),
    )
    push = url_for("aria.conversation", conversation_id=conversation.id)
    return body, 200, {"HX-Push-Url": push}


@bp.post(STUDENT + "/questions/<int:question_id>/reponse")
@policy.access(policy.ELEVE)
def answer(question_id: int) -> Any:
    """The answer of a pending question, at once (no JavaScript, or the stream never came)."""
    question = or_404(aria.question_of(_student().id, question_id))
    return _answered(question)


def sse(event: str, data: str) -> str:
    """One SSE event; each line of the payload gets its own `data:` field."""
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {event}\n{lines}\n"


@bp.get(STUDENT + "/questions/<int:question_id>/flux")
@policy.access(policy.ELEVE)
def stream(question_id: int) -> Any:
    student_id = _student().id
    question = or_404(aria.question_of(student_id, question_id))
    # A reconnection or a second tab gets the stored answer, or waits for the one being written.
    events = aria.stream_answer(question, ping_every=PING_EVERY)
    generate_csrf()  # the answer's forms need the token: set it now, the session is final once streaming
    # Give the pooled connection back while the model thinks. close(), not commit(): the signed-in
    # user must keep its loaded attributes (the templates read them after this request's teardown).
    db.session.close()
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    body = stream_with_context(_events(events, student_id))
    return Response(body, mimetype="text/event-stream", headers=headers)


def _events(events: Iterator[Any], student_id: int) -> Iterator[str]:
    yield ": ARIA\nretry: 3000\n\n"  # first bytes at once, so proxies and the browser open the stream
    try:
        for event in events:
            if isinstance(event, aria.Token):
                yield sse("token", str(escape(event.text)))
            elif isinstance(event, aria.Final):
                yield sse("done", _rendered_answer(event.message_id, student_id))
            elif isinstance(event, aria.Busy):
                yield sse("done", render_template("aria/_answer_busy.html"))
            else:
                yield ": ping\n\n"
    except GeneratorExit:
        raise
    except Exception:
        log.exception("aria stream failed")
        # The failed step rolled its own changes back; a failed read may leave the session unusable,
        # and the message's template reads (the unread count): start it afresh, as before streaming.
        db.session.close()
        yield sse("done", render_template("aria/_stream_error.html"))
    finally:
        if hasattr(events, "close"):
            events.close()  # the student left: stop the upstream call now


def _rendered_answer(message_id: int, student_id: int) -> str:
    """The stored answer, and the day's counter out of band (a fallback answer gave it back)."""
    message = db.session.get(AriaMessage, message_id)
    answer = render_template("aria/_message.html", m=message, readonly=False)
    student = db.session.get(Student, student_id)
    access = aria.access_for(student) if student else None
    return answer + (render_template("aria/_quota.html", access=access, oob=True) if access else "")


def _save_feedback(message: AriaMessage, form: FeedbackForm) -> str | None:
    """Store the opinion; returns the French error instead when there is one."""
    if not form.validate():
        return (
            form.comment.errors[0] if form.comment.errors else "Le formulaire a expiré : rechargez la page."
        )
    rating = {"1": 1, "-1": -1}.get(request.form.get("rating", ""), 0)
    try:
        aria.give_feedback(message, rating, form.comment.data)
    except ServiceError as err:
        return err.message
    return None


@bp.post(STUDENT + "/messages/<int:message_id>/avis")
@policy.access(policy.ELEVE)
def feedback(message_id: int) -> Any:
    student = _student()
    message = or_404(aria.answer_of(student.id, message_id))
    form = FeedbackForm()
    error = _save_feedback(message, form)
    if is_fragment_request():
        message = aria.answer_of(student.id, message_id)
        typed = form.comment.data if error else None  # kept in the box, to shorten it
        html = render_template("aria/_feedback.html", m=message, error=error, saved=not error, typed=typed)
        return html, 422 if error else 200
    if error:  # without JavaScript: the conversation again, the message next to the box, text kept
        refused = {"id": message_id, "error": error, "typed": form.comment.data}
        conversation = aria.conversation_of(student.id, message.conversation_id)
        return _chat(student, conversation, status=422, refused_feedback=refused)
    flash("Merci pour votre avis : il aide l'équipe à améliorer ARIA.", "success")
    return redirect(url_for("aria.conversation", conversation_id=message.conversation_id), code=303)


# -- parents and coaches: read-only ------------------------------------------------------------


def _reader_page(students: list[Student], base: str) -> Any:
    rows = [(s, readers.listed(aria.conversations_of(s.id))) for s in students]
    return render_template("aria/readers.html", rows=rows, base=base)


def _transcript(student: Student, conversation_id: int, back: str) -> Any:
    found = or_404(readers.transcript(aria.conversation_of(student.id, conversation_id)))
    return render_template("aria/transcript.html", student=student, conversation=found, back=back)


@bp.get("/dashboard/parent/aria")
@policy.access(policy.PARENT)
def parent_index() -> Any:
    return _reader_page(family.children(current_user), "parent")


@bp.get("/dashboard/parent/aria/<int:student_id>/<int:conversation_id>")
@policy.access(policy.PARENT)
def parent_conversation(student_id: int, conversation_id: int) -> Any:
    student = or_404(family.child_of(current_user, student_id))
    return _transcript(student, conversation_id, url_for("aria.parent_index"))


def _coach_id() -> int:
    profile = or_404(scheduling.coach_profile_of(current_user))
    return profile.id


@bp.get("/dashboard/coach/aria")
@policy.access(policy.COACH)
def coach_index() -> Any:
    """Only the subjects of a held or upcoming session with each student (a booking cancelled at
    once opens nothing)."""
    rows = [(s, readers.listed(found)) for s, found in aria.coach_readings(_coach_id())]
    return render_template("aria/readers.html", rows=rows, base="coach")


@bp.get("/dashboard/coach/aria/<int:student_id>/<int:conversation_id>")
@policy.access(policy.COACH)
def coach_conversation(student_id: int, conversation_id: int) -> Any:
    found = or_404(aria.coach_transcript(_coach_id(), student_id, conversation_id))
    student, conversation = found
    readable = or_404(readers.transcript(conversation))
    back = url_for("aria.coach_index")
    return render_template("aria/transcript.html", student=student, conversation=readable, back=back)


# -- staff ----------------------------------------------------------------------------------------


@bp.get("/dashboard/admin/aria")
@policy.access(policy.ADMIN)
def stats() -> Any:
    return render_template(
        "aria/stats.html",
        subjects=aria.stats_by_subject(),
        disliked=aria.disliked(),
        coverage=knowledge.coverage(),
    )
