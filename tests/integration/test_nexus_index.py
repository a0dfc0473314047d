"""The Nexus Index on real PostgreSQL: computed from sessions, reports and tests, refreshed by
events through the job, stored as a history (one point a day), read back in one query."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import time_machine
from redis import Redis
from rq import Queue
from sqlalchemy import event, func, select

from nexus.extensions import db
from nexus.jobs.progress import refresh_all_indexes
from nexus.models.identity import User
from nexus.models.progress import IndexLevel, IndexSnapshot
from nexus.models.scheduling import SessionBooking, SessionReport, SessionStatus
from nexus.services import progress, scheduling, utcnow
from nexus.services.progress import index
from tests import factories
from tests.helpers import user
from tests.integration.test_positioning import answer_all, start_maths
from tests.people import HELIOS, PARENT2, SAMI, YASMINE


def sami_id() -> int:
    return factories.student(SAMI).id


def past(
    days: float,
    *,
    status: SessionStatus = SessionStatus.COMPLETED,
    attended: bool | None = True,
    rating: int = 4,
    read: bool = False,
    student_id: int | None = None,
) -> SessionBooking:
    """A session `days` ago for Sami with Hélios, with its report when `attended` is not None."""
    starts = utcnow() - timedelta(days=days)
    booking = factories.booking(student_id or sami_id(), factories.coach().id, starts, status=status)
    if attended is not None:
        db.session.add(
            SessionReport(
                booking_id=booking.id,
                summary="Les suites arithmétiques.",
                topics="Suites",
                rating=rating,
                progress_notes="Progrès nets.",
                recommendations="Refaire les exercices.",
                attended=attended,
                created_at=starts + timedelta(hours=2),
                family_read_at=starts + timedelta(hours=5) if read else None,
            )
        )
        db.session.flush()
    return booking


def queued_refreshes(app) -> list[tuple]:  # type: ignore[no-untyped-def]
    queue = Queue("default", connection=Redis.from_url(app.config["REDIS_URL"]))
    return [tuple(j.args) for j in queue.jobs if j.func_name == "nexus.jobs.progress.refresh"]


def snapshots(student_id: int) -> list[IndexSnapshot]:
    stmt = select(IndexSnapshot).where(IndexSnapshot.student_id == student_id).order_by(IndexSnapshot.id)
    return list(db.session.scalars(stmt))


def test_a_student_with_no_data_gets_no_score_but_a_stored_snapshot() -> None:
    snapshot = index.compute(factories.student(YASMINE).id, "nightly")
    assert snapshot.id is not None and snapshot.cause == "nightly"
    assert snapshot.score is None and snapshot.level is None and snapshot.trend is None
    assert [snapshot.attendance, snapshot.progression, snapshot.engagement, snapshot.regularity] == [None] * 4
    texts = [part.text for part in index.parts_of(snapshot)]
    assert texts[0] == "Aucune séance passée sur la période."


def test_the_index_is_made_of_its_parts_with_their_counts() -> None:
    past(20, rating=4, read=True)
    past(13, rating=5, read=True)
    past(6, rating=4)
    past(3, status=SessionStatus.NO_SHOW, attended=None)
    snapshot = index.compute(sami_id(), "report")
    assert snapshot.attendance == Decimal("75.0")
    assert snapshot.details["attendance"]["attended"] == 3 and snapshot.details["attendance"]["no_show"] == 1
    # All three ratings are recent (≤ 30 days): mean 13/3 on 1–5.
    assert snapshot.progression == Decimal(str(round(100 * (13 / 3 - 1) / 4, 1)))
    # No ARIA ever: engagement is the share of reports read (2 of 3).
    assert snapshot.engagement == Decimal("66.7")
    assert snapshot.details["engagement"] == {
        "aria_questions": 0,
        "aria_feedback": 0,
        "reports": 3,
        "reports_read": 2,
    }
    # Active weeks since the first session (20 days ago): 3 spans of 7 days, all active.
    assert snapshot.details["regularity"] == {"weeks": 3, "active_weeks": 3}
    parts = [
        float(p)
        for p in (snapshot.attendance, snapshot.progression, snapshot.engagement, snapshot.regularity)
    ]
    expected = (parts[0] * 30 + parts[1] * 30 + parts[2] * 20 + parts[3] * 20) / 100
    assert abs(snapshot.score - expected) <= 0.6
    assert snapshot.level is index.level_of(snapshot.score)
    texts = {part.attr: part.text for part in index.parts_of(snapshot)}
    assert texts["attendance"] == "3 séances suivies sur 4, 1 absence."
    assert texts["engagement"] == "0 question à ARIA, 0 avis donné, 2 comptes rendus lus sur 3."


def test_a_late_cancellation_by_the_family_counts_zero_the_others_do_not_count() -> None:
    parent, coach_user = user(PARENT2), user(HELIOS)

    def cancelled(days: float, before: timedelta, by: User, moved: bool = False) -> None:
        booking = past(days, status=SessionStatus.CANCELLED, attended=None)
        booking.cancelled_at, booking.cancelled_by_id = booking.starts_at - before, by.id
        if moved:
            later = factories.booking(sami_id(), factories.coach().id, utcnow() + timedelta(days=2))
            later.rescheduled_from_id = booking.id
        db.session.flush()

    past(30)
    cancelled(20, timedelta(hours=3), parent)  # late, by the family: 0
    cancelled(15, timedelta(days=3), parent)  # in time: not counted
    cancelled(10, timedelta(hours=1), coach_user)  # by the coach: not counted
    cancelled(5, timedelta(hours=2), parent, moved=True)  # moved to another date: not counted
    snapshot = index.compute(sami_id(), "session")
    assert snapshot.details["attendance"]["sessions"] == 2
    assert snapshot.details["attendance"]["late_cancel"] == 1
    assert snapshot.attendance == Decimal("50.0")


def test_a_session_ended_without_report_counts_0_8() -> None:
    past(2, status=SessionStatus.CONFIRMED, attended=None)  # ended two days ago, report not written
    past(9, status=SessionStatus.COMPLETED, attended=None)  # closed without a report
    factories.booking(sami_id(), factories.coach().id, utcnow() + timedelta(days=1))  # to come: ignored
    snapshot = index.compute(sami_id(), "session")
    assert snapshot.details["attendance"]["unknown"] == 2 and snapshot.attendance == Decimal("80.0")


def test_the_trend_is_the_last_30_days_against_the_30_before() -> None:
    assert utcnow().date().isoformat() == "2030-03-04"  # the suite's clock
    past(45, status=SessionStatus.NO_SHOW, attended=None)
    past(40, status=SessionStatus.NO_SHOW, attended=None)
    past(10, rating=3, read=True)
    past(5, rating=3, read=True)
    snapshot = index.compute(sami_id(), "report")
    before, recent = snapshot.details["trend_scores"]
    # The 30 days before: two no-shows (attendance 0) and nothing else measured.
    assert before == 0
    # The last 30 days: attendance 100, ratings 3/5 (50), reports read (100), two active weeks
    # of the four (the student was there since the first no-show, 45 days ago): 50.
    assert recent == round((100 * 30 + 50 * 30 + 100 * 20 + 50 * 20) / 100)
    assert snapshot.trend == Decimal(recent - before)
    # With one window empty there is no trend.
    empty = index.compute(factories.student(YASMINE).id, "nightly")
    assert empty.trend is None


def test_mastery_gained_between_two_real_tests_counts_in_progression(auth) -> None:  # type: ignore[no-untyped-def]
    client = auth.login(YASMINE)
    first = start_maths(client)
    answer_all(client, first, pick=lambda item: "ABCD"[(item.answer + 1) % 4])  # every answer wrong
    second = start_maths(client)
    assert second != first
    answer_all(client, second)  # every answer right
    snapshot = index.compute(factories.student(YASMINE).id, "test")
    assert snapshot.details["progression"]["tests_compared"] == 1
    assert snapshot.details["progression"]["mastery_gain"] > 20
    assert snapshot.progression == Decimal("100.0")
    assert snapshot.score is not None


def test_a_report_written_enqueues_the_refresh_which_stores_a_snapshot(app, run_jobs) -> None:  # type: ignore[no-untyped-def]
    booking = past(0.02, status=SessionStatus.CONFIRMED, attended=None)  # started half an hour ago
    data = scheduling.ReportInput("Bien.", "Suites", 5, "Progrès.", "Continuer.", attended=True)
    scheduling.write_report(user(HELIOS), booking.id, data)
    assert queued_refreshes(app) == [(sami_id(), "report")]
    assert run_jobs() >= 1
    [snapshot] = snapshots(sami_id())
    assert snapshot.cause == "report" and snapshot.attendance == Decimal("100.0")
    assert "first_session" in {b.code for b in progress.badges.of_student(sami_id()) if b.earned}


def test_a_no_show_and_a_cancellation_enqueue_the_refresh(app, run_jobs) -> None:  # type: ignore[no-untyped-def]
    started = past(0.02, status=SessionStatus.CONFIRMED, attended=None)
    scheduling.mark_no_show(user(HELIOS), started.id)
    coming = factories.booking(sami_id(), factories.coach().id, utcnow() + timedelta(days=3))
    scheduling.cancel(user(PARENT2), coming.id)
    assert queued_refreshes(app) == [(sami_id(), "session"), (sami_id(), "session")]
    run_jobs()
    # The cancellation in time changed no figure: the day's snapshot was brought up to date.
    [snapshot] = snapshots(sami_id())
    assert snapshot.cause == "session" and snapshot.attendance == Decimal("0.0")


def test_a_finished_test_enqueues_the_refresh(app, auth, run_jobs) -> None:  # type: ignore[no-untyped-def]
    client = auth.login(YASMINE)
    answer_all(client, start_maths(client))
    assert (factories.student(YASMINE).id, "test") in queued_refreshes(app)
    run_jobs()
    assert [s.cause for s in snapshots(factories.student(YASMINE).id)] == ["test"]
    assert "first_test" in {
        b.code for b in progress.badges.of_student(factories.student(YASMINE).id) if b.earned
    }


def test_the_family_opening_a_report_marks_it_read_once(app, auth, login, client) -> None:  # type: ignore[no-untyped-def]
    booking = past(2)
    report_id = booking.report.id
    login(app.test_client(), HELIOS).get(f"/dashboard/sessions/{booking.id}")
    assert db.session.get(SessionReport, report_id, populate_existing=True).family_read_at is None
    assert queued_refreshes(app) == []
    auth.login(PARENT2)
    assert client.get(f"/dashboard/sessions/{booking.id}").status_code == 200
    first = db.session.get(SessionReport, report_id, populate_existing=True).family_read_at
    assert first is not None
    assert queued_refreshes(app) == [(sami_id(), "report_read")]
    assert login(app.test_client(), SAMI).get(f"/dashboard/sessions/{booking.id}").status_code == 200
    assert db.session.get(SessionReport, report_id, populate_existing=True).family_read_at == first
    assert len(queued_refreshes(app)) == 1


def test_history_keeps_one_point_a_day_the_days_last() -> None:
    past(3)
    student_id = sami_id()
    moments = ["2030-03-05 08:00", "2030-03-05 20:00", "2030-03-06 09:00", "2030-03-08 07:00"]
    made = []
    for moment in moments:
        with time_machine.travel(datetime.fromisoformat(moment + "+00:00"), tick=False):
            past(0.2, status=SessionStatus.NO_SHOW, attended=None)  # every computation differs
            made.append(index.compute(student_id, "nightly").id)
    assert len(set(made)) == 4
    points = index.history(student_id)
    assert [p.id for p in points] == [made[1], made[2], made[3]]
    since = index.history(student_id, since=datetime(2030, 3, 6).date())
    assert [p.id for p in since] == [made[2], made[3]]


def test_an_event_that_changes_no_figure_updates_the_days_snapshot() -> None:
    past(3)
    first = index.compute(sami_id(), "report")
    with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
        again = index.compute(sami_id(), "aria")
    assert again.id == first.id and again.cause == "aria" and len(snapshots(sami_id())) == 1
    with time_machine.travel(utcnow() + timedelta(days=1), tick=False):
        tomorrow = index.compute(sami_id(), "nightly")
    assert tomorrow.id != first.id and len(snapshots(sami_id())) == 2


def test_latest_reads_every_student_in_one_query(app) -> None:  # type: ignore[no-untyped-def]
    sami, yasmine = sami_id(), factories.student(YASMINE).id
    past(3)
    with time_machine.travel(utcnow() + timedelta(minutes=1), tick=False):
        index.compute(sami, "nightly")
    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        newest = index.compute(sami, "report").id
    index.compute(yasmine, "nightly")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        found = index.latest([sami, yasmine, 999_999])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statements = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 1 and "DISTINCT ON" in statements[0]
    assert found[sami].id == newest and found[yasmine].score is None and found[999_999] is None


def test_the_nightly_pass_computes_every_student() -> None:
    past(3)
    done = refresh_all_indexes()
    students = db.session.scalar(select(func.count()).select_from(IndexSnapshot))
    assert done == students >= 3
    assert {s.cause for s in snapshots(sami_id())} == {"nightly"}
    assert snapshots(sami_id())[0].level in set(IndexLevel)


def test_the_demo_history_gives_sami_an_index_badges_and_a_test_once() -> None:
    from nexus.models.assessments import Assessment, TestStatus
    from nexus.seed import _seed_history
    from nexus.services.progress import trajectory

    _seed_history()
    student_id = sami_id()
    sessions = db.session.scalar(select(func.count()).where(SessionBooking.student_id == student_id))
    assert sessions == 5
    test = db.session.scalar(select(Assessment).where(Assessment.student_id == student_id))
    assert test.status is TestStatus.COMPLETED and test.results["subjects"][0]["domains"]
    snapshot = index.latest([student_id])[student_id]
    assert snapshot is not None and snapshot.score is not None and snapshot.trend is not None
    assert snapshot.trend > 0 and snapshot.details["attendance"]["no_show"] == 1
    # The index is also stored as it stood weeks ago: the family's chart has several points.
    points = index.history(student_id)
    assert len(points) == 5 and points[-1].id == snapshot.id
    assert [p.computed_at for p in points] == sorted(p.computed_at for p in points)
    assert all(p.score is not None for p in points) and len({p.score for p in points}) > 1
    codes = {b.code for b in progress.badges.of_student(student_id) if b.earned}
    assert {"first_session", "attendance_streak_3", "first_test"} <= codes
    plan = trajectory.live_of(student_id)
    assert plan is not None and plan.agreed_at is not None and plan.assessment_id == test.id
    assert plan.milestones and plan.milestones[0].is_done and not plan.milestones[-1].is_done
    _seed_history()  # a second seeding adds nothing
    assert db.session.scalar(select(func.count()).where(SessionBooking.student_id == student_id)) == 5
    assert len(trajectory.of_student(student_id)) == 1
    assert len(index.history(student_id)) == 5
