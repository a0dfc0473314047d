"""The pages run under the strict CSP without a single violation or console error."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, expect

from tests.people import ADMIN, ASSISTANTE, HELIOS, PARENT, YASMINE

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""
PUBLIC_PAGES = [
    "/",
    "/offres",
    "/equipe",
    "/plateforme-aria",
    "/contact",
    "/mentions-legales",
    "/auth/signin",
    "/auth/mot-de-passe-oublie",
    "/auth/reset-password?token=x",
    "/page-qui-n-existe-pas",
]
SIGNED_IN = [
    (
        ADMIN,
        ["/dashboard/admin", "/dashboard/admin/audit", "/notifications", "/auth/compte"],
    ),
    (ASSISTANTE, ["/dashboard/assistante"]),
    (HELIOS, ["/dashboard/coach"]),
    (PARENT, ["/dashboard/parent", "/notifications"]),
    (YASMINE, ["/dashboard/eleve", "/dashboard/eleve/credits"]),
]


class Problems(list[str]):
    pass


@pytest.fixture
def problems(page: Page) -> Iterator[Problems]:
    found = Problems()
    page.add_init_script(RECORD_VIOLATIONS)

    def on_console(message: ConsoleMessage) -> None:
        # A 404/410/422 page is expected for some URLs: Chromium logs the status as an error.
        if message.type == "error" and "the server responded with a status of" not in message.text:
            found.append(f"console: {message.text}")

    def on_page_error(error: Error) -> None:
        found.append(f"pageerror: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    yield found


def collect(page: Page, problems: Problems) -> list[str]:
    violations = page.evaluate("window.__cspViolations || []")
    return [*problems, *(f"csp: {v}" for v in violations)]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_has_no_csp_violation(page: Page, problems: Problems, path: str) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("load")
    assert collect(page, problems) == []


@pytest.mark.parametrize(("email", "paths"), SIGNED_IN, ids=[e.split("@")[0] for e, _ in SIGNED_IN])
def test_signed_in_pages_have_no_csp_violation(
    page: Page, problems: Problems, sign_in: Callable[..., None], email: str, paths: list[str]
) -> None:
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    for path in paths:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("load")
        assert collect(page, problems) == [], path


def test_boosted_navigation_has_no_csp_violation(
    page: Page, problems: Problems, sign_in: Callable[..., None]
) -> None:
    """hx-boost swaps the page in place: the sidebar links keep working under the CSP."""
    sign_in(page, PARENT)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    menu = page.get_by_role("navigation", name="Menu de mon espace")
    menu.get_by_role("link", name="Séances", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard/parent/sessions$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Séances")
    menu.get_by_role("link", name="Mon compte", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    assert collect(page, problems) == []
