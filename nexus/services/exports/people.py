"""Exports of the people tables: students and their credit balances, contact messages, bilan
requests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from nexus.models.common import Subject
from nexus.models.diagnostics import BilanRequest
from nexus.models.family import Student
from nexus.models.notifications import ContactMessage
from nexus.services import credits, diagnostics, staff, utcnow
from nexus.services.exports.base import Filters, Table, choice, chunks, query, stream

CENT = Decimal("0.01")

# -- students and their balances --------------------------------------------------------------


def _student_filters(args: Mapping[str, str]) -> Filters:
    return {"filtre": choice(args, "filtre", staff.STUDENT_FILTERS, "tous"), "q": query(args)}


def _student_rows(filters: Filters) -> Iterator[Sequence[Any]]:
    pupil, parent = staff.STUDENT_USER, staff.PARENT_USER
    stmt = staff.students_stmt(filters["filtre"], filters["q"]).with_only_columns(
        Student.id,
        pupil.first_name + " " + pupil.last_name,
        pupil.email,
        Student.grade,
        Student.school,
        parent.first_name + " " + parent.last_name,
        parent.email,
        parent.phone,
        pupil.activated_at.is_not(None),
        pupil.activated_at,
        Student.created_at,
    )
    now = utcnow()
    for chunk in chunks(stmt):
        # The one balance function, once per chunk of rows (not once per student).
        balances = credits.balances([row[0] for row in chunk], at=now)
        for student_id, *cells in chunk:
            yield (*cells, balances[student_id].quantize(CENT))  # "0,00" like "4,00"


STUDENTS = Table(
    "eleves",
    (
        "Élève",
        "E-mail de l'élève",
        "Classe",
        "Établissement",
        "Parent",
        "E-mail du parent",
        "Téléphone du parent",
        "Compte activé",
        "Activé le",
        "Inscrit le",
        "Solde de crédits",
    ),
    _student_filters,
    _student_rows,
)

# -- contact messages -------------------------------------------------------------------------


def _contact_filters(args: Mapping[str, str]) -> Filters:
    return {"filtre": choice(args, "filtre", staff.CONTACT_FILTERS, "a-traiter"), "q": query(args)}


def _contact_rows(filters: Filters) -> Iterator[Sequence[Any]]:
    stmt = staff.contacts_stmt(filters["filtre"], filters["q"]).with_only_columns(
        ContactMessage.created_at,
        ContactMessage.name,
        ContactMessage.email,
        ContactMessage.phone,
        ContactMessage.topic,
        ContactMessage.message,
        ContactMessage.handled_at,
    )
    for received, name, email, phone, topic, message, handled_at in stream(stmt):
        yield (
            received,
            name,
            email,
            phone,
            staff.topic_label(topic),
            message,
            handled_at is not None,
            handled_at,
        )


CONTACTS = Table(
    "contacts",
    ("Reçu le", "Nom", "E-mail", "Téléphone", "Sujet", "Message", "Traité", "Traité le"),
    _contact_filters,
    _contact_rows,
)

# -- bilan requests ---------------------------------------------------------------------------


def _bilan_filters(args: Mapping[str, str]) -> Filters:
    return {"filtre": choice(args, "filtre", diagnostics.BILAN_FILTERS, "a-traiter"), "q": query(args)}


def _subjects(values: list[str] | None) -> str:
    labels = {subject.value: subject.label for subject in Subject}
    return ", ".join(labels.get(value, value) for value in values or [])


def _bilan_rows(filters: Filters) -> Iterator[Sequence[Any]]:
    stmt = diagnostics.bilan_requests_stmt(filters["filtre"], filters["q"]).with_only_columns(
        BilanRequest.id,
        BilanRequest.created_at,
        BilanRequest.status,
        BilanRequest.parent_first_name + " " + BilanRequest.parent_last_name,
        BilanRequest.parent_email,
        BilanRequest.parent_phone,
        BilanRequest.student_first_name + " " + BilanRequest.student_last_name,
        BilanRequest.grade,
        BilanRequest.school,
        BilanRequest.subjects,
        BilanRequest.modality,
        BilanRequest.current_level,
        BilanRequest.objectives,
        BilanRequest.difficulties,
        BilanRequest.availability,
        BilanRequest.accept_newsletter,
    )
    for row in stream(stmt):
        yield (*row[:9], _subjects(row[9]), *row[10:])


BILANS = Table(
    "demandes-bilan",
    (
        "N°",
        "Reçue le",
        "Statut",
        "Parent",
        "E-mail du parent",
        "Téléphone du parent",
        "Élève",
        "Classe",
        "Établissement",
        "Matières",
        "Modalité",
        "Niveau actuel",
        "Objectifs",
        "Difficultés",
        "Disponibilités",
        "Lettre d'information",
    ),
    _bilan_filters,
    _bilan_rows,
)
