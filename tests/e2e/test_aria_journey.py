"""ARIA in a browser: Sami asks a course question and sees a cited answer arrive over SSE.

The live server runs without OPENAI_BASE_URL: ARIA answers in its offline mode (the most
relevant passages of the course, cited and labelled)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.people import SAMI, YASMINE

QUESTION = "Comment calculer la somme des termes d'une suite arithmétique ?"


def test_sami_asks_and_sees_a_cited_answer(page: Page, sign_in: Callable[..., None]) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, SAMI)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    page.get_by_role("link", name="ARIA", exact=True).click()  # boosted: reloads fully for SSE
    expect(page.get_by_role("heading", level=1)).to_have_text("ARIA, votre tuteur")
    expect(page.locator("main")).to_contain_text("Vos parents peuvent lire vos conversations")
    expect(page.locator("#aria-quota")).to_contain_text("0 / 60")

    page.get_by_label("Votre question").fill(QUESTION)
    page.get_by_role("button", name="Envoyer").click()

    transcript = page.locator("#transcript")
    expect(transcript.locator(".msg-user")).to_contain_text(QUESTION)
    answer = transcript.locator("article.msg-aria").last
    expect(answer).to_contain_text("Mode hors ligne", timeout=15_000)
    expect(answer.locator(".sources")).to_contain_text("Suites numériques")
    expect(answer.locator("a.cite").first).to_have_text("[1]")
    expect(page.locator(".msg-pending")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve/aria/conversations/\d+$"))
    expect(page.locator("#aria-quota")).to_contain_text("0 / 60")  # an offline answer is free
    expect(page.locator("#aria-conversations")).to_contain_text("Comment calculer la somme")
    expect(page.get_by_label("Votre question")).to_have_value("")

    answer.get_by_role("button", name="Réponse utile").click()
    expect(answer.get_by_role("status")).to_contain_text("Merci pour votre avis")

    # The answer is stored: a reload shows it, with nothing left pending.
    page.reload()
    expect(page.locator("#transcript article.msg-aria")).to_contain_text("Suites numériques")
    expect(page.locator(".msg-pending")).to_have_count(0)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_yasmine_is_shown_the_offers(page: Page, sign_in: Callable[..., None]) -> None:
    sign_in(page, YASMINE)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    page.goto("/dashboard/eleve/aria")
    expect(page.locator("main")).to_contain_text("ARIA n'est pas encore inclus dans votre formule")
    page.get_by_role("link", name="Voir les offres").click()
    expect(page).to_have_url(re.compile(r"/offres$"))
