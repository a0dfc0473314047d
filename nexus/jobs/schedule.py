"""PERIODIC is what the scheduler runs; JOBS is what `flask jobs run` knows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nexus.jobs.mail import flush_outbox

# (job, interval in seconds)
PERIODIC: list[tuple[Callable[[], Any], int]] = [
    (flush_outbox, 60),
]

JOBS: dict[str, Callable[[], Any]] = {func.__name__: func for func, _ in PERIODIC}
