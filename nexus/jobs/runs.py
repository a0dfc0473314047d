"""Periodic jobs, run and recorded: every scheduler goes through here, so the operations page
knows each job's last run whoever ran it.

- the RQ cron scheduler (worker.py) enqueues `run_periodic(name)`;
- the in-process scheduler (nexus.queue, without Redis) calls `call(name, func)` by dotted name;
- `flask jobs run NAME` calls `call` too.

The jobs themselves are untouched: the record is written around them, each write in its own
short transaction (nexus.services.operations.runs), so a job that fails is recorded as failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nexus.jobs.schedule import JOBS, PERIODIC
from nexus.queue import job
from nexus.services.operations import runs

log = logging.getLogger(__name__)


def call(name: str, func: Callable[[], Any]) -> Any:
    """Run one periodic job and record its run; its result returned, its exception re-raised."""
    _record(runs.started, name)
    try:
        result = func()
    except Exception as exc:
        _record(runs.finished, name, error=exc)
        raise
    _record(runs.finished, name, result=result)
    return result


def _record(write: Callable[..., None], name: str, **outcome: Any) -> None:
    """A record that cannot be written (database away …) is logged; the job still runs."""
    try:
        write(name, **outcome)
    except Exception:
        log.warning("run of %s not recorded", name, exc_info=True)


@job
def run_periodic(name: str) -> Any:
    """The periodic job named `name` (nexus.jobs.schedule.JOBS), recorded."""
    return call(name, JOBS[name])


def intervals() -> dict[str, int]:
    """Each scheduled job's interval in seconds, in schedule order."""
    return {func.__name__: seconds for func, seconds in PERIODIC}
