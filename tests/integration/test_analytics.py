"""Figures and analytics: the admin's home, /dashboard/admin/analytics and its CSVs, the
assistante's figures. Figures are checked against rows the tests write (the demo's rows in the
same tables are neutralised, or the period chosen holds none of them). Clock: 2030-03-04 08:00 UTC.
"""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from nexus.extensions import db
from nexus.models.aria import AriaConversation, AriaFeedback, AriaMessage, MessageRole
from nexus.models.assessments import Assessment, Score, TestMode, TestStatus
from nexus.models.billing import Payment, PaymentMethod, PaymentStatus, Subscription, SubscriptionStatus
from nexus.models.catalog import OfferCode
from nexus.models.common import Grade, Subject
from nexus.models.credits import CreditEntry, CreditLot, EntryKind, LotSource
from nexus.models.scheduling import SessionStatus
from nexus.services.analytics import aria, assessments, credits, periods, revenue, sessions, subscriptions
from nexus.services.dashboards import figures
from tests import factories
from tests.helpers import adam, user
from tests.people import ADMIN, ASSISTANTE, COACH, PARENT, PARENT2, YASMINE

JUNE_2029 = periods.period("mois", datetime(2029, 6, 15, 12, tzinfo=UTC))  # no demo row in it


def at(day: str, hour: int = 10) -> datetime:
    """A moment in Tunis time ('2029-06-10', 10 h)."""
    return periods.midnight(datetime.fromisoformat(day).date()) + timedelta(hours=hour)


def pay(
    student,
    amount: int,
    processed: datetime | None,
    status=PaymentStatus.COMPLETED,
    offer=OfferCode.CREDITS_5,
) -> Payment:
    row = Payment(
        payer_id=user(PARENT2).id,
        student_id=student.id,
        offer_code=offer,
        amount_millimes=amount,
        method=PaymentMethod.BANK_TRANSFER,
        status=status,
        reference=f"T-{secrets.token_hex(6)}",
        processed_at=processed,
    )
    db.session.add(row)
    db.session.flush()
    return row


def subscription(student, status, started: datetime, ended: datetime | None = None) -> Subscription:
    row = Subscription(
        student_id=student.id,
        plan=OfferCode.HYBRIDE,
        status=status,
        monthly_price_millimes=450_000,
        credits_per_month=Decimal(4),
        current_period_start=started,
        current_period_end=started + timedelta(days=30),
        started_at=started,
        ended_at=ended,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def no_demo_payments():
    """The demo's validated payments set aside (rolled back with the test)."""
    db.session.execute(
        update(Payment).where(Payment.status == PaymentStatus.COMPLETED).values(status=PaymentStatus.REFUNDED)
    )


# -- revenue ---------------------------------------------------------------------------------------


def test_revenue_this_month_last_month_and_growth(no_demo_payments, sami):
    pay(sami, 300_000, at("2030-03-01", 0) + timedelta(minutes=30))  # 00:30 in Tunis: March
    pay(sami, 150_500, datetime(2030, 3, 3, 9, tzinfo=UTC))
    pay(sami, 200_000, datetime(2030, 2, 28, 22, 59, tzinfo=UTC))  # 23:59 in Tunis: February
    pay(sami, 50_000, datetime(2030, 2, 10, 9, tzinfo=UTC))
    pay(sami, 999_000, datetime(2030, 3, 2, 9, tzinfo=UTC), PaymentStatus.PENDING)
    pay(sami, 999_000, datetime(2030, 3, 2, 9, tzinfo=UTC), PaymentStatus.FAILED)
    pay(sami, 999_000, datetime(2029, 3, 2, 9, tzinfo=UTC))  # thirteen months ago: not shown

    home = figures.admin_figures()
    assert len(home.revenue) == 12
    assert home.revenue[-1].first.isoformat() == "2030-03-01"
    assert home.revenue[0].first.isoformat() == "2029-04-01"
    assert (home.revenue_now, home.revenue_before) == (450_500, 250_000)
    assert home.revenue[-1].count == 2
    assert home.growth == 80  # (450.5 - 250) / 250
    assert sum(m.total for m in home.revenue) == 700_500

    month = periods.period("mois")
    assert revenue.totals(month) == (450_500, 250_000)
    assert [(line.offer, line.count, line.total) for line in revenue.by_offer(month)] == [
        (OfferCode.CREDITS_5, 2, 450_500)
    ]


def test_growth_without_a_previous_figure_is_not_a_number():
    assert revenue.growth(1000, 0) is None
    assert revenue.growth(500, 1000) == -50


def test_admin_home_shows_the_figures_and_both_charts(client, auth, no_demo_payments, sami):
    pay(sami, 1_250_000, datetime(2030, 3, 3, 9, tzinfo=UTC))
    auth.login(ADMIN)
    page = client.get("/dashboard/admin").get_data(as_text=True)
    assert "1\u202f250\u00a0TND" in page
    assert "Chiffre d'affaires de mars 2030" in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-') == 2
    assert "Les données du graphique" in page
    assert "avril 2029" in page  # the first of the twelve months
    assert 'href="/dashboard/admin/analytics"' in page  # the menu and the link below the figures


# -- subscriptions --------------------------------------------------------------------------------


def test_renewals_lapses_and_renewal_rate(yasmine):
    student = adam()
    # Yasmine's plan from May, paid again in June: a renewal.
    subscription(yasmine, SubscriptionStatus.EXPIRED, at("2029-05-10"), ended=at("2029-07-10"))
    pay(yasmine, 450_000, at("2029-06-10"), offer=OfferCode.HYBRIDE)
    # Adam's plan starts in June (its own payment is no renewal) and lapses unpaid in June.
    started = at("2029-06-02")
    subscription(student, SubscriptionStatus.EXPIRED, started, ended=at("2029-06-25"))
    pay(student, 450_000, started, offer=OfferCode.HYBRIDE)
    # Cancelled (a plan change) in June: ended, but no lapse.
    subscription(student, SubscriptionStatus.CANCELLED, at("2029-04-01"), ended=at("2029-06-01", 9))

    summary = subscriptions.summary(JUNE_2029)
    hybride = next(line for line in summary.lines if line.plan is OfferCode.HYBRIDE)
    assert (hybride.started, hybride.renewed, hybride.lapsed, hybride.cancelled) == (1, 1, 1, 1)
    assert summary.renewal_rate == 50
    assert subscriptions.summary(periods.period("mois", at("2029-08-10"))).renewal_rate is None


# -- sessions -------------------------------------------------------------------------------------


def test_sessions_by_coach_and_subject_count_no_shows(sami, helios):
    for day, status in (
        ("2029-06-04", SessionStatus.COMPLETED),
        ("2029-06-05", SessionStatus.COMPLETED),
        ("2029-06-06", SessionStatus.NO_SHOW),
        ("2029-06-07", SessionStatus.CANCELLED),
        ("2029-07-01", SessionStatus.NO_SHOW),  # July: not in June
    ):
        factories.booking(sami.id, helios.id, at(day, 15), status=status)

    figures_june = sessions.breakdown(JUNE_2029)
    (coach,) = figures_june.by_coach
    assert coach.label == "Hélios"
    assert (coach.booked, coach.held, coach.cancelled, coach.no_show) == (4, 2, 1, 1)
    assert coach.no_show_rate == 33  # 1 / (2 + 1)
    (subject,) = figures_june.by_subject
    assert subject.label == "Mathématiques" and subject.no_show == 1
    assert figures_june.total.booked == 4


# -- credits --------------------------------------------------------------------------------------


def test_credits_granted_consumed_expired_and_expiry_share(sami):
    when = at("2029-06-03")
    lot = CreditLot(
        student_id=sami.id,
        source=LotSource.CREDIT_PACK,
        amount=Decimal(10),
        granted_at=when,
        expires_at=when + timedelta(days=20),
    )
    db.session.add(lot)
    db.session.flush()
    for kind, amount, day in (
        (EntryKind.GRANT, "10", "2029-06-03"),
        (EntryKind.CONSUME, "-3", "2029-06-05"),
        (EntryKind.REFUND, "1", "2029-06-06"),
        (EntryKind.EXPIRE, "-2", "2029-06-23"),
        (EntryKind.CONSUME, "-5", "2029-07-02"),  # July
    ):
        db.session.add(
            CreditEntry(
                student_id=sami.id, lot_id=lot.id, kind=kind, amount=Decimal(amount), created_at=at(day)
            )
        )
    db.session.flush()

    moves = credits.movements(JUNE_2029)
    assert [(line.source, line.lots, line.amount) for line in moves.granted] == [
        (LotSource.CREDIT_PACK, 1, Decimal(10))
    ]
    assert (moves.consumed, moves.refunded, moves.expired) == (Decimal(2), Decimal(1), Decimal(2))
    assert moves.expiry_share == 50  # 2 expired / (2 consumed + 2 expired)


# -- ARIA -----------------------------------------------------------------------------------------


def test_aria_use_and_satisfaction(sami, yasmine):
    def ask(student, subject, day: str, rating: int | None = None) -> None:
        conversation = AriaConversation(
            student_id=student.id, subject=subject, title="Question", created_at=at(day), updated_at=at(day)
        )
        db.session.add(conversation)
        db.session.flush()
        question = AriaMessage(
            conversation_id=conversation.id, role=MessageRole.USER, content="Pourquoi ?", created_at=at(day)
        )
        db.session.add(question)
        db.session.flush()
        answer = AriaMessage(
            conversation_id=conversation.id,
            role=MessageRole.ASSISTANT,
            reply_to_id=question.id,
            content="Parce que.",
            created_at=at(day),
        )
        db.session.add(answer)
        db.session.flush()
        if rating is not None:
            db.session.add(AriaFeedback(message_id=answer.id, rating=rating, created_at=at(day)))

    ask(sami, Subject.MATHEMATIQUES, "2029-06-03", 1)
    ask(sami, Subject.MATHEMATIQUES, "2029-06-04", 1)
    ask(sami, Subject.NSI, "2029-06-05", -1)
    ask(yasmine, Subject.MATHEMATIQUES, "2029-06-06")
    ask(yasmine, Subject.MATHEMATIQUES, "2029-07-06", -1)  # July
    db.session.flush()

    usage = aria.usage(JUNE_2029)
    assert (usage.total.questions, usage.total.conversations, usage.total.students) == (4, 4, 2)
    assert (usage.total.up, usage.total.down, usage.total.satisfaction) == (2, 1, 67)
    maths = next(u for u in usage.by_subject if u.label == "Mathématiques")
    assert (maths.questions, maths.students, maths.satisfaction) == (3, 2, 100)


# -- positioning tests ----------------------------------------------------------------------------


def score(student, subject: Subject, ssn: float, measured: datetime) -> None:
    test = Assessment(
        student_id=student.id,
        mode=TestMode.ADAPTIVE,
        subject=subject,
        grade=Grade.TERMINALE,
        status=TestStatus.COMPLETED,
        completed_at=measured,
    )
    db.session.add(test)
    db.session.flush()
    db.session.add(
        Score(
            assessment_id=test.id,
            student_id=student.id,
            subject=subject,
            grade=Grade.TERMINALE,
            theta=0.0,
            standard_error=0.3,
            ssn=ssn,
            cohort_size=40,
            measured_at=measured,
        )
    )
    db.session.flush()


def cohort(results, subject: Subject) -> dict[str, int]:
    found = [c for c in results.cohorts if c.subject is subject and c.grade is Grade.TERMINALE]
    return found[0].counts if found else {}


def test_ssn_distribution_counts_each_students_latest_test(yasmine):
    month = periods.period("mois")
    before = assessments.results(month)
    score(yasmine, Subject.MATHEMATIQUES, 88.0, at("2030-01-10"))  # replaced by the next one
    score(yasmine, Subject.MATHEMATIQUES, 35.5, at("2030-03-02"))
    score(yasmine, Subject.NSI, 72.0, at("2030-03-02"))
    after = assessments.results(month)

    def delta(subject: Subject) -> dict[str, int]:
        old, new = cohort(before, subject), cohort(after, subject)
        return {
            k: new.get(k, 0) - old.get(k, 0) for k in set(old) | set(new) if new.get(k, 0) != old.get(k, 0)
        }

    assert delta(Subject.MATHEMATIQUES) == {"prioritaire": 1}
    assert delta(Subject.NSI) == {"tres-solide": 1}
    assert after.completed_in_period == before.completed_in_period + 2  # the January one is not in March
    flagged = [a for a in after.attention if a.student_id == yasmine.id]
    assert [(a.subject, a.ssn) for a in flagged] == [(Subject.MATHEMATIQUES, 35.5)]


def test_the_page_lists_students_to_follow_with_a_link(client, auth, yasmine):
    score(yasmine, Subject.MATHEMATIQUES, 31.0, at("2030-03-02"))
    auth.login(ADMIN)
    page = client.get("/dashboard/admin/analytics").get_data(as_text=True)
    assert f'href="/dashboard/eleves/{yasmine.id}/positionnement"' in page
    assert "Élèves à suivre" in page


# -- the page: periods, CSV, access ---------------------------------------------------------------


def test_period_switching(client, auth):
    auth.login(ADMIN)
    for key, title in (("mois", "mars 2030"), ("trimestre", "1er trimestre 2030"), ("annee", "année 2030")):
        response = client.get(f"/dashboard/admin/analytics?periode={key}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert f"<title>Analyses — {title}" in page
        assert f'href="/dashboard/admin/analytics?periode={key}" aria-current="page"' in page


@pytest.mark.parametrize("raw", ["semaine", "", "%00", "x" * 500, "annee'--"])
def test_an_unknown_period_says_so_and_shows_the_month(client, auth, raw):
    auth.login(ADMIN)
    response = client.get("/dashboard/admin/analytics", query_string={"periode": raw})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "mars 2030" in page
    assert ("Période inconnue" in page) is (raw != "")


def test_quarter_and_year_bounds():
    quarter = periods.period("trimestre", datetime(2030, 5, 20, tzinfo=UTC))
    assert (quarter.start, quarter.end, quarter.previous_start) == (
        at("2030-04-01", 0),
        at("2030-07-01", 0),
        at("2030-01-01", 0),
    )
    assert quarter.title == "2e trimestre 2030"
    year = periods.period("annee", datetime(2030, 12, 31, 23, 30, tzinfo=UTC))  # 00:30 on 1 January in Tunis
    assert year.title == "année 2031"


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_revenue_csv_parses_with_the_right_rows(client, auth, no_demo_payments, sami):
    pay(sami, 300_000, datetime(2030, 3, 1, 9, tzinfo=UTC), offer=OfferCode.HYBRIDE)
    pay(sami, 150_500, datetime(2030, 3, 3, 9, tzinfo=UTC))
    pay(sami, 25_000, datetime(2030, 3, 3, 10, tzinfo=UTC))
    auth.login(ADMIN)
    response = client.get("/dashboard/admin/analytics?periode=mois&format=csv&section=revenus")
    assert "chiffre-affaires-mois-2030-03.csv" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows == [
        ["Offre", "Type", "Paiements", "Montant (TND)"],
        ["Hybride", "Formule mensuelle", "1", "300,000"],
        ["Pack 5 crédits", "Pack de crédits", "2", "175,500"],
    ]


def test_every_section_downloads(client, auth, sami, helios):
    factories.booking(sami.id, helios.id, at("2030-03-02", 15), status=SessionStatus.NO_SHOW)
    auth.login(ADMIN)
    for section in ("revenus", "abonnements", "seances-coachs", "seances-matieres", "credits", "aria", "ssn",
                    "attention"):  # fmt: skip
        rows = read_csv(client.get(f"/dashboard/admin/analytics?periode=annee&format=csv&section={section}"))
        assert len(set(map(len, rows))) == 1, section  # every row as wide as the header
    coaches = read_csv(client.get("/dashboard/admin/analytics?format=csv&section=seances-coachs"))
    helios_row = next(row for row in coaches if row[0] == "Hélios")
    assert helios_row[coaches[0].index("Absences")] == "1"
    assert client.get("/dashboard/admin/analytics?format=csv&section=autre").status_code == 404


@pytest.mark.parametrize("email", [PARENT, COACH, ASSISTANTE, YASMINE])
def test_only_the_admin_reads_the_analytics(client, auth, email):
    auth.login(email)
    assert client.get("/dashboard/admin/analytics").status_code == 403
    assert client.get("/dashboard/admin/analytics?format=csv&section=revenus").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/dashboard/admin/analytics?format=csv&section=revenus")
    assert response.status_code == 302
    assert "/auth/signin" in response.headers["Location"]


# -- the assistante's home ------------------------------------------------------------------------


def test_assistante_home_shows_todays_sessions_and_headcount(client, auth, sami, helios):
    before = figures.assistante_figures()
    factories.booking(sami.id, helios.id, at("2030-03-04", 16))
    factories.booking(sami.id, helios.id, at("2030-03-04", 18), status=SessionStatus.CANCELLED)
    factories.booking(sami.id, helios.id, at("2030-03-05", 0) + timedelta(minutes=30))  # tomorrow in Tunis
    after = figures.assistante_figures()
    assert after.today_count == before.today_count + 1
    assert after.students >= 2 and after.coaches >= 2
    auth.login(ASSISTANTE)
    page = client.get("/dashboard/assistante").get_data(as_text=True)
    assert "Séances d'aujourd'hui" in page
    assert "16:00–17:00" in page
    assert "18:00–19:00" not in page


# -- the bar chart --------------------------------------------------------------------------------


def test_bar_chart_prints_every_value_escaped_within_its_width():
    import re

    from nexus.charts.bars import Bar, chart
    from nexus.charts.svg import WIDTH, text_width

    bars = [
        Bar("Pack Orientation Parcoursup <b>", 1_250_000, "1\u202f250\u00a0TND"),
        Bar("mars 2030", 0, "0\u00a0TND", strong=True),
    ]
    svg = str(chart(bars, "Chiffre d'affaires"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert "1\u202f250\u00a0TND" in svg and 'font-weight="700"' in svg
    checked = 0
    for x, size, bold, text in re.findall(
        r'<text x="([\d.]+)" y="[\d.]+" font-size="([\d.]+)"( font-weight="700")?>([^<]+)<', svg
    ):
        if not text.endswith("TND"):
            continue
        checked += 1
        assert float(x) + text_width(text, float(size), bold=bool(bold)) <= WIDTH, text
    assert checked == 2
    assert chart([], "Vide") == ""
