"""Small helpers shared by the integration tests: demo rows, links in e-mails, CSRF tokens, and
what a refused request must leave unchanged (every table, the instance folder's files). The demo
people (e-mails, password, the htmx header) are in tests.people."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from html import unescape
from pathlib import Path
from threading import Barrier
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from sqlalchemy import func, select, text

from nexus.extensions import db
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.notifications import Notification, OutboxEmail
from nexus.services import ServiceError
from tests.people import (  # noqa: F401 - the demo people, re-exported while modules move to tests.people
    ADAM_EMAIL,
    ADMIN,
    ASSISTANTE,
    COACH,
    DEMO_PASSWORD,
    HELIOS,
    HX,
    PARENT,
    PARENT2,
    ROLE_ACCOUNTS,
    SAMI,
    YASMINE,
    ZENON,
)
from tests.servers import body_text

T = TypeVar("T")
NEW_PASSWORD = "trois lanternes au port de Sidi Bou Said"


def user(email: str) -> User:
    found = db.session.scalar(select(User).where(User.email == email))
    assert found is not None, f"no user {email}"
    return found


def adam() -> Student:
    """The demo student whose account is not activated yet (no e-mail, no password)."""
    stmt = select(Student).join(User, Student.user_id == User.id).where(User.first_name == "Adam")
    found = db.session.scalar(stmt)
    assert found is not None
    return found


def html(response) -> str:  # type: ignore[no-untyped-def]
    """The body as text, HTML entities decoded (Jinja writes ' as &#39;)."""
    return unescape(response.get_data(as_text=True))


def link_in(message: EmailMessage, path: str) -> str:
    """The path and query of the first link to `path` in the plain-text body of an e-mail."""
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}\?token=[\w-]+)", body_text(message))
    assert match, f"no link to {path} in: {body_text(message)!r}"
    return match.group(1)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def csrf_token(page_html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def outbox_to(address: str) -> list[OutboxEmail]:
    stmt = select(OutboxEmail).where(OutboxEmail.to_email == address).order_by(OutboxEmail.id)
    return list(db.session.scalars(stmt))


def notifications_of(email: str, kind: str | None = None) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user(email).id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# Rows any request may touch (the signed-in browser's session record), and large tables that no
# form edits in place (their row count is enough).
VOLATILE_TABLES = {"user_sessions"}
COUNTED_TABLES = {"chunk_embeddings", "document_chunks"}


def fingerprint() -> dict[str, str]:
    """A checksum per table (its rows as text, sorted): compare before and after a request."""
    parts = []
    for table in db.metadata.sorted_tables:
        if table.name in VOLATILE_TABLES:
            continue
        if table.name in COUNTED_TABLES:
            value = "count(*)::text"
        else:
            value = "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
        # Table names come from our own metadata, never from input.
        parts.append(f"SELECT '{table.name}', {value} FROM \"{table.name}\" t")  # noqa: S608
    return dict(db.session.execute(text(" UNION ALL ".join(parts))).all())  # type: ignore[arg-type]


def write_counts() -> dict[str, int]:
    """Rows inserted, updated or deleted per table so far in this transaction: a cheap first
    look (unchanged counts mean nothing was written; changed ones call for a fingerprint, since a
    write rolled back to a savepoint counts too)."""
    rows = db.session.execute(
        text(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE schemaname = 'public'"
        )
    ).all()
    return {name: count for name, count in rows if name not in VOLATILE_TABLES}


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


def stored_files(app: Flask) -> set[Path]:
    """Every file under the instance folder (uploads, vault, mail …)."""
    return {p for p in Path(app.instance_path).rglob("*") if p.is_file()}


FIFTY = 50


def at_once(app: Flask, attempt: Callable[[int], T], n: int = FIFTY) -> list[T | ServiceError]:
    """Run attempt(0) … attempt(n-1) in n threads released together, on committed data.

    Each runs in its own app context (its own session and connection) as a view would: commit on
    success, roll back on a ServiceError, which is returned (a refusal) rather than raised; any
    other exception fails the test. For `@pytest.mark.committed` tests.
    """
    barrier = Barrier(n)

    def one(i: int) -> T | ServiceError:
        with app.app_context():
            try:
                barrier.wait()
                result = attempt(i)
                db.session.commit()
                return result
            except ServiceError as refusal:
                db.session.rollback()
                return refusal
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def refusals(results: list[Any]) -> list[ServiceError]:
    return [r for r in results if isinstance(r, ServiceError)]
