"""Admins manage accounts (issue 9), in Chromium: an assistante created by an admin activates her
account and reaches her dashboard; a parent created by an admin pays a plan, is then deleted
(anonymised), cannot sign in any more, and the invoice of the payment remains."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.people import ADMIN, ASSISTANTE
from tests.servers import body_text

PASSWORD = "une tasse de the a la menthe"


def create_account(page: Page, role: str, first: str, last: str, email: str, child: str = "") -> None:
    page.goto("/dashboard/admin/utilisateurs")
    page.get_by_role("link", name="Nouveau compte").click()
    expect(page).to_have_url(re.compile(r"/dashboard/admin/utilisateurs/nouveau$"))
    page.get_by_label("Profil du compte").select_option(label=role)
    page.get_by_label("Prénom").first.fill(first)
    page.get_by_label("Nom", exact=True).first.fill(last)
    page.get_by_label("E-mail (identifiant de connexion)").fill(email)
    if child:
        group = page.get_by_role("group", name="Enfant 1")
        group.get_by_label("Prénom").fill(child)
        group.get_by_label("Nom", exact=True).fill(last)
        group.get_by_label("Classe").select_option(label="Première")
    page.get_by_role("button", name="Créer le compte et envoyer le lien").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{first} {last}")


def activate(page: Page, live_server: LiveServer, email: str) -> None:
    message = live_server.smtp.wait_for(email, timeout=20)
    found = re.search(r"http://\S+/auth/activate\?token=\S+", body_text(message))
    assert found, body_text(message)
    page.goto(found.group(0))
    page.get_by_label("Nouveau mot de passe").fill(PASSWORD)
    page.get_by_label("Confirmer le mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page.get_by_role("status")).to_contain_text("Votre compte est activé")


def test_an_admin_creates_an_assistante_who_activates_her_account(
    page: Page, live_server: LiveServer, sign_in: Callable[..., None], sign_out: Callable[[Page], None]
) -> None:
    sign_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/dashboard/admin$"))
    create_account(page, "Assistante", "Salma", "Gharbi", "salma.gharbi@example.tn")
    expect(page.locator("main")).to_contain_text("En attente d'activation")
    sign_out(page)

    activate(page, live_server, "salma.gharbi@example.tn")
    sign_in(page, "salma.gharbi@example.tn", PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/assistante$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Salma")


def test_an_admin_deletes_a_parent_and_the_invoice_remains(
    page: Page, live_server: LiveServer, sign_in: Callable[..., None], sign_out: Callable[[Page], None]
) -> None:
    email = "karim.jaziri@example.tn"
    sign_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/dashboard/admin$"))
    create_account(page, "Parent", "Karim", "Jaziri", email, child="Ines")
    sign_out(page)

    # The parent activates, then declares a transfer for Ines's plan.
    activate(page, live_server, email)
    sign_in(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    page.goto("/dashboard/parent/abonnements")
    ines = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^Ines")))
    ines.get_by_role("link", name=re.compile("Choisir Hybride pour Ines")).click()
    expect(page.get_by_role("heading", name="Récapitulatif de la commande")).to_be_visible()
    reference = re.search(r"NX-[A-Z0-9]{8}", page.locator("main").inner_text()).group(0)
    page.get_by_label("Matière d'ARIA").first.select_option("MATHEMATIQUES")
    page.get_by_role("button", name="J'ai effectué le virement").click()
    expect(page).to_have_url(re.compile(r"/dashboard/parent/paiements$"))
    sign_out(page)

    # Staff approve it: the invoice exists.
    sign_in(page, ASSISTANTE)
    expect(page).to_have_url(re.compile(r"/dashboard/assistante$"))
    page.goto("/dashboard/assistante/paiements")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text=reference).get_by_role("button", name=re.compile("^Valider")).click()
    expect(page.locator("tr", has_text=reference)).to_contain_text("Validé")
    sign_out(page)

    # The admin deletes the parent's account from its page, after the confirmation page.
    sign_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/dashboard/admin$"))
    page.goto(f"/dashboard/admin/utilisateurs?q={email}")
    page.get_by_role("link", name=re.compile("^Gérer")).first.click()
    page.get_by_role("link", name="Supprimer (anonymiser)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supprimer le compte de Karim Jaziri")
    expect(page.locator("main")).to_contain_text("Ce qui est conservé")
    page.get_by_role("button", name="Supprimer définitivement ce compte").click()
    expect(page.get_by_role("status")).to_contain_text("Compte supprimé")
    page.goto(f"/dashboard/admin/utilisateurs?q={email}")
    expect(page.locator("main")).not_to_contain_text("Karim")

    # Money records stay: the paid invoice of the payment is still listed.
    page.goto(f"/dashboard/admin/factures?q={email}")  # the invoice keeps its customer, by law
    invoice = page.locator("tbody tr", has_text=email)
    expect(invoice).to_contain_text("450")
    expect(invoice).to_contain_text("Payée")
    sign_out(page)

    # The deleted parent cannot sign in any more.
    sign_in(page, email, PASSWORD)
    expect(page.get_by_text("E-mail ou mot de passe incorrect.")).to_be_visible()
