"""End-to-end fixtures: the real app under gunicorn, driven by Debian's Chromium.

- `live_server`: a migrated, seeded database of its own (`nexus_e2e`), gunicorn started exactly as
  `make run` does (no REDIS_URL: jobs run inside gunicorn), e-mails to the session SMTP sink;
- `base_url` points Playwright's `page.goto("/…")` at it;
- `sign_in(page, email)` fills the sign-in form by its labels, as a user would.

Playwright never downloads a browser here: it drives Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, prepare_database, start_gunicorn, stop
from tests.people import DEMO_PASSWORD
from tests.servers import EmbeddedPostgres, SmtpSink, free_port, wait_for_port

E2E_DATABASE = "nexus_e2e"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "fr-FR", "timezone_id": "Africa/Tunis"}


@dataclass
class LiveServer:
    url: str
    port: int
    smtp: SmtpSink


def e2e_database_url(pg: EmbeddedPostgres | None) -> str:
    """A fresh database: on the embedded server, or next to TEST_DATABASE_URL's database."""
    if pg is not None:
        return pg.database(E2E_DATABASE)
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["TEST_DATABASE_URL"])
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{E2E_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{E2E_DATABASE}"')
    return base.set(database=E2E_DATABASE).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def live_server(pg: EmbeddedPostgres | None, smtp: SmtpSink) -> Iterator[LiveServer]:
    instance = Path(tempfile.mkdtemp(prefix="nx-e2e-"))
    database_url = e2e_database_url(pg)
    prepare_database(database_url, instance)
    port = free_port()
    proc = start_gunicorn(database_url, instance, port, smtp_port=smtp.port)
    try:
        wait_for_port(port, timeout=30)
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {proc.returncode}")
        yield LiveServer(url=f"http://127.0.0.1:{port}", port=port, smtp=smtp)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    return live_server.url


@pytest.fixture
def sign_in() -> Callable[..., None]:
    def do_sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/auth/signin")
        page.get_by_label("E-mail", exact=True).fill(email)
        page.get_by_label("Mot de passe", exact=True).fill(password)
        page.get_by_role("button", name="Se connecter").click()

    return do_sign_in


@pytest.fixture
def sign_out() -> Callable[[Page], None]:
    def do_sign_out(page: Page) -> None:
        page.get_by_role("button", name="Se déconnecter").click()
        expect(page).to_have_url(re.compile(r"/auth/signin$"))

    return do_sign_out


PHONE = {"width": 360, "height": 740}


@pytest.fixture(params=["js", "no-js"])
def phone(request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer,
          browser_context_args: dict[str, Any]) -> Iterator[Page]:  # fmt: skip
    """A 360 px phone, with JavaScript (allowed to use the clipboard) or without."""
    options = {**browser_context_args, "base_url": live_server.url, "viewport": PHONE}
    context = browser.new_context(**options, java_script_enabled=request.param == "js")
    if request.param == "js":
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    try:
        yield context.new_page()
    finally:
        context.close()
