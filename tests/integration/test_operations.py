"""Operations health (/dashboard/admin/operations): the periodic jobs' runs are recorded whoever
runs them, failed e-mails are retried or discarded once (50 clicks at once included), the page
shows what is wrong, and a test e-mail reaches the admin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.jobs import runs as job_runs
from nexus.models.audit import AuditLog
from nexus.models.notifications import OutboxEmail, OutboxStatus
from nexus.models.operations import JobRun
from nexus.services import utcnow
from nexus.services.operations import outbox
from tests.helpers import at_once, refusals, user
from tests.people import ADMIN, ASSISTANTE, COACH, HX, PARENT, YASMINE

PAGE = "/dashboard/admin/operations"
TO = "famille.injoignable@example.tn"
SUBJECT = "Votre séance de demain — Nexus Réussite"
ERROR = "SMTPRecipientsRefused: 550 boîte inconnue"
YES = {"confirm": "1"}


def failed_email(*, to: str = TO, commit: bool = False) -> int:
    """An e-mail given up on after every attempt (written directly: no delivery enqueued)."""
    row = OutboxEmail(
        to_email=to,
        template="password_reset",
        subject=SUBJECT,
        context={
            "first_name": "Nadia",
            "url": "http://localhost/auth/reset-password?token=abc",
            "minutes": 60,
        },
        status=OutboxStatus.FAILED,
        attempts=8,
        last_error=ERROR,
    )
    db.session.add(row)
    db.session.commit() if commit else db.session.flush()
    return row.id


def fresh(outbox_id: int) -> OutboxEmail:
    db.session.expire_all()
    row = db.session.get(OutboxEmail, outbox_id)
    assert row is not None
    return row


def job_run(name: str) -> JobRun:
    db.session.expire_all()
    run = db.session.get(JobRun, name)
    assert run is not None
    return run


def audit_lines(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def emails_queued(redis_url: str) -> int:
    return Queue("emails", connection=Redis.from_url(redis_url)).count


# -- the periodic jobs' runs ----------------------------------------------------------------------


def test_a_failed_run_is_recorded_and_the_next_success_clears_its_error():
    def boom() -> None:
        raise RuntimeError("serveur SMTP injoignable")

    with pytest.raises(RuntimeError):
        job_runs.call("boom", boom)
    run = job_run("boom")
    assert run.succeeded is False
    assert run.error == "RuntimeError: serveur SMTP injoignable"
    assert (run.runs, run.failures, run.last_success_at) == (1, 1, None)
    assert run.finished_at is not None

    assert job_runs.call("boom", lambda: 3) == 3
    run = job_run("boom")
    assert run.succeeded is True
    assert run.error is None
    assert run.result == "3"
    assert (run.runs, run.failures) == (2, 1)  # the failure is still counted
    assert run.last_success_at == run.finished_at


@pytest.mark.committed
def test_the_record_survives_the_job_rolling_back():
    """The job's transaction, still open when it fails, rolls back; its run, written apart on
    another connection (real transactions here), stays."""

    def half_done() -> None:
        db.session.add(JobRun(name="ghost", started_at=utcnow()))
        db.session.flush()
        raise ValueError("x" * 2000)

    with pytest.raises(ValueError):
        job_runs.call("half_done", half_done)
    db.session.rollback()
    assert db.session.get(JobRun, "ghost") is None
    run = job_run("half_done")
    assert run.succeeded is False
    assert len(run.error) == 500  # cut short


def test_the_rq_worker_records_a_scheduled_job(redis_url, run_jobs):
    Queue("default", connection=Redis.from_url(redis_url)).enqueue(
        "nexus.jobs.runs.run_periodic", "purge_stale_signups"
    )
    assert run_jobs() == 1
    run = job_run("purge_stale_signups")
    assert run.succeeded is True
    assert run.runs == 1
    assert run.result == "0 removed"


def test_both_schedulers_go_through_the_recorder(monkeypatch):
    """RQ's cron registers run_periodic(name) for every job; the in-process one calls runs.call."""
    import pkgutil

    import worker

    registered: list[tuple[Any, str, dict[str, Any]]] = []

    class FakeCron:
        def __init__(self, **_: Any) -> None: ...

        def register(self, func: Any, queue: str, **options: Any) -> None:
            registered.append((func, queue, options))

        def start(self) -> None: ...

    monkeypatch.setattr(worker, "CronScheduler", FakeCron)
    monkeypatch.setattr(worker, "redis_connection", lambda *a, **k: None)
    worker.run_cron("redis://unused")
    assert {func for func, _, _ in registered} == {job_runs.run_periodic}
    names = [options["args"][0] for _, _, options in registered]
    assert names == list(job_runs.intervals())
    assert pkgutil.resolve_name("nexus.jobs.runs.call") is job_runs.call


def test_the_in_process_scheduler_records_each_run(app, monkeypatch):
    """Without Redis, the web process's scheduler runs each job through the recorder: a failing
    job is recorded as failed and the others still run."""
    from types import SimpleNamespace

    from nexus import queue

    class Stop(Exception):
        pass

    def stop(_: float) -> None:
        raise Stop

    loops: list[Any] = []
    thread = SimpleNamespace(start=lambda: None)
    monkeypatch.setattr(
        queue, "threading", SimpleNamespace(Thread=lambda target, **_: loops.append(target) or thread)
    )
    monkeypatch.setattr(queue, "time", SimpleNamespace(monotonic=lambda: 1000.0, sleep=stop))
    monkeypatch.setattr(queue, "_pool", lambda: SimpleNamespace(submit=lambda fn, *args: fn(*args)))

    def refresh_everything() -> str:
        raise ConnectionError("Redis parti")

    def tidy_up() -> str:
        return "3 removed"

    queue.start_inprocess_scheduler(app, [(refresh_everything, 60), (tidy_up, 600)])
    with pytest.raises(Stop):
        loops[0]()  # one turn of the scheduler's loop
    failed = job_run("refresh_everything")
    assert (failed.succeeded, failed.error, failed.failures) == (False, "ConnectionError: Redis parti", 1)
    assert job_run("tidy_up").result == "3 removed"


# -- the outbox: retry, discard --------------------------------------------------------------------


def test_retry_puts_a_failed_email_back_and_it_is_delivered(client, auth, run_jobs, smtp):
    outbox_id = failed_email()
    auth.login(ADMIN)
    row = client.post(f"{PAGE}/emails/{outbox_id}/reessayer", headers=HX)
    assert row.status_code == 200
    text = row.get_data(as_text=True)
    assert text.startswith(f'<tr id="email-{outbox_id}"')
    assert "remis en file" in text
    assert 'id="outbox-counts" hx-swap-oob="true"' in text  # the figures follow
    assert fresh(outbox_id).status is OutboxStatus.PENDING

    run_jobs()
    message = smtp.wait_for(TO)
    assert message["Subject"] == SUBJECT
    sent = fresh(outbox_id)
    assert sent.status is OutboxStatus.SENT
    assert sent.attempts == 9
    [line] = audit_lines("outbox.retried")
    assert (line.object_type, line.object_id, line.actor_id) == ("outbox_emails", outbox_id, user(ADMIN).id)


def test_a_second_retry_changes_nothing(client, auth, redis_url):
    outbox_id = failed_email()
    auth.login(ADMIN)
    assert client.post(f"{PAGE}/emails/{outbox_id}/reessayer", headers=HX).status_code == 200
    again = client.post(f"{PAGE}/emails/{outbox_id}/reessayer", headers=HX)
    assert again.status_code == 200
    assert "Déjà traité" in again.get_data(as_text=True)
    assert len(audit_lines("outbox.retried")) == 1
    assert emails_queued(redis_url) == 1


def test_retry_without_javascript_goes_back_to_the_page(client, auth):
    outbox_id = failed_email()
    auth.login(ADMIN)
    answer = client.post(f"{PAGE}/emails/{outbox_id}/reessayer", data={"retour": PAGE})
    assert answer.status_code == 303
    assert answer.headers["Location"] == PAGE
    assert "remis en file" in client.get(PAGE).get_data(as_text=True)


def test_discard_asks_first_then_keeps_the_email_from_being_sent(client, auth, redis_url):
    outbox_id = failed_email()
    auth.login(ADMIN)
    question = client.post(f"{PAGE}/emails/{outbox_id}/abandonner")
    assert question.status_code == 200
    assert "Abandonner cet e-mail ?" in question.get_data(as_text=True)
    assert fresh(outbox_id).last_error == ERROR  # nothing done yet

    row = client.post(f"{PAGE}/emails/{outbox_id}/abandonner", data=YES, headers=HX)
    assert row.status_code == 200
    assert "E-mail abandonné" in row.get_data(as_text=True)
    discarded = fresh(outbox_id)
    assert discarded.status is OutboxStatus.DISCARDED
    assert outbox.is_discarded(discarded)
    assert discarded.last_error == ERROR  # why it failed stays readable
    assert outbox.failed() == []
    assert outbox.counts().discarded == 1

    twice = client.post(f"{PAGE}/emails/{outbox_id}/abandonner", data=YES, headers=HX)
    assert "déjà abandonné" in twice.get_data(as_text=True)
    late_retry = client.post(f"{PAGE}/emails/{outbox_id}/reessayer", headers=HX)
    assert late_retry.status_code == 409
    assert "abandonné entre-temps" in late_retry.get_data(as_text=True)
    assert fresh(outbox_id).status is OutboxStatus.DISCARDED  # not retried
    assert len(audit_lines("outbox.discarded")) == 1
    assert emails_queued(redis_url) == 0


def test_an_unknown_email_is_404(client, auth):
    auth.login(ADMIN)
    assert client.post(f"{PAGE}/emails/999999/reessayer").status_code == 404
    assert client.post(f"{PAGE}/emails/999999/abandonner", data=YES).status_code == 404


@pytest.mark.committed
def test_fifty_retries_at_once_queue_the_email_once(app, redis_url):
    outbox_id = failed_email(commit=True)
    db.session.remove()

    results = at_once(app, lambda _: outbox.retry(outbox_id, user(ADMIN))[1])
    assert refusals(results) == []
    assert results.count(True) == 1
    assert emails_queued(redis_url) == 1
    assert db.session.scalar(select(func.count()).where(AuditLog.action == "outbox.retried")) == 1
    assert fresh(outbox_id).status is OutboxStatus.PENDING


@pytest.mark.committed
def test_fifty_discards_and_retries_at_once_do_one_thing(app, redis_url):
    outbox_id = failed_email(commit=True)
    db.session.remove()

    def click(i: int) -> bool:
        action = outbox.retry if i % 2 else outbox.discard
        return action(outbox_id, user(ADMIN))[1]

    results = at_once(app, click)
    assert results.count(True) == 1
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.action.like("outbox.%"))).all()
    assert len(actions) == 1
    row = fresh(outbox_id)
    assert (row.status is OutboxStatus.PENDING) == (actions[0] == "outbox.retried")
    assert emails_queued(redis_url) == (1 if actions[0] == "outbox.retried" else 0)


# -- the page --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [ASSISTANTE, COACH, PARENT, YASMINE])
def test_only_the_admin_may_use_it(client, auth, who):
    outbox_id = failed_email()
    auth.login(who)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/services").status_code == 403
    assert client.post(f"{PAGE}/emails/{outbox_id}/reessayer").status_code == 403
    assert client.post(f"{PAGE}/emails/{outbox_id}/abandonner", data=YES).status_code == 403
    assert client.post(f"{PAGE}/email-test").status_code == 403
    assert fresh(outbox_id).status is OutboxStatus.FAILED


def test_signed_out_goes_to_the_sign_in(client):
    answer = client.get(PAGE)
    assert answer.status_code == 302
    assert "/auth/signin" in answer.headers["Location"]


def test_the_page_shows_a_failed_email_the_queues_and_a_late_job(client, auth):
    failed_email()
    db.session.add(
        JobRun(name="flush_outbox", started_at=utcnow() - timedelta(minutes=5), runs=3, failures=1,
               finished_at=utcnow() - timedelta(minutes=5), succeeded=False, error="OperationalError: boom")
    )  # fmt: skip
    db.session.add(
        JobRun(name="expire_credit_lots", started_at=utcnow() - timedelta(minutes=3), runs=1, failures=0,
               finished_at=utcnow(), succeeded=True, result="2", last_success_at=utcnow())
    )  # fmt: skip
    auth.login(ADMIN)
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for shown in (
        TO,
        SUBJECT,
        "550 boîte inconnue",
        "Réessayer",
        "Abandonner",
        "M'envoyer un e-mail de test",
    ):
        assert shown in text
    assert "<code>emails</code>" in text  # the RQ queues (Redis is configured in the tests)
    flush = text.split('id="job-flush_outbox"')[1].split("</tr>")[0]
    assert "En retard" in flush and "OperationalError: boom" in flush  # 5 min > 2 × 1 min
    lots = text.split('id="job-expire_credit_lots"')[1].split("</tr>")[0]
    assert "En retard" not in lots and "Réussi" in lots
    assert 'hx-get="/dashboard/admin/operations/services"' in text
    assert 'href="/dashboard/admin/operations"' in text  # the menu entry


def test_without_redis_the_page_says_jobs_run_in_process(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    auth.login(ADMIN)
    assert "processus web" in client.get(PAGE).get_data(as_text=True)


def test_the_services_panel_is_a_fragment_or_a_page(client, auth):
    auth.login(ADMIN)
    fragment = client.get(f"{PAGE}/services", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment
    assert "Base de données" in fragment
    assert "Serveur d&#39;e-mails (SMTP)" in fragment
    page = client.get(f"{PAGE}/services").get_data(as_text=True)
    assert "<html" in page and "Base de données" in page


def test_the_test_email_reaches_the_admin(client, auth, run_jobs, smtp):
    auth.login(ADMIN)
    answer = client.post(f"{PAGE}/email-test")
    assert answer.status_code == 303
    assert ADMIN in client.get(PAGE).get_data(as_text=True)
    run_jobs()
    message = smtp.wait_for(ADMIN)
    assert message["Subject"] == outbox.TEST_SUBJECT
    [line] = audit_lines("outbox.test_sent")
    assert line.actor_id == user(ADMIN).id


@pytest.mark.ratelimited
def test_the_test_email_is_rate_limited(client, auth):
    auth.login(ADMIN)
    codes = [client.post(f"{PAGE}/email-test").status_code for _ in range(6)]
    assert codes == [303] * 5 + [429]
    assert len(audit_lines("outbox.test_sent")) == 5
