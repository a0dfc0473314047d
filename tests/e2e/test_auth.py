"""Sign in, wrong password and sign out in a real browser, as a user would."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.people import ADMIN, ASSISTANTE, DEMO_PASSWORD, HELIOS, PARENT, PARENT2, SAMI, YASMINE, ZENON

ACCOUNTS = [
    (ADMIN, "admin", "Administration"),
    (ASSISTANTE, "assistante", "Bonjour"),
    (HELIOS, "coach", "Bonjour"),
    (ZENON, "coach", "Bonjour"),
    (PARENT, "parent", "Bonjour"),
    (PARENT2, "parent", "Bonjour"),
    (YASMINE, "eleve", "Bonjour Yasmine"),
    (SAMI, "eleve", "Bonjour Sami"),
]


@pytest.mark.parametrize(("email", "role", "heading"), ACCOUNTS, ids=[a[0].split("@")[0] for a in ACCOUNTS])
def test_each_demo_account_reaches_its_dashboard(
    page: Page, sign_in: Callable[..., None], email: str, role: str, heading: str
) -> None:
    sign_in(page, email)
    expect(page).to_have_url(re.compile(rf"/dashboard/{role}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    expect(page.get_by_role("navigation", name="Menu de mon espace")).to_be_attached()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_wrong_password_is_refused_in_french(page: Page, sign_in: Callable[..., None]) -> None:
    sign_in(page, PARENT, "pas-le-bon-mot-de-passe")
    expect(page.get_by_role("alert")).to_have_text("E-mail ou mot de passe incorrect.")
    expect(page).to_have_url(re.compile(r"/auth/signin"))
    # The e-mail typed is kept; the password is not.
    expect(page.get_by_label("E-mail", exact=True)).to_have_value(PARENT)
    expect(page.get_by_label("Mot de passe", exact=True)).to_have_value("")


def test_unknown_email_gets_the_same_message(page: Page, sign_in: Callable[..., None]) -> None:
    sign_in(page, "personne@example.tn", DEMO_PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("E-mail ou mot de passe incorrect.")


def test_sign_out(page: Page, sign_in: Callable[..., None], sign_out: Callable[[Page], None]) -> None:
    sign_in(page, YASMINE)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    sign_out(page)
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté")
    page.goto("/dashboard/eleve")
    expect(page).to_have_url(re.compile(r"/auth/signin"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


def test_dashboard_redirects_each_role(page: Page, sign_in: Callable[..., None]) -> None:
    sign_in(page, HELIOS)
    expect(page).to_have_url(re.compile(r"/dashboard/coach$"))
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/coach$"))
