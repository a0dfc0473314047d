"""Settings read from the environment; production refuses unsafe defaults."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _bool(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def from_environment() -> dict[str, Any]:
    """Build the Flask config mapping from environment variables (see env.example)."""
    env = _env("NEXUS_ENV", "development")
    production = env == "production"
    cfg: dict[str, Any] = {
        "ENV_NAME": env,
        # Unset in development: a random key made once under instance/ (nexus.setup_secret_key),
        # never a constant that anyone could use to forge sessions or calendar-feed URLs.
        "SECRET_KEY": _env("SECRET_KEY"),
        "SERVER_NAME": _env("SERVER_NAME"),
        # The address e-mailed links point to; in development it follows `PORT` (make run).
        "PUBLIC_URL": _env("PUBLIC_URL", f"http://127.0.0.1:{_env('PORT', '5000')}").rstrip("/"),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # Database: unset -> embedded PostgreSQL (nexus.embedded_pg), resolved in create_app.
        "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL"),
        # pool_pre_ping costs one short round trip per request, and buys that a database restart
        # never shows anyone a 500 page (a stale connection is replaced before use); connections
        # are also renewed every 30 minutes, before any idle timeout of a proxy or firewall.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_recycle": 1800},
        "REDIS_URL": _env("REDIS_URL"),
        # Mail: unset SMTP_HOST -> .eml files under instance/mail/.
        "MAIL_SERVER": _env("SMTP_HOST"),
        "MAIL_PORT": _int("SMTP_PORT", 587),
        "MAIL_USERNAME": _env("SMTP_USERNAME"),
        "MAIL_PASSWORD": _env("SMTP_PASSWORD"),
        "MAIL_USE_TLS": _bool("SMTP_STARTTLS", True),
        "MAIL_USE_SSL": _bool("SMTP_SSL", False),
        "MAIL_DEFAULT_SENDER": _env("MAIL_FROM", "Nexus Réussite <no-reply@nexus-reussite.tn>"),
        "STAFF_EMAIL": _env("STAFF_EMAIL", "contact@nexus-reussite.tn"),
        # LLM and embeddings (OpenAI-compatible endpoints; unset -> offline mode / local model).
        "OPENAI_BASE_URL": _env("OPENAI_BASE_URL"),
        "OPENAI_API_KEY": _env("OPENAI_API_KEY", "ollama"),
        "LLM_MODEL": _env("LLM_MODEL", "llama3.2"),
        "LLM_TIMEOUT": float(_env("LLM_TIMEOUT", "30") or 30),
        # The model's context window in tokens (prompt + answer): ARIA fits its prompt within it.
        "LLM_CONTEXT_TOKENS": _int("LLM_CONTEXT_TOKENS", 4096),
        # ARIA's safety check after the French lexicon: "api" (POST /v1/moderations), "chat" (a
        # one-label classification by LLM_MODEL), "auto" (api, and on a 404 as Ollama: chat), "off".
        "ARIA_MODERATION": _env("ARIA_MODERATION", "auto"),
        "ARIA_MODERATION_MODEL": _env("ARIA_MODERATION_MODEL", "omni-moderation-latest"),
        "ARIA_MODERATION_TIMEOUT": float(_env("ARIA_MODERATION_TIMEOUT", "2") or 2),
        "ARIA_MODERATION_CHAT_TIMEOUT": float(_env("ARIA_MODERATION_CHAT_TIMEOUT", "5") or 5),
        # Bilans are written by a job: one call may take longer than ARIA's, the three together
        # stay under the job's timeout (what is left when the budget runs out is the template's).
        "BILAN_LLM_TIMEOUT": float(_env("BILAN_LLM_TIMEOUT", "120") or 120),
        "BILAN_TIME_BUDGET": float(_env("BILAN_TIME_BUDGET", "160") or 160),
        "EMBEDDING_BASE_URL": _env("EMBEDDING_BASE_URL"),
        "EMBEDDING_MODEL": _env("EMBEDDING_MODEL", "nomic-embed-text"),
        "VECTOR_STORE": _env("VECTOR_STORE", "pgvector"),
        "CHROMA_URL": _env("CHROMA_URL"),
        "JITSI_SERVER_URL": _env("JITSI_SERVER_URL", "https://meet.jit.si"),
        "CLICTOPAY_URL": _env("CLICTOPAY_URL"),
        "CLICTOPAY_USERNAME": _env("CLICTOPAY_USERNAME"),
        "CLICTOPAY_PASSWORD": _env("CLICTOPAY_PASSWORD"),
        # A message to the staff's Telegram chat on each stage reservation; unset token or chat: off.
        "TELEGRAM_BOT_TOKEN": _env("TELEGRAM_BOT_TOKEN"),
        "TELEGRAM_CHAT_ID": _env("TELEGRAM_CHAT_ID"),
        "TELEGRAM_API_URL": (_env("TELEGRAM_API_URL", "https://api.telegram.org") or "").rstrip("/"),
        # Sessions: one cookie, Secure in production; each signed-in browser is also recorded on
        # the server (12 h, or 14 days when asked), so signing out really ends it. No
        # Flask-Login remember cookie (its default lives 365 days).
        "SESSION_COOKIE_NAME": "__Host-session" if production else "nexus_session",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        # CSRF: tokens valid for the session, so a tab left open does not fail a POST.
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 20) * 1024 * 1024,
        "VAULT_MAX_MB": _int("VAULT_MAX_MB", 10),  # one document staff file in a family's space
        # Rate limits: Redis when available, memory otherwise (and as a fallback).
        "RATELIMIT_STORAGE_URI": _env("REDIS_URL", "memory://"),
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "PROXY_COUNT": _int("PROXY_COUNT", 0),
        "TIMEZONE": "Africa/Tunis",
        "TESTING": False,
    }
    if production:
        check_production(cfg)
    return cfg


def check_production(cfg: dict[str, Any]) -> None:
    """Refuse to start in production with a default secret or without real services."""
    problems = []
    secret = cfg["SECRET_KEY"] or ""
    if len(secret) < 32 or secret.startswith("CHANGE-ME"):  # env.example's placeholder
        problems.append("SECRET_KEY must be set to a random value of 32+ characters")
    if not cfg["SQLALCHEMY_DATABASE_URI"]:
        problems.append("DATABASE_URL must be set")
    if not cfg["REDIS_URL"]:
        problems.append("REDIS_URL must be set")
    if not cfg["MAIL_SERVER"]:
        problems.append("SMTP_HOST must be set")
    if not cfg["PUBLIC_URL"].startswith("https://"):
        problems.append("PUBLIC_URL must be an https:// address")
    if problems:
        raise RuntimeError("Unsafe production configuration: " + "; ".join(problems))
