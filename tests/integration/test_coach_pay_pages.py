"""Coach pay pages: the staff's statements of a month, one statement (adjust, validate through a
confirmation, PDF, CSV), a coach's rates, the pay rules, the coach's own statements, and the
cost of coaching in the analytics. Clock: 2030-03-04 08:00 UTC; the demo rates start 2030-02-01.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from nexus import fr
from nexus.extensions import db
from nexus.models.coach_pay import CoachRate, CoachStatement, LineKind, PayModality, StatementLine
from nexus.models.identity import CoachProfile
from nexus.models.scheduling import SessionStatus
from nexus.services import coach_pay
from tests import factories
from tests.helpers import html, user
from tests.people import ADMIN, ASSISTANTE, HELIOS, PARENT, SAMI, YASMINE

LAST_MONTH = "2030-02"
STAFF_LIST = "/dashboard/admin/remuneration"


def rated(coach_name: str) -> CoachProfile:
    """The coach with their three hourly rates from 1 February 2030 (30, 35 and 45 TND)."""
    coach = factories.coach(coach_name)
    for modality, hourly in zip(PayModality, (30_000, 35_000, 45_000), strict=True):
        coach_pay.set_rate(user(ADMIN), coach.id, modality, hourly, date(2030, 2, 1))
    return coach


def statement_of(coach_name: str, month: str = LAST_MONTH) -> CoachStatement:
    """The coach's statement of the month, with one student no-show on 12 February (paid 30 TND)."""
    coach = rated(coach_name)
    student = factories.student(SAMI)
    factories.booking(
        student.id, coach.id, datetime(2030, 2, 12, 14, tzinfo=UTC), status=SessionStatus.NO_SHOW
    )
    return coach_pay.refresh(user(ADMIN), coach.id, month)


def lines_of(statement: CoachStatement) -> int:
    return db.session.scalar(select(func.count()).where(StatementLine.statement_id == statement.id))


@pytest.fixture
def staff(client, login):
    return login(client, ADMIN)


# -- who sees what ---------------------------------------------------------------------------


@pytest.mark.parametrize("email", [ADMIN, ASSISTANTE])
def test_staff_pages_answer_for_staff(client, login, email):
    statement = statement_of("Hélios")
    login(client, email)
    page = client.get(f"{STAFF_LIST}?mois={LAST_MONTH}")
    assert page.status_code == 200
    assert "Hélios" in html(page) and "À valider" in html(page) and "février 2030" in html(page)
    assert client.get(f"{STAFF_LIST}/{statement.id}").status_code == 200
    assert client.get(f"/dashboard/assistante/coachs/{statement.coach_id}/tarifs").status_code == 200
    assert client.get(STAFF_LIST).status_code == 200  # the current month by default


@pytest.mark.parametrize("email", [HELIOS, PARENT, YASMINE])
def test_staff_pages_are_closed_to_others(client, login, email):
    statement = statement_of("Hélios")
    login(client, email)
    for path in (
        STAFF_LIST,
        f"{STAFF_LIST}/{statement.id}",
        f"{STAFF_LIST}/{statement.id}.pdf",
        f"{STAFF_LIST}/{statement.id}.csv",
        f"{STAFF_LIST}/{statement.id}/valider",
        f"/dashboard/assistante/coachs/{statement.coach_id}/tarifs",
    ):
        assert client.get(path).status_code == 403, path
    refused = client.post(f"{STAFF_LIST}/{statement.id}/ajuster", data={"amount": "10", "reason": "Prime"})
    assert refused.status_code == 403
    assert lines_of(statement) == 1


@pytest.mark.parametrize("email", [ADMIN, ASSISTANTE, PARENT])
def test_the_coach_space_is_for_coaches(client, login, email):
    login(client, email)
    assert client.get("/dashboard/coach/remuneration").status_code == 403


def test_a_bad_month_says_so(staff):
    page = staff.get(f"{STAFF_LIST}?mois=2030-13")
    assert page.status_code == 200
    assert "Mois invalide" in html(page) and "mars 2030" in html(page)


def test_unknown_statement_is_not_found(staff):
    assert staff.get(f"{STAFF_LIST}/999999").status_code == 404
    assert staff.get(f"{STAFF_LIST}/999999.pdf").status_code == 404


# -- computing the month ------------------------------------------------------------------------


def test_computing_the_month_lists_every_coach(staff):
    rated("Hélios"), rated("Zénon")
    response = staff.post(f"{STAFF_LIST}/calculer", data={"mois": LAST_MONTH})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"?mois={LAST_MONTH}")
    page = html(staff.get(response.headers["Location"]))
    assert "Relevés de février 2030 calculés" in page, page
    assert "Hélios" in page and "Zénon" in page
    coaches = db.session.scalars(select(CoachStatement.coach_id).where(CoachStatement.month == LAST_MONTH))
    assert {factories.coach("Hélios").id, factories.coach("Zénon").id} <= set(coaches)


def test_a_coach_without_rate_is_flagged(staff):
    statement = statement_of("Zénon")
    db.session.execute(CoachRate.__table__.delete().where(CoachRate.coach_id == statement.coach_id))
    page = html(staff.get(f"{STAFF_LIST}?mois={LAST_MONTH}"))
    assert "Coachs sans tarif" in page and "Cours en ligne" in page
    detail = html(staff.get(f"{STAFF_LIST}/{statement.id}"))
    assert "Tarif manquant" in detail


# -- adjusting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        ("abc", "Prime", "Un montant en TND"),
        ("1e309", "Prime", "Un montant en TND"),
        ("", "Prime", "Un montant en TND"),
        ("0", "Prime", "zéro"),
        ("--5", "Prime", "Un montant en TND"),
        ("12,5", "", "motif"),
        ("12,5", "   ", "motif"),
        ("99999999", "Prime", "Un montant en TND"),
        ("20000", "Prime", "10 000 TND au plus"),
    ],
)
def test_a_bad_adjustment_is_refused_in_french(staff, amount, reason, message):
    statement = statement_of("Hélios")
    total = statement.total_millimes
    response = staff.post(f"{STAFF_LIST}/{statement.id}/ajuster", data={"amount": amount, "reason": reason})
    assert response.status_code == 422
    assert message in html(response)
    assert f'value="{amount}"' in html(response)  # what was typed is kept
    db.session.refresh(statement)
    assert statement.total_millimes == total and lines_of(statement) == 1


@pytest.mark.parametrize(("amount", "millimes"), [("-12,500", -12_500), ("+25", 25_000), ("7,25", 7_250)])
def test_an_adjustment_is_a_line_with_its_reason(staff, amount, millimes):
    statement = statement_of("Hélios")
    total = statement.total_millimes
    response = staff.post(
        f"{STAFF_LIST}/{statement.id}/ajuster", data={"amount": amount, "reason": "Séance de rattrapage"}
    )
    assert response.status_code == 303
    db.session.refresh(statement)
    assert statement.total_millimes == total + millimes
    line = statement.lines[-1]
    assert line.kind is LineKind.ADJUSTMENT and line.reason == "Séance de rattrapage"
    page = html(staff.get(f"{STAFF_LIST}/{statement.id}"))
    assert "Motif : Séance de rattrapage" in page and fr.tnd(statement.total_millimes) in page


# -- validating -----------------------------------------------------------------------------------


def validated(staff, statement: CoachStatement) -> CoachStatement:
    confirm = staff.get(f"{STAFF_LIST}/{statement.id}/valider")
    assert confirm.status_code == 200
    page = html(confirm)
    assert "Oui, valider le relevé" in page and fr.tnd(statement.total_millimes) in page
    assert f'name="expected_total" value="{statement.total_millimes}"' in page
    response = staff.post(
        f"{STAFF_LIST}/{statement.id}/valider",
        data={"confirm": "1", "expected_total": str(statement.total_millimes)},
    )
    assert response.status_code == 303
    db.session.refresh(statement)
    assert statement.status.is_validated
    return statement


def test_validation_freezes_and_numbers_the_statement(staff):
    statement = validated(staff, statement_of("Hélios"))
    assert statement.number == "REM-203002-0001"
    page = html(staff.get(f"{STAFF_LIST}/{statement.id}"))
    assert statement.number in page and "Validé" in page
    assert "Ajouter l'ajustement" not in page and "Valider le relevé" not in page
    assert "Télécharger le PDF" in page
    refused = staff.post(f"{STAFF_LIST}/{statement.id}/ajuster", data={"amount": "5", "reason": "Prime"})
    assert refused.status_code == 303
    assert "validé" in html(staff.get(refused.headers["Location"]))
    assert lines_of(statement) == 1
    again = staff.get(f"{STAFF_LIST}/{statement.id}/valider", follow_redirects=True)
    assert "déjà validé" in html(again)


def test_validation_without_confirmation_asks_first(staff):
    statement = statement_of("Hélios")
    response = staff.post(f"{STAFF_LIST}/{statement.id}/valider", data={"expected_total": "0"})
    assert response.status_code == 200 and "Oui, valider le relevé" in html(response)
    db.session.refresh(statement)
    assert not statement.status.is_validated


@pytest.mark.parametrize("expected", ["1", "abc", ""])
def test_validation_of_a_changed_total_is_refused(staff, expected):
    statement = statement_of("Hélios")
    response = staff.post(
        f"{STAFF_LIST}/{statement.id}/valider",
        data={"confirm": "1", "expected_total": expected},
        follow_redirects=True,
    )
    assert "relis" in html(response)
    db.session.refresh(statement)
    assert not statement.status.is_validated and statement.number is None


def test_the_pdf_and_the_csv_of_a_validated_statement(staff):
    statement = validated(staff, statement_of("Hélios"))
    pdf = staff.get(f"{STAFF_LIST}/{statement.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert statement.number in text
    sheet = staff.get(f"{STAFF_LIST}/{statement.id}.csv")
    assert sheet.status_code == 200 and sheet.mimetype == "text/csv"
    body = sheet.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Relevé" and len(rows) == 3  # header, the no-show, the total
    assert rows[1][0] == statement.number


# -- rates -----------------------------------------------------------------------------------------


def test_setting_a_rate_writes_its_history(client, login):
    login(client, ASSISTANTE)
    zenon = factories.coach("Zénon")
    url = f"/dashboard/assistante/coachs/{zenon.id}/tarifs"
    response = client.post(
        url, data={"modality": "ONLINE", "hourly": "33,500", "effective_from": "2030-04-01"}
    )
    assert response.status_code == 303
    rate = db.session.scalar(
        select(CoachRate).where(
            CoachRate.coach_id == zenon.id, CoachRate.effective_from == datetime(2030, 4, 1).date()
        )
    )
    assert rate.hourly_millimes == 33_500 and rate.modality is PayModality.ONLINE
    page = html(client.get(url))
    assert "33,500" in page and "01/04/2030" in page and user(ASSISTANTE).full_name in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"modality": "ONLINE", "hourly": "abc", "effective_from": "2030-04-01"}, "tarif horaire en TND"),
        ({"modality": "ONLINE", "hourly": "-3", "effective_from": "2030-04-01"}, "tarif horaire en TND"),
        ({"modality": "ONLINE", "hourly": "5000", "effective_from": "2030-04-01"}, "1 000 TND au plus"),
        ({"modality": "X", "hourly": "30", "effective_from": "2030-04-01"}, "modalité"),
        ({"modality": "ONLINE", "hourly": "30", "effective_from": "2030-02-30"}, "JJ/MM/AAAA"),
        ({"modality": "ONLINE", "hourly": "30", "effective_from": ""}, "JJ/MM/AAAA"),
    ],
)
def test_a_bad_rate_is_refused_in_french(staff, data, message):
    zenon = factories.coach("Zénon")
    before = db.session.scalar(select(func.count()).select_from(CoachRate))
    response = staff.post(f"/dashboard/assistante/coachs/{zenon.id}/tarifs", data=data)
    assert response.status_code == 422 and message in html(response)
    assert db.session.scalar(select(func.count()).select_from(CoachRate)) == before


def test_rates_of_an_unknown_coach_are_not_found(staff):
    assert staff.get("/dashboard/assistante/coachs/999999/tarifs").status_code == 404


# -- the pay rules ---------------------------------------------------------------------------------


def test_the_admin_sets_the_pay_rules(staff):
    page = html(staff.get("/dashboard/admin/parametres"))
    assert "Payer les absences de l'élève" in page and "Part payée d'une annulation tardive (%)" in page
    response = staff.post("/dashboard/admin/parametres/remuneration", data={"late_cancel_share": "30"})
    assert response.status_code == 303
    rules = coach_pay.pay_settings()
    assert rules.late_cancel_share == 30 and rules.pay_no_show is False
    refused = staff.post(
        "/dashboard/admin/parametres/remuneration", data={"pay_no_show": "y", "late_cancel_share": "150"}
    )
    assert refused.status_code == 422 and "de 0 à 100" in html(refused)
    assert coach_pay.pay_settings().late_cancel_share == 30


def test_the_assistante_does_not_change_the_pay_rules(client, login):
    login(client, ASSISTANTE)
    response = client.post("/dashboard/admin/parametres/remuneration", data={"late_cancel_share": "0"})
    assert response.status_code == 403
    assert coach_pay.pay_settings().late_cancel_share == 50


# -- the coach's space -------------------------------------------------------------------------------


def test_the_coach_reads_their_validated_statements(client, login, staff):
    statement = validated(staff, statement_of("Hélios"))
    other = validated(staff, statement_of("Zénon"))
    coach = client.application.test_client()
    login(coach, HELIOS)
    page = html(coach.get("/dashboard/coach/remuneration"))
    assert statement.number in page and other.number not in page and "Rémunération" in page
    detail = coach.get(f"/dashboard/coach/remuneration/{statement.id}")
    assert detail.status_code == 200 and fr.tnd(statement.total_millimes) in html(detail)
    pdf = coach.get(f"/dashboard/coach/remuneration/{statement.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    for path in (
        f"/dashboard/coach/remuneration/{other.id}",
        f"/dashboard/coach/remuneration/{other.id}.pdf",
    ):
        assert coach.get(path).status_code == 404
    assert coach.get(f"{STAFF_LIST}/{statement.id}").status_code == 403


def test_the_coach_sees_the_current_draft_as_provisional_only(client, login):
    past = statement_of("Hélios")  # a draft of last month: not shown to the coach
    current = coach_pay.refresh(user(ADMIN), past.coach_id, "2030-03")
    login(client, HELIOS)
    page = html(client.get("/dashboard/coach/remuneration"))
    assert "Provisoire" in page and "mars 2030" in page and "février 2030" not in page
    assert client.get(f"/dashboard/coach/remuneration/{current.id}").status_code == 200
    assert client.get(f"/dashboard/coach/remuneration/{past.id}").status_code == 404


# -- analytics -------------------------------------------------------------------------------------


def test_the_analytics_show_the_cost_of_coaching(staff):
    statement = validated(staff, statement_of("Hélios"))
    page = html(staff.get("/dashboard/admin/analytics"))
    assert "Coût du coaching" in page and "février 2030" in page
    assert fr.tnd(statement.total_millimes) in page
    sheet = staff.get("/dashboard/admin/analytics?format=csv&section=cout-coaching")
    assert sheet.status_code == 200
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    february = next(row for row in rows if row[0] == "février 2030")
    dinars, millimes = divmod(statement.total_millimes, 1000)
    assert february[2] == f"{dinars},{millimes:03d}"
