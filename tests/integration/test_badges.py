"""Badges on real PostgreSQL: each condition read from real rows (sessions, tests, ARIA), awarded
once (50 concurrent refreshes award each badge once), announced once to the student and each
parent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.aria import AriaConversation, AriaFeedback, AriaMessage, MessageRole
from nexus.models.assessments import Assessment, TestMode, TestStatus
from nexus.models.common import Grade, Role, Subject
from nexus.models.family import CoParent
from nexus.models.identity import User
from nexus.models.notifications import Notification
from nexus.models.progress import BadgeAward
from nexus.models.scheduling import SessionStatus
from nexus.services import utcnow
from nexus.services.progress import badges
from tests import factories
from tests.helpers import at_once, notifications_of
from tests.integration.test_nexus_index import past, sami_id
from tests.people import PARENT2, SAMI, YASMINE

KIND = badges.NOTICE_KIND


def yasmine_id() -> int:
    return factories.student(YASMINE).id


def completed_test(student_id: int, days: float, **mastery: int) -> None:
    at = utcnow() - timedelta(days=days)
    domains = [{"key": k, "mastery": m, "shown": 2, "attempted": 2, "correct": 1} for k, m in mastery.items()]
    db.session.add(
        Assessment(
            student_id=student_id,
            mode=TestMode.ADAPTIVE,
            subject=Subject.MATHEMATIQUES,
            grade=Grade.TERMINALE,
            status=TestStatus.COMPLETED,
            started_at=at - timedelta(minutes=20),
            completed_at=at,
            results={"subjects": [{"subject": "MATHEMATIQUES", "domains": domains}]},
        )
    )
    db.session.flush()


def questions(student_id: int, subject: Subject, n: int, *, feedback: int = 0, days: float = 1) -> None:
    """`n` questions to ARIA in one conversation, each answered; feedback on the first answers."""
    conversation = AriaConversation(student_id=student_id, subject=subject, title="Révisions")
    db.session.add(conversation)
    db.session.flush()
    at = utcnow() - timedelta(days=days)
    for i in range(n):
        question = AriaMessage(
            conversation_id=conversation.id, role=MessageRole.USER, content=f"Q{i}", created_at=at
        )
        db.session.add(question)
        db.session.flush()
        answer = AriaMessage(
            conversation_id=conversation.id,
            role=MessageRole.ASSISTANT,
            reply_to_id=question.id,
            content="Réponse",
            created_at=at,
        )
        db.session.add(answer)
        db.session.flush()
        if i < feedback:
            db.session.add(AriaFeedback(message_id=answer.id, rating=1))
    db.session.flush()


def earned(student_id: int) -> set[str]:
    return set(badges.due(student_id))


def test_fifteen_badges_five_in_each_family_with_french_words() -> None:
    assert len(badges.BADGES) == 15 == len(badges.BY_CODE)
    for family in badges.BadgeFamily:
        assert sum(b.family is family for b in badges.BADGES) == 5
    assert {f.label for f in badges.BadgeFamily} == {"Assiduité", "Progression", "Curiosité"}
    assert all(b.title and b.description.endswith(".") for b in badges.BADGES)
    # No badge for opening the app or for studying at night.
    assert not {"first_login", "weekly_first_login", "login_streak_3", "late_night_study"} & set(
        badges.BY_CODE
    )
    views = badges.of_student(yasmine_id())
    assert len(views) == 15 and not any(v.earned for v in views)
    assert views[0].family_label == "Assiduité"


def test_nothing_done_earns_nothing() -> None:
    assert earned(yasmine_id()) == set()
    assert badges.award_due(yasmine_id()) == []


def test_attendance_streaks_are_broken_by_a_no_show_not_by_a_missing_report() -> None:
    for days in (60, 50):
        past(days)
    past(45, status=SessionStatus.NO_SHOW, attended=None)
    past(40)
    past(35)
    past(30, attended=None)  # completed without a report: neither counts nor breaks
    past(25)
    reached = earned(sami_id())
    assert {"first_session", "attendance_streak_3"} <= reached
    assert not {"attendance_streak_5", "sessions_10"} & reached
    past(20)
    past(15)
    assert "attendance_streak_5" in earned(sami_id())


def test_a_report_saying_absent_breaks_a_streak_and_ten_sessions_earn_their_badge() -> None:
    for days in (80, 75, 70, 65):
        past(days)
    past(60, attended=False)
    for days in (55, 50, 45, 40, 35, 30):
        past(days)
    reached = earned(sami_id())
    assert "sessions_10" in reached and "attendance_streak_5" in reached
    assert badges.achievements(_facts(sami_id())).best_streak == 6


def _facts(student_id: int) -> Any:
    from nexus.services.progress.activity import load

    return load(student_id, utcnow())


def test_four_weeks_in_a_row_of_activity() -> None:
    past(22)
    past(15)
    past(8)
    assert "regular_4_weeks" not in earned(sami_id())
    questions(sami_id(), Subject.MATHEMATIQUES, 1, days=1)
    assert "regular_4_weeks" in earned(sami_id())


def test_progression_badges_come_from_the_positioning_tests() -> None:
    student_id = yasmine_id()
    completed_test(student_id, 40, suites=40, geometrie=50, probabilites=30)
    assert earned(student_id) == {"first_test"}
    completed_test(student_id, 5, suites=90, geometrie=72, probabilites=30)
    # +44 on average (shared domains), one domain at 90, two of three at 55 or more, one below 70.
    assert earned(student_id) == {"first_test", "test_improved", "domain_master", "subject_half"}
    completed_test(student_id, 1, suites=88, geometrie=75, probabilites=71)
    assert "subject_master" in earned(student_id)


def test_a_test_that_falls_back_earns_no_progress_badge() -> None:
    completed_test(yasmine_id(), 40, suites=60)
    completed_test(yasmine_id(), 5, suites=62)  # +2: not yet progress
    assert "test_improved" not in earned(yasmine_id())


def test_curiosity_badges_count_aria_questions_subjects_and_feedback() -> None:
    student_id = sami_id()
    questions(student_id, Subject.MATHEMATIQUES, 1)
    assert earned(student_id) >= {"first_aria_question"}
    questions(student_id, Subject.MATHEMATIQUES, 20, feedback=9)
    questions(student_id, Subject.NSI, 3)
    reached = earned(student_id)
    assert "first_aria_question" in reached and "aria_questions_25" not in reached
    assert "aria_3_subjects" not in reached and "aria_feedback_10" not in reached
    questions(student_id, Subject.PHYSIQUE_CHIMIE, 1, feedback=1)
    reached = earned(student_id)
    assert {"aria_questions_25", "aria_3_subjects", "aria_feedback_10"} <= reached
    assert "aria_questions_100_subject" not in reached
    questions(student_id, Subject.NSI, 97)
    assert "aria_questions_100_subject" in earned(student_id)


def test_a_badge_is_awarded_once_and_announced_to_the_student_and_each_parent() -> None:
    co_parent = User(email="co.parent@example.tn", role=Role.PARENT, first_name="Salma", last_name="Gharbi")
    db.session.add(co_parent)
    db.session.flush()
    db.session.add(CoParent(profile_id=factories.student(SAMI).parent_id, user_id=co_parent.id))
    past(10)
    assert badges.award_due(sami_id()) == ["first_session"]
    assert badges.award_due(sami_id()) == []
    [mine] = notifications_of(SAMI, KIND)
    assert mine.title == "Nouveau badge : Première séance" and mine.link == "/dashboard/eleve"
    [theirs] = notifications_of(PARENT2, KIND)
    assert theirs.title == "Sami a obtenu le badge « Première séance »" and theirs.link == "/dashboard/parent"
    assert len(notifications_of("co.parent@example.tn", KIND)) == 1
    [view] = [v for v in badges.of_student(sami_id()) if v.earned]
    assert view.code == "first_session" and view.awarded_at is not None


@pytest.mark.committed
def test_fifty_refreshes_at_once_award_each_badge_once_with_one_notice(app) -> None:  # type: ignore[no-untyped-def]
    student_id = sami_id()
    for days in (20, 13, 6):
        past(days)
    questions(student_id, Subject.MATHEMATIQUES, 1)
    db.session.commit()
    results = at_once(app, lambda _: badges.award_due(student_id))
    expected = ["attendance_streak_3", "first_aria_question", "first_session"]
    assert sorted(code for result in results for code in result) == expected  # type: ignore[union-attr]
    assert sum(1 for r in results if r) == 1  # one call awarded them (all in one insert)
    awards = db.session.scalar(
        select(func.count()).select_from(BadgeAward).where(BadgeAward.student_id == student_id)
    )
    assert awards == 3
    for email in (SAMI, PARENT2):
        assert len(notifications_of(email, KIND)) == 3
    total = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == KIND))
    assert total == 6


def test_a_question_flagged_by_the_safety_check_counts_for_nothing() -> None:
    from nexus.models.aria import AriaAlert, SafetyCategory

    student_id = sami_id()
    questions(student_id, Subject.MATHEMATIQUES, 1)
    question = db.session.scalar(select(AriaMessage).where(AriaMessage.role == MessageRole.USER))
    db.session.add(
        AriaAlert(
            message_id=question.id, student_id=student_id, category=SafetyCategory.DISTRESS, source="lexicon"
        )
    )
    db.session.flush()
    assert "first_aria_question" not in earned(student_id)
