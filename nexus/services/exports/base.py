"""What every export shares: a table's description, its filters read like the page reads them,
and rows streamed from a server-side cursor."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select

from nexus.extensions import db
from nexus.services.paging import SEARCH_MAX

# Rows fetched from the server-side cursor at a time: memory stays flat whatever the table's size.
YIELD_PER = 1000

Filters = dict[str, Any]


@dataclass(frozen=True)
class Table:
    """One staff table's CSV: its name (URL, file, audit line), header, and how to read its
    filters from the page's query string and build its rows."""

    name: str
    header: Sequence[str]
    filters: Callable[[Mapping[str, str]], Filters]
    rows: Callable[[Filters], Iterator[Sequence[Any]]]


def stream(stmt: Select[Any]) -> Iterator[Row[Any]]:
    """The statement's rows from a server-side cursor, YIELD_PER at a time."""
    yield from db.session.execute(stmt.execution_options(yield_per=YIELD_PER))


def chunks(stmt: Select[Any]) -> Iterator[Sequence[Row[Any]]]:
    """The statement's rows from a server-side cursor, in lists of YIELD_PER (for a per-chunk read)."""
    yield from db.session.execute(stmt.execution_options(yield_per=YIELD_PER)).partitions()


def choice(args: Mapping[str, str], name: str, options: Mapping[str, Any], default: str) -> str:
    """A drop-down's value as the page reads it: one of its options, else the page's default."""
    value = args.get(name, default)
    return value if value in options else default


def query(args: Mapping[str, str]) -> str:
    """The table search's text as the page reads it."""
    return args.get("q", "").strip()[:SEARCH_MAX]


def kept(**filters: Any) -> Filters:
    """The filters worth recording (an empty search or "all stages" says nothing)."""
    return {key: value for key, value in filters.items() if value not in ("", None)}
