"""Error pages in French; an unexpected failure shows an incident number, never a trace."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import text

from nexus.extensions import db
from nexus.services import catalog, dashboards
from tests.helpers import html
from tests.people import PARENT


def test_unknown_address_gets_a_french_404(client):
    response = client.get("/cette-page-n-existe-pas")
    assert response.status_code == 404
    page = html(response)
    assert "Page introuvable" in page
    assert "Cette page n'existe pas" in page
    assert '<html lang="fr">' in page


def test_wrong_method_gets_a_french_405(client):
    response = client.get("/auth/signout")
    assert response.status_code == 405
    assert "Action non permise" in html(response)


def test_unexpected_error_gives_a_french_500_with_an_incident(client, monkeypatch, caplog):
    def broken(*args: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(catalog, "offers_of", broken)
    with caplog.at_level(logging.ERROR, logger="nexus.web"):
        response = client.get("/offres")
    assert response.status_code == 500
    page = html(response)
    assert "Erreur inattendue" in page
    assert "Traceback" not in page
    assert "secret internal detail" not in page
    incident = re.search(r"Référence de l'incident : <code>([0-9a-f]{8})</code>", page)
    assert incident
    logged = [r for r in caplog.records if incident.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the trace goes to the log, not the page


def test_database_error_mid_request_still_renders_the_page(client, login, monkeypatch):
    login(client, PARENT)

    def failing_query(user: object) -> None:
        db.session.execute(text("SELECT * FROM table_qui_n_existe_pas"))

    monkeypatch.setattr(dashboards, "children_summary", failing_query)
    response = client.get("/dashboard/parent")
    assert response.status_code == 500
    assert "Erreur inattendue" in html(response)
    monkeypatch.undo()
    assert client.get("/dashboard/parent").status_code == 200


def test_oversized_upload_gets_a_french_413(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = client.post("/contact", data={"message": "x" * 5000})
    assert response.status_code == 413
    assert "Fichier trop volumineux" in html(response)


def test_forbidden_page_offers_a_way_back(client, login):
    login(client, PARENT)
    page = html(client.get("/dashboard/admin"))
    assert "Retour à mon espace" in page


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/auth/signin", {"email": "a\x00b@example.tn", "password": "x"}),
        (
            "/contact",
            {"name": "Na\x00dia", "email": "a@b.tn", "topic": "autre", "message": "Bonjour\x00 à tous"},
        ),
        ("/auth/mot-de-passe-oublie", {"email": "\x00"}),
    ],
)
def test_nul_characters_get_a_french_400(client, path, data):
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "Requête invalide" in html(response)


def test_nul_in_the_query_string_gets_a_400(client):
    assert client.get("/auth/reset-password?token=a%00b").status_code == 400
