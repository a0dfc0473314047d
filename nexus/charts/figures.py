"""The staff's charts, from the figures of nexus.services.analytics (duck-typed: months, lines)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from nexus import fr
from nexus.charts.bars import Bar, chart


def revenue_by_month(months: Sequence[Any]) -> Markup:
    """Revenue of each month (the current one hatched, it is not over)."""
    last = len(months) - 1
    bars = [Bar(m.short, m.total, fr.tnd(m.total), i == last) for i, m in enumerate(months)]
    return chart(bars, "Chiffre d'affaires par mois (paiements validés)", "revenue")


def sessions_by_month(months: Sequence[Any]) -> Markup:
    last = len(months) - 1
    bars = [Bar(m.short, m.count, str(m.count), i == last) for i, m in enumerate(months)]
    return chart(bars, "Séances par mois (hors annulées)", "sessions")


def analytics(figures: dict[str, Any], levels: Sequence[tuple[str, str]]) -> dict[str, Markup]:
    """The analytics page's charts, one per section."""
    results, moves = figures["results"], figures["credits"]
    return {
        "revenue": chart(
            [Bar(line.offer.label, line.total, fr.tnd(line.total)) for line in figures["revenue"]],
            "Chiffre d'affaires par offre",
            "offers",
        ),
        "subscriptions": chart(
            [
                Bar(label, value, str(value))
                for label, value in (
                    ("Commencés", figures["subscriptions"].total("started")),
                    ("Renouvelés", figures["subscriptions"].total("renewed")),
                    ("Expirés", figures["subscriptions"].total("lapsed")),
                    ("Résiliés", figures["subscriptions"].total("cancelled")),
                )
            ],
            "Abonnements sur la période",
            "subscriptions",
        ),
        "sessions": chart(
            [Bar(c.label, c.held, f"{c.held} / {c.booked}") for c in figures["sessions"].by_coach],
            "Séances tenues sur réservées, par coach",
            "coaches",
        ),
        "credits": chart(
            [
                Bar("Accordés", float(moves.granted_total), fr.number(moves.granted_total)),
                Bar("Consommés", float(moves.consumed), fr.number(moves.consumed)),
                Bar("Expirés", float(moves.expired), fr.number(moves.expired), True),
            ],
            "Crédits sur la période",
            "credits",
        ),
        "aria": chart(
            [Bar(u.label, u.questions, str(u.questions)) for u in figures["aria"].by_subject],
            "Questions posées à ARIA, par matière",
            "aria",
        ),
        "ssn": chart(
            [Bar(label, results.total(key), str(results.total(key))) for key, label in levels],
            "Élèves par niveau de SSN (dernier test par matière)",
            "ssn",
        ),
    }
