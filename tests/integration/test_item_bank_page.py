"""The staff page of the question bank: the items, their calibration, an item's page; staff only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nexus.extensions import db
from nexus.models.assessments import Assessment, Item, Response, TestMode, TestStatus
from nexus.models.common import Grade, Subject
from nexus.services import utcnow
from tests.people import ADMIN, ASSISTANTE, COACH, HX, PARENT, YASMINE

PAGE = "/dashboard/assistante/banque-questions"


@pytest.fixture
def items() -> dict[str, Item]:
    def item(
        key: str, subject: Subject, grade: Grade, domain: str, skill: str, prior: float, **extra
    ) -> Item:
        return Item(
            key=key, subject=subject, grade=grade, domain=domain, skill=skill,
            stem=extra.pop("stem", f"Énoncé de {key} : que vaut $x^2$ ?"),
            choices=["$1$", "$2$", "`trois`", "quatre <b>"], answer=1,
            explanation="Car $\\sqrt{4} = 2$.", prior_difficulty=prior, difficulty=prior, **extra,
        )  # fmt: skip

    rows = {
        "fresh": item(
            "zz-page-fresh", Subject.MATHEMATIQUES, Grade.TERMINALE, "logarithme", "proprietes", 0.5
        ),
        "calibrated": item(
            "zz-page-calibrated",
            Subject.NSI,
            Grade.PREMIERE,
            "tables",
            "tri",
            -1.25,
            calibrated_at=utcnow() - timedelta(days=2),
            calibration_answers=42,
        ),
        "retired": item("zz-page-retired", Subject.NSI, Grade.PREMIERE, "web", "http", 1.0, active=False),
    }
    rows["calibrated"].difficulty = -0.8
    db.session.add_all(rows.values())
    db.session.flush()
    # Three answers to the calibrated item, in three tests: right (B), wrong (D), "je ne sais pas".
    for choice, correct in [(1, True), (3, False), (None, False)]:
        test = Assessment(
            participant_email="page@example.tn", mode=TestMode.FIXED, grade=Grade.PREMIERE,
            status=TestStatus.COMPLETED, started_at=utcnow(), completed_at=utcnow(),
        )  # fmt: skip
        db.session.add(test)
        db.session.flush()
        db.session.add(
            Response(
                assessment_id=test.id, item_id=rows["calibrated"].id, position=0,
                choice=choice, correct=correct, elapsed_ms=1000,
            )
        )  # fmt: skip
    db.session.commit()
    return rows


@pytest.mark.parametrize("staff", [ADMIN, ASSISTANTE])
def test_staff_see_the_bank(auth, client, items, staff: str) -> None:
    auth.login(staff)
    page = client.get(PAGE + "?q=zz-page")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Banque de questions" in html
    assert "zz-page-fresh" in html and "zz-page-calibrated" in html and "zz-page-retired" in html
    assert "retirée" in html
    assert "Fonction logarithme" in html and "Mathématiques — Terminale" in html
    assert "\u22121,25" in html and "\u22120,8" in html  # prior and current, French decimals
    assert "jamais" in html  # the fresh item was never calibrated
    assert (utcnow() - timedelta(days=2)).strftime("%d/%m/%Y") in html and "42 réponses" in html
    # Two answers (one right), one "je ne sais pas": 50 % success among the attempted.
    assert "(+ 1 « je ne sais pas »)" in html and "50\u00a0%" in html
    # One line per bank on top: NSI Première has our calibrated item and its three answers.
    assert f'href="{PAGE}?banque=nsi-premiere">NSI — Première</a>' in html
    summary = html[html.index("Les quatre banques") : html.index("</table>")]
    nsi = summary[summary.index("NSI — Première") :]
    cells = [
        c.split(">", 1)[1].split("<", 1)[0] for c in nsi.split('<td data-label="')[1:5]
    ]  # after "Banque"
    assert cells[1:4] == [
        "1",
        "3",
        (utcnow() - timedelta(days=2)).strftime("%d/%m/%Y"),
    ]  # calibrated, answers, last
    # The sidebar links here.
    assert f'href="{PAGE}"' in html


def test_filters_and_fragment(auth, client, items) -> None:
    auth.login(ASSISTANTE)
    html = client.get(PAGE + "?banque=nsi-premiere&q=zz-page").get_data(as_text=True)
    assert "zz-page-calibrated" in html and "zz-page-fresh" not in html
    html = client.get(PAGE + "?domaine=nsi-premiere/tables&q=zz-page").get_data(as_text=True)
    assert "zz-page-calibrated" in html and "zz-page-retired" not in html
    html = client.get(PAGE + "?etat=calibrees&q=zz-page").get_data(as_text=True)
    assert "zz-page-calibrated" in html and "zz-page-fresh" not in html
    html = client.get(PAGE + "?etat=a-calibrer&q=zz-page").get_data(as_text=True)
    assert "zz-page-fresh" in html and "zz-page-calibrated" not in html and "zz-page-retired" not in html
    html = client.get(PAGE + "?etat=retirees&q=zz-page").get_data(as_text=True)
    assert "zz-page-retired" in html and "zz-page-fresh" not in html
    # A domain of another bank than the one chosen is ignored, odd values are harmless.
    html = client.get(PAGE + "?banque=nsi-premiere&domaine=maths-terminale/logarithme&q=zz-page").get_data(
        as_text=True
    )
    assert "zz-page-calibrated" in html and "zz-page-fresh" not in html
    assert client.get(PAGE + "?banque=x&domaine=/&etat=%27&page=99999999").status_code == 200
    fragment = client.get(PAGE + "?q=zz-page-fresh", headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and 'id="items-table"' in body
    assert "zz-page-fresh" in body


def test_the_items_of_the_real_bank_are_listed(auth, client) -> None:
    """The seed loads the bank's files: the table has them, 50 a page."""
    auth.login(ADMIN)
    html = client.get(PAGE + "?banque=maths-terminale").get_data(as_text=True)
    assert "Page 1 sur" in html and html.count('data-label="Question"') == 50


def test_item_page(auth, client, items) -> None:
    auth.login(ASSISTANTE)
    item = items["calibrated"]
    page = client.get(f"{PAGE}/{item.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Question zz-page-calibrated" in html
    assert "<math" in html  # formulas as MathML
    assert "<code>trois</code>" in html and "quatre &lt;b&gt;" in html  # code, and text escaped
    assert "bonne réponse" in html and "Car " in html
    assert "Traitement des données en tables" in html and "NSI — Première" in html
    assert "sur 42 réponses" in html and "50\u00a0% (1 sur 2)" in html
    assert f'href="{PAGE}" aria-current="page"' in html  # the sidebar's entry
    assert "« Je ne sais pas » : 1 fois" in html
    fresh = client.get(f"{PAGE}/{items['fresh'].id}").get_data(as_text=True)
    assert "jamais" in fresh and "—" in fresh
    assert client.get(f"{PAGE}/999999999").status_code == 404


@pytest.mark.parametrize("who", [YASMINE, PARENT, COACH])
def test_others_are_refused(auth, client, items, who: str) -> None:
    auth.login(who)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/{items['fresh'].id}").status_code == 403
    assert PAGE not in client.get("/dashboard").get_data(as_text=True)


def test_signed_out_is_sent_to_sign_in(client, items) -> None:
    response = client.get(PAGE)
    assert response.status_code in (302, 303) and "/auth/signin" in response.headers["Location"]
