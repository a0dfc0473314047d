"""Where jobs run: RQ on Redis when REDIS_URL is set, otherwise threads in this process.

Services never call a job directly: they call enqueue_after_commit with the job's dotted name
("nexus.jobs.mail.deliver_email"), so nothing is sent for a transaction that rolled back, a job
always finds the rows it is given, and services never import the job layer (models ← services ←
blueprints, jobs: one way).
"""

from __future__ import annotations

import logging
import os
import pkgutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from nexus.extensions import db

log = logging.getLogger(__name__)
QUEUES = ("emails", "embeddings", "default")
P = ParamSpec("P")
R = TypeVar("R")

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_job_app: Flask | None = None
_job_app_pid: int | None = None


def job(func: Callable[P, R]) -> Callable[P, R]:
    """Run a job function inside an app context, creating the app once per worker process."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if has_app_context():
            return func(*args, **kwargs)
        with _app_for_jobs().app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper


def preload_app() -> None:
    """Create the app in the worker before it forks, so each job starts at once."""
    _app_for_jobs()


def _app_for_jobs() -> Flask:
    global _job_app, _job_app_pid
    if _job_app is None:
        from nexus import create_app

        _job_app = create_app()
    if _job_app_pid != os.getpid():
        # A forked work-horse must not reuse the parent's pooled connections.
        with _job_app.app_context():
            db.engine.dispose(close=False)
        _job_app_pid = os.getpid()
    return _job_app


def redis_connection(url: str, *, blocking: bool = False) -> Any:
    """A Redis client that fails fast, unless it serves a worker's long blocking pops."""
    from redis import Redis

    if blocking:
        return Redis.from_url(url, socket_connect_timeout=5)
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def enqueue(queue: str, func: str, *args: Any) -> None:
    """Hand the job named `func` to RQ, or to the in-process pool when there is no Redis.

    A failure to enqueue is logged, never raised: the outbox sweeper delivers later.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("REDIS_URL")
    if url:
        try:
            from rq import Queue

            Queue(queue, connection=redis_connection(url)).enqueue(func, *args)
        except Exception:  # Redis down: the periodic sweep catches up.
            log.warning("could not enqueue %s on %s", func, queue, exc_info=True)
        return
    _pool().submit(_run_in_app, app, pkgutil.resolve_name(func), args)


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nexus-job")
        return _executor


def _run_in_app(app: Flask, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    with app.app_context():
        try:
            func(*args)
        except Exception:
            log.exception("in-process job %s failed", func.__name__)
        finally:
            db.session.remove()


def enqueue_after_commit(queue: str, func: str, *args: Any) -> None:
    """Enqueue the job named `func` once the current transaction commits; dropped if it rolls
    back."""
    pending = db.session.info.setdefault("after_commit_jobs", [])
    pending.append((queue, func, args))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    jobs = session.info.pop("after_commit_jobs", [])
    for queue, func, args in jobs:
        enqueue(queue, func, *args)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop("after_commit_jobs", None)


def start_inprocess_scheduler(app: Flask, periodic: list[tuple[Callable[[], Any], int]]) -> None:
    """Without Redis, run the periodic jobs from a daemon thread of this process."""

    def loop() -> None:
        last: dict[str, float] = {}
        while True:
            now = time.monotonic()
            for func, every in periodic:
                if now - last.get(func.__name__, -every) >= every:
                    last[func.__name__] = now
                    # Recorded for the operations page (by name: this module imports no job).
                    recorded = pkgutil.resolve_name("nexus.jobs.runs.call")
                    _pool().submit(_run_in_app, app, recorded, (func.__name__, func))
            time.sleep(5)

    threading.Thread(target=loop, name="nexus-scheduler", daemon=True).start()
    log.info("in-process scheduler started (%d periodic jobs)", len(periodic))
