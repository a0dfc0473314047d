"""Where jobs run and what the outside services say: the RQ queues, and /healthz's probes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from nexus.queue import QUEUES, redis_connection
from nexus.services import health

log = logging.getLogger(__name__)

# The probes of /healthz, in French, in the order the page lists them.
SERVICES = {
    "database": "Base de données",
    "redis": "Redis (files de tâches)",
    "llm": "Modèle de langage (ARIA)",
    "embeddings": "Embeddings",
    "vector_store": "Base vectorielle",
    "mail": "Serveur d'e-mails (SMTP)",
}
# What each "ok (not configured …)" means for the centre.
NOT_CONFIGURED = {
    "redis": "Non configuré : les tâches tournent dans le processus web",
    "llm": "Non configuré : ARIA répond en mode hors ligne",
    "mail": "Non configuré : les e-mails sont écrits dans instance/mail/",
}


@dataclass(frozen=True)
class QueueLine:
    name: str
    waiting: int
    running: int
    failed: int


@dataclass(frozen=True)
class Queues:
    """The RQ queues, or why there are none to show (in-process jobs, Redis unreachable)."""

    configured: bool
    lines: list[QueueLine]
    error: str | None = None


def queues() -> Queues:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return Queues(configured=False, lines=[])
    try:
        from rq import Queue

        connection = redis_connection(url)
        lines = []
        for name in QUEUES:
            queue = Queue(name, connection=connection)
            lines.append(
                QueueLine(
                    name, queue.count, queue.started_job_registry.count, queue.failed_job_registry.count
                )
            )
    except Exception as exc:  # Redis down: the page says so, it never fails
        log.info("queues unreadable: %s", exc)
        return Queues(configured=True, lines=[], error=f"Redis injoignable ({type(exc).__name__}).")
    return Queues(configured=True, lines=lines)


@dataclass(frozen=True)
class ServiceLine:
    key: str
    label: str
    state: str  # the probe's own words, as /healthz says them

    @property
    def ok(self) -> bool:
        return self.state.startswith("ok")

    @property
    def says(self) -> str:
        """The probe's answer in French (its technical detail kept in brackets)."""
        if self.ok:
            detail = self.state.removeprefix("ok").strip("() ")
            if detail.startswith("not configured"):
                return NOT_CONFIGURED.get(self.key, "Non configuré")
            return f"En service ({detail})" if detail else "En service"
        word, _, detail = self.state.partition(":")
        label = "Dégradé" if word.startswith("degraded") else "En panne"
        return f"{label} ({detail.strip()})" if detail.strip() else label


def services() -> list[ServiceLine]:
    """The same probes as /healthz (each at most ~2 s)."""
    report = health.check_all()
    return [ServiceLine(key, label, report.get(key, "?")) for key, label in SERVICES.items()]
