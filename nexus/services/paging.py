"""Pages of a staff table ("Précédent / Suivant") and a safe text search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select

from nexus.extensions import db

T = TypeVar("T")
PER_PAGE = 50
SEARCH_MAX = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < self.total

    @property
    def last(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def paginate(stmt: Select[Any], number: int, per_page: int = PER_PAGE) -> Page[Any]:
    """Run stmt (already ordered) for one page, with the total count of rows."""
    number = max(number, 1)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.session.scalars(stmt.limit(per_page).offset((number - 1) * per_page))
    return Page(list(rows), number, per_page, total)


def matches(text: str, *columns: ColumnElement[str]) -> ColumnElement[bool]:
    """Any of the columns contains the text (case-insensitive, % and _ taken literally)."""
    pattern = like_pattern(text)
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def like_pattern(text: str) -> str:
    """'%text%' for ILIKE … ESCAPE '\\', with the user's % and _ taken literally."""
    escaped = text.strip()[:SEARCH_MAX].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
