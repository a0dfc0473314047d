"""The money path in a browser: a parent declares a transfer, the assistante approves it in
the table, the parent sees the plan and the credits and downloads the invoice."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.people import ASSISTANTE, PARENT


def test_transfer_declared_approved_and_invoiced(
    page: Page, sign_in: Callable[..., None], sign_out: Callable[[Page], None]
) -> None:
    sign_in(page, PARENT)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    page.goto("/dashboard/parent/abonnements")
    yasmine = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^Yasmine")))
    yasmine.get_by_role("link", name=re.compile("Choisir Hybride pour Yasmine")).click()
    expect(page.get_by_role("heading", name="Récapitulatif de la commande")).to_be_visible()
    expect(page.locator("main")).to_contain_text("450")
    reference = re.search(r"NX-[A-Z0-9]{8}", page.locator("main").inner_text()).group(0)
    page.get_by_label("Matière d'ARIA").first.select_option("MATHEMATIQUES")
    page.get_by_role("button", name="J'ai effectué le virement").click()
    expect(page).to_have_url(re.compile(r"/dashboard/parent/paiements$"))
    expect(page.get_by_role("status").first).to_contain_text(reference)
    expect(page.locator("table").first).to_contain_text("En attente")
    sign_out(page)

    sign_in(page, ASSISTANTE)
    expect(page).to_have_url(re.compile(r"/dashboard/assistante$"))
    page.goto("/dashboard/assistante/paiements")
    row = page.locator("tr", has_text=reference)
    expect(row).to_contain_text("Nadia Ben Ali")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile("^Valider")).click()
    expect(page.locator("tr", has_text=reference)).to_contain_text("Validé")
    sign_out(page)

    sign_in(page, PARENT)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    card = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^Yasmine")))
    expect(card).to_contain_text("Hybride")
    expect(card).to_contain_text("4")
    page.goto("/dashboard/parent/paiements")
    expect(page.locator("table").first).to_contain_text("Validé")
    link = page.get_by_role("link", name="Facture (PDF)").first
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
