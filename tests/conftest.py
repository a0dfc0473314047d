"""Fixtures on real services: PostgreSQL + pgvector, Redis (RQ), SMTP.

- `app`: one application for the session, migrated with Alembic from an empty database.
- every test runs inside a transaction rolled back at the end, unless marked
  `@pytest.mark.committed` (concurrency tests: real commits, tables truncated afterwards).
- one clock: the demo data and every test (but the browser tests, whose server keeps its own
  clock) start at CLOCK_START and tick from there, so no test depends on the day or the hour it
  runs. A test that needs another moment still uses freezegun's freeze_time inside.
- `client`, `auth` (`auth.login(PARENT)` signs the default client in, `auth.logout()` out),
  `login(client, email)` for any other client, `smtp`, `redis`, `run_jobs()`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.people import DEMO_PASSWORD
from tests.servers import EmbeddedPostgres, RedisServer, SmtpSink

# A Monday, 09:00 in Tunis: a week of weekday slots ahead, no month end within three weeks.
CLOCK_START = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)
# The demo data is made an hour earlier, so what it starts (plans, rights) has begun for every test.
DEMO_SEEDED_AT = CLOCK_START - timedelta(hours=1)


def travel(moment: datetime) -> time_machine.travel:
    """The suite's clock, ticking from `moment` (time-machine starts in microseconds, where
    freezegun scans every loaded module)."""
    return time_machine.travel(moment, tick=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "committed: real commits on the test database, truncated after")
    config.addinivalue_line("markers", "ratelimited: rate limits are enforced in this test")


@pytest.fixture(scope="session")
def pg() -> Iterator[EmbeddedPostgres | None]:
    if os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    server = EmbeddedPostgres()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    server = RedisServer()
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


def make_test_config(database_url: str, redis_url: str, smtp: SmtpSink, instance: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Room for 50 truly concurrent transactions in the concurrency tests.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 60},
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,  # switched off per test unless marked `ratelimited`
        "WTF_CSRF_ENABLED": False,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_SUPPRESS_SEND": False,  # real delivery to the SMTP sink
        "PUBLIC_URL": "http://localhost",
    }


class RequestScopedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Without it, requests reuse the test's app context: `g` (Flask-Login's cached user, the
    limiter's flags) would leak from one request, and one client, to the next. The test's own
    session is committed first (to its savepoint, still rolled back at the end of the test), so
    that the request works on top of what the test prepared and the test then reads fresh rows.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from nexus.extensions import db

        if has_app_context():
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def production_hasher() -> Iterator[Any]:
    """Cheap argon2id for the test session; yields the production hasher to check its settings.

    The code path is the same (argon2id, verify, rehash), but a hash takes about a millisecond
    instead of ~100 ms: sign-in, fuzzing and rate-limit tests hash hundreds of times.
    """
    from argon2 import PasswordHasher

    from nexus.services.identity import passwords

    original, original_dummy = passwords.hasher, passwords._DUMMY_HASH
    passwords.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._DUMMY_HASH = passwords.hasher.hash("nexus-timing-equaliser")
    yield original
    passwords.hasher, passwords._DUMMY_HASH = original, original_dummy


@pytest.fixture(scope="session")
def app(
    pg: EmbeddedPostgres | None, redis_url: str, smtp: SmtpSink, production_hasher: Any
) -> Iterator[Flask]:
    from flask_migrate import upgrade

    from nexus import create_app

    database_url = os.environ.get("TEST_DATABASE_URL") or pg.database("nexus_test")  # type: ignore[union-attr]
    instance = Path(tempfile.mkdtemp(prefix="nx-instance-"))
    application = create_app(make_test_config(database_url, redis_url, smtp, instance))
    application.test_client_class = RequestScopedClient
    with application.app_context():
        upgrade(directory=str(Path(__file__).parent.parent / "migrations"))
        from nexus.seed import seed_demo

        with travel(DEMO_SEEDED_AT):
            seed_demo()  # committed once: every test starts from the demo data
    yield application


@pytest.fixture(autouse=True)
def _isolation(request: pytest.FixtureRequest, app: Flask) -> Iterator[None]:
    """Roll back everything a test did; or, for committed tests, truncate what it added."""
    with contextlib.ExitStack() as stack:
        if "e2e" not in request.node.path.parts:
            stack.enter_context(travel(CLOCK_START))
        yield from _isolated(request, app)


def _isolated(request: pytest.FixtureRequest, app: Flask) -> Iterator[None]:
    from nexus.extensions import db, limiter

    limiter.reset()
    limiter.enabled = request.node.get_closest_marker("ratelimited") is not None
    with app.app_context():
        if request.node.get_closest_marker("committed"):
            yield
            db.session.remove()
            _restore_demo_data()
            return
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection  # every session of this test shares the connection
        try:
            yield
        finally:
            db.session.remove()
            engines[None] = engine
            transaction.rollback()
            connection.close()


def _restore_demo_data() -> None:
    """After a committed test: empty every table and seed the demo data again."""
    from nexus.extensions import db
    from nexus.seed import seed_demo

    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()
    with travel(DEMO_SEEDED_AT):
        seed_demo()
    db.session.remove()


@pytest.fixture(autouse=True)
def _clean_side_channels(redis_url: str, smtp: SmtpSink) -> None:
    from redis import Redis

    Redis.from_url(redis_url).flushdb()
    smtp.clear()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, email: str, password: str = DEMO_PASSWORD) -> FlaskClient:
    response = client.post("/auth/signin", data={"email": email, "password": password})
    assert response.status_code == 303, f"sign-in of {email} failed: {response.status_code}"
    return client


@pytest.fixture
def login() -> Callable[..., FlaskClient]:
    """`login(client, email)`: sign any client in (a test with several browsers)."""
    return sign_in


class AuthActions:
    """Signing the test's default client in and out (the flaskr pattern)."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str, password: str = DEMO_PASSWORD) -> FlaskClient:
        """Sign in as one of tests.people (the sign-in must succeed); returns the client."""
        return sign_in(self._client, email, password)

    def logout(self) -> FlaskClient:
        response = self._client.post("/auth/signout")
        assert response.status_code == 303, f"sign-out failed: {response.status_code}"
        return self._client


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def run_jobs(app: Flask, redis_url: str) -> Callable[[], int]:
    """Drain the RQ queues with a real worker in this process; returns how many jobs ran."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    from nexus.queue import QUEUES

    def drain() -> int:
        connection = Redis.from_url(redis_url)
        queues = [Queue(name, connection=connection) for name in QUEUES]
        before = sum(q.count for q in queues)
        SimpleWorker(queues, connection=connection).work(burst=True)
        return before

    return drain
