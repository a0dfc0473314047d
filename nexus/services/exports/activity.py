"""Exports of the activity tables: the coming sessions, the credit ledger's entries, the stage
reservations, the audit log."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from nexus import fr
from nexus.csv_export import Millimes
from nexus.models.audit import AuditLog
from nexus.models.credits import CreditEntry, CreditLot
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking
from nexus.services import audit, credits, parse_id, scheduling, stages
from nexus.services.exports.base import Filters, Table, choice, query, stream

_StudentUser = aliased(User, name="export_student_user")
_Actor = aliased(User, name="export_actor")

# -- sessions (the coming weeks) --------------------------------------------------------------


def _no_filters(args: Mapping[str, str]) -> Filters:
    return {}


def _session_rows(filters: Filters) -> Iterator[Sequence[Any]]:
    stmt = (
        scheduling.upcoming_stmt()
        .with_only_columns(
            SessionBooking.starts_at,
            SessionBooking.ends_at,
            _StudentUser.first_name + " " + _StudentUser.last_name,
            CoachProfile.pseudonym,
            SessionBooking.subject,
            SessionBooking.service,
            SessionBooking.title,
            SessionBooking.status,
            SessionBooking.credits_cost,
            SessionBooking.location,
            maintain_column_froms=True,
        )
        .join(Student, SessionBooking.student_id == Student.id)
        .join(_StudentUser, Student.user_id == _StudentUser.id)
        .join(CoachProfile, SessionBooking.coach_id == CoachProfile.id)
    )
    yield from stream(stmt)


SESSIONS = Table(
    "seances",
    ("Début", "Fin", "Élève", "Coach", "Matière", "Prestation", "Titre", "Statut", "Crédits", "Lieu"),
    _no_filters,
    _session_rows,
)

# -- the credit ledger ------------------------------------------------------------------------


def _ledger_filters(args: Mapping[str, str]) -> Filters:
    return {"q": query(args)}


def _ledger_rows(filters: Filters) -> Iterator[Sequence[Any]]:
    """Every entry of the students the balances table shows for this search, oldest first."""
    # correlate(None): the subquery keeps its own students/users, not the outer query's.
    students = (
        credits.students_stmt(filters["q"])
        .with_only_columns(Student.id, maintain_column_froms=True)
        .order_by(None)
        .correlate(None)
    )
    stmt = (
        select(
            CreditEntry.created_at,
            _StudentUser.first_name + " " + _StudentUser.last_name,
            _StudentUser.email,
            CreditEntry.kind,
            CreditEntry.amount,
            CreditLot.source,
            CreditLot.expires_at,
            CreditEntry.booking_id,
            CreditEntry.note,
            _Actor.first_name + " " + _Actor.last_name,
        )
        .join(Student, CreditEntry.student_id == Student.id)
        .join(_StudentUser, Student.user_id == _StudentUser.id)
        .join(CreditLot, CreditEntry.lot_id == CreditLot.id)
        .outerjoin(_Actor, CreditEntry.actor_id == _Actor.id)
        .where(CreditEntry.student_id.in_(students))
        .order_by(CreditEntry.created_at, CreditEntry.id)
    )
    yield from stream(stmt)


LEDGER = Table(
    "credits",
    (
        "Date",
        "Élève",
        "E-mail de l'élève",
        "Mouvement",
        "Crédits",
        "Origine du lot",
        "Lot valable jusqu'au",
        "Séance n°",
        "Note",
        "Par",
    ),
    _ledger_filters,
    _ledger_rows,
)

# -- stage reservations -----------------------------------------------------------------------


def _reservation_filters(args: Mapping[str, str]) -> Filters:
    return {
        "filtre": choice(args, "filtre", stages.RESERVATION_FILTERS, "actives"),
        "stage": parse_id(args.get("stage")),
        "q": query(args),
    }


def _reservation_rows(filters: Filters) -> Iterator[Sequence[Any]]:
    stmt = stages.reservations_stmt(filters["filtre"], filters["stage"], filters["q"])
    for (r,) in stream(stmt):
        test = r.assessment
        yield (
            r.reference,
            r.stage.title,
            f"{fr.short_date(r.stage.starts_on)} – {fr.short_date(r.stage.ends_on)}",
            r.student_name,
            r.grade,
            r.parent_name,
            r.email,
            r.phone,
            r.status,
            Millimes(r.stage.price_millimes),
            test.status if test is not None else "—",
            r.created_at,
            r.updated_at,
        )


RESERVATIONS = Table(
    "reservations-stages",
    (
        "Référence",
        "Stage",
        "Dates",
        "Élève",
        "Classe",
        "Parent",
        "E-mail",
        "Téléphone",
        "Statut",
        "Prix (TND)",
        "Test de positionnement",
        "Reçue le",
        "Mise à jour le",
    ),
    _reservation_filters,
    _reservation_rows,
)

# -- the audit log ----------------------------------------------------------------------------


def _audit_filters(args: Mapping[str, str]) -> Filters:
    return {"action": args.get("action", "")[:40]}


def _changes(line: AuditLog) -> str:
    """The changes as the log's page says them: « Statut : En attente → Payée »."""
    said = []
    for field, before, after in line.changes:
        was = f"{before} → " if before is not None else ""
        said.append(f"{field} : {was}{after if after is not None else '—'}")
    return " ; ".join(said)


def _audit_rows(filters: Filters) -> Iterator[Sequence[Any]]:
    for (line,) in stream(audit.recent_stmt(filters["action"])):
        actor = line.actor
        yield (
            line.created_at,
            actor.full_name if actor else "Système",
            actor.email if actor else None,
            line.action_label,
            line.action,
            line.object_label,
            _changes(line),
            line.ip,
        )


AUDIT = Table(
    "journal-audit",
    (
        "Date",
        "Auteur",
        "E-mail de l'auteur",
        "Action",
        "Code de l'action",
        "Objet",
        "Changements",
        "Adresse IP",
    ),
    _audit_filters,
    _audit_rows,
)
