"""Staff on a 360 px phone, with JavaScript and without: an irreversible row action asks first
(hx-confirm, or a confirmation page), tables read as cards, a search updates the table in place
(with JavaScript) or reloads the page with the filters in its address (without)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE
from tests.people import ADMIN, ASSISTANTE, PARENT2, ZENON

USERS = "/dashboard/admin/utilisateurs"



def _js_enabled(page: Page) -> bool:
    """Whether the page runs its scripts (Playwright's evaluate() works either way)."""
    return bool(page.evaluate("() => typeof window.htmx !== 'undefined'"))


def _shot(page: Page, name: str) -> None:
    mode = "js" if _js_enabled(page) else "nojs"
    page.screenshot(path=f"/tmp/staff-phone-{name}-{mode}.png", full_page=True)


def _toggle(page: Page, button: str) -> None:
    """Click a row's button and say yes: to the browser's dialog, or on the confirmation page."""
    row = page.locator("tr", has_text="Sonia Mansour")
    if _js_enabled(page):
        asked: list[str] = []

        def accept(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.once("dialog", accept)
        row.get_by_role("button", name=re.compile(f"^{button}")).click()
        expect(row.get_by_role("status")).to_be_visible()  # the row swapped, its notice inside
        assert asked and asked[0].startswith(f"{button} ce compte ?"), asked
        expect(page).to_have_url(re.compile(r"/utilisateurs\?q=mansour$"))
    else:
        row.get_by_role("button", name=re.compile(f"^{button}")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{button} le compte de Sonia Mansour ?")
        _shot(page, f"confirm-{button.lower()}")
        page.get_by_role("button", name=f"Oui, {button.lower()}").click()
        expect(page).to_have_url(re.compile(r"/utilisateurs\?q=mansour$"))  # back to the same list


def test_deactivating_an_account_asks_first(phone: Page, sign_in: Callable[..., None]) -> None:
    sign_in(phone, ADMIN)
    expect(phone).to_have_url(re.compile(r"/dashboard/admin$"))
    phone.goto(f"{USERS}?q=mansour")
    row = phone.locator("tr", has_text="Sonia Mansour")
    expect(row).to_contain_text(ZENON)

    _toggle(phone, "Désactiver")
    expect(phone.locator("main")).to_contain_text("Compte de Sonia Mansour désactivé.")
    expect(row.locator("td[data-label='État']")).to_contain_text("Désactivé")

    # Put it back as it was (the other journeys sign in as this coach).
    _toggle(phone, "Réactiver")
    expect(phone.locator("main")).to_contain_text("Compte de Sonia Mansour réactivé.")
    expect(row.locator("td[data-label='État']")).to_contain_text("Actif")


def _declare_a_transfer(page: Page) -> str:
    """Hichem orders a plan for Sami and says he paid by transfer: the reference staff will see."""
    page.goto("/dashboard/parent/abonnements")
    page.get_by_role("link", name=re.compile(r"^(Choisir|Renouveler) Hybride pour Sami")).click()
    expect(page.get_by_role("heading", name="Récapitulatif de la commande")).to_be_visible()
    reference = re.search(r"NX-[A-Z0-9]{8}", page.locator("main").inner_text())
    assert reference is not None
    subject = page.get_by_label("Matière d'ARIA")
    if subject.count():
        subject.first.select_option("MATHEMATIQUES")
    page.get_by_role("button", name="J'ai effectué le virement").click()
    expect(page).to_have_url(re.compile(r"/dashboard/parent/paiements$"))
    return reference.group(0)


def test_refusing_a_transfer_asks_first_and_lists_it_as_processed(
    phone: Page, sign_in: Callable[..., None], sign_out: Callable[[Page], None]
) -> None:
    sign_in(phone, PARENT2)
    expect(phone).to_have_url(re.compile(r"/dashboard/parent$"))
    reference = _declare_a_transfer(phone)
    sign_out(phone)

    sign_in(phone, ASSISTANTE)
    expect(phone).to_have_url(re.compile(r"/dashboard/assistante$"))
    phone.goto("/dashboard/assistante/paiements")
    row = phone.locator("#payments-table tr", has_text=reference)
    expect(row.locator("td[data-label='Famille']")).to_contain_text("Hichem Gharbi")
    _shot(phone, "payments")
    row.get_by_label(re.compile("^Motif du refus")).fill("Aucun virement reçu à ce jour")
    if _js_enabled(phone):
        phone.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name=re.compile("^Refuser")).click()
        expect(row).to_contain_text("Refusé : la famille est prévenue par e-mail.")
        phone.reload()
    else:
        row.get_by_role("button", name=re.compile("^Refuser")).click()
        expect(phone.get_by_role("heading", level=1)).to_have_text(f"Refuser le virement {reference} ?")
        expect(phone.get_by_label("Motif du refus")).to_have_value("Aucun virement reçu à ce jour")
        _shot(phone, "confirm-refuser")
        phone.get_by_role("button", name="Oui, refuser").click()
        expect(phone).to_have_url(re.compile(r"/dashboard/assistante/paiements$"))
        expect(phone.locator("main")).to_contain_text("Refusé : la famille est prévenue par e-mail.")
    expect(phone.locator("#payments-table")).not_to_contain_text(reference)
    processed = phone.get_by_role("region", name="Traités ces 7 derniers jours")
    line = processed.locator("tr", has_text=reference)
    expect(line).to_contain_text("Aucun virement reçu à ce jour")
    expect(line.locator("td[data-label='Par']")).to_have_text("Leïla Trabelsi")
    _shot(phone, "payments-processed")


def _reads_as_cards(page: Page, label: str) -> None:
    """The header row is hidden; each cell shows its label and fits the screen."""
    table = page.locator("main .results table").first
    expect(table.locator("thead")).to_be_hidden()
    cell = table.locator(f"td[data-label='{label}']").first
    expect(cell).to_be_visible()
    box = cell.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
    shown = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert shown == f'"{label}"', shown
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize(
    ("who", "path", "label"),
    [
        (ADMIN, USERS, "Profil"),
        (ASSISTANTE, "/dashboard/assistante/eleves", "Classe"),
        (ASSISTANTE, "/dashboard/assistante/coachs", "Matières"),
        (ASSISTANTE, "/dashboard/assistante/credits", "Solde"),
    ],
    ids=["users", "students", "coaches", "credits"],
)
def test_staff_tables_read_as_cards(phone: Page, sign_in: Callable[..., None], who: str, path: str,
                                    label: str) -> None:  # fmt: skip
    sign_in(phone, who)
    expect(phone).to_have_url(re.compile(r"/dashboard/\w+$"))
    phone.goto(path)
    _reads_as_cards(phone, label)
    _shot(phone, path.rsplit("/", 1)[1])


def test_a_search_updates_the_table(phone: Page, sign_in: Callable[..., None]) -> None:
    sign_in(phone, ADMIN)
    expect(phone).to_have_url(re.compile(r"/dashboard/admin$"))
    phone.goto(USERS)
    table = phone.locator("#users-table")
    expect(table).to_contain_text("Sonia Mansour")
    expect(table).to_contain_text("Nadia Ben Ali")
    if _js_enabled(phone):
        phone.evaluate("window.sameDocument = true")
        phone.get_by_label("Rechercher").fill("mansour")  # active search: no button to press
        expect(table).not_to_contain_text("Nadia Ben Ali")
        expect(table).to_contain_text("Sonia Mansour")
        expect(phone).to_have_url(re.compile(r"q=mansour"))  # the filters are in the address bar
        assert phone.evaluate("window.sameDocument") is True  # updated in place, not reloaded
        phone.get_by_label("Profil").select_option("PARENT")
        expect(table).to_contain_text("Aucun compte ne correspond.")
        expect(phone).to_have_url(re.compile(r"role=PARENT"))
    else:
        phone.get_by_label("Rechercher").fill("mansour")
        phone.get_by_role("button", name="Filtrer").click()
        expect(phone).to_have_url(re.compile(r"/utilisateurs\?.*q=mansour"))
        expect(table).not_to_contain_text("Nadia Ben Ali")
        expect(table).to_contain_text("Sonia Mansour")
    _shot(phone, "search")
