"""Probes for /healthz. Each answers "ok" or a short reason; none takes more than ~2 s."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

from flask import current_app
from sqlalchemy import text

from nexus.extensions import db

log = logging.getLogger(__name__)
TIMEOUT = 2.0


def _guard(probe: Callable[[], str]) -> str:
    try:
        return probe()
    except Exception as exc:  # a probe reports, it never raises
        log.info("health probe %s failed: %s", probe.__name__, exc)
        return f"error: {type(exc).__name__}"


def database() -> str:
    db.session.execute(text("SELECT 1"))
    has_vector = db.session.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'vector'"))
    db.session.rollback()
    return "ok" if has_vector else "error: extension vector missing"


def redis() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "ok (not configured: jobs run in-process)"
    from nexus.queue import redis_connection

    redis_connection(url).ping()
    return "ok"


def llm() -> str:
    from nexus.services import llm as chat_model

    settings = chat_model.settings()
    if settings is None:
        return "ok (not configured: ARIA answers in offline mode)"
    return chat_model.probe(settings)


def embeddings() -> str:
    from nexus.services import embeddings as embedding_models

    return embedding_models.probe()


def vector_store() -> str:
    from nexus.services import vectorstore

    return vectorstore.probe()


def mail() -> str:
    host = current_app.config.get("MAIL_SERVER")
    if not host:
        return "ok (not configured: e-mails written under instance/mail/)"
    with socket.create_connection((host, current_app.config["MAIL_PORT"]), timeout=TIMEOUT):
        pass
    return "ok"


def check_all() -> dict[str, str]:
    probes = {
        "database": database,
        "redis": redis,
        "llm": llm,
        "embeddings": embeddings,
        "vector_store": vector_store,
        "mail": mail,
    }
    return {name: _guard(probe) for name, probe in probes.items()}
