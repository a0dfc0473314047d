"""Per-request memo for the read functions that several parts of one page call with the same
arguments (a home page's cards and its next step both read the children, their plans, their
balances): the second call is answered from memory instead of a second round trip.

Correct by construction: the memo lives in the request's WSGI environ (one request, not the app
context's `g`, which a test shares between requests; one database transaction) and
is dropped as soon as the session writes anything (a flush, an INSERT/UPDATE/DELETE statement, a
commit or a rollback), so a read after a write always goes to the database. Outside a request
(jobs, the shell) the function is called as it is. Only positional arguments that are ids, lists
of ids or ORM rows (keyed by their class and id) are memoised; any other call goes through.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

F = TypeVar("F", bound=Callable[..., Any])
_KEY = "nexus.memo"


def _arg_key(value: Any) -> Any:
    if hasattr(value, "_get_current_object"):  # current_user: the row behind the proxy
        value = value._get_current_object()
    if isinstance(value, int | str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, int) for v in value):
        return tuple(value)
    ident = getattr(value, "id", None)
    if isinstance(ident, int) and hasattr(type(value), "__table__"):
        return (type(value).__name__, ident)
    raise TypeError


def _copy(value: Any) -> Any:
    """A fresh container each time, so that a caller changing its result cannot change another's."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def per_request(func: F) -> F:
    """Memoise `func` for the rest of the request, until the session writes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs or not has_request_context():
            return func(*args, **kwargs)
        try:
            key = (func.__module__, func.__qualname__, *map(_arg_key, args))
        except TypeError:
            return func(*args)
        store: dict[tuple[Any, ...], Any] = request.environ.setdefault(_KEY, {})
        if key not in store:
            store[key] = func(*args)
        return _copy(store[key])

    return wrapper  # type: ignore[return-value]


def forget(*_: Any) -> None:
    """Drop the request's memo (the session wrote, committed or rolled back)."""
    if has_request_context():
        request.environ.pop(_KEY, None)


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        forget()


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, forget)
event.listen(Session, "do_orm_execute", _on_execute)
