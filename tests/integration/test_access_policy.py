"""Access declared once (DESIGN.md rule 5): every route has a rule, and the rules hold."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from nexus import navigation, policy
from nexus.models.common import Role
from tests.helpers import html
from tests.people import ADMIN, DEMO_PASSWORD, HX, PARENT, ROLE_ACCOUNTS

ROLES = sorted(ROLE_ACCOUNTS)
# Who may open each dashboard home besides its own role.
EXTRA_ACCESS = {("admin", "assistante")}


def test_every_route_declares_an_access_rule(app):
    missing = sorted(
        f"{rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if policy.rule_for(app, rule.endpoint) is None
    )
    assert missing == [], f"routes without an access rule: {missing}"


def test_a_route_without_rule_is_refused(client, monkeypatch, app):
    monkeypatch.setitem(app.view_functions, "public.legal", lambda: "ouvert à tous")
    response = client.get("/mentions-legales")
    assert response.status_code == 403
    assert "ouvert à tous" not in html(response)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_only_its_dashboards(client, login, role):
    login(client, ROLE_ACCOUNTS[role])
    for target in ROLES:
        response = client.get(f"/dashboard/{target}")
        if target == role or (role, target) in EXTRA_ACCESS:
            assert response.status_code == 200, target
        else:
            assert response.status_code == 403, target
            assert "Accès refusé" in html(response)
            assert "Vous n'avez pas accès à cette page" in html(response)


def test_refusals_are_logged(client, login, caplog):
    login(client, PARENT)
    with caplog.at_level(logging.INFO, logger="nexus.policy"):
        client.get("/dashboard/admin")
    assert any(
        "authz_denied" in r.getMessage() and "dashboard.admin" in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize(
    "path", ["/dashboard", "/dashboard/parent", "/dashboard/eleve/aria", "/notifications"]
)
def test_anonymous_is_sent_to_sign_in(client, path):
    response = client.get(path + "?onglet=1")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/signin"
    assert parse_qs(location.query)["next"] == [path + "?onglet=1"]


def test_sign_in_then_goes_back_where_asked(client):
    location = client.get("/dashboard/parent/enfants").headers["Location"]
    response = client.post(location, data={"email": PARENT, "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/dashboard/parent/enfants"


def test_anonymous_htmx_request_gets_hx_redirect(client):
    response = client.get("/dashboard/parent", headers=HX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/auth/signin?next=")
    assert "/dashboard/parent" in response.headers["HX-Redirect"]


def test_anonymous_post_is_not_processed(client):
    response = client.post("/notifications/tout-lu")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/signin")


@pytest.mark.parametrize("role", ROLES)
def test_every_sidebar_page_answers(client, login, role):
    login(client, ROLE_ACCOUNTS[role])
    for item in navigation.items_for(Role(role.upper())):
        response = client.get(item.path)
        assert response.status_code == 200, item.path
        assert item.label in html(response)


def test_every_sidebar_entry_has_a_route(app):
    """No sidebar entry points at nothing (match() raises NotFound otherwise)."""
    adapter = app.url_map.bind("localhost")
    for role in Role:
        for item in navigation.items_for(role):
            assert adapter.match(item.path, method="GET"), item.path


@pytest.mark.parametrize("path", ["/dashboard/parent/nimporte-quoi", "/dashboard/parent/enfants/extra"])
def test_unknown_page_under_own_dashboard_is_not_found(client, login, path):
    login(client, PARENT)
    response = client.get(path)
    assert response.status_code == 404
    assert "Page introuvable" in html(response)


@pytest.mark.parametrize("role", ROLES)
def test_other_roles_sidebar_pages_are_closed(client, login, role):
    login(client, ROLE_ACCOUNTS[role])
    own = {item.path for item in navigation.items_for(Role(role.upper()))}
    allowed = own | {f"/dashboard/{other}" for (me, other) in EXTRA_ACCESS if me == role}
    for other in ROLES:
        for item in navigation.items_for(Role(other.upper())):
            if item.path not in allowed:
                assert client.get(item.path).status_code in (403, 404), item.path


def test_admin_opens_the_payments_desk(client, login):
    login(client, ADMIN)
    assert client.get("/dashboard/assistante/paiements").status_code == 200
    assert client.get("/dashboard/assistante").status_code == 200
