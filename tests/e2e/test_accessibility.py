"""axe-core on the key pages: no serious or critical violation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.people import ADMIN, ASSISTANTE, HELIOS, PARENT, SAMI, YASMINE

BLOCKING = {"serious", "critical"}
PUBLIC_PAGES = [
    "/auth/signin",
    "/",
    "/offres",
    "/equipe",
    "/plateforme-aria",
    "/contact",
    "/mentions-legales",
    "/auth/mot-de-passe-oublie",
    "/auth/reset-password?token=x",
    "/page-qui-n-existe-pas",
]
DASHBOARDS = [
    (ADMIN, "/dashboard/admin"),
    (ASSISTANTE, "/dashboard/assistante"),
    (HELIOS, "/dashboard/coach"),
    (PARENT, "/dashboard/parent"),
    (SAMI, "/dashboard/eleve"),
    (PARENT, "/notifications"),
    (PARENT, "/auth/compte"),
    (YASMINE, "/dashboard/eleve/credits"),
]


def assert_no_serious_violation(page: Page) -> None:
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
    report = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "summary": [n.get("failureSummary") for n in v["nodes"]][:2],
        }
        for v in blocking
    ]
    assert not blocking, f"{page.url}: " + json.dumps(report, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_has_no_serious_violation(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_serious_violation(page)


@pytest.mark.parametrize(("email", "path"), DASHBOARDS, ids=[p for _, p in DASHBOARDS])
def test_signed_in_page_has_no_serious_violation(
    page: Page, sign_in: Callable[..., None], email: str, path: str
) -> None:
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_serious_violation(page)


@pytest.mark.parametrize("width", [360, 1280])
def test_sign_in_error_is_announced_and_accessible(
    page: Page, sign_in: Callable[..., None], width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, PARENT, "mauvais")
    expect(page.get_by_role("alert")).to_have_text("E-mail ou mot de passe incorrect.")
    assert_no_serious_violation(page)


def test_dashboard_on_a_phone_has_no_serious_violation(page: Page, sign_in: Callable[..., None]) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/dashboard/admin$"))
    assert_no_serious_violation(page)
