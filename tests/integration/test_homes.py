"""The family homes: per child the next session, the latest report, and the lazy progress panel
(stored Nexus Index with what it is made of, badges, trajectory, chart), each for the right
child only; the panel also answers as a page of its own, so the home is complete without JS."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.aria import AriaConversation
from nexus.models.assessments import Assessment, Score, TestMode, TestStatus
from nexus.models.common import Grade, Subject
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.progress import BadgeAward, IndexLevel, IndexSnapshot
from nexus.models.scheduling import SessionReport, SessionStatus
from nexus.services import utcnow
from tests import factories
from tests.helpers import html
from tests.people import HX, PARENT, PARENT2, SAMI, YASMINE

SVG = "{http://www.w3.org/2000/svg}"
DETAILS = {
    "attendance": {"sessions": 5, "attended": 4, "unknown": 0, "absent": 1, "no_show": 0, "late_cancel": 0},
    "progression": {"ratings": 3, "mean_rating": 4.0, "tests_compared": 1, "mastery_gain": 6.5},
    "engagement": {"aria_questions": 7, "aria_feedback": 2, "reports": 3, "reports_read": 2},
    "regularity": {"weeks": 12, "active_weeks": 9},
}


def snapshot(student_id: int, days_ago: int, score: int | None, trend: str | None = None) -> None:
    db.session.add(
        IndexSnapshot(
            student_id=student_id,
            computed_at=utcnow() - timedelta(days=days_ago),
            score=score,
            level=None if score is None else IndexLevel.GOOD,
            attendance=None if score is None else Decimal("80"),
            progression=None if score is None else Decimal("68.5"),
            engagement=None if score is None else Decimal("55"),
            regularity=None if score is None else Decimal("75"),
            trend=None if trend is None else Decimal(trend),
            details=DETAILS if score is not None else {},
            cause="test",
        )
    )


def ssn(student_id: int, days_ago: int, value: float, subject: Subject = Subject.MATHEMATIQUES) -> None:
    at = utcnow() - timedelta(days=days_ago)
    test = Assessment(
        student_id=student_id,
        mode=TestMode.ADAPTIVE,
        subject=subject,
        grade=Grade.TERMINALE,
        status=TestStatus.COMPLETED,
        started_at=at,
        completed_at=at,
    )
    db.session.add(test)
    db.session.flush()
    db.session.add(
        Score(
            assessment_id=test.id,
            student_id=student_id,
            subject=subject,
            grade=Grade.TERMINALE,
            theta=0.1,
            standard_error=0.3,
            ssn=value,
            cohort_size=40,
            measured_at=at,
        )
    )


def report(booking_id: int) -> None:
    db.session.add(
        SessionReport(
            booking_id=booking_id,
            summary="Bonne séance.",
            topics="Suites",
            rating=4,
            progress_notes="En progrès.",
            recommendations="Refaire les exercices.",
            attended=True,
        )
    )


def panel(client, student_id: int, hx: bool = False) -> str:  # type: ignore[no-untyped-def]
    """The child's progress page (no JS), or with htmx its lazy chart panel."""
    response = client.get(f"/dashboard/parent/enfants/{student_id}/progression", headers=HX if hx else {})
    assert response.status_code == 200
    return html(response)


def chart_of(page: str) -> ET.Element:
    svg = re.search(r'<svg [^>]*class="chart chart-progress".*?</svg>', page, flags=re.DOTALL)
    assert svg, "no chart"
    return ET.fromstring(svg.group(0))  # noqa: S314 - our own output


def series_markers(root: ET.Element) -> dict[str, int]:
    """Markers per series (the legend's sample markers excluded)."""
    found: dict[str, int] = {}
    for group in root.iter(f"{SVG}g"):
        cls = group.get("class", "")
        if cls.startswith("chart-series chart-series-"):
            shapes = [e for e in group if e.tag in (f"{SVG}circle", f"{SVG}rect", f"{SVG}polygon")]
            found[cls.split()[-1]] = len(shapes)
    return found


# -- the parent's home ------------------------------------------------------------------------


def test_each_child_card_shows_its_own_next_session_and_latest_report(client, login):
    yasmine, sami = factories.student(YASMINE), factories.student(SAMI)
    helios = factories.coach("Hélios")
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    later = factories.booking(yasmine.id, helios.id, now + timedelta(days=5))
    soon = factories.booking(yasmine.id, helios.id, now + timedelta(days=2))
    old = factories.booking(yasmine.id, helios.id, now - timedelta(days=9), status=SessionStatus.COMPLETED)
    last = factories.booking(yasmine.id, helios.id, now - timedelta(days=3), status=SessionStatus.COMPLETED)
    report(old.id)
    report(last.id)
    other = factories.booking(sami.id, helios.id, now + timedelta(days=1))
    other_past = factories.booking(
        sami.id, helios.id, now - timedelta(days=1), status=SessionStatus.COMPLETED
    )
    report(other_past.id)
    db.session.commit()

    login(client, PARENT)
    page = html(client.get("/dashboard/parent"))
    card = page.split(f'id="enfant-{yasmine.id}"', 1)[1].split("</section>", 1)[0]
    session_ids = re.findall(r'href="/dashboard/sessions/(\d+)"', card)
    assert session_ids == [str(soon.id), str(last.id)]  # the next one, then the latest report
    assert "Dernier compte rendu" in card and "avec Hélios" in card and "nouveau" in card
    assert str(later.id) not in session_ids
    for foreign in (other.id, other_past.id):
        assert f"/dashboard/sessions/{foreign}" not in page
    assert f"/dashboard/parent/enfants/{sami.id}/progression" not in page


def test_the_panel_shows_the_stored_index_with_its_parts_trend_badges_and_chart(client, login):
    yasmine = factories.student(YASMINE)
    snapshot(yasmine.id, 40, 48)
    snapshot(yasmine.id, 20, 55)
    snapshot(yasmine.id, 1, 62, trend="5")
    ssn(yasmine.id, 30, 51.5)
    ssn(yasmine.id, 2, 58.25)
    ssn(yasmine.id, 2, 44, Subject.NSI)
    db.session.add(BadgeAward(student_id=yasmine.id, badge=_first_badge(), awarded_at=utcnow()))
    db.session.commit()

    login(client, PARENT)
    home = html(client.get("/dashboard/parent"))
    card = home.split(f'id="enfant-{yasmine.id}"', 1)[1].split("</section>", 1)[0]
    page = panel(client, yasmine.id)  # the whole progress, as a page
    for shown in (card, page):
        assert "<strong>62</strong>/100 · Bon" in shown and "↗ +5 points" in shown
        assert "1 sur 15" in shown and "séances suivies : 4 sur 5 · absence : 1" in shown
    assert "chart-progress" not in card  # the chart is the lazy part
    fragment = panel(client, yasmine.id, hx=True)
    assert (
        "<html" not in fragment
        and fragment.count("<svg") == 1
        and "Indice Nexus" not in card.split("<h3>")[0]
    )
    assert fragment.lstrip().startswith(f'<div class="chart-panel" id="courbe-{yasmine.id}">')
    for label, weight in [("Assiduité", 30), ("Progression", 30), ("Engagement", 20), ("Régularité", 20)]:
        assert f'{label} <span class="muted small">({weight} %)</span>' in page
    assert "séances suivies : 4 sur 5 · absence : 1" in page and "semaines actives : 9 sur 12" in page
    assert "68,5" in page
    assert "1 sur 15" in page
    root = chart_of(page)
    assert root.find(f"{SVG}title").text == "Progression de Yasmine"
    desc = root.find(f"{SVG}desc").text
    assert "Indice Nexus : 48" in desc and "58,3" in desc and "SSN NSI : 44" in desc
    assert series_markers(root) == {"chart-series-0": 3, "chart-series-1": 2, "chart-series-2": 1}
    dashes = {line.get("stroke-dasharray") for line in root.iter(f"{SVG}polyline")}
    assert len(dashes) == 2  # index solid (no dasharray), maths dashed: told apart without colour
    table = page.split("<details>", 1)[1].split("</details>", 1)[0]
    assert '<th scope="col">Indice Nexus</th>' in table and table.count("<tr>") == 1 + 5


def _first_badge() -> str:
    from nexus.services.progress.badges import BADGES

    return BADGES[0].code


def test_not_enough_data_is_said_never_a_number(client, login):
    yasmine = factories.student(YASMINE)
    snapshot(yasmine.id, 1, None)
    db.session.commit()
    login(client, PARENT)
    page = panel(client, yasmine.id)
    assert "Pas encore assez de données pour un indice." in page
    assert "assiduité (30 %), progression (30 %), engagement (20 %), régularité (20 %)." in page
    assert "/100" not in page and "chart-progress" not in page  # no number, no empty chart
    assert "Pas encore de courbe" in panel(client, yasmine.id, hx=True)
    adam_id = db.session.scalar(
        select(Student.id).join(User, Student.user_id == User.id).where(User.first_name == "Adam")
    )
    page = panel(client, adam_id)  # never computed at all
    assert "Pas encore assez de données pour un indice." in page and "/100" not in page


def test_another_familys_child_panel_is_not_found(client, login):
    sami, yasmine = factories.student(SAMI), factories.student(YASMINE)
    snapshot(sami.id, 1, 71, trend="-3")
    db.session.commit()
    login(client, PARENT)
    assert client.get(f"/dashboard/parent/enfants/{sami.id}/progression", headers=HX).status_code == 404
    assert client.get(f"/dashboard/parent/enfants/{sami.id}/progression").status_code == 404
    assert client.get("/dashboard/parent/enfants/999999999/progression").status_code == 404
    client.post("/auth/signout")
    login(client, PARENT2)
    page = panel(client, sami.id)
    assert "<strong>71</strong>/100" in page and "↘ −3 points" in page
    assert client.get(f"/dashboard/parent/enfants/{yasmine.id}/progression").status_code == 404


def test_without_javascript_the_home_links_each_panel_which_is_a_whole_page(client, login):
    yasmine = factories.student(YASMINE)
    snapshot(yasmine.id, 1, 62)
    db.session.commit()
    login(client, PARENT)
    home = html(client.get("/dashboard/parent"))
    url = f"/dashboard/parent/enfants/{yasmine.id}/progression"
    assert f'<a href="{url}">Voir la courbe de progression de Yasmine</a>' in home
    assert 'hx-get="/dashboard/parent/progression" hx-trigger="revealed" hx-swap="none"' in home
    assert "<strong>62</strong>/100" in home  # the index is on the home itself
    page = html(client.get(url))
    assert "<html" in page and "<h1>Progression de Yasmine</h1>" in page
    assert "<strong>62</strong>/100" in page and "chart-progress" in page
    assert 'href="/dashboard/parent"' in page


# -- the student's home -----------------------------------------------------------------------


def test_the_students_home_shows_their_own_conversations_and_progress(client, login):
    yasmine, sami = factories.student(YASMINE), factories.student(SAMI)
    now = utcnow()
    mine = []
    for n in range(4):
        row = AriaConversation(student_id=yasmine.id, subject=Subject.MATHEMATIQUES, title=f"Question {n}")
        row.updated_at = now - timedelta(hours=10 - n)
        db.session.add(row)
        mine.append(row)
    theirs = AriaConversation(student_id=sami.id, subject=Subject.MATHEMATIQUES, title="Celle de Sami")
    db.session.add(theirs)
    snapshot(yasmine.id, 1, 62)
    snapshot(sami.id, 1, 33)
    db.session.commit()

    login(client, YASMINE)
    page = html(client.get("/dashboard/eleve"))
    listed = page.split("<h2>Mes dernières questions à ARIA</h2>", 1)[1].split("</section>", 1)[0]
    ids = re.findall(r'href="/dashboard/eleve/aria/conversations/(\d+)"', listed)
    assert ids == [str(c.id) for c in reversed(mine[1:])]  # the three latest, newest first
    assert "Celle de Sami" not in page
    assert 'hx-get="/dashboard/eleve/progression" hx-trigger="revealed"' in page
    assert '<a href="/dashboard/eleve/progression">Voir ma courbe de progression</a>' in page
    assert "Mon indice Nexus" in page and "<strong>62</strong>/100" in page
    assert "<strong>33</strong>" not in page
    chart = html(client.get("/dashboard/eleve/progression", headers=HX))
    assert f'id="courbe-{yasmine.id}"' in chart and "Progression de Yasmine" in chart
    assert "<strong>33</strong>" not in html(client.get("/dashboard/eleve/progression"))
    assert client.get(f"/dashboard/parent/enfants/{yasmine.id}/progression").status_code in (403, 404)


def test_one_request_brings_every_childs_progress_into_its_card(client, login):
    yasmine, sami = factories.student(YASMINE), factories.student(SAMI)
    snapshot(yasmine.id, 1, 62)
    snapshot(sami.id, 1, 33)
    db.session.commit()
    login(client, PARENT)
    home = html(client.get("/dashboard/parent"))
    placeholders = re.findall(r'<div class="lazy" id="courbe-(\d+)">', home)
    assert str(yasmine.id) in placeholders and len(placeholders) == 2  # Yasmine and Adam
    assert home.count('hx-trigger="revealed"') == 1  # one request for all the charts
    response = client.get("/dashboard/parent/progression", headers=HX)
    page = html(response)
    swapped = re.findall(r'<div class="chart-panel" id="courbe-(\d+)" hx-swap-oob="true">', page)
    assert swapped == placeholders  # each child's chart goes into its own card, nothing else
    assert "Progression de Yasmine" in page and "Progression de Sami" not in page
    assert '<div id="courbes-chargement" hx-swap-oob="delete"></div>' in page and "<html" not in page
    whole = html(client.get("/dashboard/parent/progression"))  # without JavaScript: a page
    assert "<h1>La progression de vos enfants</h1>" in whole and "<h2>Adam</h2>" in whole


def test_both_homes_show_the_next_step_card_from_next_steps(client, login):
    login(client, PARENT)
    page = html(client.get("/dashboard/parent"))
    card = page.split('<section class="card next-step"', 1)[1].split("</section>", 1)[0]
    assert "Prochaine étape" in card and 'data-step="' in card
    step = re.search(r'<a class="button" href="([^"]+)"', card).group(1)
    assert client.get(step).status_code == 200
    client.post("/auth/signout")
    login(client, YASMINE)
    page = html(client.get("/dashboard/eleve"))
    card = page.split('<section class="card next-step"', 1)[1].split("</section>", 1)[0]
    step = re.search(r'<a class="button" href="([^"]+)"', card).group(1)
    assert client.get(step).status_code == 200


def test_a_read_shared_by_a_page_is_made_once_and_again_after_any_write(app):
    """nexus.memo: the cards and the next step read the balances once per request, and a write
    (a flush, a statement, a commit) makes the next read go to the database again."""
    from sqlalchemy import event

    from nexus.models.credits import LotSource
    from nexus.services import credits

    yasmine = factories.student(YASMINE)
    queries: list[str] = []

    def count(*args: object) -> None:
        queries.append(str(args[2]))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with app.test_request_context():
            before = credits.balances([yasmine.id])
            again = credits.balances([yasmine.id])
            assert again == before and len(queries) == 1  # once for the request
            again[yasmine.id] = Decimal(99)  # a caller's change stays its own
            assert credits.balances([yasmine.id]) == before
            credits.grant(yasmine.id, Decimal(2), LotSource.MANUAL, utcnow() + timedelta(days=30))
            assert credits.balances([yasmine.id])[yasmine.id] == before[yasmine.id] + 2
        with app.test_request_context():  # a new request reads again
            queries.clear()
            credits.balances([yasmine.id])
            assert len(queries) == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)
