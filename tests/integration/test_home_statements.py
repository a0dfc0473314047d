"""The family homes stay cheap (issue 12, speed): a ceiling on the SQL statements one request
runs, counted on the engine (the test's SAVEPOINTs left out). A new query on a home, a lazy load
in a template or a next step reading again what the page read fails here, not in `make bench`."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from nexus.extensions import db
from tests.people import HX, PARENT, PARENT2, SAMI, YASMINE

# The user and their browser session, the children (or the student), and what each part shows.
CEILINGS = {
    # cards (3), next session, latest report, index, badges, trajectory, transfers, credit
    # requests, the activation address, the bell (one SELECT for both counts)
    (PARENT, "/dashboard/parent"): 14,
    # …then the next step's own reads: the unread report, the positioning tests
    (PARENT2, "/dashboard/parent"): 15,
    # next sessions, tests, card (3), ARIA conversations, index, badges, trajectory, the bell
    (YASMINE, "/dashboard/eleve"): 12,
    (SAMI, "/dashboard/eleve"): 12,
    # the lazy chart panel: the index day by day and the SSN series in one statement (no bell)
    (PARENT, "/dashboard/parent/progression"): 3,
    (PARENT2, "/dashboard/parent/progression"): 3,
    (YASMINE, "/dashboard/eleve/progression"): 3,
    (SAMI, "/dashboard/eleve/progression"): 3,
}


def statements_of(client, path: str, headers: dict[str, str]) -> list[str]:
    """The SQL statements one GET runs (it must answer 200)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(path, headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return statements


@pytest.mark.parametrize(("who", "path"), list(CEILINGS), ids=[f"{w.split('@')[0]}{p}" for w, p in CEILINGS])
def test_a_home_and_its_panel_run_a_bounded_number_of_statements(client, login, who, path):
    login(client, who)
    headers = HX if path.endswith("/progression") else {}
    statements_of(client, path, headers)  # first request of the client: nothing to warm, but alike
    found = statements_of(client, path, headers)
    listing = "\n".join(" ".join(s.split())[:160] for s in found)
    assert 0 < len(found) <= CEILINGS[(who, path)], f"{len(found)} statements:\n{listing}"
    assert len(found) == len(set(found)), f"the same statement twice (a read per child?):\n{listing}"
