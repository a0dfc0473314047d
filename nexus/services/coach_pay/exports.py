"""A statement as CSV: a file name, a header and its rows (French conventions through
`nexus.csv_export`; the blueprint calls `csv_export.response(filename, header, rows)`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from nexus.csv_export import Millimes
from nexus.models.coach_pay import CoachStatement

CSV_HEADER = (
    "Relevé",
    "Coach",
    "Mois",
    "N°",
    "Date",
    "Type",
    "Détail",
    "Minutes",
    "Tarif horaire (TND)",
    "Part (%)",
    "Montant (TND)",
    "Motif",
)


def reference(statement: CoachStatement) -> str:
    """The statement's number, or "brouillon-<id>" while it is a draft."""
    return statement.number or f"brouillon-{statement.id}"


def csv_filename(statement: CoachStatement) -> str:
    return f"releve-{statement.month}-{statement.coach.pseudonym}-{reference(statement)}.csv"


def pdf_filename(statement: CoachStatement) -> str:
    return f"releve-{statement.month}-{statement.coach.pseudonym}-{reference(statement)}.pdf"


def csv_rows(statement: CoachStatement) -> Iterator[Sequence[Any]]:
    """One row per line, then the total."""
    head = (reference(statement), statement.coach.pseudonym, statement.month)
    for line in statement.lines:
        yield (
            *head,
            line.position,
            line.occurred_at,
            line.kind,
            line.label,
            line.minutes,
            Millimes(line.rate_millimes),
            line.share_percent,
            Millimes(line.amount_millimes),
            line.reason,
        )
    yield (*head, None, None, "Total", statement.status.label, None, None, None,
           Millimes(statement.total_millimes), None)  # fmt: skip
