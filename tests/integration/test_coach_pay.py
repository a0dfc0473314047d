"""Coach pay on real PostgreSQL: every kind of line with every setting, rates and their history,
rounding to the millime, adjustments, validation (numbered, frozen), who reads what, PDF and CSV.

The month computed is February 2030 (the clock is 2030-03-04): every session of it has ended.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from nexus import csv_export
from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.catalog import ServiceType
from nexus.models.coach_pay import CoachRate, LineKind, PayModality, StatementStatus
from nexus.models.notifications import Notification
from nexus.models.scheduling import SessionStatus
from nexus.models.workshops import WorkshopStatus
from nexus.services import ServiceError, coach_pay
from tests.helpers import user
from tests.integration import coach_pay_support as pay
from tests.integration.coach_pay_support import MONTH
from tests.people import ADMIN, ASSISTANTE, PARENT, PARENT2, YASMINE

CANCELLED, COMPLETED, NO_SHOW = SessionStatus.CANCELLED, SessionStatus.COMPLETED, SessionStatus.NO_SHOW


@pytest.fixture
def coach():
    return pay.new_coach()


@pytest.fixture
def staff():
    return user(ASSISTANTE)


def _lines(statement):
    return [(x.kind, x.minutes, x.rate_millimes, x.share_percent, x.amount_millimes) for x in statement.lines]


def _refresh(staff, coach, month=MONTH):
    statement = coach_pay.refresh(staff, coach.id, month)
    db.session.expire_all()
    return coach_pay.statement_for(staff, statement.id)


# -- arithmetic --------------------------------------------------------------------------------


def test_amount_is_rounded_half_up_to_the_millime():
    assert coach_pay.amount(25_000, 45, 100) == 18_750
    assert coach_pay.amount(25_000, 50, 100) == 20_833  # 20 833,33…
    assert coach_pay.amount(25_001, 30, 100) == 12_501  # 12 500,5 → up
    assert coach_pay.amount(25_001, 30, 50) == 6_250  # 6 250,25 → down
    assert coach_pay.amount(30_000, 90, 0) == 0


def test_sessions_held_are_paid_at_the_rate_of_their_modality(staff, coach, sami):
    pay.rate(coach, PayModality.ONLINE, 25_000)
    pay.rate(coach, PayModality.CENTRE, 36_000)
    pay.session(coach, sami, "2030-02-05 17:00", 45)
    pay.session(coach, sami, "2030-02-06 17:00", 60, service=ServiceType.COURS_PRESENTIEL)
    pay.session(coach, sami, "2030-02-07 17:00", 50)
    statement = _refresh(staff, coach)
    assert statement.status is StatementStatus.DRAFT
    assert _lines(statement) == [
        (LineKind.SESSION, 45, 25_000, 100, 18_750),
        (LineKind.SESSION, 60, 36_000, 100, 36_000),
        (LineKind.SESSION, 50, 25_000, 100, 20_833),
    ]
    assert statement.total_millimes == 18_750 + 36_000 + 20_833
    assert [x.position for x in statement.lines] == [1, 2, 3]
    assert "Sami" in statement.lines[0].label and "Cours en ligne" in statement.lines[0].label
    assert coach_pay.missing_rates(statement) == []


def test_a_rate_change_mid_month_applies_from_its_day(staff, coach, sami):
    pay.rate(coach, PayModality.ONLINE, 30_000, "2030-01-01")
    pay.rate(coach, PayModality.ONLINE, 40_000, "2030-02-15")
    pay.session(coach, sami, "2030-02-14 17:00")
    pay.session(coach, sami, "2030-02-15 08:00")
    statement = _refresh(staff, coach)
    assert [x.amount_millimes for x in statement.lines] == [30_000, 40_000]
    assert coach_pay.rate_at(coach.id, PayModality.ONLINE, date(2030, 2, 14)) == 30_000
    assert coach_pay.rate_at(coach.id, PayModality.ONLINE, date(2030, 2, 15)) == 40_000
    assert coach_pay.rate_at(coach.id, PayModality.CENTRE, date(2030, 2, 15)) is None
    assert [r.hourly_millimes for r in coach_pay.rates_of(coach.id)] == [40_000, 30_000]  # newest first
    current = coach_pay.current_rates(coach.id)
    assert current[PayModality.ONLINE].hourly_millimes == 40_000
    assert current[PayModality.WORKSHOP] is None


@pytest.mark.parametrize(("pay_no_show", "share", "amount"), [(True, 100, 30_000), (False, 0, 0)])
def test_a_no_show_is_paid_or_not_by_the_setting(staff, coach, sami, pay_no_show, share, amount):
    pay.all_rates(coach)
    pay.pay_rules(pay_no_show, 50)
    pay.session(coach, sami, "2030-02-05 17:00", status=NO_SHOW)
    statement = _refresh(staff, coach)
    assert _lines(statement) == [(LineKind.NO_SHOW, 60, 30_000, share, amount)]
    assert statement.pay_no_show is pay_no_show
    assert statement.total_millimes == amount


@pytest.mark.parametrize(("share", "amount"), [(0, 0), (50, 22_500), (100, 45_000)])
def test_cancellations_by_whom_and_with_or_without_refund(staff, coach, sami, share, amount):
    pay.all_rates(coach)
    pay.pay_rules(True, share)
    student_user, parent = pay.family_user(sami), user(PARENT2)
    coach_user = db.session.get(type(student_user), coach.user_id)
    late = pay.session(coach, sami, "2030-02-05 17:00", 90, CANCELLED, cancelled_by=student_user)
    late_by_parent = pay.session(coach, sami, "2030-02-06 17:00", 90, CANCELLED, cancelled_by=parent)
    in_time = pay.session(coach, sami, "2030-02-07 17:00", 90, CANCELLED, cancelled_by=parent)
    pay.paid_then_refunded(in_time)
    by_coach = pay.session(coach, sami, "2030-02-08 17:00", 90, CANCELLED, cancelled_by=coach_user)
    pay.session(coach, sami, "2030-02-09 17:00", 90, CANCELLED, cancelled_by=staff)
    statement = _refresh(staff, coach)
    assert _lines(statement) == [
        (LineKind.LATE_CANCEL, 90, 30_000, share, amount),
        (LineKind.LATE_CANCEL, 90, 30_000, share, amount),
        (LineKind.COACH_CANCEL, 90, 30_000, 0, 0),
    ]
    assert [x.booking_id for x in statement.lines] == [late.id, late_by_parent.id, by_coach.id]
    assert statement.late_cancel_share == share
    assert statement.total_millimes == 2 * amount


def test_sessions_not_closed_are_listed_at_zero_for_the_coach_to_close(staff, coach, sami, yasmine):
    pay.all_rates(coach)
    pay.session(coach, sami, "2030-02-05 17:00", status=SessionStatus.SCHEDULED)
    pay.session(coach, yasmine, "2030-02-06 17:00", status=SessionStatus.CONFIRMED)
    pay.session(coach, sami, "2030-02-07 17:00", status=COMPLETED, report=False)
    pay.workshop(coach, "2030-02-08 17:00", status=WorkshopStatus.SCHEDULED)
    statement = _refresh(staff, coach)
    assert [x.kind for x in statement.lines] == [LineKind.MISSING_REPORT] * 4
    assert all(x.amount_millimes == 0 and coach_pay.TO_CLOSE in x.label for x in statement.lines)
    assert statement.total_millimes == 0


def test_a_session_still_to_come_is_not_listed(staff, coach, sami):
    pay.all_rates(coach)
    pay.session(coach, sami, "2030-03-02 17:00", status=SessionStatus.SCHEDULED)  # ended: to close
    pay.session(coach, sami, "2030-03-20 17:00", status=SessionStatus.SCHEDULED)  # to come
    statement = _refresh(staff, coach, "2030-03")
    assert [x.kind for x in statement.lines] == [LineKind.MISSING_REPORT]


def test_a_workshop_is_paid_once_at_the_workshop_rate_whatever_its_seats(staff, coach, sami, yasmine):
    pay.all_rates(coach, workshop_rate=45_000)
    held = pay.workshop(coach, "2030-02-10 10:00", 90)
    pay.session(coach, sami, "2030-02-10 10:00", 90, COMPLETED, workshop=held)
    pay.session(coach, yasmine, "2030-02-10 10:00", 90, NO_SHOW, workshop=held)
    cancelled = pay.workshop(coach, "2030-02-12 10:00", 90, WorkshopStatus.CANCELLED)
    pay.session(
        coach, sami, "2030-02-12 10:00", 90, CANCELLED, workshop=cancelled, cancelled_by=pay.family_user(sami)
    )
    statement = _refresh(staff, coach)
    assert _lines(statement) == [(LineKind.WORKSHOP, 90, 45_000, 100, 67_500)]
    assert statement.lines[0].workshop_id == held.id and statement.lines[0].booking_id is None


def test_the_month_is_read_in_tunis_time(staff, coach, sami):
    pay.all_rates(coach)
    first = pay.session(coach, sami, "2030-02-01 00:30")  # 31 January 23:30 UTC
    last = pay.session(coach, sami, "2030-03-01 00:30")  # 28 February 23:30 UTC
    february = _refresh(staff, coach)
    march = _refresh(staff, coach, "2030-03")
    assert [x.booking_id for x in february.lines] == [first.id]
    assert [x.booking_id for x in march.lines] == [last.id]


# -- adjustments -------------------------------------------------------------------------------


def test_an_adjustment_needs_a_reason_is_audited_and_survives_a_refresh(staff, coach, sami):
    pay.all_rates(coach)
    pay.session(coach, sami, "2030-02-05 17:00")
    statement = _refresh(staff, coach)
    for amount, reason, field in ((5_000, "  ", "reason"), (0, "Prime", "amount"), (True, "Prime", "amount")):
        with pytest.raises(ServiceError) as refused:
            coach_pay.adjust(staff, statement.id, amount, reason)
        assert refused.value.field == field
    with pytest.raises(ServiceError):
        coach_pay.adjust(db.session.get(type(staff), coach.user_id), statement.id, 5_000, "Prime")
    line = coach_pay.adjust(staff, statement.id, -2_500, "Retard de 10 minutes")
    assert line.kind is LineKind.ADJUSTMENT and line.reason == "Retard de 10 minutes"
    coach_pay.adjust(staff, statement.id, 10_000, "Préparation du bac blanc")
    pay.session(coach, sami, "2030-02-01 17:00")  # an earlier session appears at the next refresh
    statement = _refresh(staff, coach)
    assert [x.kind for x in statement.lines] == [
        LineKind.SESSION,
        LineKind.SESSION,
        *[LineKind.ADJUSTMENT] * 2,
    ]
    assert [x.position for x in statement.lines] == [1, 2, 3, 4]
    assert [x.amount_millimes for x in statement.lines[2:]] == [-2_500, 10_000]
    assert statement.total_millimes == 60_000 - 2_500 + 10_000
    audit = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "coach_pay.adjusted", AuditLog.object_id == statement.id)
    ).all()
    assert [a.after["amount_millimes"] for a in audit] == [-2_500, 10_000]
    assert audit[0].actor_id == staff.id and audit[0].after["reason"] == "Retard de 10 minutes"


# -- validation --------------------------------------------------------------------------------


def test_validation_refuses_a_missing_rate_naming_modality_and_date(staff, coach, sami):
    pay.rate(coach, PayModality.ONLINE, 30_000)
    pay.session(coach, sami, "2030-02-05 17:00")
    pay.workshop(coach, "2030-02-12 10:00")
    statement = _refresh(staff, coach)
    with pytest.raises(ServiceError) as refused:
        coach_pay.validate(staff, statement.id)
    assert "atelier (par heure)" in refused.value.message and "12/02/2030" in refused.value.message
    statement = pay.statement_of(coach)
    assert statement.status is StatementStatus.DRAFT and statement.number is None
    assert [m.day for m in coach_pay.missing_rates(statement)] == [date(2030, 2, 12)]
    pay.rate(coach, PayModality.WORKSHOP, 40_000)
    assert coach_pay.validate(staff, statement.id).total_millimes == 30_000 + 60_000


def test_a_rate_is_not_needed_for_a_line_paid_nothing(staff, coach, sami):
    pay.pay_rules(False, 0)
    pay.session(coach, sami, "2030-02-05 17:00", status=NO_SHOW)
    statement = _refresh(staff, coach)
    assert coach_pay.validate(staff, statement.id).total_millimes == 0


def test_validation_refuses_a_statement_changed_since_it_was_read(staff, coach, sami):
    pay.all_rates(coach)
    pay.session(coach, sami, "2030-02-05 17:00")
    statement = _refresh(staff, coach)
    read_total = statement.total_millimes
    pay.session(coach, sami, "2030-02-06 17:00")  # a session closed meanwhile
    with pytest.raises(ServiceError) as refused:
        coach_pay.validate(staff, statement.id, expected_total=read_total)
    assert refused.value.message == coach_pay.CHANGED
    statement = pay.statement_of(coach)
    assert statement.status is StatementStatus.DRAFT
    assert statement.total_millimes == 60_000  # the page read again shows the new lines
    assert coach_pay.validate(staff, statement.id, expected_total=60_000).number == "REM-203002-0001"


def test_a_validated_statement_is_frozen(staff, coach, sami, yasmine):
    pay.all_rates(coach)
    pay.pay_rules(True, 50)
    pay.session(coach, sami, "2030-02-05 17:00", 45)
    no_show = pay.session(coach, yasmine, "2030-02-06 17:00", status=NO_SHOW)
    pay.session(coach, sami, "2030-02-07 17:00", status=CANCELLED, cancelled_by=pay.family_user(sami))
    statement = _refresh(staff, coach)
    coach_pay.adjust(staff, statement.id, 1_000, "Prime")
    validated = coach_pay.validate(staff, statement.id)
    frozen_lines, frozen_total = _lines(validated), validated.total_millimes
    assert frozen_total == 22_500 + 30_000 + 15_000 + 1_000
    # Everything it was computed from changes …
    coach_pay.set_rate(staff, coach.id, PayModality.ONLINE, 99_000, date(2030, 1, 1))
    coach_pay.set_rate(staff, coach.id, PayModality.ONLINE, 88_000, date(2030, 2, 6))
    coach_pay.set_pay_settings(user(ADMIN), False, 100)
    no_show.status = COMPLETED
    pay.write_report(no_show)
    pay.session(coach, sami, "2030-02-20 17:00")
    # … the statement does not.
    for attempt in (
        lambda: coach_pay.refresh(staff, coach.id, MONTH),
        lambda: coach_pay.adjust(staff, statement.id, 1_000, "Encore"),
    ):
        with pytest.raises(ServiceError) as refused:
            attempt()
        assert refused.value.message == coach_pay.FROZEN
    with pytest.raises(ServiceError, match="déjà validé"):
        coach_pay.validate(staff, statement.id)
    assert coach.id not in {s.coach_id for s in coach_pay.refresh_month(staff, MONTH)}
    statement = pay.statement_of(coach)
    assert _lines(statement) == frozen_lines and statement.total_millimes == frozen_total
    assert (statement.pay_no_show, statement.late_cancel_share) == (True, 50)


def test_numbers_follow_a_sequence_per_month_and_the_coach_is_told(staff, coach, sami, yasmine):
    other = pay.new_coach("Euclide")
    for who in (coach, other):
        pay.all_rates(who)
    pay.session(coach, sami, "2030-02-05 17:00")
    pay.session(other, yasmine, "2030-02-05 17:00")
    pay.session(coach, sami, "2030-03-02 17:00")
    first = coach_pay.validate(staff, _refresh(staff, coach).id)
    second = coach_pay.validate(staff, _refresh(staff, other).id)
    march = coach_pay.validate(staff, _refresh(staff, coach, "2030-03").id)
    assert [first.number, second.number, march.number] == [
        "REM-203002-0001",
        "REM-203002-0002",
        "REM-203003-0001",
    ]
    assert first.status is StatementStatus.VALIDATED and first.validated_by_id == staff.id
    assert first.validated_at is not None
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "coach_pay.validated")).all()
    assert {a.after["number"] for a in audit} == {first.number, second.number, march.number}
    notice = db.session.scalars(
        select(Notification).where(Notification.user_id == coach.user_id, Notification.kind == "COACH_PAY")
    ).all()
    assert len(notice) == 2 and "février 2030" in notice[0].title
    assert notice[0].link == f"/dashboard/coach/remuneration/{first.id}"


def test_only_staff_validate(coach, sami):
    pay.all_rates(coach)
    pay.session(coach, sami, "2030-02-05 17:00")
    statement = coach_pay.refresh(None, coach.id, MONTH)  # a job computes it
    coach_user = db.session.get(type(user(ADMIN)), coach.user_id)
    with pytest.raises(ServiceError):
        coach_pay.validate(coach_user, statement.id)
    with pytest.raises(ServiceError):
        coach_pay.refresh(user(PARENT), coach.id, MONTH)
    assert coach_pay.refresh(coach_user, coach.id, MONTH).id == statement.id  # the coach's own draft


# -- who reads what ----------------------------------------------------------------------------


def test_a_coach_reads_only_their_own_statements(staff, coach, sami):
    other = pay.new_coach("Euclide")
    pay.all_rates(coach)
    pay.session(coach, sami, "2030-02-05 17:00")
    mine = coach_pay.refresh(staff, coach.id, MONTH)
    theirs = coach_pay.refresh(staff, other.id, MONTH)
    coach_user = db.session.get(type(staff), coach.user_id)
    assert coach_pay.statement_for(coach_user, mine.id).id == mine.id
    assert coach_pay.statement_for(coach_user, theirs.id) is None
    assert coach_pay.statement_for(user(PARENT), mine.id) is None
    assert coach_pay.statement_for(user(YASMINE), mine.id) is None
    assert coach_pay.statement_for(staff, theirs.id).id == theirs.id
    assert coach_pay.statement_for(staff, 10**12) is None
    with pytest.raises(LookupError):
        coach_pay.validate(staff, 10**12)
    with pytest.raises(LookupError):
        coach_pay.adjust(staff, 10**12, 1_000, "Prime")
    with pytest.raises(LookupError):
        coach_pay.refresh(staff, 10**12, MONTH)
    assert [s.id for s in coach_pay.statements_of_coach(coach)] == [mine.id]
    assert coach_pay.statements_of_coach(coach, validated_only=True) == []


def test_refresh_month_drafts_every_active_coach_and_leaves_validated_ones(staff, coach, sami, yasmine):
    other, idle = pay.new_coach("Euclide"), pay.new_coach("Pythagore")
    pay.all_rates(coach)
    pay.rate(idle, PayModality.ONLINE, 20_000)
    pay.session(coach, sami, "2030-02-05 17:00")
    pay.session(
        other,
        yasmine,
        "2030-02-05 17:00",
        status=CANCELLED,
        cancelled_by=db.session.get(type(staff), other.user_id),
    )
    validated = coach_pay.validate(staff, _refresh(staff, coach).id)
    drafts = coach_pay.refresh_month(staff, MONTH)
    ids = {s.coach_id for s in drafts}
    assert {other.id, idle.id} <= ids and coach.id not in ids
    month = coach_pay.statements_of_month(MONTH)
    assert {coach.id, other.id, idle.id} <= {s.coach_id for s in month}
    assert pay.statement_of(coach).number == validated.number
    with pytest.raises(ServiceError):
        coach_pay.refresh_month(user(PARENT), MONTH)


def test_the_periodic_job_recomputes_this_and_last_months_drafts_only(staff, coach, sami):
    """refresh_pay_drafts (every 6 hours): last month's and this month's drafts, validated ones kept."""
    from nexus.jobs.coach_pay import refresh_pay_drafts

    pay.all_rates(coach)
    held = pay.session(coach, sami, "2030-03-02 17:00")  # this month (the clock is 2030-03-04), reported
    pay.session(coach, sami, "2030-02-05 17:00")
    validated = coach_pay.validate(staff, _refresh(staff, coach).id)
    total = validated.total_millimes
    pay.session(coach, sami, "2030-02-12 17:00")  # after validation: February stays as it was

    assert refresh_pay_drafts() >= 1
    march = pay.statement_of(coach, "2030-03")
    assert march is not None and not march.status.is_validated and march.total_millimes > 0
    assert [line.booking_id for line in march.lines] == [held.id]
    february = pay.statement_of(coach)
    assert february.total_millimes == total and february.number == validated.number


# -- rates and rules ---------------------------------------------------------------------------


def test_set_rate_updates_the_row_of_its_date_is_audited_and_refuses_nonsense(staff, coach):
    rate = coach_pay.set_rate(staff, coach.id, PayModality.CENTRE, 30_000, date(2030, 3, 1))
    again = coach_pay.set_rate(staff, coach.id, PayModality.CENTRE, 32_500, date(2030, 3, 1))
    assert again.id == rate.id and again.hourly_millimes == 32_500
    count = db.session.scalar(
        select(func.count()).select_from(CoachRate).where(CoachRate.coach_id == coach.id)
    )
    assert count == 1
    audit = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "coach_pay.rate_set", AuditLog.object_id == rate.id)
    ).all()
    assert [a.after["hourly_millimes"] for a in audit] == [30_000, 32_500]
    assert audit[1].before["hourly_millimes"] == 30_000
    for hourly, words in ((-1, "négatif"), (1_000_001, "1 000 TND")):
        with pytest.raises(ServiceError, match=words):
            coach_pay.set_rate(staff, coach.id, PayModality.CENTRE, hourly, date(2030, 3, 1))
    with pytest.raises(ServiceError):
        coach_pay.set_rate(
            db.session.get(type(staff), coach.user_id), coach.id, PayModality.CENTRE, 90_000, date(2030, 3, 1)
        )
    with pytest.raises(LookupError):
        coach_pay.set_rate(staff, 10**12, PayModality.CENTRE, 30_000, date(2030, 3, 1))
    assert coach_pay.rate_at(coach.id, PayModality.CENTRE, date(2030, 3, 1)) == 32_500


def test_pay_settings_are_the_admins_and_audited(staff):
    admin = user(ADMIN)
    with pytest.raises(ServiceError):
        coach_pay.set_pay_settings(staff, False, 30)
    for share in (-1, 101):
        with pytest.raises(ServiceError) as refused:
            coach_pay.set_pay_settings(admin, False, share)
        assert refused.value.field == "late_cancel_share"
    assert coach_pay.set_pay_settings(admin, False, 30) == coach_pay.PaySettings(False, 30)
    assert coach_pay.pay_settings() == coach_pay.PaySettings(False, 30)
    line = db.session.scalar(select(AuditLog).where(AuditLog.action == "coach_pay.settings_updated"))
    assert line.after == {"pay_no_show": False, "late_cancel_share": 30}
    assert line.action_label == "Règles de rémunération des coachs modifiées"


def test_months_are_parsed_and_said_in_french():
    assert coach_pay.parse_month(" 2030-03 ") == "2030-03"
    assert coach_pay.month_label("2030-02") == "février 2030"
    assert coach_pay.shift("2030-12", 1) == "2031-01"
    for bad in ("2030-13", "2030-3", "mars", "", None, "２０３０-03", "1999-12"):
        with pytest.raises(ServiceError) as refused:
            coach_pay.parse_month(bad)
        assert refused.value.field == "mois"


# -- figures, PDF, CSV -------------------------------------------------------------------------


def test_cost_by_month_separates_validated_and_provisional(staff, coach, sami, yasmine):
    other = pay.new_coach("Euclide")
    pay.all_rates(coach)
    pay.all_rates(other)
    pay.session(coach, sami, "2030-02-05 17:00")
    pay.session(other, yasmine, "2030-02-05 17:00", 30)
    coach_pay.validate(staff, _refresh(staff, coach).id)
    _refresh(staff, other)
    figures = coach_pay.coaching_cost_by_month("2030-01", "2030-03")
    assert list(figures) == ["2030-01", "2030-02", "2030-03"]
    february = figures["2030-02"]
    assert february.validated >= 30_000 and february.provisional >= 15_000
    assert figures["2030-01"].total == 0 and not figures["2030-01"].is_provisional


def test_pdf_and_csv_of_a_statement(staff, coach, sami):
    pay.all_rates(coach, online=25_000)
    pay.session(coach, sami, "2030-02-05 17:00", 45)
    statement = _refresh(staff, coach)
    coach_pay.adjust(staff, statement.id, -1_250, "Retard")
    draft_pdf = coach_pay.render_pdf(pay.statement_of(coach))
    assert "provisoire" in _pdf_text(draft_pdf)
    validated = coach_pay.validate(staff, statement.id)
    db.session.expire_all()
    statement = coach_pay.statement_for(staff, validated.id)
    text = _pdf_text(coach_pay.render_pdf(statement))
    assert "REM-203002-0001" in text and "février 2030" in text and "17,500" in text
    body = "".join(csv_export.lines(coach_pay.CSV_HEADER, coach_pay.csv_rows(statement)))
    assert "18,750" in body and "-1,250" in body and "17,500" in body and "Séance assurée" in body
    assert coach_pay.csv_filename(statement).endswith("REM-203002-0001.csv")


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_long_statement_runs_over_several_pages(staff, coach, sami):
    pay.all_rates(coach)
    pay.session(coach, sami, "2030-02-05 17:00")
    statement = _refresh(staff, coach)
    for i in range(60):
        coach_pay.adjust(staff, statement.id, 100 + i, f"Ajustement n° {i} — " + "motif très long " * 12)
    db.session.expire_all()
    statement = coach_pay.statement_for(staff, statement.id)
    reader = PdfReader(io.BytesIO(coach_pay.render_pdf(statement)))
    assert len(reader.pages) >= 2
    assert "Détail" in reader.pages[1].extract_text()  # the table's header again
    assert "Total" in reader.pages[-1].extract_text()
