"""A family on a phone (360 px), with JavaScript and without: the student's home lists the next
session, a link to its page, and the credits left read one line per expiry day (two lots expiring
the same day are summed), on the student's home and on the parent's.

The rows are written straight into the live server's database: Yasmine (no plan) gets two lots
expiring the same day and a session with Zénon, far from the days other journeys use.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_booking_journey import e2e_database
from tests.people import PARENT, YASMINE, ZENON
from tests.servers import EmbeddedPostgres

SESSION_DAYS_AHEAD = 43  # no other journey books Zénon then
LOTS_DAYS_AHEAD = 75  # no plan's lot expires that day



@pytest.fixture(scope="module")
def yasmines_rows(live_server: LiveServer, pg: EmbeddedPostgres | None) -> tuple[int, str]:
    """Two lots of Yasmine's expiring the same day (10:00 and 13:00 UTC: 11:00 and 14:00 in Tunis),
    and a scheduled session; returns the session's id and the lots' expiry date as shown."""
    expires = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    expires += timedelta(days=LOTS_DAYS_AHEAD)
    with psycopg.connect(e2e_database(pg), autocommit=True) as conn:
        student_id = conn.execute(
            "SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = %s", (YASMINE,)
        ).fetchone()[0]  # type: ignore[index]
        for amount, at in (("1.5", expires), ("0.75", expires + timedelta(hours=3))):
            conn.execute(
                """WITH lot AS (
                     INSERT INTO credit_lots (student_id, source, amount, granted_at, expires_at, created_at)
                     VALUES (%(s)s, 'MANUAL', %(a)s, now(), %(e)s, now()) RETURNING id)
                   INSERT INTO credit_entries (student_id, lot_id, kind, amount, created_at)
                   SELECT %(s)s, lot.id, 'GRANT', %(a)s, now() FROM lot""",
                {"s": student_id, "a": amount, "e": at},
            )
        row = conn.execute(
            """INSERT INTO session_bookings (student_id, coach_id, subject, service, starts_at, ends_at,
                   credits_cost, status, room_name, created_at, updated_at)
               SELECT %s, c.id, 'FRANCAIS', 'COURS_ONLINE', date_trunc('hour', now()) + %s,
                   date_trunc('hour', now()) + %s + interval '1 hour', 1, 'SCHEDULED', %s, now(), now()
               FROM coach_profiles c JOIN users u ON u.id = c.user_id WHERE u.email = %s
               RETURNING id""",
            (
                student_id,
                timedelta(days=SESSION_DAYS_AHEAD),
                timedelta(days=SESSION_DAYS_AHEAD),
                f"nexus-e2e-{secrets.token_urlsafe(8)}",
                ZENON,
            ),
        ).fetchone()
    assert row is not None
    return int(row[0]), expires.strftime("%d/%m/%Y")


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_students_home_lists_the_next_session_and_one_line_per_expiry_day(
    phone: Page,
    yasmines_rows: tuple[int, str],
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    booking_id, expiry = yasmines_rows
    merged = f"2,25 jusqu'au {expiry}"
    sign_in(phone, YASMINE)
    expect(phone).to_have_url(re.compile(r"/dashboard/eleve$"))
    credits_line = phone.locator("main dl.facts dt:text-is('Crédits') + dd")
    expect(credits_line).to_contain_text(merged)
    expect(credits_line).not_to_contain_text("1,5 jusqu'au")
    next_sessions = phone.locator("section.card").filter(
        has=phone.get_by_role("heading", name="Prochaines séances")
    )
    link = next_sessions.locator(f"a[href='/dashboard/sessions/{booking_id}']")
    expect(link).to_contain_text("Français avec Zénon")
    expect(link).to_be_visible()
    fits(phone)
    link.click()
    expect(phone).to_have_url(re.compile(rf"/dashboard/sessions/{booking_id}$"))
    expect(phone.locator("main")).to_contain_text("Zénon")
    sign_out(phone)

    sign_in(phone, PARENT)
    expect(phone).to_have_url(re.compile(r"/dashboard/parent$"))
    card = phone.locator("section.card").filter(has=phone.get_by_role("heading", name=re.compile("^Yasmine")))
    expect(card.locator("dl.facts dt:text-is('Crédits') + dd")).to_contain_text(merged)
    fits(phone)
