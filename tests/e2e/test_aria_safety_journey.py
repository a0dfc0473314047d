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

from playwright.sync_api import Browser, Page, expect

from tests.people import ASSISTANTE, PARENT2, SAMI

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
