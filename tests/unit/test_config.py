"""Settings: safe cookie defaults, and production refuses unsafe values."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nexus import config

PRODUCTION = {
    "NEXUS_ENV": "production",
    "SECRET_KEY": "k" * 48,
    "DATABASE_URL": "postgresql://nexus@db/nexus",
    "REDIS_URL": "redis://redis:6379/0",
    "SMTP_HOST": "smtp.example.tn",
    "PUBLIC_URL": "https://nexus-reussite.tn",
}


@pytest.fixture
def env(monkeypatch):  # type: ignore[no-untyped-def]
    for name in (*PRODUCTION, "RATELIMIT_ENABLED"):
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def test_development_cookies(env):
    cfg = config.from_environment()
    assert cfg["SESSION_COOKIE_HTTPONLY"]
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    # The cookie may live 14 days; each session's real lifetime is kept on the server.
    assert cfg["PERMANENT_SESSION_LIFETIME"] <= timedelta(days=14)
    assert not any(key.startswith("REMEMBER_COOKIE") for key in cfg)
    assert cfg["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024


def test_production_cookies_are_secure(env):
    env(**PRODUCTION)
    cfg = config.from_environment()
    assert cfg["SESSION_COOKIE_SECURE"]
    assert cfg["SESSION_COOKIE_NAME"] == "__Host-session"
    assert cfg["PREFERRED_URL_SCHEME"] == "https"


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("SECRET_KEY", "", "SECRET_KEY"),
        ("SECRET_KEY", "trop-court", "SECRET_KEY"),
        ("SECRET_KEY", "CHANGE-ME-to-a-random-string-of-at-least-32-characters", "SECRET_KEY"),
        ("DATABASE_URL", "", "DATABASE_URL"),
        ("REDIS_URL", "", "REDIS_URL"),
        ("SMTP_HOST", "", "SMTP_HOST"),
        ("PUBLIC_URL", "http://nexus-reussite.tn", "https://"),
    ],
)
def test_production_refuses_unsafe_settings(env, name, value, reason):
    env(**{**PRODUCTION, name: value})
    with pytest.raises(RuntimeError, match=reason):
        config.from_environment()


def test_public_url_follows_port_in_development(env, monkeypatch):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.setenv("PORT", "5050")
    assert config.from_environment()["PUBLIC_URL"] == "http://127.0.0.1:5050"


def test_public_url_when_set_wins_over_port(env, monkeypatch):
    monkeypatch.setenv("PORT", "5050")
    monkeypatch.setenv("PUBLIC_URL", "https://campus.example.tn/")
    assert config.from_environment()["PUBLIC_URL"] == "https://campus.example.tn"


def test_development_has_no_built_in_secret(env):
    assert config.from_environment()["SECRET_KEY"] is None


def test_development_secret_is_random_and_kept_under_instance(tmp_path):
    from flask import Flask

    from nexus import setup_secret_key

    folders = (tmp_path, tmp_path, tmp_path / "x")
    first, second, other = (Flask(__name__, instance_path=str(p)) for p in folders)
    (tmp_path / "x").mkdir()
    for app in (first, second, other):
        app.config["SECRET_KEY"] = None
        setup_secret_key(app)
    assert len(first.config["SECRET_KEY"]) >= 32
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]  # kept across restarts
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]  # not a shared constant
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_a_configured_secret_is_used_as_is(tmp_path):
    from flask import Flask

    from nexus import setup_secret_key

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config["SECRET_KEY"] = "s" * 40
    setup_secret_key(app)
    assert app.config["SECRET_KEY"] == "s" * 40
    assert not (tmp_path / "secret_key").exists()
