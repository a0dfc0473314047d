"""The adaptive engine and the scoring rules, on plain values (no database)."""

from __future__ import annotations

from collections import Counter

import pytest

from nexus.models.common import Grade, Subject
from nexus.services.assessments import engine, scoring


def bank(per_domain: int = 20, domains: int = 8) -> list[engine.Candidate]:
    return [
        engine.Candidate(d * per_domain + i, -3 + 6 * i / (per_domain - 1), f"d{d}")
        for d in range(domains)
        for i in range(per_domain)
    ]


@pytest.mark.parametrize(
    ("ssn", "key"),
    [
        (85, "excellence"),
        (84.9, "tres-solide"),
        (70, "tres-solide"),
        (55, "stable"),
        (40, "fragile"),
        (39.9, "prioritaire"),
        (0, "prioritaire"),
    ],
)
def test_levels_follow_the_original_thresholds(ssn: float, key: str) -> None:
    assert scoring.level(ssn)[0] == key


def test_ssn_is_50_plus_15_z_against_the_cohort_and_the_reference_scale_when_it_is_small() -> None:
    cohort = [0.0, 2.0] * 15  # 30 tests: mean 1, deviation 1
    assert scoring.ssn(2.0, cohort) == (65.0, False)
    assert scoring.ssn(1.0, [1.0] * 30) == (50.0, False)  # no spread: the mean
    assert scoring.ssn(1.0, cohort[:29]) == (65.0, True)  # small: mean 0, deviation 1
    assert scoring.ssn(9.0, cohort) == (100.0, False)  # clamped


def test_uai_weighs_maths_and_nsi_and_needs_both() -> None:
    assert scoring.uai({Subject.MATHEMATIQUES: 60.0, Subject.NSI: 40.0}) == 52.0
    assert scoring.uai({Subject.MATHEMATIQUES: 60.0}) is None


def test_the_next_item_is_the_most_informative_in_the_least_covered_domains() -> None:
    pool = bank()
    first = engine.next_item(pool, [], 0.0)
    assert abs(first.difficulty) < 0.2  # the item nearest the ability gives the most information
    answers = []
    theta = 0.0
    for _ in range(16):
        item = engine.next_item(pool, answers, theta)
        answers.append(engine.Answer(item, True))
        theta = engine.replay(answers).theta
    counts = Counter(a.item.domain for a in answers)
    assert len(counts) == 8 and max(counts.values()) - min(counts.values()) <= engine.LEAD + 1


def test_the_test_stops_at_the_target_precision_or_the_maximum_length() -> None:
    pool = bank()
    domains = {c.domain for c in pool}
    # Alternating right and wrong answers near the ability: precision comes in about 20 items.
    answers, theta = [], 0.0
    while True:
        item = engine.next_item(pool, answers, theta)
        answers.append(engine.Answer(item, len(answers) % 2 == 0))
        current = engine.replay(answers)
        theta = current.theta
        if engine.should_stop(answers, current, domains, len(pool) - len(answers)):
            break
    assert current.standard_error <= engine.TARGET_SE and len(answers) <= 25
    # Only "je ne sais pas": no information, so it runs to the maximum.
    skipped = [engine.Answer(c, None) for c in pool[: engine.MAX_ITEMS]]
    assert engine.should_stop(skipped, engine.replay(skipped), domains, len(pool))
    assert not engine.should_stop(skipped[:-1], engine.replay(skipped[:-1]), domains, len(pool))


def test_while_every_answer_is_right_the_estimate_moves_by_a_fixed_step() -> None:
    pool = bank()
    answers = [engine.Answer(pool[0], True), engine.Answer(pool[1], True)]
    assert engine.replay(answers).theta == pytest.approx(2 * engine.STEP)


def test_the_fixed_form_covers_every_domain_with_a_spread_of_difficulties() -> None:
    form = engine.fixed_form(bank(), 30)
    assert len(form) == len({c.id for c in form}) == 30
    counts = Counter(c.domain for c in form)
    assert set(counts.values()) <= {3, 4}
    d0 = sorted(c.difficulty for c in form if c.domain == "d0")
    assert d0[0] == -3 and d0[-1] == 3
    assert form[0].domain != form[1].domain  # interleaved, not in blocks


def test_mastery_is_none_without_an_attempt_and_grows_with_right_answers() -> None:
    def scored(correct: bool | None) -> scoring.Scored:
        return scoring.Scored(
            Subject.MATHEMATIQUES, "d", "s", 0.0, None if correct is None else 1, bool(correct)
        )

    difficulties = [-1.0, 0.0, 1.0]
    assert scoring.mastery([scored(None)], 0.0, difficulties)[0] is None
    low = scoring.mastery([scored(False), scored(False)], 0.0, difficulties)[0]
    high = scoring.mastery([scored(True), scored(True)], 0.0, difficulties)[0]
    assert low < 50 < high


def test_highlights_name_the_weakest_and_strongest_domains() -> None:
    part = scoring.subject_results(Subject.MATHEMATIQUES, Grade.PREMIERE, [], {"suites": {"a": [0.0]}}, [])
    assert part["domains"][0]["mastery"] is None and part["ssn"] == 50.0
    subjects = [{"subject": "MATHEMATIQUES", "domains": [
        {"key": "a", "label": "A", "mastery": 20}, {"key": "b", "label": "B", "mastery": 90},
        {"key": "c", "label": "C", "mastery": 60}, {"key": "d", "label": "D", "mastery": None},
    ]}]  # fmt: skip
    priorities, strengths = scoring.highlights(subjects)
    assert [p["domain"] for p in priorities] == ["a"] and [s["domain"] for s in strengths] == ["b"]


def test_with_a_random_generator_the_item_is_one_of_the_most_informative_and_varies() -> None:
    import numpy

    pool = bank()
    third = sorted(abs(c.difficulty) for c in pool)[engine.RANDOMESQUE_BIN - 1]
    firsts = [engine.next_item(pool, [], 0.0, numpy.random.default_rng(seed)) for seed in range(30)]
    assert all(abs(c.difficulty) <= third for c in firsts) and len({c.id for c in firsts}) > 1
    again = engine.next_item(pool, [], 0.0, numpy.random.default_rng(7))
    assert again == engine.next_item(pool, [], 0.0, numpy.random.default_rng(7))  # seeded: reproducible
