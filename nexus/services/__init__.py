"""Business rules and state changes. No request or response objects here.

A state change is a `@command`: it owns its transaction, so a view or a job only parses, calls
one command and answers. The outermost command commits when it returns and rolls back when it
raises (a refusal changes nothing); a command called by another joins the caller's transaction,
so two changes that must stand or fall together are one outer command.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, update

from nexus.clock import utcnow
from nexus.extensions import db

__all__ = ["MAX_ID", "ServiceError", "claim", "command", "locked", "parse_id", "utcnow"]

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M")
_IN_COMMAND = "in_command"


class ServiceError(Exception):
    """A refusal with a French message meant for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


MAX_ID = 2**63 - 1  # PostgreSQL bigint


def parse_id(raw: str | None) -> int | None:
    """An id typed in a form or a query string, or None when it cannot be one (never a number
    too large for the database)."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > 19:  # '٣' is decimal too
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def command(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` as one transaction: commit on return, roll back on any exception."""

    @wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        info = db.session.info
        if info.get(_IN_COMMAND):  # joined: the outermost command decides
            return func(*args, **kwargs)
        info[_IN_COMMAND] = True
        try:
            result = func(*args, **kwargs)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            info.pop(_IN_COMMAND, None)
        return result

    return run


def locked(model: type[M], row_id: int) -> M | None:
    """The row locked until the transaction ends (SELECT … FOR UPDATE) and re-read under the lock:
    a copy loaded earlier in the request would otherwise keep its old state. None if there is none."""
    return db.session.get(model, row_id, with_for_update=True, populate_existing=True)


def claim(
    model: type[M], row_id: int, condition: ColumnElement[bool], **values: Any
) -> tuple[M | None, bool]:
    """Set `values` on one row only while `condition` holds: one conditional UPDATE … RETURNING,
    so of many concurrent callers exactly one wins. The row re-read after it (None if there is
    no such row), and whether this call changed it (False: someone else did first)."""
    table: Any = model
    won = db.session.scalar(
        update(table)
        .where(table.id == row_id, condition)
        .values(**values)
        .returning(table.id)
        .execution_options(synchronize_session=False)
    )
    return db.session.get(model, row_id, populate_existing=True), won is not None
