"""Who sees a test and its results: the student, their parents, their coaches, and staff.

Anyone else gets None, which the views answer with 404 (the original served results to anyone
who had the id).
"""

from __future__ import annotations

from sqlalchemy import select

from nexus import policy
from nexus.extensions import db
from nexus.models.assessments import Assessment, Score, TestStatus
from nexus.models.common import Subject
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.services import family, scheduling


def can_see_student(user: User, student: Student) -> bool:
    if policy.is_staff(user):
        return True
    if user.is_student:
        return student.user_id == user.id
    if user.is_parent:
        return family.child_of(user, student.id) is not None
    if user.is_coach:
        profile = scheduling.coach_profile_of(user)
        return profile is not None and scheduling.coach_student(profile.id, student.id) is not None
    return False


def visible_test(user: User, test_id: int | None) -> Assessment | None:
    """The test if this user may see it, else None. A stage participant's test (no student) is
    reached by its signed link, or by staff."""
    test = db.session.get(Assessment, test_id) if test_id else None
    if test is None:
        return None
    if test.student is None:
        return test if policy.is_staff(user) else None
    return test if can_see_student(user, test.student) else None


def tests_of(student_id: int) -> list[Assessment]:
    """A student's tests, newest first (cancelled ones left out)."""
    stmt = (
        select(Assessment)
        .where(Assessment.student_id == student_id, Assessment.status != TestStatus.CANCELLED)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
    )
    return list(db.session.scalars(stmt))


def history(student_id: int, subject: Subject) -> list[Score]:
    """The student's SSN over time in one subject, oldest first (for the timeline)."""
    stmt = (
        select(Score)
        .where(Score.student_id == student_id, Score.subject == subject)
        .order_by(Score.measured_at, Score.id)
    )
    return list(db.session.scalars(stmt))


def is_stage_test(test_id: int) -> bool:
    """A completed test taken through a stage's link (no student account behind it)."""
    test = db.session.get(Assessment, test_id)
    return test is not None and test.is_completed and test.student_id is None


def visible_student(user: User, student_id: int | None) -> Student | None:
    student = db.session.get(Student, student_id) if student_id else None
    return student if student is not None and can_see_student(user, student) else None
