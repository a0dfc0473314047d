"""Messaging in Chromium (issue 12), the family on a 360 px phone with JavaScript and without:

- Sami's parent (Hichem, PARENT2) writes to Hélios from /messages ("Nouveau message"); Hélios, in
  his own browser, sees the unread count in the menu, opens the thread and answers; the parent's
  open thread shows the answer without reloading (the poll, with JavaScript) or after a reload;
- Yasmine writes to the staff; the assistante finds the thread in the inbox (/messages for staff),
  takes it ("Je m'en occupe"), answers, marks it handled (a confirmation: the dialog with
  JavaScript, a page without); Yasmine sees the unread answer and reads it.

Hélios may write to Sami's family once they have had a session: the demo's history
(test_progress_journeys.demo_history) gives them five. Every page is looked at 360 px and 1280 px
(`look`: NEXUS_SCREENSHOTS=<folder> keeps the screenshots).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_positioning_journeys import mode
from tests.e2e.test_progress_journeys import (  # noqa: F401 (fixtures)
    demo_history,
    look,
    new_page,
    no_problem,
    patient_expect,
    sign_in_as,
)
from tests.people import ASSISTANTE, HELIOS, PARENT, PARENT2, YASMINE

POLL = 15_000  # the thread asks for new messages every 10 s


@pytest.fixture
def other(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: LiveServer,
    browser_context_args: dict[str, Any],
) -> Iterator[Page]:
    """The other side's browser at 1280 px, with JavaScript when the phone has it."""
    js = mode(request) == "js"
    context, page = new_page(browser, live_server, browser_context_args, js=js)
    try:
        yield page
    finally:
        context.close()


def write(page: Page, to: str, subject: str, body: str) -> None:
    """From /messages: the "Nouveau message" form, then the new thread's page."""
    if not page.url.endswith("/messages"):  # a click on the page shown would race its own swap
        page.get_by_role("link", name=re.compile("^Messages")).first.click()
        expect(page).to_have_url(re.compile(r"/messages$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages")
    form = page.locator("#nouveau")
    expect(form.get_by_role("heading", name="Nouveau message")).to_be_visible()
    form.get_by_label("À").select_option(label=to)
    form.get_by_label("Objet").fill(subject)
    form.get_by_label("Votre message").fill(body)
    form.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.locator("#messages")).to_contain_text(body)


def answer(page: Page, text: str) -> None:
    page.get_by_label("Votre message").fill(text)
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator("#messages")).to_contain_text(text)


def sees_answer(page: Page, js: str, text: str) -> None:
    """The answer on the thread left open: polled with JavaScript, after a reload without."""
    messages = page.locator("#messages")
    if js == "js":
        expect(messages).to_contain_text(text, timeout=POLL)
    else:
        expect(messages).not_to_contain_text(text)
        page.get_by_role("link", name="Actualiser").click()
        expect(messages).to_contain_text(text)


@pytest.mark.usefixtures("demo_history")
def test_samis_parent_writes_to_helios_and_gets_his_answer(
    request: pytest.FixtureRequest, phone: Page, other: Page
) -> None:
    js = mode(request)
    parent, helios = phone, other
    problems: list[str] = []
    subject = f"Les devoirs de Sami ({js})"
    question = "Bonjour Hélios, Sami peut-il refaire les exercices de dérivation avant jeudi ?"
    reply = f"Bonjour, oui : les exercices 3 à 7 du chapitre suffisent. ({js})"

    sign_in_as(parent, PARENT2)
    parent.goto("/messages")
    look(parent, f"messages-parent-{js}", problems)
    write(parent, "Hélios, coach de Sami", subject, question)
    expect(parent.locator("main")).to_contain_text("Hélios")
    look(parent, f"thread-parent-{js}", problems)

    sign_in_as(helios, HELIOS)
    badge = helios.locator("#messages-badge")
    expect(badge).to_have_text(re.compile(r"^[1-9]\d* conversations? non lues?$"))
    helios.get_by_role("link", name=re.compile("^Messages")).first.click()
    row = helios.locator(".threads li").filter(has_text=subject)
    expect(row).to_contain_text("Non lu")
    look(helios, f"messages-coach-{js}", problems)
    row.get_by_role("link").click()
    expect(helios.get_by_role("heading", level=1)).to_have_text(subject)
    expect(helios.locator("#messages")).to_contain_text(question)
    answer(helios, reply)
    look(helios, f"thread-coach-{js}", problems)
    helios.goto("/messages")
    expect(helios.locator(".threads li").filter(has_text=subject)).not_to_contain_text("Non lu")
    helios.goto("/messages/nouveau")
    expect(helios.get_by_role("heading", level=1)).to_have_text("Nouveau message")
    look(helios, f"new-message-coach-{js}", problems)

    sees_answer(parent, js, reply)
    expect(parent.locator("#messages li").last).to_contain_text("Hélios")
    thread_url = parent.url.split("#")[0]
    parent.goto("/messages")
    expect(parent.locator(".threads li").filter(has_text=subject)).not_to_contain_text("Non lu")

    # Another family (Nadia, Yasmine's parent) never reads it: 404, not even its subject.
    helios.get_by_role("button", name="Se déconnecter").click()
    expect(helios).to_have_url(re.compile(r"/auth/signin$"))
    sign_in_as(helios, PARENT)
    response = helios.goto(thread_url)
    assert response is not None and response.status == 404, thread_url
    expect(helios.locator("main")).not_to_contain_text(subject)
    no_problem(problems)


def test_yasmine_writes_to_the_staff_who_answer_from_the_inbox(
    request: pytest.FixtureRequest, phone: Page, other: Page
) -> None:
    js = mode(request)
    yasmine, staff = phone, other
    problems: list[str] = []
    dialogs: list[str] = []
    subject = f"Attestation de présence ({js})"
    question = "Bonjour, pouvez-vous m'envoyer une attestation de présence pour le lycée ?"
    reply = f"Bonjour Yasmine, l'attestation est jointe à votre espace documents. ({js})"

    sign_in_as(yasmine, YASMINE)
    write(yasmine, "L'équipe Nexus Réussite", subject, question)
    look(yasmine, f"thread-student-{js}", problems)

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    staff.on("dialog", accept)
    sign_in_as(staff, ASSISTANTE)
    staff.get_by_role("link", name=re.compile("^Messages")).first.click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Messagerie de l'équipe")
    staff.get_by_role("searchbox", name="Rechercher").fill(subject)
    staff.get_by_role("button", name="Filtrer").click()
    row = staff.locator("tr").filter(has=staff.get_by_role("link", name=subject))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Non lu")
    expect(row).to_contain_text("Yasmine")
    look(staff, f"inbox-{js}", problems)

    row.get_by_role("button", name=re.compile("^Je m'en occupe")).click()
    expect(row.get_by_role("cell").nth(3)).to_contain_text("Leïla Trabelsi")  # the assistante
    expect(row.get_by_role("button", name=re.compile("^Je m'en occupe"))).to_have_count(0)

    row.get_by_role("link", name=subject).click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(subject)
    expect(staff.locator("#messages")).to_contain_text(question)
    answer(staff, reply)
    look(staff, f"thread-staff-{js}", problems)

    staff.goto("/messages?q=" + subject)
    row = staff.locator("tr").filter(has=staff.get_by_role("link", name=subject))
    row.get_by_role("button", name=re.compile("^Marquer traitée")).click()
    if js == "no-js":
        expect(staff.get_by_role("heading", level=1)).to_have_text(
            "Marquer cette conversation comme traitée ?"
        )
        look(staff, "inbox-confirm-handled", problems)
        staff.get_by_role("button", name="Oui, marquer traitée").click()
        expect(staff.get_by_role("heading", level=1)).to_have_text("Messagerie de l'équipe")
        staff.goto("/messages?filtre=traites&q=" + subject)
        row = staff.locator("tr").filter(has=staff.get_by_role("link", name=subject))
    else:
        assert dialogs and dialogs[-1].endswith("?"), f"the confirmation asks: {dialogs}"
    expect(row).to_contain_text("Traitée")

    sees_answer(yasmine, js, reply)
    yasmine.goto("/messages")
    expect(yasmine.locator(".threads li").filter(has_text=subject)).not_to_contain_text("Non lu")
    no_problem(problems)


def test_a_parent_chooses_which_events_reach_him_by_email(
    request: pytest.FixtureRequest, phone: Page
) -> None:
    js = mode(request)
    page = phone
    problems: list[str] = []

    def save() -> None:
        page.get_by_role("button", name="Enregistrer mes préférences").click()
        expect(page.locator("main")).to_contain_text("Préférences enregistrées.")
        page.reload()  # what is stored, not what was ticked

    sign_in_as(page, PARENT2)
    page.get_by_role("link", name="Préférences e-mail").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Préférences e-mail")
    expect(page.locator("main")).to_contain_text("ne peuvent pas être désactivées")  # ARIA's alerts
    sessions = page.get_by_role("checkbox", name="Séances")
    expect(sessions).to_be_checked()
    look(page, f"preferences-{js}", problems)
    sessions.uncheck()
    save()
    expect(sessions).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Messages")).to_be_checked()
    sessions.check()  # as it was, for the other journeys
    save()
    expect(sessions).to_be_checked()
    no_problem(problems)
