"""Something that moves a student's Nexus Index or badges happened: refresh them after commit.

Callers (session reports, session status changes, finished tests, ARIA questions and feedback,
a report read by the family) call `changed(student_id, cause)` inside their own command. The
refresh runs as a job once the transaction commits, so it reads committed rows, never delays the
user's request, and is dropped when the transaction rolls back. One refresh per student and
transaction is enough: the job recomputes everything from the rows.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from nexus.extensions import db
from nexus.queue import enqueue_after_commit

__all__ = ["CAUSES", "REFRESH_JOB", "changed"]

REFRESH_JOB = "nexus.jobs.progress.refresh"
# What may cause a computation (IndexSnapshot.cause holds 20 characters at most).
CAUSES = ("nightly", "report", "report_read", "session", "test", "aria", "seed")
_PENDING = "progress_changed"


def changed(student_id: int, cause: str) -> None:
    """Refresh the student's index and badges once the current transaction commits."""
    pending: set[int] = db.session.info.setdefault(_PENDING, set())
    if student_id in pending:
        return
    pending.add(student_id)
    enqueue_after_commit("default", REFRESH_JOB, student_id, cause[:20])


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
