"""The admin's analytics page: figures of a month, quarter or year, each chart with its table and
its CSV (`?format=csv&section=…`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from markupsafe import Markup

from nexus import csv_export, fr, policy
from nexus.charts import figures as figure_charts
from nexus.charts.bars import Bar, chart
from nexus.services.analytics import (
    aria,
    assessments,
    coaching,
    credits,
    exports,
    periods,
    revenue,
    rollups,
    sessions,
    subscriptions,
)

bp = Blueprint("analytics", __name__, url_prefix="/dashboard/admin/analytics")


@bp.get("")
@policy.access(policy.ADMIN)
def index() -> Any:
    period, problem = periods.parse(request.args.get("periode"))
    if request.args.get("format") == "csv":
        section = request.args.get("section", "")
        if section == coaching.SECTION:
            return csv_export.response(
                coaching.filename(), coaching.CSV_HEADER, coaching.csv_rows(coaching.by_month())
            )
        if section not in exports.EXPORTS:
            abort(404)
        export = exports.EXPORTS[section]
        return csv_export.response(exports.filename(section, period), export.header, export.rows(period))
    current, previous = revenue.totals(period)
    figures = {
        "revenue": revenue.by_offer(period),
        "current": current,
        "previous": previous,
        "growth": revenue.growth(current, previous),
        "subscriptions": subscriptions.summary(period),
        "sessions": sessions.breakdown(period),
        "credits": credits.movements(period),
        "aria": aria.usage(period),
        "results": assessments.results(period),
    }
    cost = coaching.by_month()
    return render_template(
        "analytics/index.html",
        coaching=cost,
        coaching_chart=_coaching_chart(cost),
        period=period,
        problem=problem,
        choices=periods.CHOICES,
        levels=assessments.LEVEL_NAMES,
        charts=figure_charts.analytics(figures, assessments.LEVEL_NAMES),
        closed_at=rollups.computed_at(period.previous_start),
        **figures,
    )


def _coaching_chart(figures: coaching.CoachingFigures) -> Markup:
    """The cost of coaching per month with its share of revenue; a month with drafts hatched."""
    if not figures.any_cost:
        return Markup("")
    bars = [
        Bar(m.short, m.cost, fr.tnd(m.cost) + (f" ({fr.percent(m.share)})" if m.share is not None else ""),
            m.is_provisional)
        for m in figures.months
    ]  # fmt: skip
    return chart(bars, "Coût du coaching par mois (hachuré : provisoire)", "coaching")
