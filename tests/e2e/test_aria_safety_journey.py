"""ARIA's safety journey in a browser: Sami answers the consent notice, writes a distress
question and gets a caring answer; the assistante sees the alert with the question and takes it
in hand; Sami's parent finds the bell notice (the category, not the question).

The live server runs without OPENAI_BASE_URL: the lexicon floor decides alone. Set ARIA_SHOTS to
a folder to keep screenshots at 360 and 1280 px."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.test_booking_journey import wait_for_subject
from tests.e2e.test_positioning_journeys import mode
from tests.e2e.test_progress_journeys import look, new_page, no_problem, patient_expect, sign_in_as  # noqa: F401
from tests.people import ASSISTANTE, PARENT2, SAMI
from tests.servers import body_text

QUESTION = "je n'en peux plus, je pleure tous les soirs et je veux mourir"
WIDTHS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("ARIA_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for label, size in WIDTHS.items():
            page.set_viewport_size(size)
            page.screenshot(path=str(Path(folder) / f"{name}-{label}.png"), full_page=True)


def test_a_distress_question_alerts_the_staff_and_the_parent(
    browser: Browser, browser_context_args: dict, base_url: str, sign_in: Callable[..., None]
) -> None:
    def signed_in(email: str) -> Page:
        options = {**browser_context_args, "base_url": base_url, "viewport": WIDTHS["desktop"]}
        page = browser.new_context(**options).new_page()
        sign_in(page, email)
        expect(page).to_have_url(re.compile(r"/dashboard/"))
        return page

    sami = signed_in(SAMI)
    sami.goto("/dashboard/eleve/aria")
    notice = sami.locator(".aria-consent")
    if notice.count():  # the notice shows until it is answered (another journey may have done it)
        expect(notice).to_contain_text("ARIA peut tenir compte de votre niveau")
        shot(sami, "aria-consent")
        notice.get_by_role("button", name="D'accord").click()
        expect(sami.locator("main")).to_contain_text("C'est noté")
    expect(sami.locator(".aria-consent-status")).to_be_visible()

    sami.get_by_label("Votre question").fill(QUESTION)
    sami.get_by_role("button", name="Envoyer").click()
    answer = sami.locator("#transcript article.msg-aria").last
    expect(answer).to_contain_text("SAMU au 190", timeout=15_000)
    expect(answer).to_contain_text("Message de bienveillance")
    expect(answer.get_by_role("button", name="Réponse utile")).to_have_count(0)
    shot(sami, "aria-caring-answer")

    staff = signed_in(ASSISTANTE)
    staff.goto("/dashboard/assistante/alertes-aria")
    row = staff.locator("tr", has_text=QUESTION).first
    expect(row).to_contain_text("Idées d'auto-agression")
    shot(staff, "aria-alerts")
    staff.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile("Pris en charge")).click()
    expect(staff.locator("tr", has_text=QUESTION).first).to_contain_text("Alerte prise en charge.")

    parent = signed_in(PARENT2)
    parent.goto("/notifications")
    expect(parent.locator("main")).to_contain_text("Sami a peut-être besoin de vous")
    expect(parent.locator("main")).not_to_contain_text("pleure")
    shot(parent, "aria-parent-bell")


# ---- the same journey on a phone, with JavaScript and without (issue 12's "Done when") ----

# A distress question per mode (from tests/data/safety_questions.tsv): the rows stay apart.
DISTRESS = {
    "js": "je me sens tellement seul, personne ne m'aime",
    "no-js": "je suis au bout du rouleau, je ne dors plus",
}
PARENT_WORDS = "traverse un moment difficile"  # the category in the parent's words


def test_a_distress_question_on_a_phone_alerts_the_parent_and_the_staff(
    request: pytest.FixtureRequest,
    phone: Page,
    browser: Browser,
    live_server: LiveServer,
    browser_context_args: dict[str, Any],
) -> None:
    js = mode(request)
    question = DISTRESS[js]
    problems: list[str] = []
    page = phone
    sign_in_as(page, SAMI)
    page.get_by_role("link", name="ARIA", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ARIA, votre tuteur")
    notice = page.locator(".aria-consent")
    if notice.count():  # until answered (another journey may have answered it)
        notice.get_by_role("button", name="D'accord").click()
    expect(page.locator(".aria-consent-status")).to_be_visible()
    page.get_by_label("Votre question").fill(question)
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator("#transcript .msg-user").last).to_contain_text(question)
    caring = page.locator("#transcript article.msg-aria").last
    expect(caring).to_contain_text("Message de bienveillance", timeout=15_000)
    expect(caring).to_contain_text("190")  # the SAMU
    expect(caring.get_by_role("button", name="Réponse utile")).to_have_count(0)
    look(page, f"aria-caring-answer-{js}", problems)

    # The parent: the bell counts it; the notice names the category, never the question.
    context, parent = new_page(browser, live_server, browser_context_args, js=js == "js")
    try:
        sign_in_as(parent, PARENT2)
        expect(parent.locator("#unread-badge")).to_have_text(re.compile(r"^[1-9]\d*$"))
        parent.get_by_role("link", name=re.compile("^Notifications")).first.click()
        expect(parent.get_by_role("heading", level=1)).to_have_text("Notifications")
        main = parent.locator("main")
        expect(main).to_contain_text("Sami a peut-être besoin de vous")
        expect(main).to_contain_text(PARENT_WORDS)
        expect(main).not_to_contain_text(question)
        look(parent, f"aria-parent-notifications-{js}", problems)
        item = main.locator("li").filter(has_text=PARENT_WORDS).first
        item.get_by_role("button", name=re.compile("^Ouvrir")).click()  # where the notice leads
        expect(parent).to_have_url(re.compile(r"/dashboard/parent/aria$"))
        expect(parent.get_by_role("heading", level=1)).to_have_text("Conversations ARIA")
        look(parent, f"aria-parent-conversations-{js}", problems)
    finally:
        context.close()
    wait_for_subject(live_server, PARENT2, "Sami a peut-être besoin de vous")
    for message in live_server.smtp.to(PARENT2):
        assert question not in body_text(message), "the parent's e-mail shows the question"

    # The staff: the alert page shows the question and its category; taken in hand.
    context, staff = new_page(browser, live_server, browser_context_args, js=js == "js")
    try:
        staff.on("dialog", lambda dialog: dialog.accept())
        sign_in_as(staff, ASSISTANTE)
        staff.get_by_role("link", name="Alertes ARIA").first.click()
        expect(staff.get_by_role("heading", level=1)).to_have_text("Alertes ARIA")
        row = staff.locator("tr").filter(has_text=question)
        expect(row).to_have_count(1)
        expect(row.get_by_role("cell").nth(1)).to_contain_text("Sami Gharbi")
        expect(row.get_by_role("cell").nth(2)).to_contain_text("Détresse")
        look(staff, f"aria-alerts-{js}", problems)
        row.get_by_role("button", name=re.compile("^Pris en charge")).click()
        if js == "no-js":
            expect(staff.get_by_role("heading", level=1)).to_have_text(
                "Marquer cette alerte comme prise en charge ?"
            )
            staff.get_by_role("button", name="Oui, prise en charge").click()
            staff.goto("/dashboard/assistante/alertes-aria?filtre=toutes")
            row = staff.locator("tr").filter(has_text=question)
        expect(row).to_contain_text("Prise en charge")
    finally:
        context.close()
    assert question in wait_for_subject(live_server, "contact@nexus-reussite.tn", "Alerte ARIA — Détresse")
    no_problem(problems)


HARM_AT_HOME = "ma mère me bat"  # DISTRESS naming harm at home: staff are told, the parents are not


def test_harm_at_home_reaches_the_staff_and_never_the_parents(
    browser: Browser, live_server: LiveServer, browser_context_args: dict[str, Any]
) -> None:
    """A child who names harm at home: the staff see the question; the parents get no notice and
    their ARIA pages (where a notice would lead) do not show it either."""
    problems: list[str] = []
    context, sami = new_page(browser, live_server, browser_context_args)
    try:
        sign_in_as(sami, SAMI)
        sami.goto("/dashboard/eleve/aria")
        notice = sami.locator(".aria-consent")
        if notice.count():
            notice.get_by_role("button", name="D'accord").click()
        expect(sami.locator(".aria-consent-status")).to_be_visible()
        sami.get_by_label("Votre question").fill(HARM_AT_HOME)
        sami.get_by_role("button", name="Envoyer").click()
        caring = sami.locator("#transcript article.msg-aria").last
        expect(caring).to_contain_text("Message de bienveillance", timeout=15_000)
        expect(caring).not_to_contain_text("vos parents sont prévenus")
    finally:
        context.close()

    context, staff = new_page(browser, live_server, browser_context_args)
    try:
        sign_in_as(staff, ASSISTANTE)
        staff.goto("/dashboard/assistante/alertes-aria")
        expect(staff.locator("tr").filter(has_text=HARM_AT_HOME)).to_contain_text("Détresse")
    finally:
        context.close()

    context, parent = new_page(browser, live_server, browser_context_args)
    try:
        sign_in_as(parent, PARENT2)
        parent.goto("/notifications")
        expect(parent.get_by_role("heading", level=1)).to_have_text("Notifications")
        expect(parent.locator("main")).not_to_contain_text(HARM_AT_HOME)
        parent.goto("/dashboard/parent/aria")
        expect(parent.get_by_role("heading", level=1)).to_have_text("Conversations ARIA")
        look(parent, "aria-parent-conversations-harm-at-home", problems)
        expect(parent.locator("main")).not_to_contain_text(HARM_AT_HOME)
    finally:
        context.close()
    no_problem(problems)
