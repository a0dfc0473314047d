"""The coach's group report: once the workshop has started, one shared text and each participant's
part; every seat closed with its own report, each family reading its own child's part only; a
second submit (or 50 at once) writes nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.family import Student
from nexus.models.notifications import OutboxEmail
from nexus.models.scheduling import SessionReport, SessionStatus
from nexus.models.workshops import Workshop, WorkshopStatus
from nexus.services import ServiceError, workshops
from nexus.services.workshops.report import ALREADY_WRITTEN, SharedReport, write_group_report
from tests import factories
from tests.helpers import at_once, notifications_of, refusals, user
from tests.integration.scheduling_support import reminders_of
from tests.integration.test_workshop_pages import LINA, as_, classmate, html, plan
from tests.people import HELIOS, PARENT, PARENT2, SAMI, ZENON

SHARED = {
    "summary": "Les suites arithmétiques et géométriques, avec les exercices types du bac.",
    "topics": "Suites, récurrence, sommes",
    "recommendations": "Refaire les exercices 3 et 4 de la fiche.",
    "homework": "Fiche 2",
    "next_focus": "",
}
SAMI_NOTE = "Sami a brillé sur la récurrence."
LINA_NOTE = "Lina était absente : la fiche est à rattraper."


@pytest.fixture
def seated(app):
    """A workshop with Sami (Hichem's) and Lina (Nadia's) in it, then the clock one hour past its start."""
    workshop = plan()
    lina = db.session.get(Student, classmate(LINA, "Lina"))
    sami = factories.student(SAMI)
    seats = {
        SAMI: workshops.book_seat(user(SAMI), sami, workshop.id),
        LINA: workshops.book_seat(user(LINA), lina, workshop.id),
    }
    db.session.commit()
    return workshop, seats


def report_form(seats, **changes: str) -> dict[str, str]:
    sami, lina = seats[SAMI].id, seats[LINA].id
    parts = {f"present_{sami}": "y", f"rating_{sami}": "5", f"note_{sami}": SAMI_NOTE}
    parts |= {f"rating_{lina}": "2", f"note_{lina}": LINA_NOTE}  # Lina not ticked: absent
    return SHARED | parts | changes


def report_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SessionReport)) or 0


def test_the_report_waits_for_the_start(client, login, seated):
    workshop, seats = seated
    login(client, HELIOS)
    url = f"/dashboard/coach/ateliers/{workshop.id}/rapport"
    assert "L'atelier n'a pas encore commencé." in html(client.get(url))
    response = client.post(url, data=report_form(seats))
    assert response.status_code == 422 and "pas encore commencé" in html(response)
    assert report_count() == 0


def test_the_group_report_gives_each_family_its_own_child_part(app, client, login, seated):
    workshop, seats = seated
    with time_machine.travel(workshop.starts_at + timedelta(hours=1), tick=False):
        login(client, HELIOS)
        url = f"/dashboard/coach/ateliers/{workshop.id}/rapport"
        form = html(client.get(url))
        assert "Sami Gharbi" in form and "Lina Test" in form and 'name="summary"' in form
        response = client.post(url, data=report_form(seats))
        assert response.status_code == 303
        assert "chaque famille reçoit la partie de son enfant" in html(
            client.get(response.headers["Location"])
        )

        db.session.expire_all()
        assert db.session.get(Workshop, workshop.id).status is WorkshopStatus.COMPLETED
        sami_seat, lina_seat = (db.session.get(type(s), s.id) for s in (seats[SAMI], seats[LINA]))
        for seat in (sami_seat, lina_seat):
            assert seat.status is SessionStatus.COMPLETED and seat.completed_at is not None
            assert seat.report.summary == SHARED["summary"] and seat.report.homework == "Fiche 2"
            assert all(r.cancelled_at is not None or r.sent_at is not None for r in reminders_of(seat.id))
        assert (sami_seat.report.attended, sami_seat.report.rating, sami_seat.report.progress_notes) == (
            True,
            5,
            SAMI_NOTE,
        )
        assert (lina_seat.report.attended, lina_seat.report.rating) == (False, 2)
        assert notifications_of(SAMI, "SESSION_REPORT") and notifications_of(PARENT2, "SESSION_REPORT")
        mails = {
            m.to_email: m
            for m in db.session.scalars(select(OutboxEmail).where(OutboxEmail.template == "session_report"))
        }
        assert set(mails) == {PARENT2, PARENT}
        assert SAMI_NOTE in str(mails[PARENT2].context) and LINA_NOTE not in str(mails[PARENT2].context)
        assert LINA_NOTE in str(mails[PARENT].context) and SAMI_NOTE not in str(mails[PARENT].context)

        # Each family reads its own child's report on its own session page, and only that one.
        hichem = as_(app, login, PARENT2)
        page = html(hichem.get(f"/dashboard/sessions/{sami_seat.id}"))
        assert SAMI_NOTE in page and LINA_NOTE not in page and "Lina" not in page
        assert hichem.get(f"/dashboard/sessions/{lina_seat.id}").status_code == 404
        lina = as_(app, login, LINA)
        page = html(lina.get(f"/dashboard/sessions/{lina_seat.id}"))
        assert LINA_NOTE in page and SAMI_NOTE not in page and "Absent(e)" in page
        assert lina.get(f"/dashboard/sessions/{sami_seat.id}").status_code == 404
        nadia = as_(app, login, PARENT)
        assert SAMI_NOTE not in html(nadia.get(f"/dashboard/sessions/{lina_seat.id}"))

        # A second submit: already written, nothing more.
        again = client.post(url, data=report_form(seats))
        assert again.status_code == 409 and "déjà rédigé" in html(again)
        assert report_count() == 2
        page = html(client.get(url))
        assert "déjà rédigé" in page and SAMI_NOTE in page  # the coach sees what was sent


def test_a_missing_rating_or_a_short_summary_is_refused_and_kept(client, login, seated):
    workshop, seats = seated
    lina = seats[LINA].id
    with time_machine.travel(workshop.starts_at + timedelta(hours=1), tick=False):
        login(client, HELIOS)
        url = f"/dashboard/coach/ateliers/{workshop.id}/rapport"
        response = client.post(url, data=report_form(seats, **{f"rating_{lina}": ""}))
        page = html(response)
        assert response.status_code == 422 and "Choisissez une appréciation de 1 à 5." in page
        assert SAMI_NOTE in page and LINA_NOTE in page  # nothing typed is lost
        response = client.post(url, data=report_form(seats, summary="Court"))
        assert response.status_code == 422 and "Entre 20 et 4000 caractères." in html(response)
        response = client.post(url, data=report_form(seats, **{f"note_{lina}": "a\x1bb"}))
        assert response.status_code == 422
        assert report_count() == 0
        assert db.session.get(Workshop, workshop.id).status is WorkshopStatus.SCHEDULED


def test_another_coach_cannot_write_it(client, login, seated):
    workshop, seats = seated
    with time_machine.travel(workshop.starts_at + timedelta(hours=1), tick=False):
        login(client, ZENON)
        response = client.post(f"/dashboard/coach/ateliers/{workshop.id}/rapport", data=report_form(seats))
        assert response.status_code == 404
        with pytest.raises(LookupError):
            write_group_report(
                user(ZENON), workshop.id, SharedReport("x" * 20, "y" * 10, "z" * 10), {}, {}, {}
            )
    assert report_count() == 0


def test_a_workshop_without_participants_is_closed_by_its_report(client, login):
    workshop = plan()
    with time_machine.travel(workshop.starts_at + timedelta(hours=1), tick=False):
        login(client, HELIOS)
        url = f"/dashboard/coach/ateliers/{workshop.id}/rapport"
        assert "Aucun participant" in html(client.get(url))
        assert client.post(url, data=SHARED).status_code == 303
    assert db.session.get(Workshop, workshop.id).status is WorkshopStatus.COMPLETED


@pytest.mark.committed
def test_fifty_submits_at_once_write_one_report_per_seat(app):
    with app.app_context():
        workshop = plan()
        lina = db.session.get(Student, classmate(LINA, "Lina"))
        seats = [
            workshops.book_seat(user(SAMI), factories.student(SAMI), workshop.id),
            workshops.book_seat(user(LINA), lina, workshop.id),
        ]
        workshop_id, seat_ids, after = (
            workshop.id,
            [s.id for s in seats],
            workshop.starts_at + timedelta(hours=1),
        )
        db.session.commit()
    shared = SharedReport(SHARED["summary"], SHARED["topics"], SHARED["recommendations"])

    def attempt(_: int) -> int:
        attendance = dict.fromkeys(seat_ids, True)
        ratings = dict.fromkeys(seat_ids, 4)
        return len(write_group_report(user(HELIOS), workshop_id, shared, attendance, {}, ratings, now=after))

    results = at_once(app, attempt)
    refused = refusals(results)
    assert len(refused) == 49 and {r.message for r in refused} == {ALREADY_WRITTEN}
    assert [r for r in results if not isinstance(r, ServiceError)] == [2]
    with app.app_context():
        reports = list(
            db.session.scalars(select(SessionReport).where(SessionReport.booking_id.in_(seat_ids)))
        )
        assert len(reports) == 2 and all(r.progress_notes for r in reports)
        sent = db.session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.template == "session_report")
        )
        assert sent == 2  # Hichem and Nadia, once each


def test_the_coach_closes_a_seat_only_with_the_group(client, login, seated):
    """The one-to-one report and no-show refuse a seat; the coach's sessions page lists the
    workshop to close once, not its seats, and the seat's page leads to the group report."""
    workshop, seats = seated
    with time_machine.travel(workshop.starts_at + timedelta(hours=1), tick=False):
        login(client, HELIOS)
        page = html(client.get("/dashboard/coach/sessions"))
        assert "Ateliers à clôturer" in page and f"/dashboard/coach/ateliers/{workshop.id}/rapport" in page
        assert f"/dashboard/coach/sessions/{seats[SAMI].id}/rapport" not in page
        seat_page = html(client.get(f"/dashboard/sessions/{seats[SAMI].id}"))
        assert "Compte rendu de l'atelier" in seat_page and "Signaler une absence" not in seat_page
        assert f"Atelier « {workshop.title} »" in seat_page
        for action in ("rapport", "absence"):
            response = client.post(
                f"/dashboard/coach/sessions/{seats[SAMI].id}/{action}",
                data=SHARED | {"rating": "4", "attended": "y", "progress_notes": "x", "confirm": "1"},
            )
            assert response.status_code in (303, 409, 422)
    assert report_count() == 0
    assert db.session.get(Workshop, workshop.id).status is WorkshopStatus.SCHEDULED
    assert seats[SAMI].status is SessionStatus.SCHEDULED
