"""The application's one clock.

Every timestamp the app writes or compares comes from here (row defaults included, rather than
the database's now()), so that one frozen clock in the tests moves everything at once.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
