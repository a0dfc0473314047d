"""The last run of each periodic job (one JobRun row per job name, overwritten by each run).

Each write is its own short transaction on its own session: a job that fails (and rolls back)
is still recorded, and a job's transaction never waits on this row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from nexus import fr
from nexus.extensions import db
from nexus.models.operations import JobRun
from nexus.services import utcnow

RESULT_LENGTH = 200
ERROR_LENGTH = 500
LATE_FACTOR = 2  # a job is late when its last run is older than twice its interval

# The jobs in French; a job added without a label shows its code name.
LABELS = {
    "flush_outbox": "Envoi des e-mails en attente",
    "flush_telegram": "Envoi des messages Telegram",
    "end_lapsed_subscriptions": "Fin des abonnements échus",
    "allocate_monthly_credits": "Crédits mensuels des abonnements",
    "expire_credit_lots": "Expiration des crédits",
    "remind_expiring_credits": "Rappel des crédits qui expirent",
    "send_session_reminders": "Rappels de séances",
    "purge_stale_signups": "Nettoyage des inscriptions abandonnées",
    "calibrate": "Calibrage de la banque de questions",
    "sweep_bilans": "Relance des bilans en attente",
    "refresh_all_indexes": "Calcul du Nexus Index",
    "send_message_digests": "Résumés de messages par e-mail",
    "reconcile_card_payments": "Rapprochement des paiements par carte",
    "send_subscription_notices": "Avis de fin d'abonnement",
    "sweep_session_reports": "Classement des comptes rendus en PDF",
    "refresh_figure_rollups": "Chiffres des mois clos (tableau de bord, statistiques)",
    "refresh_pay_drafts": "Relevés provisoires des coachs (ce mois et le précédent)",
}


def _write(stmt: object) -> None:
    """One statement in its own transaction, whatever state the caller's session is in."""
    with Session(db.engine) as session:
        session.execute(stmt)  # type: ignore[call-overload]
        session.commit()


def started(name: str) -> None:
    """A run begins: it shows as running (no outcome yet) until `finished`."""
    now = utcnow()
    values = {"started_at": now, "finished_at": None, "succeeded": None, "result": None, "error": None}
    stmt = insert(JobRun).values(name=name, runs=0, failures=0, **values)
    _write(stmt.on_conflict_do_update(index_elements=[JobRun.name], set_=values))


def short_repr(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:RESULT_LENGTH]


def error_text(exc: BaseException) -> str:
    """The exception as the page shows it: its class and message, cut short."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]


def finished(name: str, *, result: object = None, error: BaseException | None = None) -> None:
    """A run ends: its outcome, and the counts of runs and failures (kept across runs)."""
    now = utcnow()
    ok = error is None
    values = {
        "finished_at": now,
        "succeeded": ok,
        "result": short_repr(result) if ok else None,
        "error": None if ok else error_text(error),  # type: ignore[arg-type]
    }
    insert_stmt = insert(JobRun).values(
        name=name,
        started_at=now,
        runs=1,
        failures=0 if ok else 1,
        last_success_at=now if ok else None,
        **values,
    )
    updates = {
        **values,
        "runs": JobRun.runs + 1,
        "failures": JobRun.failures + (0 if ok else 1),
        "last_success_at": now if ok else JobRun.last_success_at,
    }
    _write(insert_stmt.on_conflict_do_update(index_elements=[JobRun.name], set_=updates))


@dataclass(frozen=True)
class JobLine:
    """One periodic job as the operations page shows it."""

    name: str
    label: str
    interval: timedelta
    run: JobRun | None
    late: bool

    @property
    def every(self) -> str:
        """The interval in words: "1 min", "10 min", "1 h", "7 jours"."""
        minutes = int(self.interval.total_seconds()) // 60
        if minutes < 60:
            return f"{max(minutes, 1)} min"
        if minutes < 24 * 60:
            return fr.duration(minutes)
        return fr.plural(minutes // (24 * 60), "jour")

    @property
    def running(self) -> bool:
        return self.run is not None and self.run.finished_at is None


def is_late(run: JobRun | None, interval: timedelta, now: datetime) -> bool:
    """Its last run began more than LATE_FACTOR intervals ago (never run: not late, yet)."""
    return run is not None and now - run.started_at > LATE_FACTOR * interval


def overview(intervals: dict[str, int]) -> list[JobLine]:
    """Every scheduled job (name → interval in seconds) with its last run, in schedule order."""
    found = {run.name: run for run in db.session.scalars(select(JobRun))}
    now = utcnow()
    lines = []
    for name, seconds in intervals.items():
        every = timedelta(seconds=seconds)
        run = found.get(name)
        lines.append(JobLine(name, LABELS.get(name, name), every, run, is_late(run, every, now)))
    return lines
