"""Messaging jobs: the e-mail digests (one per thread and person an hour at most)."""

from __future__ import annotations

from nexus.queue import job
from nexus.services.messaging import digest


@job
def send_thread_digests(thread_id: int) -> int:
    """After a message: the digests of this thread that are due; how many were queued."""
    return sum(digest.send(t, u) for t, u in digest.due(thread_id=thread_id))


@job
def send_message_digests() -> int:
    """Periodic: every digest due (a thread read within the hour waits for the next run)."""
    return sum(digest.send(t, u) for t, u in digest.due())
