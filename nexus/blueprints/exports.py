"""CSV downloads of the staff tables: `<table's page>.csv` with the page's own query string gives
the rows of its current filter (nexus/services/exports), streamed, with one audit line each.

Each download has its page's access rule; the link above each table is `export_url(endpoint)`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_login import current_user

from nexus import csv_export, fr, policy
from nexus.services import exports

bp = Blueprint("exports", __name__)


@bp.app_template_global()
def export_url(endpoint: str) -> str:
    """The download of the table on this page, with the page's filters (not its page number)."""
    return url_for(endpoint, **{key: value for key, value in request.args.items() if key != "page"})


def _download(name: str) -> Response:
    """Audit the export, then stream its rows (the audit line is committed before the first row)."""
    table = exports.TABLES[name]
    filters = table.filters(request.args)
    exports.record(table, filters, current_user)
    filename = f"{table.name}-{fr.local_today().isoformat()}.csv"
    return csv_export.response(filename, table.header, table.rows(filters))


@bp.get("/dashboard/assistante/paiements.csv")
@policy.access(policy.STAFF)
def payments() -> Any:
    return _download("paiements")


@bp.get("/dashboard/assistante/paiements/cartes.csv")
@policy.access(policy.STAFF)
def card_payments() -> Any:
    return _download("paiements-carte")


@bp.get("/dashboard/admin/factures.csv")
@policy.access(policy.STAFF)  # as the invoices table: admin and assistante
def invoices() -> Any:
    return _download("factures")


@bp.get("/dashboard/assistante/eleves.csv")
@policy.access(policy.STAFF)
def students() -> Any:
    return _download("eleves")


@bp.get("/dashboard/assistante/seances.csv")
@policy.access(policy.STAFF)
def sessions() -> Any:
    return _download("seances")


@bp.get("/dashboard/assistante/credits.csv")
@policy.access(policy.STAFF)
def credit_ledger() -> Any:
    return _download("credits")


@bp.get("/dashboard/assistante/stages/reservations.csv")
@policy.access(policy.STAFF)
def stage_reservations() -> Any:
    return _download("reservations-stages")


@bp.get("/dashboard/assistante/bilans.csv")
@policy.access(policy.STAFF)
def bilan_requests() -> Any:
    return _download("demandes-bilan")


@bp.get("/dashboard/assistante/contacts.csv")
@policy.access(policy.STAFF)
def contacts() -> Any:
    return _download("contacts")


@bp.get("/dashboard/admin/audit.csv")
@policy.access(policy.ADMIN)
def audit_log() -> Any:
    return _download("journal-audit")
