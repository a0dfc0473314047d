"""Positioning tests for staff: the table of every test, and assigning one to a student."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from nexus import links
from nexus.extensions import db
from nexus.models.assessments import Assessment, TestStatus
from nexus.models.common import Subject
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.services import ServiceError, audit, command, notifications, parse_id
from nexus.services.assessments import taking
from nexus.services.paging import Page, matches, paginate

STATUS_FILTERS = {"tous": "Tous", "a-passer": "À passer ou en cours", "termines": "Terminés"}


def search(args: Mapping[str, str]) -> Page[Assessment]:
    """Tests newest first, by state, subject and the student's or participant's name/e-mail."""
    stmt = (
        select(Assessment)
        .outerjoin(Student, Student.id == Assessment.student_id)
        .outerjoin(User, User.id == Student.user_id)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
    )
    state = args.get("etat", "tous")
    if state == "a-passer":
        stmt = stmt.where(Assessment.status.in_((TestStatus.ASSIGNED, TestStatus.IN_PROGRESS)))
    elif state == "termines":
        stmt = stmt.where(Assessment.status == TestStatus.COMPLETED)
    subject = next((s for s in taking.SUBJECTS if s.value == args.get("matiere")), None)
    if subject is not None:
        stmt = stmt.where(Assessment.subject == subject)
    query = args.get("q", "")
    if query.strip():
        stmt = stmt.where(
            matches(
                query,
                User.first_name,
                User.last_name,
                User.email,
                Assessment.participant_name,
                Assessment.participant_email,
            )
        )
    return paginate(stmt, parse_id(args.get("page")) or 1)


@command
def assign(staff: User, student_id: int | None, subject: Subject | None) -> Assessment:
    """A test for the student to take (the open one if there is one), announced in their bell."""
    student = db.session.get(Student, student_id) if student_id else None
    if student is None or not student.user.is_active:
        raise ServiceError("Choisissez un élève de la liste.", field="student")
    if subject is None:
        raise ServiceError("Choisissez les mathématiques ou la NSI.", field="subject")
    test = taking.start_test(student, subject, assigned_by=staff)
    notifications.notify(
        student.user_id,
        "TEST_ASSIGNED",
        f"Un test de positionnement t'attend : {test.title}",
        "Une vingtaine de questions, à ton rythme ; « Je ne sais pas » ne te pénalise jamais.",
        links.internal("positioning.take", test_id=test.id),
    )
    audit.record(
        "test.assign", staff.id, test, after={"student": student.user.full_name, "subject": subject.label}
    )
    return test


def students_for_assignment() -> list[Student]:
    """Active Première and Terminale students, by name (the assignment form's list)."""
    stmt = (
        select(Student)
        .join(User, User.id == Student.user_id)
        .where(User.is_active, Student.grade.in_(taking.GRADES))
        .order_by(User.last_name, User.first_name)
    )
    return list(db.session.scalars(stmt))
