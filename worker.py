"""RQ worker for every queue, with RQ's scheduler (enqueue_at/in) and the periodic jobs.

python worker.py            # needs REDIS_URL
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys

from rq import Queue, Worker
from rq.cron import CronScheduler

from nexus.queue import QUEUES, preload_app, redis_connection


def run_cron(url: str) -> None:
    """The periodic jobs of nexus.jobs.schedule, enqueued by RQ's cron scheduler."""
    from nexus.jobs.runs import run_periodic
    from nexus.jobs.schedule import PERIODIC

    scheduler = CronScheduler(
        connection=redis_connection(url, blocking=True), name=f"nexus-cron-{os.getpid()}"
    )
    for func, seconds in PERIODIC:
        queue = "emails" if func.__name__ == "flush_outbox" else "default"
        # Through run_periodic, so that each run is recorded for the operations page.
        name = func.__name__
        scheduler.register(run_periodic, queue, args=(name,), interval=seconds, name=name)
    scheduler.start()


def main() -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        print("REDIS_URL is not set: without Redis, jobs run inside the web process.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cron = multiprocessing.Process(target=run_cron, args=(url,), name="nexus-cron", daemon=True)
    cron.start()
    preload_app()
    connection = redis_connection(url, blocking=True)
    queues = [Queue(name, connection=connection) for name in QUEUES]
    try:
        Worker(queues, connection=connection).work(with_scheduler=True)
    finally:
        cron.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
