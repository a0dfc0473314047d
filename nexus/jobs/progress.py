"""The Nexus Index and badges, refreshed after an event (one student) and every night (all).

The nightly pass matters even without events: the index looks at a moving window, so a student
who stopped coming sees their regularity fall, and the trend moves as the days pass. Each
student is their own command (their own transaction), so one bad row does not hold back the
others.
"""

from __future__ import annotations

import logging

from nexus.queue import job
from nexus.services import progress

log = logging.getLogger(__name__)


@job
def refresh(student_id: int, cause: str) -> list[str]:
    """Compute the student's index and award the badges they earned; returns the new badges."""
    if student_id not in progress.index.student_ids([student_id]):
        return []  # the child was removed since the event
    progress.index.compute(student_id, cause)
    return progress.badges.award_due(student_id)


@job
def refresh_all_indexes() -> int:
    """Every student's index and badges (nightly); returns how many were computed."""
    done = 0
    for student_id in progress.index.student_ids():
        try:
            refresh(student_id, "nightly")
            done += 1
        except Exception:  # one student's failure must not stop the others
            log.exception("nexus index of student %s failed", student_id)
    return done
