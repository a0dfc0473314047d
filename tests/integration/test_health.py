"""/healthz: every dependency of CONTRACT.md, `ok` or a short reason, nothing secret."""

from __future__ import annotations

import pytest

from tests.people import PARENT
from tests.servers import free_port

KEYS = {"database", "redis", "llm", "embeddings", "vector_store", "mail"}


def test_all_dependencies_are_reported_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    report = response.get_json()
    assert set(report) == KEYS
    assert all(value.startswith("ok") for value in report.values()), report
    assert report["database"] == "ok"
    assert report["redis"] == "ok"
    assert report["mail"] == "ok"
    assert report["vector_store"] == "ok (pgvector)"


def test_healthz_is_public_and_fast_to_parse(client, auth):
    assert client.get("/healthz").is_json
    auth.login(PARENT)
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("setting", "key"),
    [("REDIS_URL", "redis"), ("OPENAI_BASE_URL", "llm"), ("EMBEDDING_BASE_URL", "embeddings")],
)
def test_a_service_down_is_named_without_its_address(app, client, monkeypatch, setting, key):
    port = free_port()
    scheme = "redis" if key == "redis" else "http"
    monkeypatch.setitem(app.config, setting, f"{scheme}://127.0.0.1:{port}/")
    response = client.get("/healthz")
    assert response.status_code == 200  # the database is up: the app still serves
    report = response.get_json()
    assert report[key].startswith("error")
    assert str(port) not in response.get_data(as_text=True)
    assert report["database"] == "ok"


def test_mail_down_is_reported(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    assert client.get("/healthz").get_json()["mail"].startswith("error")


def test_unconfigured_services_say_what_happens_instead(app, client, monkeypatch):
    for setting in ("OPENAI_BASE_URL", "EMBEDDING_BASE_URL", "MAIL_SERVER"):
        monkeypatch.setitem(app.config, setting, None)
    report = client.get("/healthz").get_json()
    assert report["llm"] == "ok (not configured: ARIA answers in offline mode)"
    assert report["embeddings"] == "ok (local model)"
    assert report["mail"].startswith("ok (not configured")
