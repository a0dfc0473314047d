"""CSRF on every form and htmx request (CSRF is switched on for these tests only)."""

from __future__ import annotations

import json
import re

import pytest

from nexus.extensions import db
from nexus.services import notifications
from tests.helpers import csrf_token, html, notifications_of, user
from tests.people import DEMO_PASSWORD, HX, PARENT

EXPIRED = "Votre formulaire a expiré ou ne provient pas de Nexus Réussite."


@pytest.fixture
def csrf_on(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def signed_in_with_token(client) -> str:  # type: ignore[no-untyped-def]
    """Sign in through the real form (with its token); return the page token for htmx."""
    token = csrf_token(html(client.get("/auth/signin")))
    response = client.post(
        "/auth/signin", data={"email": PARENT, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    return htmx_token(html(client.get("/dashboard/parent")))


def htmx_token(page: str) -> str:
    """The token htmx sends: the body's hx-headers attribute."""
    match = re.search(r"<body[^>]*hx-headers='([^']+)'", page)
    assert match, "no hx-headers on <body>"
    return json.loads(match.group(1))["X-CSRFToken"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/auth/signin", {"email": PARENT, "password": DEMO_PASSWORD}),
        ("/auth/mot-de-passe-oublie", {"email": PARENT}),
        ("/contact", {"name": "Test", "email": "a@b.tn", "topic": "autre", "message": "Bonjour à vous"}),
    ],
)
def test_post_without_token_is_refused_in_french(client, csrf_on, path, data):
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert EXPIRED in html(response)
    assert "Requête invalide" in html(response)


def test_sign_in_with_the_form_token_passes(client, csrf_on):
    signed_in_with_token(client)
    assert client.get("/dashboard/parent").status_code == 200


def test_htmx_request_needs_the_header(client, csrf_on):
    token = signed_in_with_token(client)
    notifications.notify(user(PARENT).id, "TEST", "Une nouvelle")
    db.session.commit()

    refused = client.post("/notifications/tout-lu", headers=HX)
    assert refused.status_code == 400
    assert notifications_of(PARENT)[-1].read_at is None

    accepted = client.post("/notifications/tout-lu", headers={**HX, "X-CSRFToken": token})
    assert accepted.status_code == 200
    db.session.expire_all()
    assert notifications_of(PARENT)[-1].read_at is not None


def test_token_of_another_session_is_refused(app, client, csrf_on):
    signed_in_with_token(client)
    stranger_token = csrf_token(html(app.test_client().get("/auth/signin")))
    response = client.post("/notifications/tout-lu", headers={**HX, "X-CSRFToken": stranger_token})
    assert response.status_code == 400


def test_sign_out_needs_the_token(client, csrf_on):
    signed_in_with_token(client)
    assert client.post("/auth/signout").status_code == 400
    assert client.get("/dashboard/parent").status_code == 200
