"""Taking a positioning test: start (or resume), one question at a time, answer, finish.

Every answer names the question it answers: the test's row is locked, and an answer to a question
that is no longer on screen (a resent form, a second tab) changes nothing. The last answer
scores the test in the same transaction and queues what follows (the stage's bilan).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from nexus import links, queue
from nexus.extensions import db
from nexus.models.assessments import Assessment, Item, Response, Score, TestMode, TestStatus
from nexus.models.common import Grade, Subject
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.services import ServiceError, command, family, locked, notifications, utcnow
from nexus.services.assessments import engine, scoring
from nexus.services.progress import events as progress_events

SUBJECTS = (Subject.MATHEMATIQUES, Subject.NSI)
TEST_NAMES = {Subject.MATHEMATIQUES: "Test de mathématiques", Subject.NSI: "Test de NSI"}
GRADES = (Grade.PREMIERE, Grade.TERMINALE)
# The stage's fixed form, as the original: 30 Maths and 20 NSI questions.
STAGE_FORM = ((Subject.MATHEMATIQUES, 30), (Subject.NSI, 20))
# Time on one question counts at most this much (a tab left open overnight is not work).
MAX_TIME_PER_QUESTION = timedelta(minutes=10)
LINK_DAYS = 30
LINK_SALT = "positioning-test"

NOT_OFFERED = (
    "Les tests de positionnement existent en mathématiques et en NSI, pour la Première et la Terminale."
)
CLOSED = "Ce test est terminé : ses résultats sont prêts."


def pool(subject: Subject, grade: Grade) -> list[Item]:
    stmt = select(Item).where(Item.subject == subject, Item.grade == grade, Item.active).order_by(Item.id)
    return list(db.session.scalars(stmt))


def _candidates(items: Sequence[Item]) -> list[engine.Candidate]:
    return [engine.Candidate(i.id, i.difficulty, i.domain) for i in items]


def _check_offered(subject: Subject | None, grade: Grade) -> None:
    if grade not in GRADES or (subject is not None and subject not in SUBJECTS):
        raise ServiceError(NOT_OFFERED)
    subjects = (subject,) if subject else SUBJECTS
    if not all(pool(s, grade) for s in subjects):
        raise ServiceError("La banque de questions n'est pas encore chargée : prévenez le centre.")


def open_test(student_id: int, subject: Subject) -> Assessment | None:
    stmt = select(Assessment).where(
        Assessment.student_id == student_id,
        Assessment.subject == subject,
        Assessment.mode == TestMode.ADAPTIVE,
        Assessment.status.in_((TestStatus.ASSIGNED, TestStatus.IN_PROGRESS)),
    )
    return db.session.scalar(stmt)


@command
def start_test(student: Student, subject: Subject, assigned_by: User | None = None) -> Assessment:
    """The student's open adaptive test in this subject, or a new one (assigned by staff or chosen
    by the student). A double click or two staff at once give one test (unique partial index)."""
    _check_offered(subject, student.grade)
    existing = open_test(student.id, subject)
    if existing is not None:
        return existing
    test = Assessment(
        student_id=student.id,
        mode=TestMode.ADAPTIVE,
        subject=subject,
        grade=student.grade,
        status=TestStatus.ASSIGNED,
        assigned_by_id=assigned_by.id if assigned_by else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(test)
    except IntegrityError:  # the same test was opened meanwhile: that one it is
        return open_test(student.id, subject)  # type: ignore[return-value]
    return test


@command
def start_participant_test(email: str, name: str, grade: Grade) -> Assessment:
    """The stage's fixed form (Maths and NSI) for someone reached by a signed link."""
    _check_offered(None, grade)
    form: list[int] = []
    for subject, size in STAGE_FORM:
        form.extend(c.id for c in engine.fixed_form(_candidates(pool(subject, grade)), size))
    test = Assessment(
        participant_email=email,
        participant_name=name,
        mode=TestMode.FIXED,
        subject=None,
        grade=grade,
        status=TestStatus.ASSIGNED,
        form=form,
    )
    db.session.add(test)
    db.session.flush()
    return test


# ---- the participant's signed link ----


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def participant_token(test: Assessment) -> str:
    return _serializer().dumps([test.id, test.link_version])


def participant_url(test: Assessment) -> str:
    return links.external("positioning.participant", token=participant_token(test))


def by_token(token: str) -> Assessment | None:
    """The test a link opens, or None (tampered, expired after 30 days, or revoked)."""
    try:
        test_id, version = _serializer().loads(token, max_age=LINK_DAYS * 86400)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    test = db.session.get(Assessment, test_id) if isinstance(test_id, int) else None
    return test if test is not None and test.link_version == version else None


# ---- one question at a time ----


def responses(test_id: int) -> list[Response]:
    stmt = select(Response).where(Response.assessment_id == test_id).order_by(Response.position)
    return list(db.session.scalars(stmt))


def _as_answers(rows: Sequence[Response]) -> list[engine.Answer]:
    return [
        engine.Answer(
            engine.Candidate(r.item_id, r.item.difficulty, r.item.domain),
            None if r.choice is None else r.correct,
        )
        for r in rows
    ]


def _next_item(test: Assessment, rows: Sequence[Response]) -> Item | None:
    if test.mode is TestMode.FIXED:
        form = test.form or []
        return db.session.get(Item, form[len(rows)]) if len(rows) < len(form) else None
    items = pool(test.subject, test.grade)  # type: ignore[arg-type]
    answers = _as_answers(rows)
    current = engine.replay(answers)
    domains = {i.domain for i in items}
    if rows and engine.should_stop(answers, current, domains, len(items) - len(rows)):
        return None
    # Seeded by the test and the question's number: the choice is random across tests, and the
    # same again if the same step is computed twice.
    rng = numpy.random.default_rng([test.id, len(rows)])
    chosen = engine.next_item(_candidates(items), answers, current.theta, rng)
    return db.session.get(Item, chosen.id) if chosen else None


def _show(test: Assessment, item: Item | None) -> None:
    test.current_item_id = item.id if item else None
    test.current_shown_at = utcnow() if item else None


@command
def begin(test_id: int) -> Assessment:
    """Put the first question on screen (idempotent: a started test stays where it is)."""
    test = locked(Assessment, test_id)
    if test is None:
        raise ServiceError("Ce test n'existe pas.")
    if test.status is TestStatus.ASSIGNED:
        test.status = TestStatus.IN_PROGRESS
        test.started_at = utcnow()
        _show(test, _next_item(test, []))
    elif test.is_open and test.current_shown_at is None:
        test.current_shown_at = utcnow()
    return test


@command
def answer(test_id: int, item_id: int | None, choice: int | None) -> tuple[Assessment, bool]:
    """Record the answer to the question on screen; (test, recorded?). `choice` None is
    "je ne sais pas". An answer to another question than the current one records nothing."""
    test = locked(Assessment, test_id)
    if test is None:
        raise ServiceError("Ce test n'existe pas.")
    if test.status is not TestStatus.IN_PROGRESS or item_id != test.current_item_id:
        return test, False
    if choice is not None and choice not in range(4):
        raise ServiceError("Choisis une réponse A, B, C ou D, ou « Je ne sais pas ».", field="choice")
    item = test.current_item
    if item is None:  # cannot happen while IN_PROGRESS; refuse quietly rather than fail
        return test, False
    rows = responses(test.id)
    elapsed = min(utcnow() - (test.current_shown_at or utcnow()), MAX_TIME_PER_QUESTION)
    elapsed_ms = max(0, int(elapsed.total_seconds() * 1000))
    response = Response(
        assessment_id=test.id,
        item_id=item.id,
        position=len(rows) + 1,
        choice=choice,
        correct=choice == item.answer,
        elapsed_ms=elapsed_ms,
    )
    db.session.add(response)
    db.session.flush()
    test.duration_ms += elapsed_ms
    rows.append(response)
    following = _next_item(test, rows)
    _show(test, following)
    if following is None:
        _complete(test, rows)
    return test, True


def position(test: Assessment) -> int:
    """The number of the question on screen (1 for the first)."""
    counted = select(func.count()).select_from(Response).where(Response.assessment_id == test.id)
    return (db.session.scalar(counted) or 0) + 1


# ---- the end ----


def _pool_shape(subject: Subject, grade: Grade) -> dict[str, dict[str, list[float]]]:
    shape: dict[str, dict[str, list[float]]] = {}
    for item in pool(subject, grade):
        shape.setdefault(item.domain, {}).setdefault(item.skill, []).append(item.difficulty)
    return shape


def _cohort(subject: Subject, grade: Grade) -> list[float]:
    stmt = select(Score.theta).where(Score.subject == subject, Score.grade == grade)
    return list(db.session.scalars(stmt))


def _latest_ssn(student_id: int | None) -> dict[Subject, float]:
    if student_id is None:
        return {}
    stmt = select(Score).where(Score.student_id == student_id).order_by(Score.measured_at)
    return {s.subject: s.ssn for s in db.session.scalars(stmt)}


def _complete(test: Assessment, rows: Sequence[Response]) -> None:
    now = utcnow()
    subjects = [test.subject] if test.subject else [s for s, _ in STAGE_FORM]
    results = []
    for subject in subjects:
        scored = [
            scoring.Scored(subject, r.item.domain, r.item.skill, r.item.difficulty, r.choice, r.correct)
            for r in rows
            if r.item.subject is subject
        ]
        part = scoring.subject_results(
            subject, test.grade, scored, _pool_shape(subject, test.grade), _cohort(subject, test.grade)
        )
        results.append(part)
        db.session.add(
            Score(
                assessment_id=test.id,
                student_id=test.student_id,
                subject=subject,
                grade=test.grade,
                theta=part["theta"],
                standard_error=part["standard_error"] or 99.0,
                ssn=part["ssn"],
                cohort_size=part["cohort_size"],
                measured_at=now,
            )
        )
    latest = _latest_ssn(test.student_id) | {Subject(p["subject"]): p["ssn"] for p in results}
    priorities, strengths = scoring.highlights(results)
    test.results = {
        "subjects": results,
        "uai": scoring.uai(latest),
        "priorities": priorities,
        "strengths": strengths,
        "duration_ms": test.duration_ms,
    }
    test.status = TestStatus.COMPLETED
    test.completed_at = now
    _announce(test)
    queue.enqueue_after_commit("default", "nexus.jobs.assessments.test_completed", test.id)
    if test.student_id is not None:
        progress_events.changed(test.student_id, "test")


def _announce(test: Assessment) -> None:
    """The student's parents are told in the bell that the results are there."""
    if test.student is None:
        return
    link = links.internal("positioning.results", test_id=test.id)
    title = f"{test.student.user.first_name} a terminé son test de positionnement ({test.title})"
    for parent_id in db.session.scalars(family.guardian_ids(test.student.parent.user_id)):
        notifications.notify(parent_id, "TEST_COMPLETED", title, "Les résultats sont prêts.", link)
