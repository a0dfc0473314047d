"""Group workshops and coach pay in Chromium (issue 14's "Done when"), with JavaScript and without:

0. the live database gets Sami's three Première classmates on a plan (the seed's `_classmates`, as
   `make run` has them), a few more credits for the four, and Hélios's hourly rates;
1. the assistante plans a weekly maths workshop for Première with Hélios: 3 seats, 1 h, 3 weeks,
   a few days ahead; the list shows the three sittings;
2. Lina and Omar book a seat on the first sitting from their space, Hichem books Sami's from his;
   each balance drops by 1,5; Ines finds it « Complet » and joins the waiting list (1st in line);
3. Lina cancels more than 48 h before: the terms page says her credits come back; they do, and
   Ines gets the seat (her credits drawn, a notice in her bell, an e-mail to her mother);
4. time passes (the sitting moved to a closed month); Hélios writes the report with each
   participant's attendance and note; each family reads its own child's part on its session page
   and in its e-mail, never another child's (another family's seat: 404);
5. the admin computes the month's statements, opens Hélios's (the workshop's line at his workshop
   rate, the total), validates it on the confirmation page: numbered REM-…;
6. Hélios opens it in his space and opens its PDF (inline, as every PDF of the app: its bytes,
   fetched with his cookies, are a PDF with the number inside); Zénon gets 404 on it;
7. the staff cancel the last sitting, which Omar had booked, on the confirmation page: refunded,
   told with the reason.

The js run moves its sitting into last month, the no-js run into the month before (each validates
its own month's statement). Every new page is looked at 360 px and 1280 px (`look`: nothing wider
than the phone; axe with JavaScript; NEXUS_SCREENSHOTS=<folder> keeps the screenshots).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_progress_journeys import (  # noqa: F401 (fixtures)
    WIDE,
    look,
    no_problem,
    patient_expect,
)
from tests.e2e.test_running_centre_journeys import mail_to
from tests.e2e.workshop_support import (
    TUNIS,
    People,
    Pupil,
    balance,
    booking_id,
    free_weekly_hour,
    full_name,
    move_into_the_past,
    pdf_text,
    prepare_class,
    seat,
    shown_balance,
    sql,
    status_says,
    tnd,
)
from tests.people import ADMIN, ASSISTANTE, HELIOS, ZENON
from tests.servers import EmbeddedPostgres, body_text

MODES = ["js", "no-js"]
COST = Decimal("1.5")  # 1 h of workshop
SUMMARY = "Nous avons travaillé les suites arithmétiques et géométriques, puis la récurrence."
TOPICS = "Suites, raisonnement par récurrence"
ADVICE = "Refaire les exercices 12 à 18 du chapitre sur les suites."
REASON = "Hélios est appelé à un jury d'examen."
WORKSHOP_RATE = 45_000  # millimes an hour (workshop_support.RATES)


@pytest.fixture(scope="module")
def cast(live_server: LiveServer, pg: EmbeddedPostgres | None,
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pupil]:  # fmt: skip
    pupils = prepare_class(pg, tmp_path_factory.mktemp("workshop-class"))
    return {p.first: p for p in pupils}


@pytest.fixture
def people(request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer,
           browser_context_args: dict[str, Any],
           pg: EmbeddedPostgres | None) -> Iterator[People]:  # fmt: skip
    js = request.node.callspec.params["js"] == "js"
    crowd = People(browser, live_server, browser_context_args, js, pg)
    try:
        yield crowd
    finally:
        crowd.close()


# ---- 1. the assistante plans the weekly workshop ----


def plan_workshop(page: Page, pg: EmbeddedPostgres | None, title: str, start: datetime, js: str,
                  problems: list[str]) -> list[int]:  # fmt: skip
    """The creation form filled by its labels; the three sittings' ids, first first."""
    page.goto("/dashboard/assistante/ateliers/nouveau")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvel atelier")
    look(page, f"staff-workshop-form-{js}", problems)
    main = page.locator("main")
    main.get_by_label("Matière").select_option(label="Mathématiques")
    if js == "js":  # the coach list narrows to the subject's coaches (htmx swaps it)
        expect(main.locator("#coach-field option", has_text="Zénon")).to_have_count(0)
    coach = main.get_by_label("Coach")
    coach.select_option(coach.locator("option", has_text="Hélios").get_attribute("value"))
    main.get_by_label("Niveau").select_option(label="Première")
    main.get_by_label("Titre").fill(title)
    main.get_by_label(re.compile("^Présentation")).fill(
        "Un atelier pour revoir les suites avant le contrôle."
    )
    main.get_by_label("Date", exact=True).fill(f"{start:%Y-%m-%d}")
    main.get_by_label(re.compile("^Heure de début")).fill(f"{start:%H:%M}")
    main.get_by_label("Durée").select_option("60")
    main.get_by_label("En ligne (visioconférence)").check()
    main.get_by_label(re.compile("^Nombre de places")).fill("3")
    main.get_by_label(re.compile("^Répéter chaque semaine")).fill("3")
    main.get_by_role("button", name="Programmer l'atelier").click()
    expect(page).to_have_url(re.compile(r"/dashboard/assistante/ateliers/\d+$"))
    status_says(page, f"Atelier « {title} » programmé pour 3 semaines.")
    first = int(page.url.rsplit("/", 1)[1])
    look(page, f"staff-workshop-detail-{js}", problems)
    rows = sql(pg, "SELECT id FROM workshops WHERE series_id = %s ORDER BY starts_at", first)
    return [int(i) for (i,) in rows]


# ---- the journey ----


@pytest.mark.parametrize("js", MODES)
def test_a_weekly_workshop_fills_its_seats_waits_reports_and_pays_helios(
    js: str, people: People, cast: dict[str, Pupil], pg: EmbeddedPostgres | None
) -> None:
    problems: list[str] = []
    lina, omar, sami, ines = (cast[name] for name in ("Lina", "Omar", "Sami", "Ines"))
    class_ids = [p.student_id for p in cast.values()]
    start = free_weekly_hour(pg, 3 if js == "js" else 4, class_ids)
    title = f"Les suites avant le contrôle ({js})"

    # 1. The assistante plans it: three weekly sittings on the list.
    staff = people.page(ASSISTANTE, WIDE)
    sittings = plan_workshop(staff, pg, title, start, js, problems)
    assert len(sittings) == 3, sittings
    first = sittings[0]
    staff.goto("/dashboard/assistante/ateliers")
    expect(staff.locator("main tr", has_text=title)).to_have_count(3)
    look(staff, f"staff-workshops-{js}", problems)

    # 2. Three seats taken: Lina and Omar themselves, Sami by his father.
    for pupil, left in ((lina, 3), (omar, 2)):
        book_as_student(people, pupil, first, title, left, js, problems)
    book_as_parent(people, sami, first, title, 1, js, problems)
    assert sql(
        pg, "SELECT count(*) FROM session_bookings WHERE workshop_id = %s AND status = 'SCHEDULED'", first
    ) == [(3,)]
    # Ines finds it full and joins the waiting list, first in line.
    before = balance(pg, ines.student_id)
    wait_as_student(people, ines, first, js, problems)
    assert balance(pg, ines.student_id) == before
    assert sql(
        pg,
        "SELECT status FROM workshop_waitlist WHERE workshop_id = %s AND student_id = %s",
        first,
        ines.student_id,
    ) == [("WAITING",)]

    staff.goto(f"/dashboard/assistante/ateliers/{first}")
    main = staff.locator("main")
    expect(main.locator("dl.facts")).to_contain_text(re.compile(r"3 (places )?prises sur 3"))
    for pupil in (lina, omar, sami):
        expect(main.locator("tr", has_text=full_name(pupil))).to_be_visible()
    waiting = main.locator("section.card", has=staff.get_by_role("heading", name="Liste d'attente"))
    expect(waiting.locator("ol li")).to_have_count(1)
    expect(waiting.locator("ol li")).to_contain_text(full_name(ines))
    look(staff, f"staff-workshop-full-{js}", problems)

    # 3. Lina cancels (the sitting is more than 48 h ahead): refunded; Ines gets the seat.
    assert start - datetime.now(TUNIS) > timedelta(hours=48)
    lina_before, ines_before = balance(pg, lina.student_id), balance(pg, ines.student_id)
    cancel_as_student(people, lina, first, js, problems)
    assert balance(pg, lina.student_id) == lina_before + COST
    assert seat(pg, first, lina.student_id)[1] == "CANCELLED"  # type: ignore[index]
    promoted = seat(pg, first, ines.student_id)
    assert promoted is not None and promoted[1] == "SCHEDULED", promoted
    assert balance(pg, ines.student_id) == ines_before - COST
    ines_page = people.page(ines.email)
    ines_page.goto("/notifications")
    expect(ines_page.locator("#notification-list")).to_contain_text(
        f"Une place s'est libérée : Ines participe à l'atelier « {title} »"
    )
    told = re.compile(re.escape(f"Une place s'est libérée : Ines participe à l'atelier « {title} »"))
    assert mail_to(people.live_server.smtp, ines.parent, told), "Ines's parent got no e-mail"
    ines_page.goto(f"/dashboard/eleve/ateliers/{first}")
    expect(ines_page.locator("main .tag", has_text="Inscrit")).to_be_visible()
    expect(ines_page.locator("main")).not_to_contain_text("Vous êtes n°")
    look(ines_page, f"student-workshop-promoted-{js}", problems)

    # 4. The sitting took place; Hélios writes the report, each family reads its own child's part.
    held = move_into_the_past(pg, first, 1 if js == "js" else 2)
    month = held.astimezone(TUNIS).strftime("%Y-%m")
    seats = {p.first: p for p in (omar, sami, ines)}
    present = {"Omar", "Sami"}
    notes = {
        "Omar": f"Omar a bien participé, méthode claire ({js}).",
        "Sami": f"Sami doit rédiger ses récurrences avec plus de soin ({js}).",
        "Ines": f"Ines était absente : revoir le chapitre seule ({js}).",
    }
    write_report(people, first, seats, notes, present=present, js=js, problems=problems)
    for pupil in seats.values():
        read_own_part(people, pupil, first, seats, notes, present, js, problems)

    # 5. The admin computes the month, checks Hélios's statement and validates it.
    number, statement_id, total = validate_statement(people, month, title, js, problems)

    # 6. Hélios reads it and downloads its PDF.
    download_statement(people, statement_id, number, total, js, problems)

    # 7. The staff cancel the last sitting, which Omar had booked: refunded and told.
    last = sittings[-1]
    book_as_student(people, omar, last, title, 3, js, problems)
    cancel_the_sitting(people, omar, last, title, js, problems)
    no_problem(problems)


def cancel_the_sitting(people: People, pupil: Pupil, workshop_id: int, title: str, js: str,
                       problems: list[str]) -> None:  # fmt: skip
    """The confirmation page first (with the reason for the families), then everyone refunded."""
    before = balance(people.pg, pupil.student_id)
    page = people.page(ASSISTANTE, WIDE)
    page.goto(f"/dashboard/assistante/ateliers/{workshop_id}")
    page.locator("main").get_by_role("link", name="Annuler l'atelier").click()
    expect(page).to_have_url(re.compile(rf"/dashboard/assistante/ateliers/{workshop_id}/annuler$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuler l'atelier")
    look(page, f"staff-workshop-cancel-{js}", problems)
    page.get_by_label(re.compile("^Motif, transmis aux familles")).fill(REASON)
    page.locator("main").get_by_role("button", name="Annuler l'atelier").click()
    status_says(page, f"Atelier « {title} » annulé : chaque participant est remboursé et prévenu.")
    expect(page.locator("main dl.facts")).to_contain_text("Annulé")
    assert balance(people.pg, pupil.student_id) == before + COST
    assert seat(people.pg, workshop_id, pupil.student_id)[1] == "CANCELLED"  # type: ignore[index]
    family = people.page(pupil.email)
    family.goto("/notifications")
    notice = family.locator("#notification-list li", has_text=f"Atelier « {title} » du")
    expect(notice.first).to_contain_text(REASON)


# ---- 2. booking, the waiting list ----


def open_from_list(page: Page, list_url: str, workshop_id: int, title: str, left: int) -> None:
    """The list of workshops open to the child, then the first sitting's own page."""
    page.goto(list_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ateliers en petit groupe")
    if "/parent/" in list_url:
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"pour \w+$"))
    card = page.locator(f"main article#atelier-{workshop_id}")
    expect(card).to_contain_text(title)
    expect(card).to_contain_text("1 place restante sur 3" if left == 1 else f"{left} places restantes sur 3")
    card.get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(rf"/ateliers/{workshop_id}(\?eleve=\d+)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def book_here(page: Page, pg: EmbeddedPostgres | None, pupil: Pupil) -> None:
    """ "Réserver (1,5 crédit)": the seat is theirs, the page's balance and the ledger drop by 1,5."""
    shown, before = shown_balance(page), balance(pg, pupil.student_id)
    page.locator("main").get_by_role("button", name=re.compile(r"^Réserver \(1,5 crédit\)")).click()
    status_says(page, f"Place réservée pour {pupil.first}")
    expect(page.locator("main .tag", has_text="Inscrit")).to_be_visible()
    assert shown_balance(page) == shown - COST
    assert balance(pg, pupil.student_id) == before - COST


def book_as_student(people: People, pupil: Pupil, workshop_id: int, title: str, left: int, js: str,
                    problems: list[str]) -> None:  # fmt: skip
    page = people.page(pupil.email)
    open_from_list(page, "/dashboard/eleve/ateliers", workshop_id, title, left)
    look(page, f"student-workshop-{js}", problems)
    book_here(page, people.pg, pupil)
    look(page, f"student-workshop-booked-{js}", problems)


def book_as_parent(people: People, pupil: Pupil, workshop_id: int, title: str, left: int, js: str,
                   problems: list[str]) -> None:  # fmt: skip
    page = people.page(pupil.parent)
    page.goto("/dashboard/parent/ateliers")  # the menu's page: the (first) child's workshops
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ateliers en petit groupe pour {pupil.first}")
    open_from_list(page, f"/dashboard/parent/ateliers?eleve={pupil.student_id}", workshop_id, title, left)
    expect(page.locator("main dl.facts")).to_contain_text(pupil.first)  # "Pour Sami"
    look(page, f"parent-workshop-{js}", problems)
    book_here(page, people.pg, pupil)
    look(page, f"parent-workshop-booked-{js}", problems)


def wait_as_student(people: People, pupil: Pupil, workshop_id: int, js: str, problems: list[str]) -> None:
    """The workshop is full: no "Réserver", the waiting list instead; first in line."""
    page = people.page(pupil.email)
    page.goto(f"/dashboard/eleve/ateliers/{workshop_id}")
    main = page.locator("main")
    expect(main.locator("dl.facts")).to_contain_text("Complet")
    expect(main.get_by_role("button", name=re.compile("^Réserver"))).to_have_count(0)
    look(page, f"student-workshop-full-{js}", problems)
    main.get_by_role("button", name=re.compile("^Complet — rejoindre la liste d'attente")).click()
    status_says(page, f"{pupil.first} est sur la liste d'attente : n° 1.")
    expect(main).to_contain_text("Vous êtes n° 1 sur la liste d'attente")
    look(page, f"student-workshop-waiting-{js}", problems)


def cancel_as_student(people: People, pupil: Pupil, workshop_id: int, js: str, problems: list[str]) -> None:
    """The terms first (more than 48 h before: the credits come back), then the confirmation."""
    page = people.page(pupil.email)
    page.goto(f"/dashboard/eleve/ateliers/{workshop_id}")
    page.locator("main").get_by_role("link", name=re.compile("^Annuler la place")).click()
    expect(page).to_have_url(re.compile(rf"/dashboard/eleve/ateliers/{workshop_id}/annuler$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuler la place")
    expect(page.locator("main")).to_contain_text("Annulation gratuite : 1,5 crédit sera rendu")
    look(page, f"student-workshop-cancel-{js}", problems)
    page.get_by_role("button", name="Confirmer l'annulation").click()
    status_says(page, "Place annulée (1,5 crédit rendu).")
    expect(page).to_have_url(re.compile(r"/dashboard/eleve/ateliers$"))


# ---- 4. the report ----


def write_report(people: People, workshop_id: int, seats: dict[str, Pupil], notes: dict[str, str], *,
                 present: set[str], js: str, problems: list[str]) -> None:  # fmt: skip
    """From his workshop's page: the shared text, then each participant's attendance, rating and
    word; every seat closed with its own report, the workshop completed."""
    page = people.page(HELIOS, WIDE)
    page.goto("/dashboard/coach/ateliers")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    look(page, f"coach-workshops-{js}", problems)
    page.goto(f"/dashboard/coach/ateliers/{workshop_id}")
    page.locator("main").get_by_role("link", name="Rédiger le compte rendu").click()
    expect(page).to_have_url(re.compile(rf"/dashboard/coach/ateliers/{workshop_id}/rapport$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Compte rendu d'atelier")
    main = page.locator("main")
    look(page, f"coach-workshop-report-{js}", problems)
    main.get_by_label("Résumé de la séance").fill(SUMMARY)
    main.get_by_label("Notions travaillées").fill(TOPICS)
    main.get_by_label("Recommandations").fill(ADVICE)
    expect(main.locator("fieldset")).to_have_count(len(seats))
    for name, pupil in seats.items():
        part = main.get_by_role("group", name=full_name(pupil))
        part.get_by_label("Présent(e)").set_checked(name in present)
        part.get_by_label("Appréciation (1 à 5)").select_option("4" if name in present else "2")
        part.get_by_label(f"Mot pour {name} (facultatif)").fill(notes[name])
    main.get_by_role("button", name="Enregistrer et envoyer").click()
    status_says(page, "Compte rendu enregistré : chaque famille reçoit la partie de son enfant.")
    expect(page).to_have_url(re.compile(rf"/dashboard/coach/ateliers/{workshop_id}$"))
    for name, pupil in seats.items():
        row = main.locator("tr", has_text=full_name(pupil))
        expect(row).to_contain_text("présent(e)" if name in present else "absent(e)")
    look(page, f"coach-workshop-done-{js}", problems)
    ids = {name: booking_id(people.pg, workshop_id, pupil) for name, pupil in seats.items()}
    rows = sql(
        people.pg,
        "SELECT b.id, b.status, r.attended FROM session_bookings b JOIN session_reports r"
        " ON r.booking_id = b.id WHERE b.id = ANY(%s)",
        list(ids.values()),
    )
    assert sorted(rows) == sorted((ids[n], "COMPLETED", n in present) for n in seats), rows
    assert sql(people.pg, "SELECT status FROM workshops WHERE id = %s", workshop_id) == [("COMPLETED",)]


def read_own_part(people: People, pupil: Pupil, workshop_id: int, seats: dict[str, Pupil],
                  notes: dict[str, str], present: set[str], js: str,
                  problems: list[str]) -> None:  # fmt: skip
    """The parent opens their child's session page: the shared text and their own child's part,
    never another child's; another family's seat answers 404."""
    page = people.page(pupil.parent)
    own = booking_id(people.pg, workshop_id, pupil)
    page.goto(f"/dashboard/sessions/{own}")
    main = page.locator("main")
    report = main.locator("section.card", has=page.get_by_role("heading", name="Compte rendu de Hélios"))
    expect(report).to_be_visible()
    expect(report).to_contain_text(SUMMARY)
    expect(report).to_contain_text(notes[pupil.first])
    expect(report).to_contain_text("Présent(e)" if pupil.first in present else "Absent(e)")
    for other, note in notes.items():
        if other != pupil.first:
            expect(main).not_to_contain_text(note)
    look(page, f"parent-workshop-report-{pupil.first}-{js}", problems)
    # The report's e-mail to the parent: their child's part too, no other child's.
    subject = re.compile(f"Compte rendu de la séance de Mathématiques de {pupil.first}$")
    deadline = time.monotonic() + 30
    while not (mails := [m for m in mail_to(people.live_server.smtp, pupil.parent, subject)
                         if notes[pupil.first] in body_text(m)]) and time.monotonic() < deadline:  # fmt: skip
        time.sleep(0.3)
    assert len(mails) == 1, f"{len(mails)} report e-mails to {pupil.parent}"
    body = body_text(mails[0])
    assert SUMMARY in body, body
    assert not [note for other, note in notes.items() if other != pupil.first and note in body], body
    for other, child in seats.items():
        if child.parent != pupil.parent:
            url = f"/dashboard/sessions/{booking_id(people.pg, workshop_id, child)}"
            assert page.request.get(url).status == 404, (pupil.first, other)


# ---- 5. and 6. the statement ----


def validate_statement(people: People, month: str, title: str, js: str,
                       problems: list[str]) -> tuple[str, int, int]:  # fmt: skip
    page = people.page(ADMIN, WIDE)
    page.goto(f"/dashboard/admin/remuneration?mois={month}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rémunération des coachs")
    page.get_by_role("button", name="Calculer les relevés du mois").click()
    status_says(page, re.compile("calculés"))
    look(page, f"admin-pay-month-{js}", problems)
    page.locator("main table").get_by_role("link", name="Hélios").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Relevé de Hélios")
    statement_id = int(re.search(r"/remuneration/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    main = page.locator("main")
    line = main.locator("tbody tr", has_text=f"« {title} »")
    expect(line).to_have_count(1)
    expect(line.locator("td[data-label='Nature']")).to_have_text(re.compile("Atelier"))
    expect(line.locator("td[data-label='Durée']")).to_have_text(re.compile(r"1\s*h"))
    assert tnd(line.locator("td[data-label='Tarif']").inner_text()) == WORKSHOP_RATE
    assert tnd(line.locator("td[data-label='Montant']").inner_text()) == WORKSHOP_RATE
    amounts = [tnd(t) for t in main.locator("tbody td[data-label='Montant']").all_inner_texts()]
    total = tnd(main.locator("dl.totals dd").inner_text())
    assert total == sum(amounts), (total, amounts)
    look(page, f"admin-pay-statement-{js}", problems)

    main.get_by_role("link", name="Valider le relevé").click()
    expect(page).to_have_url(re.compile(rf"/remuneration/{statement_id}/valider$"))
    look(page, f"admin-pay-validate-{js}", problems)
    page.get_by_role("button", name="Oui, valider le relevé").click()
    status_says(page, re.compile(r"Relevé validé : n° REM-\d{6}-\d{4}"))
    number = re.search(r"REM-\d{6}-\d{4}", main.locator("dl.facts").first.inner_text())
    assert number and number.group(0).startswith(f"REM-{month.replace('-', '')}-"), number
    expect(main.get_by_role("link", name="Valider le relevé")).to_have_count(0)
    assert sql(people.pg, "SELECT status, number FROM coach_statements WHERE id = %s", statement_id) == [
        ("VALIDATED", number.group(0))
    ]
    look(page, f"admin-pay-validated-{js}", problems)
    return number.group(0), statement_id, total


def download_statement(people: People, statement_id: int, number: str, total: int, js: str,
                       problems: list[str]) -> None:  # fmt: skip
    page = people.page(HELIOS)
    page.goto("/dashboard/coach/remuneration")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ma rémunération")
    row = page.locator("main tr", has_text=number)
    expect(row).to_contain_text("Validé")
    look(page, f"coach-pay-{js}", problems)
    row.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/dashboard/coach/remuneration/{statement_id}$"))
    expect(page.locator("main")).to_contain_text(number)
    assert tnd(page.locator("main dl.totals dd").inner_text()) == total
    look(page, f"coach-pay-statement-{js}", problems)
    # The PDF opens in the browser (inline, as every PDF of the app: a download on phones); its
    # bytes fetched with Hélios's own cookies.
    link = page.get_by_role("link", name="Télécharger le PDF")
    href = link.get_attribute("href") or ""
    assert href == f"/dashboard/coach/remuneration/{statement_id}.pdf", href
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert f'filename="releve_{number}.pdf"' in response.headers["content-disposition"]
    data = response.body()
    assert data.startswith(b"%PDF"), data[:20]
    text = pdf_text(data)
    assert number in text, text
    link.click()
    expect(page).to_have_url(re.compile(rf"/remuneration/{statement_id}\.pdf$"))
    # Another coach does not read it.
    other = people.page(ZENON, WIDE)
    for url in (f"/dashboard/coach/remuneration/{statement_id}", href):
        assert other.request.get(url).status == 404, url
