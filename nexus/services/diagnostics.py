"""Free bilan requests: the public form's answers, kept whole, and their follow-up by staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select

from nexus import links
from nexus.extensions import db
from nexus.models.common import Grade, Subject
from nexus.models.diagnostics import NEXT_STATUSES, BilanRequest, BilanStatus, Modality
from nexus.models.identity import User
from nexus.services import ServiceError, audit, claim, command, notifications, recent, utcnow
from nexus.services.identity import normalize_email
from nexus.services.paging import Page, matches, paginate

# A second click or a resent form within this window returns the first request.
DUPLICATE_WINDOW = timedelta(minutes=30)

# How the family rates the student's current level (stored as the label).
LEVELS = (
    "Très à l'aise",
    "À l'aise",
    "Des hauts et des bas",
    "En difficulté",
    "En grande difficulté",
)

OPEN_STATUSES = (BilanStatus.RECEIVED, BilanStatus.CONTACTED)


@dataclass(frozen=True)
class BilanAnswers:
    """What the family entered in the four steps of /bilan-gratuit."""

    parent_first_name: str
    parent_last_name: str
    parent_email: str
    parent_phone: str
    student_first_name: str
    student_last_name: str
    grade: Grade
    subjects: list[Subject]
    modality: Modality
    school: str | None = None
    current_level: str | None = None
    objectives: str | None = None
    difficulties: str | None = None
    availability: str | None = None
    accept_newsletter: bool = False


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


@command
def submit_bilan_request(answers: BilanAnswers) -> BilanRequest:
    """Store a request, acknowledge it to the parent and tell staff, in one transaction.

    No account is created: staff turn a request into a family after talking to it.
    """
    if not answers.subjects:
        raise ServiceError("Choisissez au moins une matière.", field="subjects")
    email = normalize_email(answers.parent_email)
    # Serialise submissions for one address, so a double click cannot store two requests.
    db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext("bilan:" + email))))
    existing = _recent_duplicate(email, answers)
    if existing is not None:
        return existing
    row = _new_request(email, answers)
    db.session.add(row)
    db.session.flush()
    _queue_emails(row)
    notifications.notify_staff(
        "BILAN_REQUEST",
        f"Demande de bilan : {row.student_first_name} ({row.grade.label})",
        f"{row.parent_first_name} {row.parent_last_name} — {', '.join(subject_labels(row))}",
        links.internal("staff.bilans"),
    )
    return row


def _new_request(email: str, answers: BilanAnswers) -> BilanRequest:
    return BilanRequest(
        parent_first_name=answers.parent_first_name.strip(),
        parent_last_name=answers.parent_last_name.strip(),
        parent_email=email,
        parent_phone=answers.parent_phone.strip(),
        student_first_name=answers.student_first_name.strip(),
        student_last_name=answers.student_last_name.strip(),
        grade=answers.grade,
        school=_clean(answers.school),
        subjects=[s.value for s in dict.fromkeys(answers.subjects)],
        current_level=_clean(answers.current_level),
        objectives=_clean(answers.objectives),
        difficulties=_clean(answers.difficulties),
        modality=answers.modality,
        availability=_clean(answers.availability),
        accept_newsletter=answers.accept_newsletter,
        status=BilanStatus.RECEIVED,
    )


def _recent_duplicate(email: str, answers: BilanAnswers) -> BilanRequest | None:
    stmt = select(BilanRequest).where(
        BilanRequest.parent_email == email,
        func.lower(BilanRequest.student_first_name) == answers.student_first_name.strip().lower(),
        func.lower(BilanRequest.student_last_name) == answers.student_last_name.strip().lower(),
        BilanRequest.created_at > utcnow() - DUPLICATE_WINDOW,
    )
    return db.session.scalar(stmt.order_by(BilanRequest.id.desc()).limit(1))


def subject_labels(row: BilanRequest) -> list[str]:
    return [Subject(s).label for s in row.subjects]


def _mail_context(row: BilanRequest) -> dict[str, Any]:
    return {
        "id": row.id,
        "parent_first_name": row.parent_first_name,
        "parent_name": f"{row.parent_first_name} {row.parent_last_name}",
        "parent_email": row.parent_email,
        "parent_phone": row.parent_phone,
        "student_first_name": row.student_first_name,
        "student_name": f"{row.student_first_name} {row.student_last_name}",
        "grade": row.grade.label,
        "school": row.school,
        "subjects": subject_labels(row),
        "current_level": row.current_level,
        "objectives": row.objectives,
        "difficulties": row.difficulties,
        "modality": row.modality.label if row.modality else None,
        "availability": row.availability,
        "newsletter": row.accept_newsletter,
        "staff_path": links.internal("staff.bilans"),
    }


def _queue_emails(row: BilanRequest) -> None:
    context = _mail_context(row)
    notifications.queue_email(
        row.parent_email,
        "bilan_ack",
        "Votre demande de bilan gratuit est bien reçue — Nexus Réussite",
        context,
        dedupe_key=f"bilan:{row.id}:ack",
    )
    notifications.queue_email(
        current_app.config["STAFF_EMAIL"],
        "bilan_staff",
        f"Nouvelle demande de bilan gratuit — {row.student_first_name} ({row.grade.label})",
        context,
        dedupe_key=f"bilan:{row.id}:staff",
    )


# -- staff follow-up --------------------------------------------------------------------------

BILAN_FILTERS: dict[str, str] = {
    "a-traiter": "À traiter",
    **{status.value: status.label for status in BilanStatus},
    "toutes": "Toutes",
}


def bilan_requests_stmt(filter_key: str, query: str) -> Select[tuple[BilanRequest]]:
    """Requests newest first, filtered by status ("a-traiter": not yet enrolled or closed) and
    by name, e-mail or phone: the table's rows, and its CSV export's."""
    stmt = select(BilanRequest).order_by(BilanRequest.id.desc())
    if filter_key == "a-traiter":
        stmt = stmt.where(BilanRequest.status.in_(OPEN_STATUSES))
    elif filter_key in BilanStatus.__members__:
        stmt = stmt.where(BilanRequest.status == BilanStatus(filter_key))
    if query.strip():
        stmt = stmt.where(
            matches(
                query,
                BilanRequest.parent_email,
                BilanRequest.parent_phone,
                BilanRequest.parent_first_name + " " + BilanRequest.parent_last_name,
                BilanRequest.student_first_name + " " + BilanRequest.student_last_name,
            )
        )
    return stmt


def list_bilan_requests(filter_key: str, query: str, number: int) -> Page[BilanRequest]:
    return paginate(bilan_requests_stmt(filter_key, query), number)


def new_requests_count() -> int:
    stmt = select(func.count()).where(BilanRequest.status == BilanStatus.RECEIVED)
    return db.session.scalar(stmt) or 0


def get_bilan(bilan_id: int) -> BilanRequest | None:
    return db.session.get(BilanRequest, bilan_id)


@dataclass(frozen=True)
class StatusChange:
    bilan: BilanRequest
    changed: bool  # False: someone else moved it first ("déjà traité")


@command
def change_bilan_status(
    bilan_id: int, expected: BilanStatus, target: BilanStatus, actor: User
) -> StatusChange | None:
    """Move a request from expected to target exactly once; None if it does not exist.

    A conditional UPDATE … WHERE status = expected: of many concurrent clicks, one wins.
    """
    if target not in NEXT_STATUSES[expected]:
        raise ServiceError(f"Une demande « {expected.label} » ne peut pas passer à « {target.label} ».")
    bilan, changed = claim(BilanRequest, bilan_id, BilanRequest.status == expected, status=target)
    if bilan is None:
        return None
    if not changed:
        return StatusChange(bilan, changed=False)
    audit.record(
        "bilan.status_changed",
        actor.id,
        bilan,
        before={"status": expected.value},
        after={"status": target.value},
    )
    return StatusChange(bilan, changed=True)


def _bilan_change(bilan: BilanRequest, line: Any) -> tuple[str, str, bool]:
    value = (line.after or {}).get("status", "")
    target = BilanStatus(value) if value in BilanStatus.__members__ else None
    who = f"{bilan.parent_first_name} {bilan.parent_last_name} · {bilan.student_first_name}"
    outcome = f"Passée à « {target.label} »" if target else "Statut modifié"
    return who, outcome, target is not BilanStatus.CLOSED


def recently_processed_bilans() -> list[recent.Processed]:
    """The requests staff moved on this week (contacted, enrolled, closed), newest first."""
    return recent.from_audit(("bilan.status_changed",), BilanRequest, _bilan_change)
