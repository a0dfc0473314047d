"""Sessions on a slow phone (360 px), with JavaScript and without: every destructive session
action asks first (the staff's cancel, whose reason reaches the family; the coach's no-show; a new
calendar link), the calendar page fits the screen and offers webcal:// and a copy button, one
session downloads as .ics, and the coach's home leads to each session's page.

Sessions are written straight into the live server's database (no credits are spent: other
journeys book with Sami's few credits). Set NEXUS_SCREENSHOTS=<folder> to keep a screenshot of
each page checked.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, LiveServer
from tests.e2e.test_accessibility import assert_no_serious_violation
from tests.e2e.test_booking_journey import e2e_database
from tests.people import ASSISTANTE, HELIOS, PARENT, PARENT2, SAMI
from tests.servers import EmbeddedPostgres, body_text

# Far enough from the slots other journeys book, one day per test and per js/no-js run.
DAYS_AHEAD = {("cancel", "js"): 24, ("cancel", "no-js"): 25, ("ics", "js"): 26, ("ics", "no-js"): 27}



def insert_session(database_url: str, start: str) -> int:
    """A scheduled maths session of Sami with Hélios, starting at the SQL expression `start`."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            f"""INSERT INTO session_bookings (student_id, coach_id, subject, service, starts_at, ends_at,
                    credits_cost, status, room_name, created_at, updated_at)
                SELECT s.id, c.id, 'MATHEMATIQUES', 'COURS_ONLINE', {start}, {start} + interval '1 hour',
                    1, 'SCHEDULED', %s, now(), now()
                FROM students s JOIN users su ON su.id = s.user_id,
                     coach_profiles c JOIN users cu ON cu.id = c.user_id
                WHERE su.email = %s AND cu.email = %s
                RETURNING id""",  # noqa: S608 - `start` is one of this file's constants
            (f"nexus-e2e-{secrets.token_urlsafe(8)}", SAMI, HELIOS),
        ).fetchone()
    assert row is not None
    return int(row[0])


def insert_free_session(database_url: str, start: str) -> int:
    """As insert_session, a day later each time the slot overlaps a session another journey of
    this run booked for Sami or Hélios (the exclusion constraints refuse overlaps)."""
    for day in range(7):
        try:
            return insert_session(database_url, f"({start} + interval '{day} days')")
        except psycopg.errors.ExclusionViolation:
            continue
    raise AssertionError("no free slot for Sami and Hélios in a week")


def in_days(days: int) -> str:
    return f"(date_trunc('hour', now()) + interval '{int(days)} days 7 minutes')"


def fits(page: Page, name: str) -> None:
    """Nothing wider than the phone, no serious accessibility violation (axe needs JavaScript: the
    page's markup is the same without it); a screenshot when asked."""
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), name
    if not name.endswith("no-js"):
        assert_no_serious_violation(page)
    folder = os.environ.get("NEXUS_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def wait_for_mail(live_server: LiveServer, address: str, subject: str, text: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in live_server.smtp.to(address):
            body = body_text(message)
            if subject in str(message["Subject"]) and text in body:
                return body
        time.sleep(0.1)
    raise AssertionError(f"no e-mail '{subject}' with '{text}' to {address}")


def mode(request: pytest.FixtureRequest) -> str:
    """"js" or "no-js": the `phone` this test runs on."""
    return str(request.node.callspec.params["phone"])


# -- 1. the staff's cancel -----------------------------------------------------------------------


def test_staff_cancel_asks_first_and_the_reason_reaches_the_family(
    request: pytest.FixtureRequest,
    phone: Page,
    live_server: LiveServer,
    pg: EmbeddedPostgres | None,
    sign_in: Callable[..., None],
) -> None:
    js = mode(request)
    booking_id = insert_session(e2e_database(pg), in_days(DAYS_AHEAD[("cancel", js)]))
    reason = f"Hélios est souffrant ({js})"
    sign_in(phone, ASSISTANTE)
    expect(phone).to_have_url(re.compile(r"/dashboard/assistante$"))
    phone.goto("/dashboard/assistante/seances")
    row = phone.locator(f"#session-{booking_id}")
    row.get_by_label(re.compile("^Motif, transmis à la famille")).fill(reason)
    fits(phone, f"staff-list-{js}")
    button = row.get_by_role("button", name="Annuler la séance de Sami Gharbi")
    if js == "js":
        asked: list[str] = []
        phone.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        button.click()
        expect(row.get_by_role("status")).to_contain_text("Séance annulée")
        expect(row).to_contain_text("Annulée")
        assert asked and asked[0].startswith("Annuler cette séance ?")
        expect(phone).to_have_url(re.compile(r"/dashboard/assistante/seances$"))  # swapped in place
        fits(phone, "staff-row-cancelled-js")
    else:
        button.click()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Annuler la séance")
        field = phone.get_by_label("Motif, transmis à la famille")
        expect(field).to_have_value(reason)  # typed in the row, kept
        expect(phone.locator("main")).to_contain_text("Sami Gharbi")
        fits(phone, "staff-confirm-no-js")
        phone.get_by_role("button", name="Confirmer l'annulation").click()
        expect(phone).to_have_url(re.compile(r"/dashboard/assistante/seances$"))
        expect(phone.get_by_role("status").first).to_contain_text("Séance annulée")
        expect(phone.locator(f"#session-{booking_id}")).to_have_count(0)  # no longer coming
    body = wait_for_mail(live_server, PARENT2, "annulée", reason)
    assert f"Motif : {reason}" in body


# -- 2. the coach's no-show ----------------------------------------------------------------------


def test_a_no_show_asks_first(
    request: pytest.FixtureRequest, phone: Page, pg: EmbeddedPostgres | None, sign_in: Callable[..., None]
) -> None:
    js = mode(request)
    insert_session(e2e_database(pg), "(now() - interval '5 minutes')")  # it has started
    sign_in(phone, HELIOS)
    expect(phone).to_have_url(re.compile(r"/dashboard/coach$"))
    phone.goto("/dashboard/coach/sessions")
    to_close = phone.locator("section.card", has=phone.get_by_role("heading", name="À compléter"))
    button = to_close.get_by_role("button", name="Absence de Sami Gharbi")
    fits(phone, f"coach-sessions-{js}")
    if js == "js":
        phone.once("dialog", lambda dialog: dialog.accept())
        button.click()
    else:
        button.click()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Signaler une absence")
        expect(phone.locator("main")).to_contain_text("les crédits ne sont pas rendus")
        fits(phone, "no-show-confirm-no-js")
        phone.get_by_role("button", name="Signaler l'absence").click()
    expect(phone).to_have_url(re.compile(r"/dashboard/coach/sessions$"))
    expect(phone.get_by_role("status").first).to_contain_text("Absence de Sami enregistrée.")


# -- 3. the calendar page and one session's .ics -------------------------------------------------


def test_the_calendar_page_fits_and_offers_copy_and_webcal(
    request: pytest.FixtureRequest, phone: Page, sign_in: Callable[..., None]
) -> None:
    js = mode(request)
    sign_in(phone, PARENT2)
    expect(phone).to_have_url(re.compile(r"/dashboard/parent$"))
    phone.goto("/dashboard/calendrier")
    create = phone.get_by_role("button", name="Créer mon lien d'agenda")
    if create.count():
        create.click()
        expect(phone.get_by_role("status").first).to_contain_text("Votre lien d'agenda est prêt.")
    field = phone.get_by_label("Lien privé de mon agenda")
    expect(field).to_have_attribute("readonly", "")
    first = field.input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/calendrier/[\w-]+\.ics", first), first
    webcal = phone.get_by_role("link", name="Ajouter à mon agenda")
    expect(webcal).to_have_attribute("href", "webcal://" + first.split("://", 1)[1])
    fits(phone, f"calendar-{js}")
    copy = phone.get_by_role("button", name="Copier le lien")
    if js == "js":
        copy.click()
        expect(phone.locator("[data-copy-status]")).to_have_text("Lien copié.")
        assert phone.evaluate("navigator.clipboard.readText()") == first
    else:
        expect(copy).to_be_hidden()  # a button that cannot work is not shown

    # A new link breaks the old one: it asks first.
    if js == "js":
        phone.once("dialog", lambda dialog: dialog.accept())
        phone.get_by_role("button", name="Créer un nouveau lien").click()
    else:
        phone.get_by_role("button", name="Créer un nouveau lien").click()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Créer un nouveau lien d'agenda")
        fits(phone, "calendar-confirm-no-js")
        phone.get_by_role("button", name="Créer un nouveau lien").click()
    expect(phone.get_by_role("status").first).to_contain_text("Nouveau lien créé")
    expect(phone.get_by_label("Lien privé de mon agenda")).not_to_have_value(first)


def test_one_session_downloads_as_ics_for_its_family_only(
    request: pytest.FixtureRequest,
    phone: Page,
    pg: EmbeddedPostgres | None,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    js = mode(request)
    booking_id = insert_session(e2e_database(pg), in_days(DAYS_AHEAD[("ics", js)]))
    sign_in(phone, SAMI)
    expect(phone).to_have_url(re.compile(r"/dashboard/eleve$"))
    phone.goto(f"/dashboard/sessions/{booking_id}")
    fits(phone, f"session-detail-{js}")
    with phone.expect_download() as download_info:
        phone.get_by_role("link", name=re.compile("^Ajouter à mon agenda")).click()
    download = download_info.value
    assert download.suggested_filename == "seance-nexus-reussite.ics"
    path = download.path()
    assert path is not None
    text = Path(path).read_text(encoding="utf-8")
    assert f"session-{booking_id}@nexus-reussite.tn" in text and "BEGIN:VEVENT" in text
    sign_out(phone)
    sign_in(phone, PARENT)  # another family
    expect(phone).to_have_url(re.compile(r"/dashboard/parent$"))
    assert phone.request.get(f"/dashboard/sessions/{booking_id}/seance.ics").status == 404


# -- 4. the coach's home -------------------------------------------------------------------------


def test_the_coach_home_leads_to_each_session(
    page: Page, pg: EmbeddedPostgres | None, sign_in: Callable[..., None]
) -> None:
    page.set_viewport_size(PHONE)
    soon = "(date_trunc('minute', now()) + interval '90 minutes')"
    booking_id = insert_free_session(e2e_database(pg), soon)
    sign_in(page, HELIOS)
    expect(page).to_have_url(re.compile(r"/dashboard/coach$"))
    fits(page, "coach-home")
    page.locator(f"main a[href='/dashboard/sessions/{booking_id}']").click()
    expect(page).to_have_url(re.compile(rf"/dashboard/sessions/{booking_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Séance de Mathématiques")
