"""Business rules and state changes. No request or response objects here."""

from __future__ import annotations

from datetime import UTC, datetime


class ServiceError(Exception):
    """A refusal with a French message meant for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def utcnow() -> datetime:
    return datetime.now(UTC)
