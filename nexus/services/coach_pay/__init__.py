"""Coach pay: hourly rates per modality (with their history), the monthly statement computed
from the sessions held (drafts recomputed until staff validate them; then frozen and numbered),
its PDF and CSV, the centre's pay rules, and the cost of coaching per month.

Callers use `coach_pay.X`; each concern lives in its own module: `rates`, `compute` (what a
month brings, read-only), `statements` (draft, adjust, validate, who reads what), `settings`,
`pdf`, `exports`, `figures`, `months`.
"""

from __future__ import annotations

from nexus.services.coach_pay.compute import TO_CLOSE, Computation, MissingRate, amount, compute
from nexus.services.coach_pay.exports import CSV_HEADER, csv_filename, csv_rows, pdf_filename
from nexus.services.coach_pay.figures import MonthCost, coaching_cost_by_month
from nexus.services.coach_pay.months import (
    bounds,
    current_month,
    month_label,
    month_of,
    months_between,
    parse_month,
    shift,
)
from nexus.services.coach_pay.pdf import render_pdf
from nexus.services.coach_pay.rates import MAX_HOURLY_MILLIMES, current_rates, rate_at, rates_of, set_rate
from nexus.services.coach_pay.settings import PaySettings, pay_settings, set_pay_settings
from nexus.services.coach_pay.statements import (
    CHANGED,
    FROZEN,
    adjust,
    coach_link,
    missing_rates,
    refresh,
    refresh_month,
    statement_for,
    statements_of_coach,
    statements_of_month,
    validate,
)

__all__ = [
    "CHANGED",
    "CSV_HEADER",
    "FROZEN",
    "MAX_HOURLY_MILLIMES",
    "TO_CLOSE",
    "Computation",
    "MissingRate",
    "MonthCost",
    "PaySettings",
    "adjust",
    "amount",
    "bounds",
    "coach_link",
    "coaching_cost_by_month",
    "compute",
    "csv_filename",
    "csv_rows",
    "current_month",
    "current_rates",
    "missing_rates",
    "month_label",
    "month_of",
    "months_between",
    "parse_month",
    "pay_settings",
    "pdf_filename",
    "rate_at",
    "rates_of",
    "refresh",
    "refresh_month",
    "render_pdf",
    "set_pay_settings",
    "set_rate",
    "shift",
    "statement_for",
    "statements_of_coach",
    "statements_of_month",
    "validate",
]
