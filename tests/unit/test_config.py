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
