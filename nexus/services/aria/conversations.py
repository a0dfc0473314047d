"""ARIA conversations: access and daily quotas, questions, who reads what, feedback."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased, joinedload, selectinload

from nexus import fr
from nexus.extensions import db
from nexus.models.aria import FREE_MODES, AriaConversation, AriaFeedback, AriaMessage, MessageRole
from nexus.models.catalog import OfferCode
from nexus.models.common import Subject
from nexus.models.family import Student
from nexus.models.scheduling import SessionBooking
from nexus.services import ServiceError, billing, command, utcnow
from nexus.services.progress import events as progress_events

log = logging.getLogger(__name__)


MAX_QUESTION = 2000
MAX_COMMENT = 1000
DAILY_QUOTA = {OfferCode.ACCES_PLATEFORME: 30, OfferCode.HYBRIDE: 60, OfferCode.IMMERSION: 100}
DEFAULT_QUOTA = 30  # entitled without an active plan (should not happen, but never unlimited)
TITLE_CHARS = 60


# -- access and quotas ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    subjects: list[Subject]
    quota: int
    used: int

    @property
    def remaining(self) -> int:
        return max(self.quota - self.used, 0)


def quota_of(student_id: int) -> int:
    subscription = billing.active_subscription(student_id)
    return DAILY_QUOTA.get(subscription.plan, DEFAULT_QUOTA) if subscription else DEFAULT_QUOTA


def day_start(now: datetime | None = None) -> datetime:
    """Midnight in Tunis: quotas reset with the students' day, not UTC's."""
    return datetime.combine(fr.local_today(now), time.min, tzinfo=fr.TUNIS)


def used_today(student_id: int) -> int:
    """Today's questions, except those answered by course passages alone (offline, LLM down…) or
    by the caring answer to a flagged question."""
    answer = aliased(AriaMessage)
    stmt = (
        select(func.count(AriaMessage.id))
        .join(AriaConversation, AriaMessage.conversation_id == AriaConversation.id)
        .where(
            AriaConversation.student_id == student_id,
            AriaMessage.role == MessageRole.USER,
            AriaMessage.created_at >= day_start(),
            ~exists().where(answer.reply_to_id == AriaMessage.id, answer.mode.in_(FREE_MODES)),
        )
    )
    return db.session.scalar(stmt) or 0


def access_for(student: Student) -> Access:
    subjects = [Subject(s) for s in billing.aria_subjects(student.id)]
    quota = quota_of(student.id) if subjects else 0
    return Access(subjects=subjects, quota=quota, used=used_today(student.id) if subjects else 0)


# -- conversations ---------------------------------------------------------------------------------


def conversations_of(
    student_id: int, limit: int = 50, subjects: Collection[Subject] | None = None
) -> list[AriaConversation]:
    stmt = (
        select(AriaConversation)
        .where(AriaConversation.student_id == student_id)
        .order_by(AriaConversation.updated_at.desc(), AriaConversation.id.desc())
        .limit(limit)
    )
    if subjects is not None:
        stmt = stmt.where(AriaConversation.subject.in_(list(subjects)))
    return list(db.session.scalars(stmt))


def conversation_of(
    student_id: int, conversation_id: int, subjects: Collection[Subject] | None = None
) -> AriaConversation | None:
    """The conversation if it is this student's (in one of `subjects` if given), else None (404)."""
    stmt = (
        select(AriaConversation)
        .options(selectinload(AriaConversation.messages).joinedload(AriaMessage.feedback))
        .where(AriaConversation.id == conversation_id, AriaConversation.student_id == student_id)
    )
    if subjects is not None:
        stmt = stmt.where(AriaConversation.subject.in_(list(subjects)))
    return db.session.scalar(stmt)


# -- coaches: read-only, the subjects of their sessions with the student ---------------------------


def _coach_sessions(coach_id: int, now: datetime | None = None) -> Any:
    """Sessions that open a student's conversations to their coach: held, or still to come."""
    now = now or utcnow()
    return select(SessionBooking.student_id, SessionBooking.subject).where(
        SessionBooking.coach_id == coach_id, SessionBooking.opens_student_to_coach(now)
    )


def coach_subjects(coach_id: int, student_id: int) -> set[Subject]:
    """The subjects in which this coach may read this student's conversations (empty: 404)."""
    rows = db.session.execute(_coach_sessions(coach_id).where(SessionBooking.student_id == student_id))
    return {Subject(subject) for _, subject in rows}


def coach_transcript(
    coach_id: int, student_id: int, conversation_id: int
) -> tuple[Student, AriaConversation] | None:
    """A conversation this coach may read, with its student, else None (answer 404)."""
    subjects = coach_subjects(coach_id, student_id)
    found = conversation_of(student_id, conversation_id, subjects) if subjects else None
    student = db.session.get(Student, student_id) if found else None
    return (student, found) if student and found else None


def coach_readings(coach_id: int) -> list[tuple[Student, list[AriaConversation]]]:
    """The students this coach may read, each with the conversations of the subjects open to them."""
    opened: dict[int, set[Subject]] = {}
    for student_id, subject in db.session.execute(_coach_sessions(coach_id)):
        opened.setdefault(student_id, set()).add(Subject(subject))
    students = db.session.scalars(
        select(Student).options(joinedload(Student.user)).where(Student.id.in_(list(opened)))
    )
    rows = [(s, conversations_of(s.id, subjects=opened[s.id])) for s in students]
    return sorted(rows, key=lambda row: (row[0].user.last_name, row[0].user.first_name, row[0].id))


def _message_of(student_id: int, message_id: int, role: MessageRole, load: Any) -> AriaMessage | None:
    """One message of this student's conversations, of the given role, else None (answer 404)."""
    stmt = (
        select(AriaMessage)
        .join(AriaConversation, AriaMessage.conversation_id == AriaConversation.id)
        .options(joinedload(load))
        .where(
            AriaMessage.id == message_id,
            AriaMessage.role == role,
            AriaConversation.student_id == student_id,
        )
    )
    return db.session.scalar(stmt)


def question_of(student_id: int, message_id: int) -> AriaMessage | None:
    return _message_of(student_id, message_id, MessageRole.USER, AriaMessage.conversation)


def answer_to(question_id: int) -> AriaMessage | None:
    return db.session.scalar(
        select(AriaMessage)
        .options(joinedload(AriaMessage.feedback))
        .where(AriaMessage.reply_to_id == question_id)
    )


def answered_ids(conversation: AriaConversation) -> set[int]:
    return {m.reply_to_id for m in conversation.messages if m.reply_to_id is not None}


def title_for(question: str) -> str:
    flat = " ".join(question.split())
    return flat if len(flat) <= TITLE_CHARS else flat[: TITLE_CHARS - 1].rstrip() + "…"


def clean_question(raw: str | None) -> str:
    question = (raw or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not question:
        raise ServiceError("Écrivez votre question avant de l'envoyer.", "question")
    if len(question) > MAX_QUESTION:
        raise ServiceError(
            f"Votre question fait {len(question)} caractères : {MAX_QUESTION} au plus. "
            "Raccourcissez-la ou découpez-la en plusieurs questions.",
            "question",
        )
    return question


def _subject(raw: str | None, access: Access) -> Subject:
    subject = Subject.__members__.get(raw or "")
    if subject is None or subject not in access.subjects:
        raise ServiceError(
            "ARIA n'est pas inclus pour cette matière dans votre formule. "
            "Vos parents peuvent ajouter une matière depuis la page des offres.",
            "subject",
        )
    return subject


@command
def ask(
    student: Student, question_raw: str | None, subject_raw: str | None, conversation_id: int | None
) -> AriaMessage:
    """Store a question (creating the conversation if needed); refusals store nothing.

    The student row is locked so that two tabs cannot both pass the quota check.
    """
    question = clean_question(question_raw)
    db.session.execute(select(Student.id).where(Student.id == student.id).with_for_update())
    access = access_for(student)
    conversation = None
    if conversation_id is not None:
        conversation = conversation_of(student.id, conversation_id)
        if conversation is None:
            raise LookupError(conversation_id)
        subject_raw = conversation.subject.value
    subject = _subject(subject_raw, access)
    if access.remaining <= 0:
        raise ServiceError(
            f"Vous avez posé vos {access.quota} questions du jour à ARIA. "
            "Le compteur repart à zéro à minuit ; d'ici là, un coach peut vous aider en séance.",
            "question",
        )
    if conversation is None:
        conversation = AriaConversation(student_id=student.id, subject=subject, title=title_for(question))
        db.session.add(conversation)
        db.session.flush()
    message = AriaMessage(conversation_id=conversation.id, role=MessageRole.USER, content=question)
    db.session.add(message)
    conversation.updated_at = utcnow()
    db.session.flush()
    return message


# -- feedback -----------------------------------------------------------------------------------------


def answer_of(student_id: int, message_id: int) -> AriaMessage | None:
    return _message_of(student_id, message_id, MessageRole.ASSISTANT, AriaMessage.feedback)


@command
def give_feedback(message: AriaMessage, rating: int, comment: str | None) -> AriaFeedback:
    """👍 (+1) or 👎 (-1) with an optional comment; a second opinion replaces the first."""
    if rating not in (1, -1):
        raise ServiceError("Choisissez 👍 ou 👎.", "rating")
    comment = (comment or "").replace("\x00", "").strip() or None
    if comment and len(comment) > MAX_COMMENT:
        raise ServiceError(f"Votre commentaire dépasse {MAX_COMMENT} caractères.", "comment")
    stmt = insert(AriaFeedback).values(message_id=message.id, rating=rating, comment=comment)
    stmt = stmt.on_conflict_do_update(
        index_elements=["message_id"],
        set_={"rating": stmt.excluded.rating, "comment": stmt.excluded.comment, "updated_at": utcnow()},
    )
    db.session.execute(stmt)
    db.session.flush()
    progress_events.changed(message.conversation.student_id, "aria")
    db.session.expire(message)
    feedback = db.session.scalar(select(AriaFeedback).where(AriaFeedback.message_id == message.id))
    assert feedback is not None
    return feedback
