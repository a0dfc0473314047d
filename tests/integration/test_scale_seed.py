"""The scale benchmark's seed (bench/scale_data.py) at a tiny factor, inside the test's transaction:
the sizes it promises, a ledger that never goes below zero, and pages that render its families."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from bench.scale_data import DOMAIN, Sizes, family_email, fill
from nexus.extensions import db
from tests.people import ASSISTANTE

FACTOR = 0.02


@pytest.fixture
def seeded() -> tuple[Sizes, Any]:
    """The centre at FACTOR through the test's own connection (rolled back after the test)."""
    conn = db.session.connection().connection.driver_connection
    return fill(conn, FACTOR, log=lambda _line: None), conn


def scalar(conn: Any, sql: str, *args: Any) -> Any:
    return conn.execute(sql, args or None).fetchone()[0]


def test_the_sizes_it_promises(seeded: tuple[Sizes, Any]) -> None:
    sizes, conn = seeded
    like = f"%@{DOMAIN}"
    people = "SELECT count(*) FROM users WHERE role = %s AND email LIKE %s"
    assert scalar(conn, people, "PARENT", like) == sizes.families
    assert scalar(conn, people, "ELEVE", like) == sizes.students
    sessions = "SELECT count(*) FROM session_bookings WHERE room_name LIKE 'scale-%'"
    assert scalar(conn, sessions) == sizes.sessions
    assert scalar(conn, "SELECT count(*) FROM payments WHERE reference LIKE 'SCL%'") == sizes.payments
    invoices = (
        "SELECT count(*) FROM invoices i JOIN payments p ON p.id = i.payment_id WHERE p.reference LIKE 'SCL%'"
    )
    assert scalar(conn, invoices) == sizes.payments
    of_seeded = (
        "JOIN students s ON s.id = x.student_id JOIN users u ON u.id = s.user_id WHERE u.email LIKE %s"
    )
    assert scalar(conn, f"SELECT count(*) FROM credit_entries x {of_seeded}", like) == sizes.ledger  # noqa: S608
    assert scalar(conn, f"SELECT count(*) FROM aria_conversations x {of_seeded}", like) == sizes.conversations  # noqa: S608


def test_no_lot_below_zero_and_one_entry_per_booking(seeded: tuple[Sizes, Any]) -> None:
    _sizes, conn = seeded
    negative = "SELECT count(*) FROM (SELECT 1 FROM credit_entries GROUP BY lot_id HAVING sum(amount) < 0) x"
    assert scalar(conn, negative) == 0
    unpaid = (
        "SELECT count(*) FROM session_bookings b WHERE b.room_name LIKE 'scale-%' AND NOT EXISTS "
        "(SELECT 1 FROM credit_entries e WHERE e.booking_id = b.id AND e.kind = 'CONSUME')"
    )
    assert scalar(conn, unpaid) == 0


def test_its_families_and_tables_render(
    seeded: tuple[Sizes, Any], client: FlaskClient, login: Callable[..., FlaskClient], app: Any
) -> None:
    login(client, family_email(0))
    page = client.get("/dashboard/parent")
    assert page.status_code == 200
    assert "Salma" in page.get_data(as_text=True)  # family 0's second child (student 10)
    staff = login(app.test_client(), ASSISTANTE)
    assert staff.get("/dashboard/assistante/credits?q=Famille0").status_code == 200
    assert staff.get("/dashboard/assistante/eleves?q=Famille0").status_code == 200
