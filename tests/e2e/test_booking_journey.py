"""Book → meet in the same room → report → the parent reads it, in a browser.

Sami books a maths session with Hélios and pays one credit; Hélios sees it. Then the clock "moves"
to the session (its times are shifted to now in the database: a booking is at least 2 hours
ahead, and a report is only possible once the session has started). Hélios opens the video room,
writes the report; the parent receives it by e-mail and reads it in their space.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

import psycopg
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import make_url

from tests.e2e.conftest import E2E_DATABASE, LiveServer
from tests.e2e.test_accessibility import assert_no_serious_violation
from tests.people import ASSISTANTE, HELIOS, PARENT2, SAMI
from tests.servers import EmbeddedPostgres, body_text

SUMMARY = "Nous avons repris les suites géométriques et la démonstration par récurrence."


def e2e_database(pg: EmbeddedPostgres | None) -> str:
    """A plain psycopg URL of the live server's database (no fresh copy: the same data)."""
    url = pg.database(E2E_DATABASE, fresh=False) if pg is not None else os.environ["TEST_DATABASE_URL"]
    return (
        make_url(url)
        .set(drivername="postgresql", database=E2E_DATABASE)
        .render_as_string(hide_password=False)
    )


def move_session_to_now(database_url: str, booking_id: int) -> str:
    """Time passes: the session started 5 minutes ago. Returns its video room name."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "UPDATE session_bookings SET starts_at = now() - interval '5 minutes',"
            " ends_at = now() + interval '55 minutes' WHERE id = %s RETURNING room_name",
            (booking_id,),
        ).fetchone()
    assert row is not None
    return str(row[0])


def wait_for_subject(live_server: LiveServer, address: str, fragment: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in live_server.smtp.to(address):
            if fragment in str(message["Subject"]):
                return body_text(message)
        time.sleep(0.1)
    raise AssertionError(f"no e-mail '{fragment}' to {address}")


def test_book_meet_report_and_the_parent_reads_it(
    page: Page,
    live_server: LiveServer,
    pg: EmbeddedPostgres | None,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    # Sami books: subject → coach → slot → confirm, with the cost and the balance after.
    sign_in(page, SAMI)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    menu = page.get_by_role("navigation", name="Menu de mon espace")
    menu.get_by_role("link", name="Réserver une séance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Réserver une séance")
    page.get_by_label("Matière").select_option("MATHEMATIQUES")
    page.get_by_role("button", name="Voir les coachs").click()
    page.get_by_role("link", name="Voir les créneaux de Hélios").click()
    slots = page.locator("#creneaux")
    expect(slots.get_by_role("heading", name="3. Le créneau avec Hélios")).to_be_visible()
    slots.locator("ul a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer la réservation")
    main = page.locator("main")
    expect(main).to_contain_text(re.compile(r"Coût\s*1 crédit\b"))
    expect(main).to_contain_text(re.compile(r"Solde après\s*3 crédits"))
    page.get_by_role("button", name="Confirmer la réservation").click()
    expect(page).to_have_url(re.compile(r"/dashboard/sessions/\d+$"))
    expect(page.get_by_role("status").first).to_contain_text("Séance réservée")
    booking_id = int(page.url.rsplit("/", 1)[1])
    wait_for_subject(live_server, PARENT2, "Séance confirmée")
    sign_out(page)

    # Hélios sees it among his sessions.
    sign_in(page, HELIOS)
    page.get_by_role("navigation", name="Menu de mon espace").get_by_role("link", name="Mes séances").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes séances")
    expect(page.locator("main")).to_contain_text("Sami Gharbi")

    # The session starts: coach and student are sent to the same room, in a new tab.
    room = move_session_to_now(e2e_database(pg), booking_id)
    page.goto(f"/dashboard/sessions/{booking_id}")
    join = page.get_by_role("link", name="Rejoindre la visioconférence")
    expect(join).to_have_attribute("target", "_blank")
    jump = page.request.get(join.get_attribute("href"), max_redirects=0)
    assert jump.status == 302
    assert jump.headers["location"].startswith(f"https://meet.jit.si/{room}#")

    # He writes the report from "À compléter".
    page.goto("/dashboard/coach/sessions")
    to_close = page.locator("section.card", has=page.get_by_role("heading", name="À compléter"))
    to_close.get_by_role("link", name=re.compile("^Compte rendu")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte rendu de séance")
    page.get_by_label("Résumé de la séance").fill(SUMMARY)
    page.get_by_label("Notions travaillées").fill("Suites géométriques, récurrence")
    page.get_by_label("Appréciation (1 à 5)").select_option("4")
    page.get_by_label("Progrès constatés").fill("Rédaction plus rigoureuse.")
    page.get_by_label("Recommandations").fill("Refaire les exercices du chapitre 3.")
    page.get_by_role("button", name="Enregistrer et envoyer").click()
    expect(page.get_by_role("status").first).to_contain_text("Compte rendu enregistré")
    sign_out(page)

    # The parent gets it by e-mail and reads it in their space.
    assert SUMMARY in wait_for_subject(live_server, PARENT2, "Compte rendu")
    sign_in(page, PARENT2)
    page.get_by_role("navigation", name="Menu de mon espace").get_by_role(
        "link", name="Séances", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Séances")
    past = page.locator("section.card", has=page.get_by_role("heading", name="Passées et annulées"))
    past.locator("tr", has_text="Terminée").get_by_role("link", name=re.compile("^Voir")).click()
    expect(page.get_by_role("heading", name="Compte rendu de Hélios")).to_be_visible()
    expect(page.locator("main")).to_contain_text(SUMMARY)


SCHEDULING_PAGES = [
    (SAMI, "/dashboard/eleve/sessions?matiere=MATHEMATIQUES"),
    (SAMI, "/dashboard/eleve/mes-sessions"),
    (SAMI, "/dashboard/calendrier"),
    (HELIOS, "/dashboard/coach/sessions"),
    (HELIOS, "/dashboard/coach/availability"),
    (HELIOS, "/dashboard/coach/eleves"),
    (PARENT2, "/dashboard/parent/sessions"),
    (ASSISTANTE, "/dashboard/assistante/seances"),
]


@pytest.mark.parametrize(("email", "path"), SCHEDULING_PAGES, ids=[p for _, p in SCHEDULING_PAGES])
def test_scheduling_pages_have_no_serious_violation(
    page: Page, sign_in: Callable[..., None], email: str, path: str
) -> None:
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if "matiere=" in path:  # the slot list too
        page.get_by_role("link", name="Voir les créneaux de Hélios").click()
        expect(page.locator("#creneaux")).to_be_visible()
    assert_no_serious_violation(page)
