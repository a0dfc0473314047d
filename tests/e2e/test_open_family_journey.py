"""The staff journey of issue 9: a family asks for a free bilan, the assistante opens its family
space from the request's row, the parent receives the link, activates and finds the child."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.people import ASSISTANTE
from tests.servers import SmtpSink, body_text

PARENT_EMAIL = "sonia.ayari.e2e@example.tn"
PARENT_PASSWORD = "un jasmin sur la terrasse de Sidi Bou"


def ask_for_a_bilan(page: Page) -> None:
    """The public form, four steps, as a parent fills it."""
    page.goto("/bilan-gratuit")
    page.get_by_label("Votre prénom").fill("Sonia")
    page.get_by_label("Votre nom", exact=True).fill("Ayari")
    page.get_by_label("Votre e-mail").fill(PARENT_EMAIL)
    page.get_by_label("Votre téléphone").fill("98 765 432")
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Prénom de l'élève").fill("Rania")
    page.get_by_label("Nom de l'élève", exact=True).fill("Ayari")
    page.get_by_label("Première").check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mathématiques").check()
    page.get_by_label("Niveau actuel dans ces matières").select_option("Des hauts et des bas")
    page.get_by_label("Objectifs", exact=True).fill("Reprendre confiance avant le bac blanc.")
    page.get_by_label("En ligne").check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label(re.compile("J'accepte que Nexus Réussite conserve")).check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page).to_have_url(re.compile(r"/bilan-gratuit/confirmation$"))


def activation_link(smtp: SmtpSink, address: str, timeout: float = 20.0) -> str:
    """The account activation link among the e-mails to an address (the bilan's receipt too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in smtp.to(address):
            found = re.search(r"http://\S+/auth/activate\?token=\S+", body_text(message))
            if found:
                return found.group(0)
        time.sleep(0.1)
    raise AssertionError(f"no activation link to {address}")


def test_staff_open_a_family_space_from_a_bilan_row(
    page: Page,
    live_server: LiveServer,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    ask_for_a_bilan(page)

    sign_in(page, ASSISTANTE)
    expect(page).to_have_url(re.compile(r"/dashboard/assistante$"))
    page.get_by_role("link", name="Demandes de bilan").click()
    expect(page).to_have_url(re.compile(r"/dashboard/assistante/bilans$"))
    row = page.locator("tr", has_text="Rania Ayari")
    row.get_by_role("link", name="Ouvrir l'espace famille").click()
    form_row = page.locator("tr", has=page.get_by_role("heading", name="Ouvrir l'espace famille"))
    expect(form_row.get_by_label("E-mail du parent")).to_have_value(PARENT_EMAIL)
    expect(form_row.get_by_label("Prénom", exact=True)).to_have_value("Rania")
    expect(page).to_have_url(re.compile(r"/dashboard/assistante/bilans$"))  # swapped in place

    # "Annuler" brings the row back; open it again and confirm.
    form_row.get_by_role("link", name="Annuler").click()
    row = page.locator("tr", has_text="Rania Ayari")
    expect(row.get_by_role("link", name="Ouvrir l'espace famille")).to_be_visible()
    row.get_by_role("link", name="Ouvrir l'espace famille").click()
    form_row = page.locator("tr", has=page.get_by_role("heading", name="Ouvrir l'espace famille"))
    form_row.get_by_role("button", name="Ouvrir l'espace et envoyer le lien").click()

    row = page.locator("tr", has_text="Rania Ayari")
    expect(row).to_contain_text("Inscrite · espace ouvert")
    expect(row).to_contain_text("Parent : Sonia Ayari")
    expect(row.get_by_role("status")).to_contain_text(f"lien d'activation envoyé à {PARENT_EMAIL}")
    expect(row.get_by_role("link", name="Ouvrir l'espace famille")).to_have_count(0)
    sign_out(page)

    page.goto(activation_link(live_server.smtp, PARENT_EMAIL))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bienvenue Sonia !")
    page.get_by_label("Nouveau mot de passe").fill(PARENT_PASSWORD)
    page.get_by_label("Confirmer le mot de passe").fill(PARENT_PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page).to_have_url(re.compile(r"/auth/signin$"))

    sign_in(page, PARENT_EMAIL, PARENT_PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    expect(page.locator("main")).to_contain_text("Rania")
