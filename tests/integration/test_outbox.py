"""The e-mail outbox (rule 6): written with its cause, delivered by RQ, retried, never lost."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

from nexus.extensions import db
from nexus.jobs.mail import deliver_email, flush_outbox
from nexus.models.notifications import OutboxEmail, OutboxStatus
from nexus.services import notifications, utcnow
from nexus.services.notifications import MAX_ATTEMPTS, backoff
from tests.servers import free_port

TO = "famille@example.tn"


def queue(dedupe_key: str | None = None) -> int | None:
    return notifications.queue_email(
        TO,
        "password_reset",
        "Réinitialisation de votre mot de passe — Nexus Réussite",
        {"first_name": "Nadia", "url": "http://localhost/auth/reset-password?token=abc", "minutes": 60},
        dedupe_key=dedupe_key,
    )


def row(outbox_id: int) -> OutboxEmail:
    db.session.expire_all()
    found = db.session.get(OutboxEmail, outbox_id)
    assert found is not None
    return found


def make_due(outbox_id: int) -> None:
    row(outbox_id).next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


@pytest.fixture
def smtp_down(app, monkeypatch):  # type: ignore[no-untyped-def]
    """Point Flask-Mail at a port where nothing listens."""
    monkeypatch.setattr(app.extensions["mail"], "port", free_port())


def emails_queued(redis_url: str) -> int:
    return Queue("emails", connection=Redis.from_url(redis_url)).count


def test_email_is_enqueued_only_after_commit(redis_url):
    outbox_id = queue()
    assert outbox_id is not None
    assert emails_queued(redis_url) == 0
    db.session.commit()
    assert emails_queued(redis_url) == 1


def test_nothing_is_enqueued_when_the_transaction_rolls_back(redis_url, run_jobs):
    outbox_id = queue()
    db.session.rollback()
    assert db.session.get(OutboxEmail, outbox_id) is None
    db.session.commit()  # a later commit does not resurrect the dropped job
    assert emails_queued(redis_url) == 0
    assert run_jobs() == 0


def test_delivery_through_rq_and_smtp(run_jobs, smtp):
    outbox_id = queue()
    db.session.commit()
    assert run_jobs() == 1
    message = smtp.wait_for(TO)
    assert message.get_body(preferencelist=("plain",)) is not None
    assert message.get_body(preferencelist=("html",)) is not None
    sent = row(outbox_id)
    assert sent.status is OutboxStatus.SENT
    assert sent.attempts == 1
    assert sent.sent_at is not None


def test_a_delivered_email_is_not_sent_twice(run_jobs, smtp):
    outbox_id = queue()
    db.session.commit()
    run_jobs()
    smtp.wait_for(TO)
    assert deliver_email(outbox_id) == "skipped"
    assert len(smtp.to(TO)) == 1


def test_smtp_down_keeps_the_email_for_later(app, run_jobs, smtp, smtp_down, monkeypatch):
    outbox_id = queue()
    db.session.commit()
    before = utcnow()
    assert run_jobs() == 1
    waiting = row(outbox_id)
    assert waiting.status is OutboxStatus.PENDING
    assert waiting.attempts == 1
    assert waiting.last_error and "Connection" in waiting.last_error
    assert waiting.next_attempt_at >= before + backoff(1) - timedelta(seconds=5)
    assert flush_outbox() == 0  # not due yet
    assert smtp.to(TO) == []

    monkeypatch.undo()  # SMTP is back
    make_due(outbox_id)
    assert flush_outbox() == 1
    smtp.wait_for(TO)
    delivered = row(outbox_id)
    assert delivered.status is OutboxStatus.SENT
    assert delivered.attempts == 2
    assert delivered.last_error is None


def test_gives_up_after_max_attempts(smtp_down):
    outbox_id = queue()
    db.session.commit()
    tried = row(outbox_id)
    tried.attempts = MAX_ATTEMPTS - 1
    tried.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert flush_outbox() == 0
    failed = row(outbox_id)
    assert failed.status is OutboxStatus.FAILED
    assert failed.attempts == MAX_ATTEMPTS
    assert deliver_email(outbox_id) == "skipped"
    assert row(outbox_id).attempts == MAX_ATTEMPTS


def test_redis_down_loses_nothing(app, monkeypatch, redis_url, smtp):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    outbox_id = queue()
    db.session.commit()  # enqueueing fails quietly; the row stays in the outbox
    assert row(outbox_id).status is OutboxStatus.PENDING
    assert emails_queued(redis_url) == 0
    assert flush_outbox() == 1  # the periodic sweep delivers it
    smtp.wait_for(TO)


def test_dedupe_key_queues_once(redis_url):
    first = queue("reminder:42:DAY_BEFORE")
    second = queue("reminder:42:DAY_BEFORE")
    db.session.commit()
    assert first is not None
    assert second is None
    assert emails_queued(redis_url) == 1
    assert db.session.query(OutboxEmail).filter_by(dedupe_key="reminder:42:DAY_BEFORE").count() == 1


def test_without_smtp_the_email_is_written_to_a_file(app, monkeypatch, run_jobs):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    outbox_id = queue()
    db.session.commit()
    run_jobs()
    path = Path(app.instance_path) / "mail" / f"{outbox_id:06d}.eml"
    assert path.exists()
    content = path.read_bytes()
    assert f"To: {TO}".encode() in content
    assert b"reset-password?token=abc" in content
    assert row(outbox_id).status is OutboxStatus.SENT


def test_backoff_doubles_and_is_capped():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(20) == timedelta(hours=4)
