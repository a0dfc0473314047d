"""One recommendation, and what the finders of each role share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nexus.extensions import db
from nexus.models.family import Student


@dataclass(frozen=True)
class Step:
    """One recommendation: `kind` names it (for tests and styling), the rest is shown as is."""

    kind: str
    title: str
    text: str
    label: str
    url: str


def count(stmt: Any) -> int:
    return db.session.scalar(stmt) or 0


def first_name(name: str, student: Student) -> str:
    return student.user.first_name or name
