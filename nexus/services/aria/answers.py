"""ARIA's answers: gathered once (retrieval, prompt), then streamed or whole, stored once; the
course passages themselves when there is no model, when it fails or refuses the prompt."""

from __future__ import annotations

import logging
import re
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from nexus.extensions import db
from nexus.models.aria import AnswerMode, AriaMessage, MessageRole
from nexus.models.common import Grade
from nexus.models.family import Student
from nexus.services import command, knowledge, llm
from nexus.services.aria import alerts, claims, safety
from nexus.services.aria.conversations import answer_to
from nexus.services.aria.learner import profile, prompt_text
from nexus.services.aria.prompts import (
    CHARS_PER_TOKEN,
    fit_prompt,
    history,
    prompt_budget,
    prompt_tokens,
    source_label,
)
from nexus.services.knowledge import Passage
from nexus.services.llm import PING, Ping
from nexus.services.progress import events as progress_events
from nexus.services.vectorstore import Scope

log = logging.getLogger(__name__)

PASSAGES = 4
WAIT_POLL = 0.25  # seconds between two looks at a question another stream is answering
NO_JS_WAIT = 60.0  # how long a plain POST waits for an answer another stream is writing
STREAM_WAIT = claims.CLAIM_LEASE.total_seconds()  # and a second stream (it sends pings meanwhile)


# -- answers --------------------------------------------------------------------------------------------


@dataclass
class AnswerPlan:
    """Everything needed to answer, gathered before streaming (no database use while streaming)."""

    question_id: int
    conversation_id: int
    passages: list[Passage]
    messages: list[dict[str, str]]
    conf: llm.Settings | None
    vector_store: str | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    claimed_at: datetime | None = None  # this writer's claim on the answer (released on failure)
    student_id: int | None = None
    verdict: safety.Verdict | None = None  # flagged by the safety check: a caring answer, no model


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Final:
    message_id: int


@dataclass(frozen=True)
class Busy:
    """Another stream is still writing this answer, for longer than this one waited."""


Event = Token | Final | Busy | Ping


def prepare(question: AriaMessage, claimed_at: datetime | None = None) -> AnswerPlan:
    """The safety check first (a flagged question gets no retrieval and no model), then the
    passages (favouring the student's weak skills, with consent) and the prompt."""
    conversation = question.conversation
    conf = llm.settings()
    verdict = safety.check(question.content, conf)
    if verdict is not None:
        log.info("aria: question %d flagged %s by %s", question.id, verdict.category.value, verdict.source)
        return AnswerPlan(
            question_id=question.id,
            conversation_id=conversation.id,
            passages=[],
            messages=[],
            conf=conf,
            claimed_at=claimed_at,
            student_id=conversation.student_id,
            verdict=verdict,
        )
    student = db.session.get(Student, conversation.student_id)
    grade = student.grade if student else Grade.TERMINALE
    known = profile(student, conversation.subject) if student else None
    scope = Scope(conversation.subject.value, knowledge.levels_for(grade))
    found = knowledge.search(question.content, scope, k=PASSAGES, focus=known.terms if known else ())
    past = history(conversation.id, question.id)
    budget = prompt_budget(conf)
    about = prompt_text(known, conversation.subject) if known else None
    prompt = fit_prompt(question.content, conversation.subject, grade, found.passages, past, budget, about)
    kept_history = len(prompt.messages) - 3  # the rules, the passages and the question stay
    if conf and (kept_history < len(past) or len(prompt.passages) < len(found.passages)):
        log.info(
            "aria: prompt of question %d trimmed to fit %d tokens: history %d/%d, passages %d/%d",
            question.id,
            budget,
            kept_history,
            len(past),
            len(prompt.passages),
            len(found.passages),
        )
    passages = prompt.passages if conf else found.passages  # offline answers quote them all
    return AnswerPlan(
        question_id=question.id,
        conversation_id=conversation.id,
        passages=passages,
        messages=prompt.messages,
        conf=conf,
        vector_store=found.vector_store,
        citations=[p.citation(n) for n, p in enumerate(passages, start=1)],
        claimed_at=claimed_at,
        student_id=conversation.student_id,
    )


def claim_and_prepare(question: AriaMessage) -> AnswerPlan | None:
    """The plan of an answer this caller now alone writes, or None (answered, or being written)."""
    question_id = question.id
    claimed_at = claims.claim_answer(question_id)
    if claimed_at is None:
        return None
    try:
        return prepare(question, claimed_at)
    except BaseException:
        claims.release_claim(question_id, claimed_at)
        raise


def stream_answer(question: AriaMessage, ping_every: float = 5.0) -> Iterator[Event]:
    """The events of a question's stream: its stored answer, the answer written now, or (when
    another stream is writing it) that answer once stored. Retrieval and the model run once."""
    stored = answer_to(question.id)
    if stored is not None:
        return iter([Final(stored.id)])
    plan = claim_and_prepare(question)
    if plan is None:
        return await_answer(question.id, ping_every)
    return answer_events(plan, ping_every)


def await_answer(question_id: int, ping_every: float = 5.0, wait: float | None = None) -> Iterator[Event]:
    """Pings until another writer stores the answer, then it; takes over if that writer gave up."""
    wait = STREAM_WAIT if wait is None else wait
    started = last_ping = clock.monotonic()
    while clock.monotonic() - started < wait:
        stored = answer_to(question_id)
        if stored is not None:
            yield Final(stored.id)
            return
        question = db.session.get(AriaMessage, question_id)
        plan = claim_and_prepare(question) if question is not None else None
        if plan is not None:
            yield from answer_events(plan, ping_every)
            return
        db.session.close()  # hold no pooled connection while waiting
        clock.sleep(WAIT_POLL)
        if clock.monotonic() - last_ping >= ping_every:
            last_ping = clock.monotonic()
            yield PING
    yield Busy()


def answer_once(question: AriaMessage, wait: float | None = None) -> AriaMessage | None:
    """The whole answer at once (no JavaScript): stored, written now, or waited for; None when
    another stream is still writing it after `wait` seconds."""
    stored = answer_to(question.id)
    if stored is not None:
        return stored
    plan = claim_and_prepare(question)
    if plan is not None:
        return answer_now(plan)
    wait = NO_JS_WAIT if wait is None else wait
    for event in await_answer(question.id, ping_every=wait, wait=wait):
        if isinstance(event, Final):
            return db.session.get(AriaMessage, event.message_id)
    return None


def _excerpts(passages: list[Passage]) -> str:
    blocks = []
    for n, passage in enumerate(passages, start=1):
        quoted = "\n".join("> " + line if line else ">" for line in passage.content.splitlines())
        blocks.append(f"**[{n}] {source_label(passage)}**\n\n{quoted}")
    return "\n\n".join(blocks)


OFFLINE_INTRO = (
    "*Mode hors ligne : ARIA n'est pas relié à un modèle de langage. Voici les passages du cours "
    "Nexus Réussite les plus proches de votre question.*"
)
DEGRADED_INTRO = (
    "**ARIA est indisponible pour le moment** : le service de réponse ne répond pas. En attendant, "
    "voici les passages du cours les plus utiles pour votre question ; réessayez dans quelques "
    "minutes ou réservez une séance avec un coach."
)
TOO_LONG_INTRO = (
    "**Cette conversation est devenue trop longue pour ARIA** : le modèle ne peut pas relire autant "
    "de texte d'un coup, et il a refusé la question. Commencez une nouvelle conversation en y "
    "reprenant l'essentiel de votre question (plus courte, elle passera). Cette question n'est pas "
    "décomptée de votre quota. En attendant, voici les passages du cours les plus proches."
)
NOTHING_FOUND = (
    "Je n'ai trouvé aucun passage du cours Nexus Réussite sur cette question. Reformulez-la avec les "
    "mots du cours (le nom du chapitre, par exemple), ou réservez une séance avec un coach."
)
INTROS = {AnswerMode.OFFLINE: OFFLINE_INTRO, AnswerMode.TOO_LONG: TOO_LONG_INTRO}


def fallback_content(passages: list[Passage], mode: AnswerMode) -> str:
    intro = INTROS.get(mode, DEGRADED_INTRO)
    return intro + "\n\n" + (_excerpts(passages) if passages else NOTHING_FOUND)


CITED = re.compile(r"\[(\d{1,2})\]")


def cited(content: str, citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sources the answer refers to; all of them if it names none."""
    numbers = {int(n) for n in CITED.findall(content)}
    chosen = [c for c in citations if c["n"] in numbers]
    return chosen or citations


def counted_usage(plan: AnswerPlan, content: str, usage: llm.Usage | None) -> llm.Usage:
    """The server's token counts, or our estimate of them when it sent none (many do not stream
    them), so that the statistics are never empty."""
    usage = usage or llm.Usage()
    return llm.Usage(
        usage.prompt_tokens if usage.prompt_tokens is not None else prompt_tokens(plan.messages),
        usage.completion_tokens
        if usage.completion_tokens is not None
        else -(-len(content) // CHARS_PER_TOKEN),
    )


@command
def save_answer(
    plan: AnswerPlan,
    content: str,
    mode: AnswerMode,
    model: str | None = None,
    usage: llm.Usage | None = None,
) -> AriaMessage:
    """Store the answer once; a concurrent or repeated save returns the stored one."""
    citations = plan.citations if mode is not AnswerMode.LLM else cited(content, plan.citations)
    if mode is AnswerMode.LLM:
        usage = counted_usage(plan, content, usage)
    stmt = (
        insert(AriaMessage)
        .values(
            conversation_id=plan.conversation_id,
            role=MessageRole.ASSISTANT,
            reply_to_id=plan.question_id,
            content=content.strip() or "—",
            citations=citations,
            mode=mode,
            model=model,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
        )
        .on_conflict_do_nothing(index_elements=["reply_to_id"])
    )
    db.session.execute(stmt)
    if plan.student_id is not None:
        progress_events.changed(plan.student_id, "aria")
    answer = answer_to(plan.question_id)
    assert answer is not None
    return answer


def _caring(plan: AnswerPlan) -> AriaMessage:
    assert plan.verdict is not None
    return alerts.answer_with_care(plan.question_id, plan.conversation_id, plan.verdict)


def _too_long(plan: AnswerPlan, exc: llm.ContextExceeded) -> AriaMessage:
    """The server refused the prompt as longer than its context: say so, offer a new conversation."""
    log.warning(
        "aria: the model refused question %d of conversation %d as longer than its context (%s); "
        "estimated %d prompt tokens against LLM_CONTEXT_TOKENS=%s",
        plan.question_id,
        plan.conversation_id,
        exc.reason,
        prompt_tokens(plan.messages),
        plan.conf.context_tokens if plan.conf else "?",
    )
    return save_answer(plan, fallback_content(plan.passages, AnswerMode.TOO_LONG), AnswerMode.TOO_LONG)


def answer_now(plan: AnswerPlan) -> AriaMessage:
    """The whole answer at once (form posted without JavaScript)."""
    try:
        return _answer_now(plan)
    except BaseException:
        claims.release_claim(plan.question_id, plan.claimed_at)
        raise


def _answer_now(plan: AnswerPlan) -> AriaMessage:
    if plan.verdict is not None:
        return _caring(plan)
    if plan.conf is None:
        return save_answer(plan, fallback_content(plan.passages, AnswerMode.OFFLINE), AnswerMode.OFFLINE)
    try:
        completion = llm.complete(plan.conf, plan.messages)
    except llm.ContextExceeded as exc:
        return _too_long(plan, exc)
    except llm.LLMUnavailable as exc:
        log.warning("aria: LLM unavailable (%s), passages shown instead", exc.reason)
        return save_answer(plan, fallback_content(plan.passages, AnswerMode.DEGRADED), AnswerMode.DEGRADED)
    return save_answer(plan, completion.text, AnswerMode.LLM, completion.model, completion.usage)


def answer_events(plan: AnswerPlan, ping_every: float = 5.0) -> Iterator[Event]:
    """Tokens (and pings) as they come, then the stored answer.

    Closing this generator (the student left) closes the upstream stream; nothing is stored then,
    and the question is released: reopening the conversation streams a new answer.
    """
    saved = False
    try:
        for event in _answer_events(plan, ping_every):
            saved = saved or isinstance(event, Final)
            plan.claimed_at = claims.renew_claim(plan.question_id, plan.claimed_at)
            yield event
    finally:
        if not saved:
            claims.release_claim(plan.question_id, plan.claimed_at)


def _answer_events(plan: AnswerPlan, ping_every: float) -> Iterator[Event]:
    if plan.verdict is not None:
        yield Final(_caring(plan).id)
        return
    if plan.conf is None:
        yield Final(
            save_answer(plan, fallback_content(plan.passages, AnswerMode.OFFLINE), AnswerMode.OFFLINE).id
        )
        return
    parts: list[str] = []
    stream = llm.stream_chat(plan.conf, plan.messages, ping_every=ping_every)
    try:
        with stream:
            for item in stream:
                if item is PING:
                    yield PING
                else:
                    parts.append(str(item))
                    yield Token(str(item))
    except llm.ContextExceeded as exc:
        yield Final(_too_long(plan, exc).id)
        return
    except llm.LLMUnavailable as exc:
        log.warning("aria: LLM unavailable (%s) after %d tokens", exc.reason, len(parts))
        parts = []
    except GeneratorExit:
        log.info("aria: student left; upstream closed after %d tokens (%s)", len(parts), stream.usage)
        raise
    if not "".join(parts).strip():
        content = fallback_content(plan.passages, AnswerMode.DEGRADED)
        yield Final(save_answer(plan, content, AnswerMode.DEGRADED).id)
        return
    yield Final(save_answer(plan, "".join(parts), AnswerMode.LLM, plan.conf.model, stream.usage).id)
