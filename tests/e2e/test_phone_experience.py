"""A slow phone (360 px): requests show they are working, a lost connection says so and offers a
retry, session lists read as cards, the menu shows where you are, the audit log reads in French."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE
from tests.people import ADMIN, ASSISTANTE, HELIOS, PARENT, PARENT2, SAMI

RECORD_BUSY = """() => { window.seen = [];
  document.addEventListener('htmx:beforeSend', () => window.seen.push([
    document.documentElement.classList.contains('is-loading'), document.body.getAttribute('aria-busy')]));
}"""


def test_a_request_shows_it_is_working(page: Page, sign_in: Callable[..., None]) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, PARENT)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    page.evaluate(RECORD_BUSY)
    page.get_by_role("navigation", name="Menu de mon espace").get_by_role("link", name="Mes enfants").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes enfants")
    assert page.evaluate("window.seen") == [[True, "true"]]
    assert not page.evaluate("document.documentElement.classList.contains('is-loading')")
    assert page.locator("body").get_attribute("aria-busy") is None


def test_a_lost_connection_says_so_and_the_retry_works(page: Page, sign_in: Callable[..., None]) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, PARENT)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    page.context.set_offline(True)
    try:
        page.get_by_role("navigation", name="Menu de mon espace").get_by_role("link", name="Séances").click()
        alert = page.locator("#net-error")
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("hors ligne")
        expect(page).to_have_url(re.compile(r"/dashboard/parent$"))  # nothing happened, and it says so
    finally:
        page.context.set_offline(False)
    alert.get_by_role("button", name="Réessayer").click()
    expect(page).to_have_url(re.compile(r"/dashboard/parent/sessions$"))
    expect(page.locator("#net-error")).to_be_hidden()


def _book_first_free_slot(page: Page) -> None:
    page.goto("/dashboard/eleve/sessions")
    page.get_by_label("Matière").select_option("MATHEMATIQUES")
    page.get_by_role("button", name="Voir les coachs").click()
    page.get_by_role("link", name="Voir les créneaux de Hélios").click()
    page.locator("#creneaux ul a").first.click()
    page.get_by_role("button", name="Confirmer la réservation").click()
    expect(page).to_have_url(re.compile(r"/dashboard/sessions/\d+$"))


def _reads_as_cards(page: Page) -> None:
    """The table's header row is hidden; each cell shows its label and fits the screen."""
    table = page.locator("main table").first
    expect(table.locator("thead")).to_be_hidden()
    subject = table.locator("td[data-label='Matière']").first
    expect(subject).to_be_visible()
    expect(subject).to_be_in_viewport()
    box = subject.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
    label = subject.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Matière"', label
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_session_lists_read_as_cards_on_a_phone(
    page: Page, sign_in: Callable[..., None], sign_out: Callable[[Page], None]
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, SAMI)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    _book_first_free_slot(page)
    page.goto("/dashboard/eleve/mes-sessions")
    _reads_as_cards(page)
    sign_out(page)
    for email, home, path in [
        (PARENT2, "parent", "/dashboard/parent/sessions"),
        (HELIOS, "coach", "/dashboard/coach/sessions"),
        (ASSISTANTE, "assistante", "/dashboard/assistante/seances"),
    ]:
        sign_in(page, email)
        expect(page).to_have_url(re.compile(rf"/dashboard/{home}$"))
        page.goto(path)
        _reads_as_cards(page)
        sign_out(page)


def test_the_menu_shows_the_current_tab_and_the_audit_log_reads_in_french(
    page: Page, sign_in: Callable[..., None]
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/dashboard/admin$"))
    menu = page.get_by_role("navigation", name="Menu de mon espace")
    menu.get_by_role("link", name="Journal d'audit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journal d'audit")
    current = menu.locator("[aria-current=page]")
    expect(current).to_have_text("Journal d'audit")
    expect(current).to_be_in_viewport(ratio=1)
    page.reload()  # a full page load (no htmx swap) shows it too
    expect(menu.locator("[aria-current=page]")).to_be_in_viewport(ratio=1)
    text = page.locator("main table").inner_text()
    for raw in ("True", "False", "None", "'PAID'", "PARENT"):
        assert raw not in text, raw
    expect(page.locator("main")).to_contain_text("Connexion")


def test_the_question_bubble_holds_the_question_only(page: Page, sign_in: Callable[..., None]) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, SAMI)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    page.goto("/dashboard/eleve/aria")
    page.get_by_label("Votre question").fill("Qu'est-ce qu'une suite géométrique ?")
    page.get_by_role("button", name="Envoyer").click()
    bubble = page.locator("#transcript .msg-user").last
    expect(bubble).to_contain_text("suite géométrique")
    # No blank lines around the text: the bubble is its text plus its padding.
    gap = bubble.evaluate(
        "b => b.getBoundingClientRect().height - b.querySelector('.msg-body').getBoundingClientRect().height"
    )
    assert gap < 40, gap



def test_each_booking_step_lands_on_what_it_reveals(phone: Page, sign_in: Callable[..., None]) -> None:
    sign_in(phone, SAMI)
    expect(phone).to_have_url(re.compile(r"/dashboard/eleve$"))
    phone.goto("/dashboard/eleve/sessions")
    phone.get_by_label("Matière").select_option("MATHEMATIQUES")
    phone.get_by_role("button", name="Voir les coachs").click()
    expect(phone.get_by_role("heading", name="2. Le coach")).to_be_in_viewport()
    phone.get_by_role("link", name="Voir les créneaux de Hélios").click()
    expect(phone.get_by_role("heading", name="3. Le créneau avec Hélios")).to_be_in_viewport()
    expect(phone.get_by_role("heading", name="1. La séance")).not_to_be_in_viewport()


def test_the_staff_home_reads_on_a_phone(page: Page, sign_in: Callable[..., None]) -> None:
    """The latest contacts read as cards; each counter's words agree with its number."""
    page.set_viewport_size(PHONE)
    page.goto("/contact")
    page.get_by_label("Nom et prénom").fill("Mourad Ben Ali")
    page.get_by_label("E-mail").fill("mourad.benali@example.tn")
    page.get_by_label("Sujet").select_option(index=1)
    page.get_by_label("Votre message").fill("Bonjour, quels horaires pour le stage de printemps ?")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator("main")).to_contain_text("Merci")
    sign_in(page, "assistante@nexus-reussite.tn")
    expect(page).to_have_url(re.compile(r"/dashboard/assistante$"))
    latest = page.locator("section", has=page.get_by_role("heading", name="Derniers messages de contact"))
    expect(latest.locator("thead")).to_be_hidden()
    sender = latest.locator("td[data-label='De']").first
    expect(sender).to_contain_text("Mourad Ben Ali")
    sender.scroll_into_view_if_needed()  # below the next-step card and the counters
    expect(sender).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    for tile in page.locator(".kpi").all():
        count = int(tile.locator(".kpi-value").inner_text())
        label = tile.locator(".kpi-label").inner_text()
        assert label.split()[0].endswith("s") == (count >= 2), (count, label)
