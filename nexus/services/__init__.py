"""Business rules and state changes. No request or response objects here."""

from __future__ import annotations

from nexus.clock import utcnow

__all__ = ["MAX_ID", "ServiceError", "parse_id", "utcnow"]


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
