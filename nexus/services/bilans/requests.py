"""Asking for a bilan, retrying a failed one, revoking its links, and reading them (family, staff)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from nexus import queue
from nexus.extensions import db
from nexus.models.assessments import Assessment
from nexus.models.diagnostics import Bilan, BilanError, GenerationStatus
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.services import ServiceError, audit, claim, command, locked, utcnow
from nexus.services.bilans import questionnaire as questions
from nexus.services.bilans.family import send_links
from nexus.services.paging import Page, matches, paginate

GENERATE_JOB = "nexus.jobs.bilans.generate"
# A run whose row has not moved for this long was lost (worker killed): the sweep fails it, so
# that staff may retry it; a bilan QUEUED this long lost its job (Redis emptied): enqueued again.
LOST_AFTER = timedelta(minutes=15)
QUEUED_FOR = timedelta(minutes=10)
LOST = "Rédaction interrompue (processus arrêté) : à relancer."


def enqueue_generation(bilan_id: int) -> None:
    queue.enqueue_after_commit("default", GENERATE_JOB, bilan_id)


def bilan_of(assessment_id: int) -> Bilan | None:
    return db.session.scalar(select(Bilan).where(Bilan.assessment_id == assessment_id))


def get(bilan_id: int) -> Bilan | None:
    return db.session.get(Bilan, bilan_id)


@command
def request_bilan(
    assessment_id: int, questionnaire: dict[str, Any] | None, requested_by_id: int | None = None
) -> Bilan:
    """Queue the bilans of a completed test; a second request for the same test returns the first.

    The request only writes a row and enqueues the job (after commit): it returns at once,
    whatever the language model does.
    """
    assessment = locked(Assessment, assessment_id)  # one request at a time per test
    if assessment is None:
        raise ServiceError("Ce test n'existe pas.")
    existing = bilan_of(assessment_id)
    if existing is not None:
        return existing
    if not assessment.is_completed or not assessment.results:
        raise ServiceError("Le bilan se demande une fois le test terminé.")
    cleaned = None
    if questionnaire is not None:
        cleaned = questions.validate(questionnaire, questions.chapters(assessment.results))
    bilan = Bilan(
        assessment_id=assessment_id,
        questionnaire=cleaned,
        status=GenerationStatus.QUEUED,
        step=0,
        requested_by_id=requested_by_id,
    )
    db.session.add(bilan)
    db.session.flush()
    enqueue_generation(bilan.id)
    return bilan


@command
def retry(bilan_id: int, staff: User) -> Bilan | None:
    """Queue a FAILED bilan again (None: no such bilan); any other state is refused."""
    before = get(bilan_id)
    if before is None:
        return None
    code = before.error_code.value if before.error_code else None
    was = {"status": before.status.value, "error_code": code}
    bilan, won = claim(
        Bilan,
        bilan_id,
        Bilan.status == GenerationStatus.FAILED,
        status=GenerationStatus.QUEUED,
        step=0,
        error_code=None,
        error_detail=None,
        retry_count=Bilan.retry_count + 1,
    )
    if bilan is None:
        return None
    if not won:
        raise ServiceError(
            f"Seul un bilan en échec peut être relancé ; celui-ci est « {bilan.status.label} »."
        )
    audit.record("bilan.retried", staff.id, bilan, before=was, after={"status": bilan.status.value})
    enqueue_generation(bilan.id)
    return bilan


@command
def revoke_links(bilan_id: int, staff: User) -> Bilan | None:
    """Disable the three links (the version they carry is bumped); a ready bilan's family gets
    new ones by e-mail."""
    bilan = locked(Bilan, bilan_id)
    if bilan is None:
        return None
    before = bilan.link_version
    bilan.link_version = before + 1
    versions = ({"link_version": before}, {"link_version": before + 1})
    audit.record("bilan.links_revoked", staff.id, bilan, before=versions[0], after=versions[1])
    if bilan.is_ready:
        send_links(bilan)
    return bilan


@command
def sweep() -> dict[str, int]:
    """Periodic: fail the lost runs, enqueue again the bilans whose job never came."""
    now = utcnow()
    lost = db.session.scalars(
        update(Bilan)
        .where(
            Bilan.status.in_((GenerationStatus.SCORING, GenerationStatus.WRITING)),
            Bilan.updated_at < now - LOST_AFTER,
        )
        .values(status=GenerationStatus.FAILED, error_code=BilanError.INTERNAL_ERROR, error_detail=LOST)
        .returning(Bilan.id)
        .execution_options(synchronize_session=False)
    ).all()
    waiting = db.session.scalars(
        update(Bilan)
        .where(Bilan.status == GenerationStatus.QUEUED, Bilan.updated_at < now - QUEUED_FOR)
        .values(updated_at=now)
        .returning(Bilan.id)
        .execution_options(synchronize_session=False)
    ).all()
    for bilan_id in waiting:
        enqueue_generation(bilan_id)
    return {"lost": len(lost), "requeued": len(waiting)}


# -- reading ----------------------------------------------------------------------------------------

FILTERS: dict[str, str] = {
    "tous": "Tous",
    "en-cours": "En cours",
    **{s.value: s.label for s in (GenerationStatus.READY, GenerationStatus.FAILED)},
    "modele-type": "Bilan type (sans modèle)",
}
RUNNING = (GenerationStatus.QUEUED, GenerationStatus.SCORING, GenerationStatus.WRITING)


def list_bilans(filter_key: str, query: str, number: int) -> Page[Bilan]:
    """Generated bilans, newest first, by state and by the student's name or e-mail."""
    from nexus.models.diagnostics import BilanSource

    stmt = (
        select(Bilan)
        .join(Assessment, Bilan.assessment_id == Assessment.id)
        .outerjoin(Student, Assessment.student_id == Student.id)
        .outerjoin(User, Student.user_id == User.id)
        .order_by(Bilan.id.desc())
    )
    if filter_key == "en-cours":
        stmt = stmt.where(Bilan.status.in_(RUNNING))
    elif filter_key in (GenerationStatus.READY.value, GenerationStatus.FAILED.value):
        stmt = stmt.where(Bilan.status == GenerationStatus(filter_key))
    elif filter_key == "modele-type":
        stmt = stmt.where(Bilan.source.in_((BilanSource.TEMPLATE, BilanSource.MIXED)))
    if query.strip():
        stmt = stmt.where(
            matches(
                query,
                User.first_name + " " + User.last_name,
                User.email,
                Assessment.participant_email,
                Assessment.participant_name,
            )
        )
    return paginate(stmt, number)
