"""calibrate_bank on database rows: completed tests only, threshold, idempotence, back to the prior."""

from __future__ import annotations

from datetime import timedelta

import numpy
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.assessments import Assessment, Item, Response, TestMode, TestStatus
from nexus.models.common import Grade, Subject
from nexus.services import utcnow
from nexus.services.assessments.calibration import MIN_ANSWERS, calibrate_bank

TRUTH = [-2.0, -1.2, -0.6, 0.0, 0.4, 0.9, 1.5, 2.2]
PRIORS = [-1.5, -1.5, -0.5, 0.5, 0.5, 1.0, 1.0, 1.5]
RARE_PRIOR = 0.3


def make_items() -> tuple[list[Item], Item]:
    def item(key: str, prior: float) -> Item:
        return Item(
            key=key, subject=Subject.NSI, grade=Grade.TERMINALE, domain="calibration", skill="essai",
            stem=f"Question {key}", choices=["a", "b", "c", "d"], answer=0,
            explanation="Parce que.", prior_difficulty=prior, difficulty=prior,
        )  # fmt: skip

    items = [item(f"calib-test-{k}", p) for k, p in enumerate(PRIORS)]
    rare = item("calib-test-rare", RARE_PRIOR)
    db.session.add_all([*items, rare])
    db.session.flush()
    return items, rare


def take_test(
    items: list[Item], answers: list[bool | None], status: TestStatus = TestStatus.COMPLETED
) -> None:
    test = Assessment(
        participant_email="stagiaire@example.tn", mode=TestMode.FIXED, subject=None,
        grade=Grade.TERMINALE, status=status, started_at=utcnow(),
        completed_at=utcnow() if status is TestStatus.COMPLETED else None,
    )  # fmt: skip
    db.session.add(test)
    db.session.flush()
    for position, (item, outcome) in enumerate(zip(items, answers, strict=True)):
        choice = None if outcome is None else (0 if outcome else 2)
        db.session.add(
            Response(
                assessment_id=test.id, item_id=item.id, position=position, choice=choice,
                correct=bool(outcome), elapsed_ms=20_000,
            )
        )  # fmt: skip


def fill(items: list[Item], rare: Item, people: int = 120) -> None:
    rng = numpy.random.default_rng(11)
    for person in range(people):
        theta = rng.normal(0, 1.3)
        shown = [*items, rare] if person < MIN_ANSWERS - 1 else items
        answers: list[bool | None] = []
        for it in shown:
            truth = TRUTH[items.index(it)] if it in items else RARE_PRIOR
            answers.append(bool(rng.random() < 1 / (1 + numpy.exp(-(theta - truth)))))
        if person % 10 == 0:
            answers[3] = None  # "je ne sais pas": not an answer for the calibration
        take_test(shown, answers)
    # An unfinished test and a cancelled one: their answers are not used.
    take_test(items, [True] * len(items), TestStatus.IN_PROGRESS)
    take_test(items, [False] * len(items), TestStatus.CANCELLED)
    db.session.commit()


def ours() -> list[Item]:
    return list(db.session.scalars(select(Item).where(Item.key.like("calib-test-%")).order_by(Item.key)))


def test_calibrate_bank_updates_items_and_is_idempotent(app):
    items, rare = make_items()
    fill(items, rare)
    started = utcnow()

    reports = calibrate_bank()
    nsi = next(r for r in reports if (r.subject, r.grade) == ("NSI", "TERMINALE"))
    assert nsi.tests == 120 and nsi.calibrated == len(items)
    db.session.expire_all()
    for item in items:
        assert item.calibrated_at is not None
        assert started - timedelta(seconds=5) <= item.calibrated_at <= utcnow()
        expected = 120 - (12 if item.key == "calib-test-3" else 0)  # "je ne sais pas" left out
        assert item.calibration_answers == expected
        assert item.prior_difficulty == PRIORS[items.index(item)]  # the authors' value stays
    estimated = numpy.array([i.difficulty for i in items])
    # Anchored: the mean is the priors' mean; the order and spread follow the answers.
    assert abs(estimated.mean() - numpy.mean(PRIORS)) < 2e-3  # stored rounded to 3 decimals
    assert numpy.corrcoef(estimated, TRUTH)[0, 1] > 0.97
    assert numpy.abs(estimated - (numpy.array(TRUTH) - numpy.mean(TRUTH) + numpy.mean(PRIORS))).max() < 0.5
    # Under the threshold: the prior stays, never calibrated, its answers counted.
    assert rare.difficulty == RARE_PRIOR and rare.calibrated_at is None
    assert rare.calibration_answers == MIN_ANSWERS - 1

    before = [(i.difficulty, i.calibrated_at, i.calibration_answers) for i in ours()]
    again = calibrate_bank()
    assert sum(r.updated for r in again) == 0
    db.session.expire_all()
    assert [(i.difficulty, i.calibrated_at, i.calibration_answers) for i in ours()] == before


def test_an_item_that_lost_its_answers_gets_its_prior_back(app):
    items, rare = make_items()
    fill(items, rare, people=60)
    calibrate_bank()
    assert all(i.calibrated_at is not None for i in items)
    # Most tests erased (e.g. families gone): too few answers left to stand on.
    for test in db.session.scalars(
        select(Assessment).where(Assessment.participant_email == "stagiaire@example.tn")
    ):
        if test.id % 3:
            db.session.delete(test)
    db.session.commit()
    calibrate_bank()
    db.session.expire_all()
    for item in items:
        assert item.calibration_answers < MIN_ANSWERS
        assert item.difficulty == item.prior_difficulty and item.calibrated_at is None


def test_calibrate_job_and_command(app):
    from nexus.jobs.calibration import calibrate
    from nexus.jobs.schedule import JOBS, PERIODIC

    assert JOBS["calibrate"] is calibrate
    assert {f.__name__: s for f, s in PERIODIC}["calibrate"] == 7 * 86400
    assert "NSI/TERMINALE" in calibrate()
    result = app.test_cli_runner().invoke(args=["bank", "calibrate"])
    assert result.exit_code == 0, result.output


def test_one_calibration_at_a_time(app):
    """Another process calibrating holds the lock: this run skips, writing nothing."""
    from sqlalchemy import create_engine, func, select

    items, rare = make_items()
    fill(items, rare, people=40)
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with other.connect() as connection, connection.begin():
            connection.execute(select(func.pg_advisory_xact_lock(func.hashtext("calibration"))))
            assert calibrate_bank() == []
            db.session.expire_all()
            assert all(i.calibrated_at is None for i in items)
        assert calibrate_bank()  # the lock released: it runs
    finally:
        other.dispose()
