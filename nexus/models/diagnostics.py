"""Free bilan requests from families, and the bilans written for three audiences after a test."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import (
    Grade,
    LabelledEnum,
    created_at,
    email_type,
    enum_type,
    intpk,
    subjects_check,
    updated_at,
)

if TYPE_CHECKING:
    from nexus.models.assessments import Assessment


class Modality(LabelledEnum):
    ONLINE = "ONLINE", "En ligne"
    IN_PERSON = "IN_PERSON", "Au centre"
    HYBRID = "HYBRID", "Hybride"


class BilanStatus(LabelledEnum):
    RECEIVED = "RECEIVED", "Reçue"
    CONTACTED = "CONTACTED", "Famille contactée"
    CONVERTED = "CONVERTED", "Inscrite"
    CLOSED = "CLOSED", "Close"

    @property
    def is_closed(self) -> bool:
        return self is BilanStatus.CLOSED


# Staff follow-up: received → family contacted → enrolled or closed.
NEXT_STATUSES: dict[BilanStatus, tuple[BilanStatus, ...]] = {
    BilanStatus.RECEIVED: (BilanStatus.CONTACTED, BilanStatus.CLOSED),
    BilanStatus.CONTACTED: (BilanStatus.CONVERTED, BilanStatus.CLOSED),
    BilanStatus.CONVERTED: (),
    BilanStatus.CLOSED: (),
}


class BilanRequest(db.Model):
    """The public "bilan gratuit" form, kept whole (the original discarded the answers)."""

    __tablename__ = "bilan_requests"
    __table_args__ = (
        CheckConstraint(subjects_check("subjects"), name="known_subjects"),
        Index("ix_bilan_requests_status", "status", "created_at"),
    )

    id: Mapped[intpk]
    parent_first_name: Mapped[str] = mapped_column(String(80))
    parent_last_name: Mapped[str] = mapped_column(String(80))
    parent_email: Mapped[str] = mapped_column(email_type())
    parent_phone: Mapped[str] = mapped_column(String(32))
    student_first_name: Mapped[str] = mapped_column(String(80))
    student_last_name: Mapped[str] = mapped_column(String(80))
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    school: Mapped[str | None] = mapped_column(String(120))
    subjects: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    current_level: Mapped[str | None] = mapped_column(String(200))
    objectives: Mapped[str | None] = mapped_column(Text)
    difficulties: Mapped[str | None] = mapped_column(Text)
    modality: Mapped[Modality | None] = mapped_column(enum_type(Modality))
    availability: Mapped[str | None] = mapped_column(String(300))
    accept_newsletter: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    status: Mapped[BilanStatus] = mapped_column(enum_type(BilanStatus))
    parent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    @property
    def next_statuses(self) -> tuple[BilanStatus, ...]:
        """Where staff can move the request from here (in this order)."""
        return NEXT_STATUSES[self.status]

    @property
    def is_closed(self) -> bool:
        return self.status.is_closed


# -- bilans for three audiences (after a positioning test) -------------------------------------------


class GenerationStatus(LabelledEnum):
    QUEUED = "QUEUED", "En file d'attente"
    SCORING = "SCORING", "Analyse des résultats"
    WRITING = "WRITING", "Rédaction"
    READY = "READY", "Prêt"
    FAILED = "FAILED", "Échec"


class BilanSource(LabelledEnum):
    LLM = "LLM", "Modèle de langage"
    TEMPLATE = "TEMPLATE", "Bilan type (sans modèle)"
    MIXED = "MIXED", "Modèle de langage et bilan type"


class Audience(LabelledEnum):
    """Who a bilan's text is written for; the value is the link's and the URL's word."""

    STUDENT = "eleve", "Élève"
    PARENTS = "parents", "Parents"
    TEAM = "equipe", "Équipe pédagogique"


class BilanError(LabelledEnum):
    """The original's error codes ("bilan pallier 2"), in our wording (LLM rather than Ollama).

    On a FAILED bilan the reason it failed; on a READY one, why (part of) it is the template."""

    LLM_TIMEOUT = "LLM_TIMEOUT", "Le modèle de langage n'a pas répondu à temps"
    LLM_UNAVAILABLE = "LLM_UNAVAILABLE", "Modèle de langage indisponible"
    LLM_EMPTY_RESPONSE = "LLM_EMPTY_RESPONSE", "Réponse vide du modèle de langage"
    LLM_GENERATION_SKIPPED = "LLM_GENERATION_SKIPPED", "Aucun modèle de langage configuré"
    RAG_UNAVAILABLE = "RAG_UNAVAILABLE", "Supports de cours indisponibles"
    RAG_TIMEOUT = "RAG_TIMEOUT", "Recherche dans les supports de cours trop lente"
    VALIDATION_ERROR = "VALIDATION_ERROR", "Texte refusé par les contrôles, remplacé par le bilan type"
    SCORING_ERROR = "SCORING_ERROR", "Résultats du test inutilisables"
    INTERNAL_ERROR = "INTERNAL_ERROR", "Erreur inattendue pendant la génération"


WRITING_STEPS = 3  # one text per audience


class Bilan(db.Model):
    """The three bilans of one completed test, written by a job: QUEUED → SCORING → WRITING
    (step 1/3, 2/3, 3/3) → READY, or FAILED (staff may retry). Progress is committed at each step
    so a polling page shows it; the three texts are reached by signed links of `link_version`."""

    __tablename__ = "bilans"
    __table_args__ = (
        CheckConstraint(f"step BETWEEN 0 AND {WRITING_STEPS}", name="step_range"),
        CheckConstraint("link_version >= 1", name="link_version_positive"),
        Index("ix_bilans_status", "status", "created_at"),
    )

    id: Mapped[intpk]
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), unique=True)
    # The diagnostic questionnaire ("bilan pallier 2"); None for a stage participant's bilan.
    questionnaire: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[GenerationStatus] = mapped_column(enum_type(GenerationStatus))
    step: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    error_code: Mapped[BilanError | None] = mapped_column(enum_type(BilanError))
    error_detail: Mapped[str | None] = mapped_column(String(500))
    retry_count: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    # The scoring step's output: priorities, quick wins, risks, plan, offer (the texts' facts).
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    student_markdown: Mapped[str | None] = mapped_column(Text)
    parents_markdown: Mapped[str | None] = mapped_column(Text)
    team_markdown: Mapped[str | None] = mapped_column(Text)
    source: Mapped[BilanSource | None] = mapped_column(enum_type(BilanSource))
    model: Mapped[str | None] = mapped_column(String(120))
    # Per audience: its source, the attempts, why a text was refused (for staff).
    generation: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Bumped to revoke the three links.
    link_version: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    assessment: Mapped[Assessment] = relationship()

    MARKDOWN_COLUMNS = {
        Audience.STUDENT: "student_markdown",
        Audience.PARENTS: "parents_markdown",
        Audience.TEAM: "team_markdown",
    }

    def text_for(self, audience: Audience) -> str | None:
        return getattr(self, self.MARKDOWN_COLUMNS[audience])

    @property
    def is_ready(self) -> bool:
        return self.status is GenerationStatus.READY

    @property
    def is_failed(self) -> bool:
        return self.status is GenerationStatus.FAILED

    @property
    def is_running(self) -> bool:
        return self.status in (GenerationStatus.QUEUED, GenerationStatus.SCORING, GenerationStatus.WRITING)

    @property
    def progress(self) -> int:
        """0-100 for the progress bar."""
        if self.status is GenerationStatus.WRITING:
            return 25 + 25 * max(self.step - 1, 0)
        return {GenerationStatus.QUEUED: 5, GenerationStatus.SCORING: 15}.get(self.status, 100)

    @property
    def is_template(self) -> bool:
        """All three texts are the template's (no language model)."""
        return self.source is BilanSource.TEMPLATE

    @property
    def timeline(self) -> list[tuple[str, str]]:
        """The job's steps for the progress page: (label, "done" | "current" | "todo")."""
        order = [GenerationStatus.QUEUED, GenerationStatus.SCORING, GenerationStatus.WRITING]
        labels = [
            "En file d'attente",
            "Analyse des résultats",
            "Rédaction des trois bilans (élève, parents, équipe)",
        ]
        if self.status is GenerationStatus.WRITING:
            labels[2] = f"{self.stage_label} : élève, parents, équipe"
        here = order.index(self.status) if self.status in order else len(order)
        return [
            (label, "done" if n < here else "current" if n == here else "todo")
            for n, label in enumerate(labels)
        ]

    @property
    def stage_label(self) -> str:
        """Where the job is, in French ("Rédaction 2/3")."""
        if self.status is GenerationStatus.WRITING:
            return f"Rédaction {max(self.step, 1)}/{WRITING_STEPS}"
        return self.status.label
