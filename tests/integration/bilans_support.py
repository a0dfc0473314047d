"""Completed tests and bilans built directly (not through the taking service), for the bilan tests
and the fuzz world."""

from __future__ import annotations

import copy
from typing import Any

from nexus.extensions import db
from nexus.models.assessments import Assessment, TestMode, TestStatus
from nexus.models.common import Grade, Subject
from nexus.models.diagnostics import Bilan, GenerationStatus
from nexus.models.family import Student
from nexus.services import utcnow

RESULTS: dict[str, Any] = {
    "subjects": [
        {
            "subject": "MATHEMATIQUES",
            "label": "Mathématiques",
            "grade": "TERMINALE",
            "theta": 0.42,
            "standard_error": 0.41,
            "ssn": 57.3,
            "level": "stable",
            "level_label": "Stable",
            "cohort_size": 12,
            "small_cohort": True,
            "shown": 23,
            "attempted": 21,
            "correct": 14,
            "confidence": 91,
            "domains": [
                {
                    "key": "suites",
                    "label": "Suites numériques",
                    "mastery": 31,
                    "shown": 4,
                    "attempted": 4,
                    "correct": 1,
                    "skills": [{"key": "recurrence", "label": "Raisonnement par récurrence", "mastery": 28,
                                "shown": 2, "attempted": 2, "correct": 0}],
                },
                {"key": "limites", "label": "Limites et continuité", "mastery": 62, "shown": 3,
                 "attempted": 3, "correct": 2, "skills": []},
                {"key": "logarithme", "label": "Fonction logarithme", "mastery": 81, "shown": 3,
                 "attempted": 3, "correct": 3, "skills": []},
                {"key": "probabilites", "label": "Probabilités et loi binomiale", "mastery": 45, "shown": 3,
                 "attempted": 2, "correct": 1, "skills": []},
            ],
        }
    ],
    "uai": None,
    "priorities": [
        {"subject": "MATHEMATIQUES", "domain": "suites", "label": "Suites numériques", "mastery": 31},
        {"subject": "MATHEMATIQUES", "domain": "probabilites", "label": "Probabilités et loi binomiale",
         "mastery": 45},
    ],
    "strengths": [{"subject": "MATHEMATIQUES", "domain": "logarithme", "label": "Fonction logarithme",
                   "mastery": 81}],
    "duration_ms": 812345,
}  # fmt: skip
PRIORITIES = ("Suites numériques", "Probabilités et loi binomiale")
QUESTIONNAIRE_FORM = {
    "school": "Lycée Pierre Mendès France",
    "teacher": "M. Trabelsi",
    "maths_average": "13,5",
    "speciality_average": "",
    "bac_blanc": "11",
    "class_rank": "8e sur 32",
    "confiance-MATHEMATIQUES-suites": "3",
    "confiance-MATHEMATIQUES-logarithme": "2",
    "objectives": "Obtenir une mention bien au bac.",
}


def completed_test(
    student: Student | None = None,
    *,
    participant_email: str | None = None,
    participant_name: str | None = None,
    results: dict[str, Any] | None = None,
    subject: Subject | None = Subject.MATHEMATIQUES,
) -> Assessment:
    """A completed test with results in the contract's format (flushed)."""
    now = utcnow()
    test = Assessment(
        student_id=student.id if student else None,
        participant_email=participant_email,
        participant_name=participant_name,
        mode=TestMode.ADAPTIVE if student else TestMode.FIXED,
        subject=subject if student else None,
        grade=student.grade if student else Grade.TERMINALE,
        status=TestStatus.COMPLETED,
        started_at=now,
        completed_at=now,
        duration_ms=812345,
        results=copy.deepcopy(RESULTS if results is None else results),
    )
    db.session.add(test)
    db.session.flush()
    return test


def a_bilan(test: Assessment, status: GenerationStatus = GenerationStatus.QUEUED, **values: Any) -> Bilan:
    bilan = Bilan(assessment_id=test.id, status=status, step=values.pop("step", 0), **values)
    db.session.add(bilan)
    db.session.flush()
    return bilan
