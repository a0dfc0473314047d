"""Phone layout (360 px): no horizontal scrolling, the dashboard menu is there without a tap."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.people import ADMIN, PARENT, SAMI

PHONE = {"width": 360, "height": 740}
NO_OVERFLOW = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize(
    "path", ["/", "/offres", "/equipe", "/plateforme-aria", "/contact", "/mentions-legales", "/auth/signin"]
)
def test_public_page_fits_a_phone(page: Page, path: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate(NO_OVERFLOW), f"{path} scrolls horizontally at 360 px"


@pytest.mark.parametrize(
    ("email", "role"),
    [
        (ADMIN, "admin"),
        (PARENT, "parent"),
        (SAMI, "eleve"),
    ],
)
def test_dashboard_fits_a_phone_and_its_menu_is_one_tap_away(
    page: Page, sign_in: Callable[..., None], email: str, role: str
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, email)
    expect(page).to_have_url(re.compile(rf"/dashboard/{role}$"))
    assert page.evaluate(NO_OVERFLOW), "the dashboard scrolls horizontally at 360 px"
    menu = page.get_by_role("navigation", name="Menu de mon espace")
    current = menu.get_by_role("link", name="Tableau de bord")
    expect(current).to_be_visible()
    expect(current).to_have_attribute("aria-current", "page")
    # The menu is a compact strip above the page, not a long list pushing the content down.
    box = menu.bounding_box()
    assert box is not None and box["height"] < 90, box
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    # Every entry is reachable: the last one scrolls into view and works.
    menu.get_by_role("link", name="Mon compte").click()
    expect(page).to_have_url(re.compile(r"/auth/compte$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
