"""The Nexus Index's arithmetic on facts (no database): parts, weights, redistribution, levels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nexus.models.progress import IndexLevel
from nexus.services.progress import index
from nexus.services.progress.activity import Facts, Outcome, SessionFact, TestFact

NOW = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def facts(**fields: Any) -> Facts:
    return Facts(now=NOW, joined_at=fields.pop("joined_at", LONG_AGO), **fields)


def evaluate(f: Facts) -> index.Result:
    return index.evaluate(f, NOW - index.WINDOW, NOW)


def maths(**mastery: int | None) -> list[dict[str, Any]]:
    domains = [{"key": k, "mastery": m} for k, m in mastery.items()]
    return [{"subject": "MATHEMATIQUES", "domains": domains}]


def test_no_data_at_all_gives_no_score_and_no_part() -> None:
    result = evaluate(facts())
    assert result.score is None
    assert set(result.parts.values()) == {None}


def test_attendance_counts_attended_one_unknown_0_8_and_missed_zero() -> None:
    outcomes = [Outcome.ATTENDED, Outcome.ATTENDED, Outcome.UNKNOWN, Outcome.NO_SHOW, Outcome.LATE_CANCEL]
    sessions = [SessionFact(days_ago(10 + i), o) for i, o in enumerate(outcomes)]
    value, details = index.attendance(facts(sessions=sessions), NOW - index.WINDOW, NOW)
    assert value == pytest.approx(100 * 2.8 / 5)
    assert details == {
        "sessions": 5,
        "attended": 2,
        "unknown": 1,
        "absent": 0,
        "no_show": 1,
        "late_cancel": 1,
    }


def test_sessions_outside_the_90_days_do_not_count() -> None:
    sessions = [SessionFact(days_ago(100), Outcome.NO_SHOW), SessionFact(days_ago(5), Outcome.ATTENDED)]
    value, details = index.attendance(facts(sessions=sessions), NOW - index.WINDOW, NOW)
    assert value == 100 and details["sessions"] == 1


def test_recent_ratings_count_double() -> None:
    sessions = [
        SessionFact(days_ago(60), Outcome.ATTENDED, rating=1, reported_at=days_ago(60)),
        SessionFact(days_ago(3), Outcome.ATTENDED, rating=5, reported_at=days_ago(3)),
    ]
    value, details = index.progression(facts(sessions=sessions), NOW - index.WINDOW, NOW)
    mean = (1 + 2 * 5) / 3
    assert details["mean_rating"] == round(mean, 1)
    assert value == pytest.approx(100 * (mean - 1) / 4)


def test_mastery_gains_between_successive_tests_of_a_subject() -> None:
    tests = [
        TestFact(days_ago(200), maths(suites=30, geometrie=60)),  # before the window: the baseline
        TestFact(days_ago(40), maths(suites=50, geometrie=60, probabilites=10)),  # +10 on shared
    ]
    value, details = index.progression(facts(tests=tests), NOW - index.WINDOW, NOW)
    assert details["tests_compared"] == 1 and details["mastery_gain"] == 10
    assert value == pytest.approx(50 + index.GAIN_SCALE * 10)


def test_a_single_test_has_no_gain_to_measure() -> None:
    value, details = index.progression(
        facts(tests=[TestFact(days_ago(3), maths(suites=70))]), NOW - index.WINDOW, NOW
    )
    assert value is None and details["tests_compared"] == 0


def test_ratings_and_gains_share_progression_sixty_forty() -> None:
    sessions = [SessionFact(days_ago(3), Outcome.ATTENDED, rating=5, reported_at=days_ago(3))]
    tests = [TestFact(days_ago(50), maths(suites=40)), TestFact(days_ago(4), maths(suites=40))]
    value, _ = index.progression(facts(sessions=sessions, tests=tests), NOW - index.WINDOW, NOW)
    assert value == pytest.approx(0.6 * 100 + 0.4 * 50)


def test_engagement_without_aria_ever_is_the_reports_read() -> None:
    sessions = [
        SessionFact(days_ago(d), Outcome.ATTENDED, rating=4, reported_at=days_ago(d), read_at=read)
        for d, read in ((20, days_ago(19)), (10, None))
    ]
    value, details = index.engagement(facts(sessions=sessions), NOW - index.WINDOW, NOW)
    assert value == 50
    assert details == {"aria_questions": 0, "aria_feedback": 0, "reports": 2, "reports_read": 1}


def test_engagement_two_aria_questions_a_week_and_a_feedback_for_five_is_full() -> None:
    weeks = index.WINDOW / index.WEEK
    questions = [(days_ago(d), "MATHEMATIQUES", 2) for d in range(1, 90, 7)]  # 13 weeks × 2
    asked = sum(n for _, _, n in questions)
    assert asked >= 2 * weeks
    feedback = [(days_ago(2), -(-asked // 5))]
    value, _ = index.engagement(facts(questions=questions, feedback=feedback), NOW - index.WINDOW, NOW)
    assert value == 100
    # No feedback at all: the feedback component (20 % of engagement) is 0.
    value, _ = index.engagement(facts(questions=questions), NOW - index.WINDOW, NOW)
    assert value == pytest.approx(100 * 0.5 / 0.7)


def test_a_student_who_used_aria_before_and_stopped_scores_zero_on_aria() -> None:
    value, details = index.engagement(facts(questions=[(days_ago(120), "NSI", 4)]), NOW - index.WINDOW, NOW)
    assert value == 0 and details["aria_questions"] == 0


def test_regularity_is_the_share_of_weeks_with_an_activity_since_joining() -> None:
    sessions = [SessionFact(days_ago(d), Outcome.ATTENDED) for d in (1, 2, 9, 30)]
    value, details = index.regularity(facts(sessions=sessions), NOW - index.WINDOW, NOW)
    assert details == {"weeks": 12, "active_weeks": 3}
    assert value == pytest.approx(25)
    # A student who joined three weeks ago is measured on three weeks, not twelve.
    joined = facts(sessions=sessions[:3], joined_at=days_ago(20))
    value, details = index.regularity(joined, NOW - index.WINDOW, NOW)
    assert details == {"weeks": 3, "active_weeks": 2}


def test_a_missing_part_gives_its_weight_to_the_others() -> None:
    # Attendance 100 (weight 30) and regularity 100·1/12 (weight 20); nothing else to measure.
    sessions = [SessionFact(days_ago(1), Outcome.ATTENDED)]
    result = evaluate(facts(sessions=sessions))
    assert result.parts["progression"] is None and result.parts["engagement"] is None
    assert result.score == round((100 * 30 + 100 / 12 * 20) / 50)


def test_every_part_weighs_as_announced() -> None:
    assert [(attr, weight) for attr, _, weight in index.PARTS] == [
        ("attendance", 30),
        ("progression", 30),
        ("engagement", 20),
        ("regularity", 20),
    ]
    assert {label for _, label, _ in index.PARTS} == {"Assiduité", "Progression", "Engagement", "Régularité"}


def test_activity_alone_is_not_yet_an_index() -> None:
    # A feedback given long ago is an activity, but measures no part but regularity.
    result = evaluate(facts(feedback=[(days_ago(100), 1)]))
    assert result.parts["regularity"] == 0
    assert result.score is None


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (100, IndexLevel.EXCELLENT),
        (80, IndexLevel.EXCELLENT),
        (79, IndexLevel.GOOD),
        (65, IndexLevel.GOOD),
        (64, IndexLevel.PROGRESSING),
        (50, IndexLevel.PROGRESSING),
        (49, IndexLevel.TO_STRENGTHEN),
        (35, IndexLevel.TO_STRENGTHEN),
        (34, IndexLevel.BEGINNER),
        (0, IndexLevel.BEGINNER),
        (None, None),
    ],
)
def test_levels(score: int | None, level: IndexLevel | None) -> None:
    assert index.level_of(score) is level
