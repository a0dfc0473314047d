"""The activation journey: the parent sends Adam his link, Adam activates, the parent is told."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.people import PARENT
from tests.servers import body_text

ADAM_EMAIL = "adam.e2e@example.tn"
ADAM_PASSWORD = "un velo bleu sous la pluie"


def test_parent_activates_adam_and_sees_the_notification(
    page: Page,
    live_server: LiveServer,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    sign_in(page, PARENT)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    badge = page.locator("#unread-badge")
    expect(badge).to_be_hidden()

    adam = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^Adam")))
    expect(adam).to_contain_text("pas encore activé")
    adam.get_by_label("E-mail de l'élève").fill(ADAM_EMAIL)
    adam.get_by_role("button", name="Envoyer le lien d'activation").click()
    expect(page.get_by_role("status").filter(has_text="Lien d'activation envoyé")).to_contain_text(ADAM_EMAIL)

    message = live_server.smtp.wait_for(ADAM_EMAIL, timeout=20)
    assert "Activez votre compte" in str(message["Subject"])
    found = re.search(r"http://\S+/auth/activate\?token=\S+", body_text(message))
    assert found, body_text(message)
    sign_out(page)

    page.goto(found.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bienvenue Adam !")
    page.get_by_label("Nouveau mot de passe").fill(ADAM_PASSWORD)
    page.get_by_label("Confirmer le mot de passe").fill(ADAM_PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()
    expect(page).to_have_url(re.compile(r"/auth/signin$"))
    expect(page.get_by_role("status")).to_contain_text("Votre compte est activé")

    sign_in(page, ADAM_EMAIL, ADAM_PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour Adam")

    # The same link does not work twice.
    sign_out(page)
    page.goto(found.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien a déjà servi")

    # The parent's bell now shows one unread notification.
    sign_in(page, PARENT)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    expect(page.locator("#unread-badge")).to_have_text("1")
    expect(page.locator("#unread-badge")).to_be_visible()
    adam = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^Adam")))
    expect(adam).to_contain_text("Compte élève activé")
    page.get_by_role("link", name="Notifications 1", exact=True).click()
    expect(page).to_have_url(re.compile(r"/notifications"))
    notification_list = page.locator("#notification-list")
    expect(notification_list).to_contain_text("Adam a activé son compte")
    notification_list.get_by_role("button", name="Tout marquer comme lu").click()
    expect(page.locator("#unread-badge")).to_be_hidden()
    expect(notification_list.get_by_role("button", name="Tout marquer comme lu")).to_be_disabled()
