"""Helpers of the workshop journey (tests/e2e/test_workshop_journeys.py): the cast of the demo's
Première class, the live server's database read and moved from this process (balances, seats,
time passing), the free hour the workshop is given, one browser per person, and reading the
pages (balances, amounts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.engine import make_url

from tests.e2e.conftest import PHONE, LiveServer
from tests.e2e.server import SECRET_KEY
from tests.e2e.test_booking_journey import e2e_database
from tests.e2e.test_progress_journeys import new_page, sign_in_as
from tests.people import HELIOS, PARENT2, SAMI
from tests.servers import EmbeddedPostgres

TUNIS = ZoneInfo("Africa/Tunis")
HOUR = time(17, 0)  # inside Hélios's weekly hours (14:00-19:00, Monday to Friday)
# Hélios's hourly pay (millimes) as the seed gives it: online, at the centre, workshop.
RATES = {"ONLINE": 30_000, "CENTRE": 35_000, "WORKSHOP": 45_000}


@dataclass(frozen=True)
class Pupil:
    """A Première student of the demo and the parent who answers for them."""

    first: str
    email: str
    parent: str
    student_id: int = 0


# Sami (Hichem's son) and the seed's three classmates (nexus/seed.py CLASSMATES).
CLASS = (
    Pupil("Lina", "lina@nexus-reussite.tn", "parent3@nexus-reussite.tn"),
    Pupil("Omar", "omar@nexus-reussite.tn", "parent3@nexus-reussite.tn"),
    Pupil("Sami", SAMI, PARENT2),
    Pupil("Ines", "ines@nexus-reussite.tn", "parent4@nexus-reussite.tn"),
)


# ---- the live server's database ----


def sql(pg: EmbeddedPostgres | None, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """One statement on the live server's database, committed."""
    with psycopg.connect(e2e_database(pg), autocommit=True) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


@contextmanager
def live_app(pg: EmbeddedPostgres | None, instance: Path) -> Iterator[Flask]:
    """The app bound to the live server's database (as `flask` commands make it)."""
    from nexus import create_app
    from nexus.extensions import db

    url = make_url(e2e_database(pg)).set(drivername="postgresql+psycopg")
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "SECRET_KEY": SECRET_KEY,
        }
    )
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def prepare_class(pg: EmbeddedPostgres | None, instance: Path) -> tuple[Pupil, ...]:
    """Sami's three classmates on a paid plan (the seed's own `_classmates`, which `make run`
    adds), five more credits each for the four (other journeys spend Sami's), and Hélios's hourly
    rates from a year ago (the seed's figures; added once)."""
    from nexus import seed
    from nexus.extensions import db
    from nexus.models.credits import LotSource
    from nexus.services.credits import ledger

    with live_app(pg, instance):
        seed._classmates()
        db.session.commit()
        ids = dict(
            sql(
                pg,
                "SELECT u.email, s.id FROM students s JOIN users u ON u.id = s.user_id"
                " WHERE u.email = ANY(%s)",
                [p.email for p in CLASS],
            )
        )
        expires = datetime.now(UTC) + timedelta(days=120)
        for pupil in CLASS:
            ledger.grant(ids[pupil.email], Decimal(5), LotSource.MANUAL, expires, reason="Ateliers (e2e)")
        db.session.commit()
    since = date.today().replace(day=1) - timedelta(days=365)
    for modality, hourly in RATES.items():
        sql(
            pg,
            "INSERT INTO coach_rates (coach_id, modality, hourly_millimes, effective_from, created_at)"
            " SELECT c.id, %s, %s, %s, now() FROM coach_profiles c JOIN users u ON u.id = c.user_id"
            " WHERE u.email = %s ON CONFLICT DO NOTHING",
            modality,
            hourly,
            since,
            HELIOS,
        )
    return tuple(Pupil(p.first, p.email, p.parent, ids[p.email]) for p in CLASS)


def balance(pg: EmbeddedPostgres | None, student_id: int) -> Decimal:
    """The student's usable credits, as the ledger counts them (unexpired lots)."""
    ((total,),) = sql(
        pg,
        "SELECT coalesce(sum(e.amount), 0) FROM credit_lots l JOIN credit_entries e ON e.lot_id = l.id"
        " WHERE l.student_id = %s AND l.expires_at > now()",
        student_id,
    )
    return Decimal(total)


def seat(pg: EmbeddedPostgres | None, workshop_id: int, student_id: int) -> tuple[int, str] | None:
    """The student's latest seat on the workshop: (booking id, status), or None."""
    rows = sql(
        pg,
        "SELECT id, status FROM session_bookings WHERE workshop_id = %s AND student_id = %s"
        " ORDER BY id DESC LIMIT 1",
        workshop_id,
        student_id,
    )
    return (int(rows[0][0]), str(rows[0][1])) if rows else None


# ---- the workshop's hour, then time passing ----


def busy(pg: EmbeddedPostgres | None, start: datetime, end: datetime, student_ids: list[int]) -> bool:
    """Whether Hélios or one of the students already has something in [start, end)."""
    rows = sql(
        pg,
        "SELECT 1 FROM session_bookings b WHERE b.status IN ('SCHEDULED', 'CONFIRMED', 'IN_PROGRESS')"
        " AND b.starts_at < %s AND b.ends_at > %s AND (b.student_id = ANY(%s) OR b.coach_id ="
        " (SELECT c.id FROM coach_profiles c JOIN users u ON u.id = c.user_id WHERE u.email = %s))"
        " UNION ALL SELECT 1 FROM workshops w WHERE w.status = 'SCHEDULED' AND w.starts_at < %s"
        " AND w.ends_at > %s",
        end,
        start,
        student_ids,
        HELIOS,
        end,
        start,
    )
    return bool(rows)


def free_weekly_hour(pg: EmbeddedPostgres | None, first_day: int, student_ids: list[int],
                     weeks: int = 3) -> datetime:  # fmt: skip
    """The first weekday at least `first_day` days ahead whose 17:00 (Tunis) is free for Hélios and
    the students that week and the next ones (a weekly series)."""
    today = datetime.now(TUNIS).date()
    for offset in range(first_day, first_day + 30):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        start = datetime.combine(day, HOUR, TUNIS)
        sittings = [start + timedelta(weeks=w) for w in range(weeks)]
        if not any(busy(pg, s, s + timedelta(hours=1), student_ids) for s in sittings):
            return start
    raise AssertionError("no free hour for the workshop in a month")


def month_before(day: date, months: int) -> date:
    """The 1st of the month `months` before `day`'s."""
    year, month = day.year, day.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def move_into_the_past(pg: EmbeddedPostgres | None, workshop_id: int, months_back: int) -> datetime:
    """Time passes: the sitting took place in a closed month (`months_back` months ago, its 25th or
    a day before when that hour is taken). Its seats move with it. Returns its new start."""
    ((start, end),) = sql(pg, "SELECT starts_at, ends_at FROM workshops WHERE id = %s", workshop_id)
    length = end - start
    month = month_before(datetime.now(TUNIS).date(), months_back)
    for day in range(25, 1, -1):
        new_start = datetime.combine(month.replace(day=day), HOUR, TUNIS)
        try:
            with psycopg.connect(e2e_database(pg)) as conn:  # one transaction: all or nothing
                conn.execute(
                    "UPDATE workshops SET starts_at = %s, ends_at = %s WHERE id = %s",
                    (new_start, new_start + length, workshop_id),
                )
                conn.execute(
                    "UPDATE session_bookings SET starts_at = %s, ends_at = %s WHERE workshop_id = %s",
                    (new_start, new_start + length, workshop_id),
                )
            return new_start
        except psycopg.errors.ExclusionViolation:
            continue
    raise AssertionError(f"no free hour for workshop {workshop_id} in {month:%Y-%m}")


# ---- the people, and reading what the pages say ----


class People:
    """One browser per person (each signed in once), with JavaScript or without."""

    def __init__(self, browser: Browser, live_server: LiveServer, args: dict[str, Any], js: bool,
                 pg: EmbeddedPostgres | None) -> None:  # fmt: skip
        self.browser, self.live_server, self.args, self.js, self.pg = browser, live_server, args, js, pg
        self.contexts: dict[str, tuple[BrowserContext, Page]] = {}

    def page(self, email: str, viewport: dict[str, int] = PHONE) -> Page:
        if email not in self.contexts:
            context, page = new_page(self.browser, self.live_server, self.args, js=self.js, viewport=viewport)
            if self.js:
                page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm asks; the person agrees
            sign_in_as(page, email)
            self.contexts[email] = (context, page)
        return self.contexts[email][1]

    def close(self) -> None:
        for context, _ in self.contexts.values():
            context.close()


def status_says(page: Page, text: str | re.Pattern[str]) -> None:
    """The flash (or htmx's live region) tells the person what happened."""
    expect(page.get_by_role("status").filter(has_text=text).first).to_be_visible()


def shown_balance(page: Page) -> Decimal:
    """The balance a workshop's page shows ("Solde : 3,5 crédits")."""
    dd = page.locator("main dl.facts dt", has_text="Solde").locator("xpath=following-sibling::dd[1]")
    return credits_of(dd.inner_text())


LAST_NAMES = {"Lina": "Jaziri", "Omar": "Jaziri", "Sami": "Gharbi", "Ines": "Chaabane"}


def full_name(pupil: Pupil) -> str:
    return f"{pupil.first} {LAST_NAMES[pupil.first]}"


def booking_id(pg: EmbeddedPostgres | None, workshop_id: int, pupil: Pupil) -> int:
    found = seat(pg, workshop_id, pupil.student_id)
    assert found is not None, f"{pupil.first} has no seat in workshop {workshop_id}"
    return found[0]


def tnd(text: str) -> int:
    """ "1 080,500 TND" → 1080500 millimes."""
    digits = re.sub(r"[\s\u202f\u00a0]|TND", "", text)
    whole, _, frac = digits.partition(",")
    return int(whole) * 1000 + int((frac + "000")[:3])


def credits_of(text: str) -> Decimal:
    """The number of credits in a text ("3,5 crédits" → 3.5)."""
    found = re.search(r"(-?\d+(?:,\d+)?)\s*crédits?", text)
    assert found, f"no credits in {text!r}"
    return Decimal(found.group(1).replace(",", "."))


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
