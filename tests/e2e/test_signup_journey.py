"""The front door of issue 9, in Chromium: a new parent signs up with two children, confirms the
address from the e-mail, signs in and sees the next step; the second child's own link works too.
Once with JavaScript on a desktop, once without JavaScript on a 360 px phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveServer
from tests.servers import body_text

PASSWORD = "trois oliviers au bord du lac"
PHONE = {"width": 360, "height": 780}


@pytest.fixture(params=["js", "no-js"])
def browsing(request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer,
           browser_context_args: dict[str, Any]) -> Iterator[tuple[Page, str]]:  # fmt: skip
    """A desktop with JavaScript, or a phone without; and a tag that keeps addresses apart."""
    options = {**browser_context_args, "base_url": live_server.url}
    if request.param == "no-js":
        options.update(java_script_enabled=False, viewport=PHONE)
    context = browser.new_context(**options)
    try:
        yield context.new_page(), request.param
    finally:
        context.close()


def link_in(live_server: LiveServer, address: str, path: str) -> str:
    message = live_server.smtp.wait_for(address, timeout=20)
    found = re.search(rf"http://\S+{re.escape(path)}\?token=\S+", body_text(message))
    assert found, body_text(message)
    return found.group(0)


def fill_child(page: Page, number: int, first: str, grade: str, email: str = "") -> None:
    group = page.get_by_role("group", name=f"Enfant {number}")
    group.get_by_label("Prénom").fill(first)
    group.get_by_label("Nom", exact=True).fill("Trabelsi")
    group.get_by_label("Classe").select_option(label=grade)
    if email:
        group.get_by_label("E-mail de l'enfant (facultatif)").fill(email)


def test_a_new_family_signs_up_confirms_and_sees_its_next_step(
    browsing: tuple[Page, str], live_server: LiveServer
) -> None:
    page, tag = browsing
    parent_email, child_email = f"leila.{tag}@example.tn", f"yassine.{tag}@example.tn"
    page.goto("/")
    page.get_by_role("link", name="Créer mon espace").first.click()
    expect(page).to_have_url(re.compile(r"/inscription$"))

    # Step 1: the parent; a wrong phone is said next to the field and nothing typed is lost.
    page.get_by_label("Votre prénom").fill("Leïla")
    page.get_by_label("Votre nom", exact=True).fill("Trabelsi")
    page.get_by_label("Votre e-mail").fill(parent_email)
    page.get_by_label("Votre téléphone").fill("12")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Numéro de téléphone invalide")).to_be_visible()
    expect(page.get_by_label("Votre e-mail")).to_have_value(parent_email)
    page.get_by_label("Votre téléphone").fill("20 123 456")
    page.get_by_role("button", name="Continuer").click()

    # Step 2: two children, the second with an address of her own.
    fill_child(page, 1, "Nour", "Terminale")
    page.get_by_role("button", name="Ajouter un autre enfant").click()
    fill_child(page, 2, "Yassine", "Seconde", child_email)
    page.get_by_role("button", name="Continuer").click()

    # Step 3: the recap, the password, the consent.
    expect(page.get_by_text("+216 20 123 456")).to_be_visible()
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmer le mot de passe").fill(PASSWORD)
    page.get_by_label(re.compile("J'accepte que Nexus Réussite")).check()
    page.get_by_role("button", name="Créer mon espace").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre boîte e-mail")

    # No account yet: signing in is refused.
    page.goto("/auth/signin")
    page.get_by_label("E-mail", exact=True).fill(parent_email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("E-mail ou mot de passe incorrect.")).to_be_visible()

    # The link opens a page; only its button confirms.
    page.goto(link_in(live_server, parent_email, "/inscription/confirmer"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer mon adresse")
    expect(page.get_by_text("Nour")).to_be_visible()
    page.get_by_role("button", name="Confirmer mon adresse").click()
    expect(page).to_have_url(re.compile(r"/auth/signin\?email="))
    expect(page.get_by_label("E-mail", exact=True)).to_have_value(parent_email)

    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    expect(page.locator("#prochaine-etape")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Choisissez une offre pour"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Nour"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Yassine"))).to_be_visible()

    # The child with an address got her own link, sent when the family was created.
    page.get_by_role("button", name="Se déconnecter").click()
    page.goto(link_in(live_server, child_email, "/auth/activate"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bienvenue Yassine !")
