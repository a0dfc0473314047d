"""What follows a finished positioning test: the stage participant's bilan is written."""

from __future__ import annotations

from nexus.queue import job
from nexus.services import bilans
from nexus.services.assessments import access
from nexus.services.progress import trajectory


@job
def test_completed(assessment_id: int) -> None:
    """A stage participant has no questionnaire to fill: their bilan is requested at once. A
    student's result ticks the milestones of their trajectory it reaches."""
    if access.is_stage_test(assessment_id):
        bilans.request_bilan(assessment_id, questionnaire=None, requested_by_id=None)
    else:
        trajectory.tick_from_test(assessment_id)
