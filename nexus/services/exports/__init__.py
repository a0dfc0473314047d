"""CSV exports of the staff tables (issue 13): each table's rows of its current filter, read
with the same statement as its page (without the page's limit), streamed from a server-side
cursor in French conventions (nexus/csv_export.py), and one audit line per export.

One module per area (`money`, `people`, `activity`) describes its tables; `TABLES` names them
all, by the name their URL, file and audit line carry.
"""

from __future__ import annotations

from nexus.models.identity import User
from nexus.services import audit, command
from nexus.services.exports.activity import AUDIT, LEDGER, RESERVATIONS, SESSIONS
from nexus.services.exports.base import Filters, Table
from nexus.services.exports.money import CARD_PAYMENTS, INVOICES, PAYMENTS
from nexus.services.exports.people import BILANS, CONTACTS, STUDENTS

ACTION = "export.csv"
TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        PAYMENTS,
        CARD_PAYMENTS,
        INVOICES,
        STUDENTS,
        SESSIONS,
        LEDGER,
        RESERVATIONS,
        BILANS,
        CONTACTS,
        AUDIT,
    )
}

__all__ = ["ACTION", "TABLES", "Filters", "Table", "record"]


@command
def record(table: Table, filters: Filters, actor: User) -> None:
    """The export's audit line: who took which table, with which filters (the empty ones left out)."""
    said = {key: value for key, value in filters.items() if value not in ("", None)}
    audit.record(ACTION, actor.id, after={"table": table.name, "filters": said})
