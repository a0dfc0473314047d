"""Security headers on every page: CSP without inline scripts, nosniff, framing, referrer, caching."""

from __future__ import annotations

import re

import pytest

from tests.helpers import html
from tests.people import HX, PARENT

PUBLIC_PAGES = [
    "/",
    "/offres",
    "/equipe",
    "/plateforme-aria",
    "/contact",
    "/mentions-legales",
    "/auth/signin",
]


def csp_directives(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part for part in (p.strip() for p in policy.split(";")) if part}


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, "/page-qui-n-existe-pas"])
def test_public_pages_carry_the_security_headers(client, path):
    response = client.get(path)
    headers = response.headers
    csp = csp_directives(response)
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "unsafe-eval" not in headers["Content-Security-Policy"]
    assert csp["script-src"] == "script-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "HX-Request" in headers["Vary"]
    assert "no-store" not in headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_pages_have_no_inline_script(client, path):
    page = html(client.get(path))
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline <script> would be blocked by the CSP"
    assert not re.search(r"\son[a-z]+=\"", page), "inline event handler would be blocked by the CSP"


@pytest.mark.parametrize("path", ["/dashboard/parent", "/notifications", "/auth/compte", "/offres"])
def test_signed_in_pages_are_never_cached(client, login, path):
    login(client, PARENT)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]


def test_fragments_also_vary_on_htmx(client, login):
    login(client, PARENT)
    response = client.get("/notifications", headers=HX)
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    hsts = secure.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    assert "includeSubDomains" in hsts


def test_versioned_static_files_are_cached_for_a_year(client):
    page = html(client.get("/"))
    asset = re.search(r'src="(/static/vendor/htmx[^"]+\?v=[0-9a-f]+)"', page)
    assert asset, "htmx is served from /static with a content version"
    response = client.get(asset.group(1))
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]


def test_private_areas_are_not_indexed(client, login):
    assert client.get("/auth/signin").headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "X-Robots-Tag" not in client.get("/offres").headers
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Disallow: /dashboard" in robots


def test_forms_may_be_sent_on_to_the_card_gateway_only(app, client):
    """The card form's redirect reaches the configured gateway (Chromium applies form-action to
    it); without a gateway, forms stay on the site."""
    assert csp_directives(client.get("/offres"))["form-action"] == "form-action 'self'"
    app.config["CLICTOPAY_URL"] = "https://test.clictopay.com/payment/rest/"
    try:
        directive = csp_directives(client.get("/offres"))["form-action"]
    finally:
        app.config.pop("CLICTOPAY_URL")
    assert directive == "form-action 'self' https://test.clictopay.com"
