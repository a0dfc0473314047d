"""Each analytics section as CSV: a file name, a header and rows (the same figures as its table).

The rows are aggregates (a few dozen lines), so they are computed at once; `nexus.csv_export`
writes them in French conventions (amounts through `Millimes`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nexus.csv_export import Millimes
from nexus.services.analytics import aria, assessments, credits, revenue, sessions, subscriptions
from nexus.services.analytics.periods import Period

Rows = Iterable[Sequence[Any]]


@dataclass(frozen=True)
class Export:
    name: str  # in the file name: "chiffre-affaires"
    header: Sequence[str]
    rows: Callable[[Period], Rows]


def _revenue(period: Period) -> Rows:
    for line in revenue.by_offer(period):
        yield line.offer.label, line.kind, line.count, Millimes(line.total)


def _subscriptions(period: Period) -> Rows:
    for line in subscriptions.summary(period).lines:
        yield line.plan.label, line.started, line.renewed, line.lapsed, line.cancelled


SESSION_HEADER = ("Réservées", "Tenues", "Annulées", "Absences", "À venir", "Taux d'absence (%)")


def _session_rows(lines: Iterable[sessions.Counts]) -> Rows:
    for c in lines:
        yield c.label, c.booked, c.held, c.cancelled, c.no_show, c.upcoming, c.no_show_rate


def _sessions_by_coach(period: Period) -> Rows:
    return _session_rows(sessions.breakdown(period).by_coach)


def _sessions_by_subject(period: Period) -> Rows:
    return _session_rows(sessions.breakdown(period).by_subject)


def _credits(period: Period) -> Rows:
    m = credits.movements(period)
    for line in m.granted:
        yield "Accordés", line.source.label, line.lots, line.amount
    yield "Consommés (remboursements déduits)", "", "", m.consumed
    yield "Remboursés", "", "", m.refunded
    yield "Expirés", "", "", m.expired
    yield "Ajustés", "", "", m.adjusted


def _aria(period: Period) -> Rows:
    figures = aria.usage(period)
    for u in [*figures.by_subject, figures.total]:
        yield u.label, u.questions, u.conversations, u.students, u.up, u.down, u.satisfaction


def _ssn(period: Period) -> Rows:
    for c in assessments.results(period).cohorts:
        yield (
            c.subject.label,
            c.grade.label,
            *(c.count(key) for key, _ in assessments.LEVEL_NAMES),
            c.students,
            round(c.mean, 1),
        )


def _attention(_period: Period) -> Rows:
    for a in assessments.attention():
        yield a.name, a.subject.label, a.grade.label, round(a.ssn, 1), a.measured_at


EXPORTS: dict[str, Export] = {
    "revenus": Export("chiffre-affaires", ("Offre", "Type", "Paiements", "Montant (TND)"), _revenue),
    "abonnements": Export(
        "abonnements", ("Formule", "Commencés", "Renouvelés", "Expirés", "Résiliés"), _subscriptions
    ),
    "seances-coachs": Export("seances-par-coach", ("Coach", *SESSION_HEADER), _sessions_by_coach),
    "seances-matieres": Export("seances-par-matiere", ("Matière", *SESSION_HEADER), _sessions_by_subject),
    "credits": Export("credits", ("Mouvement", "Origine", "Lots", "Crédits"), _credits),
    "aria": Export(
        "aria",
        (
            "Matière",
            "Questions",
            "Conversations",
            "Élèves",
            "Avis positifs",
            "Avis négatifs",
            "Satisfaction (%)",
        ),
        _aria,
    ),
    "ssn": Export(
        "resultats-ssn",
        (
            "Matière",
            "Niveau scolaire",
            *(label for _, label in assessments.LEVEL_NAMES),
            "Élèves",
            "SSN moyen",
        ),
        _ssn,
    ),
    "attention": Export(
        "eleves-a-suivre", ("Élève", "Matière", "Niveau scolaire", "SSN", "Test du"), _attention
    ),
}


def filename(section: str, period: Period) -> str:
    """'chiffre-affaires-mois-2030-03.csv'."""
    start = period.start.strftime("%Y-%m")
    return f"{EXPORTS[section].name}-{period.key}-{start}.csv"
