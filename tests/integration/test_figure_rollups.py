"""Monthly figure rollups (issue 13, scale): the closed months read from `figure_rollups` give the
same figures as the live computation, a late change shows after a refresh, refreshes are
idempotent and race-free, a missing month is computed live. Clock: 2030-03-04 08:00 UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from nexus.extensions import db
from nexus.jobs.figures import refresh_figure_rollups
from nexus.models.billing import Payment, PaymentStatus, SubscriptionStatus
from nexus.models.catalog import OfferCode
from nexus.models.common import Subject
from nexus.models.credits import CreditEntry, CreditLot, EntryKind, LotSource
from nexus.models.figures import FigureRollup
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.services.analytics import (
    aggregates,
    assessments,
    credits,
    periods,
    revenue,
    rollups,
    sessions,
    subscriptions,
)
from nexus.services.dashboards import figures
from tests import factories
from tests.conftest import travel
from tests.helpers import adam, at_once
from tests.integration.test_analytics import at, pay, score, subscription

CLOSED = [date(2029, 11, 1), date(2029, 12, 1), date(2030, 1, 1), date(2030, 2, 1)]
FEBRUARY = date(2030, 2, 1)


def lot_and_entries(student, day: str) -> None:
    lot = CreditLot(
        student_id=student.id,
        source=LotSource.CREDIT_PACK,
        amount=Decimal("7.5"),
        granted_at=at(day),
        expires_at=at(day) + timedelta(days=60),
    )
    db.session.add(lot)
    db.session.flush()
    for kind, amount, hours in (
        (EntryKind.CONSUME, "-2.5", 1),
        (EntryKind.REFUND, "1", 2),
        (EntryKind.EXPIRE, "-1", 3),
    ):
        db.session.add(
            CreditEntry(
                student_id=student.id,
                lot_id=lot.id,
                kind=kind,
                amount=Decimal(amount),
                created_at=at(day, 10 + hours),
            )
        )
    db.session.flush()


@pytest.fixture
def months_of_data(sami, helios, yasmine):
    """Payments, sessions, plans, credits and tests in four closed months and the current one."""
    statuses = [SessionStatus.COMPLETED, SessionStatus.NO_SHOW, SessionStatus.CANCELLED]
    for n, first in enumerate([*CLOSED, date(2030, 3, 1)]):
        day = first.replace(day=2 + n).isoformat()
        pay(sami, 100_000 * (n + 1), at(day))
        pay(yasmine, 450_000, at(day, 12), offer=OfferCode.HYBRIDE)
        for k in range(n + 1):
            factories.booking(sami.id, helios.id, at(day, 14) + timedelta(days=k), status=statuses[k % 3])
        lot_and_entries(sami, day)
        score(yasmine, Subject.MATHEMATIQUES, 30 + 10 * n, at(day, 16))
    subscription(yasmine, SubscriptionStatus.EXPIRED, at("2029-11-05"), ended=at("2030-01-20"))
    subscription(adam(), SubscriptionStatus.CANCELLED, at("2029-12-03"), ended=at("2030-02-10"))


def snapshot() -> dict[str, object]:
    """Every figure the admin home and the analytics show (the ARIA section stays live)."""
    home = figures.admin_figures()
    found: dict[str, object] = {"home": (home.revenue, home.sessions)}
    for key in periods.MONTHS:
        period = periods.period(key)
        found[key] = (
            revenue.by_offer(period),
            revenue.totals(period),
            subscriptions.summary(period),
            sessions.breakdown(period),
            credits.movements(period),
            assessments.results(period),
        )
    return found


def stored(month: date) -> list[tuple]:
    rows = select(FigureRollup.metric, FigureRollup.key1, FigureRollup.key2, FigureRollup.value)
    return sorted(tuple(row) for row in db.session.execute(rows.where(FigureRollup.month == month)))


def refresh_all() -> None:
    for month in rollups.closed_months():
        rollups.refresh(month)


def test_figures_read_through_rollups_equal_the_live_ones(months_of_data):
    live = snapshot()
    assert db.session.scalar(select(FigureRollup.month).limit(1)) is None  # all live so far
    refresh_all()
    assert stored(FEBRUARY), "February's rollup is stored"
    through = snapshot()
    for key, figures_live in live.items():
        assert through[key] == figures_live, key
    # and each closed period is the same as one aggregate over the whole of it
    year = periods.period("annee")
    for family, compute in aggregates.FAMILIES.items():
        direct: rollups.Totals = {}
        for metric, key1, key2, value in compute(year.previous_start, year.start):
            direct[(metric, key1, key2)] = direct.get((metric, key1, key2), 0) + value
        assert rollups.over(family, year.previous_start, year.start) == direct, family
    february = aggregates.revenue(*rollups.bounds(FEBRUARY))
    before = sum(v for m, _k1, _k2, v in february if m == aggregates.REVENUE_AMOUNT)
    assert figures.admin_figures().revenue_before == before >= 400_000 + 450_000


def test_the_current_month_is_never_rolled_up(months_of_data):
    assert rollups.refresh(date(2030, 3, 1)) == 0
    assert stored(date(2030, 3, 1)) == []


def test_a_late_change_to_a_closed_month_shows_after_the_refresh(months_of_data):
    refresh_all()
    quarter = periods.period("trimestre")
    before_sessions = sessions.breakdown(quarter).total
    before_home = figures.admin_figures()
    booking = db.session.scalars(
        select(SessionBooking)
        .where(SessionBooking.status == SessionStatus.COMPLETED, quarter.holds(SessionBooking.starts_at))
        .where(SessionBooking.starts_at < periods.midnight(date(2030, 3, 1)))
        .limit(1)
    ).one()
    booking.status = SessionStatus.NO_SHOW  # marked after the month closed
    refunded = db.session.scalars(
        select(Payment).where(Payment.amount_millimes == 400_000, Payment.status == PaymentStatus.COMPLETED)
    ).one()  # February's
    refunded.status = PaymentStatus.REFUNDED
    db.session.flush()
    assert sessions.breakdown(quarter).total == before_sessions  # the rollup, until refreshed
    rollups.refresh(booking.starts_at.astimezone(periods.fr.TUNIS).date().replace(day=1))
    rollups.refresh(FEBRUARY)
    after = sessions.breakdown(quarter).total
    assert (after.held, after.no_show) == (before_sessions.held - 1, before_sessions.no_show + 1)
    assert figures.admin_figures().revenue_before == before_home.revenue_before - 400_000


def test_refreshing_twice_stores_the_same_rows(months_of_data):
    rollups.refresh(FEBRUARY)
    first = stored(FEBRUARY)
    rollups.refresh(FEBRUARY)
    assert stored(FEBRUARY) == first
    assert any(row[0] == aggregates.SESSIONS_DUE for row in first)
    assert any(row[0] == rollups.marker("credit") for row in first)


def test_a_missing_month_is_computed_live(months_of_data, sami):
    refresh_all()
    january = date(2030, 1, 1)
    db.session.execute(delete(FigureRollup).where(FigureRollup.month == january))
    pay(sami, 77_000, at("2030-01-20"))  # only a live read can see it
    year = periods.period("annee")
    months = rollups.by_month("revenue", [january, FEBRUARY])
    live = aggregates.revenue(*rollups.bounds(january))
    assert rollups.total(months[january], aggregates.REVENUE_AMOUNT) == sum(
        v for m, _k1, _k2, v in live if m == aggregates.REVENUE_AMOUNT
    )
    assert [m.total for m in figures.admin_figures().revenue if m.first == january] == [
        rollups.total(months[january], aggregates.REVENUE_AMOUNT)
    ]
    direct = sum(
        v for m, _k1, _k2, v in aggregates.revenue(year.start, year.end) if m == aggregates.REVENUE_AMOUNT
    )
    assert revenue.totals(year)[0] == direct
    assert stored(january) == []  # a read never writes


def test_the_job_refreshes_the_missing_months_then_the_previous_one_then_all_daily(months_of_data):
    assert refresh_figure_rollups() == rollups.KEPT  # none stored: every closed month
    assert rollups.due() == [FEBRUARY]  # the previous month, every run
    db.session.execute(delete(FigureRollup).where(FigureRollup.month == date(2029, 6, 1)))
    assert rollups.due() == [date(2029, 6, 1), FEBRUARY]
    with travel(datetime(2030, 3, 5, 9, tzinfo=UTC)):  # more than a day later: the full pass
        assert rollups.due() == rollups.closed_months()
    with travel(datetime(2030, 4, 1, 9, tzinfo=UTC)):  # March closed: it is due
        assert date(2030, 3, 1) in rollups.due()


def test_the_analytics_page_says_when_the_closed_months_were_computed(client, auth, months_of_data):
    from tests.people import ADMIN

    auth.login(ADMIN)
    assert "Chiffres des mois clos" not in client.get("/dashboard/admin/analytics?periode=annee").get_data(
        as_text=True
    )
    refresh_all()
    page = client.get("/dashboard/admin/analytics?periode=annee").get_data(as_text=True)
    assert "Chiffres des mois clos au 04/03/2030 à 09:00" in page


@pytest.mark.committed
def test_fifty_refreshes_of_a_month_at_once_leave_one_consistent_set(app, sami, helios):
    pay(sami, 123_000, at("2030-02-12"))
    factories.booking(sami.id, helios.id, at("2030-02-12", 15), status=SessionStatus.COMPLETED)
    db.session.commit()
    db.session.remove()
    with app.app_context():
        rollups.refresh(FEBRUARY)
        expected = stored(FEBRUARY)
    results = at_once(app, lambda _i: rollups.refresh(FEBRUARY))
    assert all(isinstance(r, int) and r == len(expected) for r in results), results
    with app.app_context():
        assert stored(FEBRUARY) == expected
        stamps = db.session.scalars(
            select(FigureRollup.computed_at).where(FigureRollup.month == FEBRUARY).distinct()
        )
        assert len(list(stamps)) == 1  # one refresh's rows, not a mix
