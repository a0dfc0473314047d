"""A trajectory as typed or proposed: drafts, the proposal from the latest test's priorities, and
the checks a draft passes before it is saved (see trajectory.py for the commands)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from nexus import fr
from nexus.extensions import db
from nexus.models.assessments import Assessment, TestStatus
from nexus.models.common import Grade, Subject
from nexus.models.progress import Milestone
from nexus.question_bank import load_bank
from nexus.services import ServiceError, utcnow

HORIZONS = (3, 6, 12)
MAX_MILESTONES = 10
TARGET_MASTERY = Decimal("0.70")  # what a proposed milestone asks of a priority domain
SSN_GAIN = 8  # a proposed target SSN: the current one plus this, at most 100
START_WINDOW = timedelta(days=366)  # a start date within a year of today, either way


@dataclass
class MilestoneDraft:
    """A milestone as typed; `id` names an existing one being edited (its tick is kept)."""

    title: str
    due_on: date | None = None
    subject: Subject | None = None
    domain: str | None = None
    target_mastery: Decimal | None = None
    id: int | None = None


@dataclass
class Draft:
    """A trajectory as typed in the form (or proposed)."""

    title: str
    horizon_months: int
    starts_on: date
    subject: Subject | None = None
    target_level: str | None = None
    target_ssn: int | None = None
    agreed: bool = False
    milestones: list[MilestoneDraft] = field(default_factory=list)
    assessment_id: int | None = None


@dataclass
class Proposal:
    """A pre-filled draft, with the test it comes from and the SSN measured then."""

    draft: Draft
    test: Assessment | None
    current_ssn: float | None


def ends_on(starts_on: date, months: int) -> date:
    """The last day of a horizon that starts on `starts_on`."""
    return starts_on + relativedelta(months=months) - timedelta(days=1)


def domain_choices(grade: Grade) -> list[tuple[str, str]]:
    """("MATHEMATIQUES:suites", "Mathématiques — Suites numériques") for the grade's tested domains."""
    return [
        (f"{d.subject}:{d.key}", f"{Subject(d.subject).label} — {d.label}")
        for d in load_bank().domains
        if d.grade == grade.value
    ]


def domain_label(milestone: Milestone, grade: Grade) -> str | None:
    if milestone.subject is None or milestone.domain is None:
        return None
    found = load_bank().domain(milestone.subject.value, grade.value, milestone.domain)
    return found.label if found else milestone.domain


def latest_test(student_id: int) -> Assessment | None:
    """The student's latest completed positioning test."""
    stmt = (
        select(Assessment)
        .where(Assessment.student_id == student_id, Assessment.status == TestStatus.COMPLETED)
        .order_by(Assessment.completed_at.desc(), Assessment.id.desc())
        .limit(1)
    )
    return db.session.scalar(stmt)


def proposal(student_id: int) -> Proposal:
    """A draft from the latest completed test: one milestone per priority domain, a target SSN a
    little above the one measured; a blank six-month draft without a test."""
    today = fr.local_today(utcnow())
    test = latest_test(student_id)
    if test is None:
        return Proposal(Draft(title="", horizon_months=6, starts_on=today), None, None)
    results = test.results or {}
    parts = results.get("subjects") or []
    part = next(
        (p for p in parts if p.get("subject") == (test.subject.value if test.subject else None)), None
    )
    part = part or (parts[0] if parts else None)
    current = part.get("ssn") if part else None
    subject = Subject(part["subject"]) if part and part.get("subject") in Subject.__members__ else None
    tracked = {value for value, _ in domain_choices(test.grade)}
    last = ends_on(today, 6)
    milestones = []
    for n, priority in enumerate((results.get("priorities") or [])[:MAX_MILESTONES], start=1):
        code = f"{priority['subject']}:{priority['domain']}"
        known = code in tracked  # a domain the bank no longer has: a milestone ticked by hand
        milestones.append(
            MilestoneDraft(
                title=f"Consolider : {priority['label']}",
                due_on=min(today + timedelta(weeks=4 * n), last),
                subject=Subject(priority["subject"]) if known else None,
                domain=priority["domain"] if known else None,
                target_mastery=TARGET_MASTERY if known else None,
            )
        )
    label = subject.label.lower() if subject and subject is not Subject.NSI else "NSI" if subject else ""
    draft = Draft(
        title=f"Progresser en {label}" if label else "Progresser",
        horizon_months=6,
        starts_on=today,
        subject=subject,
        target_ssn=min(100, round(current) + SSN_GAIN) if current is not None else None,
        milestones=milestones,
        assessment_id=test.id,
    )
    return Proposal(draft, test, current)


# ---- checks ----


def check(draft: Draft, grade: Grade) -> None:
    """Refuse a draft the database would refuse, or that makes no sense, with a French message."""
    if not draft.title.strip() or len(draft.title) > 160:
        raise ServiceError("Donnez un titre à la trajectoire (160 caractères au plus).", field="title")
    if draft.horizon_months not in HORIZONS:
        raise ServiceError("Choisissez un horizon de 3, 6 ou 12 mois.", field="horizon_months")
    if draft.target_ssn is not None and not 0 <= draft.target_ssn <= 100:
        raise ServiceError("Le SSN visé est un nombre entre 0 et 100.", field="target_ssn")
    if draft.target_level is not None and len(draft.target_level) > 80:
        raise ServiceError("Le niveau visé tient en 80 caractères.", field="target_level")
    if draft.target_ssn is None and not draft.target_level:
        raise ServiceError("Indiquez un niveau visé ou un SSN visé.", field="target_level")
    today = fr.local_today(utcnow())
    if abs(draft.starts_on - today) > START_WINDOW:
        raise ServiceError(
            "La trajectoire commence dans l'année, avant ou après aujourd'hui.", field="starts_on"
        )
    if len(draft.milestones) > MAX_MILESTONES:
        raise ServiceError(f"{MAX_MILESTONES} étapes au plus.", field="milestones")
    last = ends_on(draft.starts_on, draft.horizon_months)
    domains = {value for value, _ in domain_choices(grade)}
    for m in draft.milestones:
        if not m.title.strip() or len(m.title) > 200:
            raise ServiceError("Chaque étape a un titre (200 caractères au plus).", field="milestones")
        if m.due_on is not None and not draft.starts_on <= m.due_on <= last:
            raise ServiceError(
                f"L'échéance d'une étape tombe entre le {fr.short_date(draft.starts_on)} "
                f"et le {fr.short_date(last)}.",
                field="milestones",
            )
        if (m.domain is None) != (m.target_mastery is None) or (m.domain is None) != (m.subject is None):
            raise ServiceError(
                "Pour un suivi par test, choisissez le domaine et la maîtrise visée.", field="milestones"
            )
        if m.domain is not None and f"{m.subject.value}:{m.domain}" not in domains:  # type: ignore[union-attr]
            raise ServiceError("Choisissez un domaine dans la liste.", field="milestones")
        if m.target_mastery is not None and not Decimal(0) < m.target_mastery <= Decimal(1):
            raise ServiceError("La maîtrise visée est entre 1 et 100 %.", field="milestones")
