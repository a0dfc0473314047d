"""Session reminders (24 h and 2 h before): e-mail and in-app, once per session and kind.

Run every few minutes by the scheduler (RQ cron, or in-process without Redis). Each reminder is
its own command (its own transaction), so one bad row does not hold back the others.
"""

from __future__ import annotations

from nexus.queue import job
from nexus.services import scheduling, utcnow


@job
def send_session_reminders() -> int:
    now = utcnow()
    ids = scheduling.due_reminders(now)
    sent = 0
    for reminder_id in ids:
        sent += scheduling.deliver_reminder(reminder_id, now)
    return sent
