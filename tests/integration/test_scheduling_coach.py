"""The coach: weekly grid and exceptions (without JavaScript and inline), sessions, reports, no-shows,
students; and the video room shared by coach and student."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from nexus import fr
from nexus.extensions import db
from nexus.models.catalog import ServiceType
from nexus.models.scheduling import (
    AvailabilityException,
    CoachAvailability,
    SessionReport,
    SessionStatus,
)
from nexus.services import credits, utcnow
from nexus.services.scheduling import slots
from tests import factories
from tests.helpers import html, notifications_of
from tests.integration.scheduling_support import balance
from tests.people import HELIOS, HX, PARENT, PARENT2, SAMI, YASMINE, ZENON
from tests.servers import body_text


def windows(coach_id: int, weekday: int) -> list[str]:
    rows = db.session.scalars(
        select(CoachAvailability)
        .where(CoachAvailability.coach_id == coach_id, CoachAvailability.weekday == weekday)
        .order_by(CoachAvailability.start_time)
    )
    return [f"{r.start_time:%H:%M}-{r.end_time:%H:%M}" for r in rows]


def paid(student, coach, minutes_from_now: float, service=ServiceType.COURS_ONLINE):
    booking = factories.booking(student.id, coach.id, utcnow() + timedelta(minutes=minutes_from_now))
    booking.service = service
    credits.consume(student.id, booking.credits_cost, booking.id)
    db.session.flush()
    return booking


# -- availability --------------------------------------------------------------------------------


def test_the_grid_shows_the_week(client, login):
    login(client, HELIOS)
    page = html(client.get("/dashboard/coach/availability"))
    assert "<h1>Disponibilités</h1>" in page
    assert page.count('value="14:00"') == 5 and page.count('value="19:00"') == 5
    assert 'form="day-form-5"' in page and 'id="day-form-5"' in page


def test_a_day_saves_without_javascript(client, login, helios):
    login(client, HELIOS)
    response = client.post(
        "/dashboard/coach/availability/jour/5",
        data={"start_0": "09:00", "end_0": "12:00", "start_1": "14:00", "end_1": "16:00"},
    )
    assert response.status_code == 303
    assert windows(helios.id, 5) == ["09:00-12:00", "14:00-16:00"]
    assert "Samedi enregistré." in html(client.get(response.headers["Location"]))
    saturday = fr.local_today(utcnow()) + timedelta(days=7)
    while saturday.weekday() != 5:
        saturday += timedelta(days=1)
    days = slots.free_slots(helios.id, 60, saturday, 1)
    assert [s.local_start.strftime("%H:%M") for s in days[0].slots] == [
        "09:00",
        "10:00",
        "11:00",
        "14:00",
        "15:00",
    ]


def test_a_day_saves_inline_with_htmx_and_returns_its_row(client, login, helios):
    login(client, HELIOS)
    response = client.post(
        "/dashboard/coach/availability/jour/0", data={"start_0": "08:00", "end_0": "10:00"}, headers=HX
    )
    assert response.status_code == 200
    row = html(response)
    assert row.strip().startswith('<tr id="day-0">') and "<html" not in row
    assert 'value="08:00"' in row and "Lundi enregistré." in row
    assert windows(helios.id, 0) == ["08:00-10:00"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start_0": "15:00", "end_0": "14:00"}, "La fin doit être après le début."),
        ({"start_0": "14:00", "end_0": "14:30"}, "Un créneau dure au moins 1 heure."),
        ({"start_0": "14:00", "end_0": ""}, "Indiquez le début et la fin du créneau."),
        ({"start_0": "14:00", "end_0": "17:00", "start_1": "16:00", "end_1": "18:00"}, "se chevauchent"),
        ({"start_0": "quatorze", "end_0": "17:00"}, "au format HH:MM"),
    ],
)
def test_a_bad_row_is_refused_in_french_and_keeps_what_was_typed(client, login, helios, data, message):
    login(client, HELIOS)
    response = client.post("/dashboard/coach/availability/jour/1", data=data)
    assert response.status_code == 422
    page = html(response)
    assert message in page and f'value="{data["start_0"]}"' in page
    assert windows(helios.id, 1) == ["14:00-19:00"]
    inline = client.post("/dashboard/coach/availability/jour/1", data=data, headers=HX)
    assert inline.status_code == 422 and message in html(inline) and "<html" not in html(inline)


def test_an_empty_row_clears_the_day(client, login, helios):
    login(client, HELIOS)
    client.post("/dashboard/coach/availability/jour/2", data={"start_0": "", "end_0": ""})
    assert windows(helios.id, 2) == []


@freeze_time("2030-03-01 08:00:00")
def test_validity_period(client, login, helios):
    login(client, HELIOS)
    bad = client.post(
        "/dashboard/coach/availability/validite",
        data={"valid_from": "2030-05-01", "valid_until": "2030-04-01"},
    )
    assert bad.status_code == 422 and "La date de fin doit suivre la date de début." in html(bad)
    ok = client.post(
        "/dashboard/coach/availability/validite",
        data={"valid_from": "2030-01-01", "valid_until": "2030-06-30"},
    )
    assert ok.status_code == 303
    rows = db.session.scalars(select(CoachAvailability).where(CoachAvailability.coach_id == helios.id)).all()
    assert {(r.valid_from.isoformat(), r.valid_until.isoformat()) for r in rows} == {
        ("2030-01-01", "2030-06-30")
    }


@freeze_time("2030-03-01 08:00:00")
def test_exceptions_are_added_checked_and_deleted(client, login, helios, sami):
    day = fr.local_today(utcnow()) + timedelta(days=10)
    login(client, HELIOS)
    refused = client.post(
        "/dashboard/coach/availability/exceptions", data={"on_date": day.isoformat(), "kind": "EXTRA"}
    )
    assert refused.status_code == 422
    assert "Un créneau supplémentaire a un début et une fin." in html(refused)
    past = client.post(
        "/dashboard/coach/availability/exceptions", data={"on_date": "2030-02-20", "kind": "UNAVAILABLE"}
    )
    assert past.status_code == 422 and "Cette date est déjà passée." in html(past)
    far = client.post(
        "/dashboard/coach/availability/exceptions", data={"on_date": "1999-12-31", "kind": "UNAVAILABLE"}
    )
    assert far.status_code == 422 and "Indiquez une date entre le 01/01/2000 et le 29/02/2032." in html(far)

    factories.booking(sami.id, helios.id, slots.local(day, time(15, 0)))
    response = client.post(
        "/dashboard/coach/availability/exceptions",
        data={"on_date": day.isoformat(), "kind": "UNAVAILABLE", "note": "Congé"},
    )
    assert response.status_code == 303
    page = html(client.get("/dashboard/coach/availability"))
    assert "Toute la journée" in page and "Congé" in page
    assert "Attention : 1 séance reste réservée ce jour-là" in page
    assert slots.free_slots(helios.id, 60, day, 1) == []

    row = db.session.scalar(select(AvailabilityException).where(AvailabilityException.coach_id == helios.id))
    client.post("/auth/signout")
    login(client, ZENON)
    assert client.post(f"/dashboard/coach/availability/exceptions/{row.id}/supprimer").status_code == 404
    client.post("/auth/signout")
    login(client, HELIOS)
    assert client.post(f"/dashboard/coach/availability/exceptions/{row.id}/supprimer").status_code == 303
    assert (
        db.session.scalar(select(AvailabilityException.id).where(AvailabilityException.coach_id == helios.id))
        is None
    )


# -- sessions, reports, no-shows -------------------------------------------------------------------


def test_the_sessions_page_sorts_today_week_and_history(client, login, sami, helios):
    started = paid(sami, helios, -20)
    later = paid(sami, helios, 60 * 24 * 20)
    factories.booking(sami.id, helios.id, utcnow() - timedelta(days=3), status=SessionStatus.COMPLETED)
    login(client, HELIOS)
    page = html(client.get("/dashboard/coach/sessions"))
    assert "<h1>Mes séances</h1>" in page
    to_close = page[page.index("À compléter") : page.index("Aujourd'hui")]
    assert f"/dashboard/coach/sessions/{started.id}/rapport" in to_close
    assert f"/dashboard/sessions/{later.id}" in page[page.index("Plus tard") : page.index("Historique")]
    assert "Terminée" in page[page.index("Historique") :]


REPORT = {
    "summary": "Nous avons revu les suites arithmétiques et géométriques en détail.",
    "topics": "Suites, récurrence, limites",
    "rating": "4",
    "progress_notes": "Méthode plus sûre qu'il y a un mois.",
    "recommendations": "Refaire les exercices 3 à 7 du chapitre.",
    "attended": "y",
    "engagement": "HIGH",
    "homework": "Exercices 3 à 7",
    "next_focus": "Fonctions exponentielles",
}


def test_the_report_closes_the_session_and_reaches_the_parent(client, login, sami, helios, run_jobs, smtp):
    booking = paid(sami, helios, -30)
    login(client, HELIOS)
    form_page = html(client.get(f"/dashboard/coach/sessions/{booking.id}/rapport"))
    assert "Résumé de la séance" in form_page and "Appréciation (1 à 5)" in form_page

    short = client.post(
        f"/dashboard/coach/sessions/{booking.id}/rapport", data={**REPORT, "summary": "Trop court"}
    )
    assert short.status_code == 422
    assert "Entre 20 et 4000 caractères." in html(short) and "Suites, récurrence, limites" in html(short)
    assert db.session.scalar(select(SessionReport.id)) is None

    response = client.post(f"/dashboard/coach/sessions/{booking.id}/rapport", data=REPORT)
    assert response.status_code == 303
    db.session.refresh(booking)
    assert booking.status is SessionStatus.COMPLETED and booking.completed_at is not None
    assert (
        booking.report.rating == 4
        and booking.report.attended
        and booking.report.homework == "Exercices 3 à 7"
    )
    again = client.post(f"/dashboard/coach/sessions/{booking.id}/rapport", data=REPORT)
    assert again.status_code == 422 and "Cette séance est déjà close." in html(again)

    run_jobs()
    message = smtp.wait_for(PARENT2)
    assert "Compte rendu de la séance de Mathématiques de Sami" in str(message["Subject"])
    assert "suites arithmétiques" in body_text(message) and "4/5" in body_text(message)
    assert notifications_of(SAMI, "SESSION_REPORT") and notifications_of(PARENT2, "SESSION_REPORT")

    client.post("/auth/signout")
    for reader in (PARENT2, SAMI):
        login(client, reader)
        page = html(client.get(f"/dashboard/sessions/{booking.id}"))
        assert "Compte rendu de Hélios" in page and "Fonctions exponentielles" in page
        client.post("/auth/signout")
    login(client, PARENT)
    assert client.get(f"/dashboard/sessions/{booking.id}").status_code == 404


def test_no_report_before_the_session_starts(client, login, sami, helios):
    booking = paid(sami, helios, 120)
    login(client, HELIOS)
    response = client.post(f"/dashboard/coach/sessions/{booking.id}/rapport", data=REPORT)
    assert response.status_code == 422 and "La séance n'a pas encore commencé." in html(response)


def test_a_no_show_keeps_the_credits_and_tells_the_family(client, login, sami, helios):
    booking = paid(sami, helios, -15)
    login(client, HELIOS)
    response = client.post(f"/dashboard/coach/sessions/{booking.id}/absence", data={"confirm": "1"})
    assert response.status_code == 303
    db.session.refresh(booking)
    assert booking.status is SessionStatus.NO_SHOW
    assert balance(sami.id) == 3
    (note,) = notifications_of(PARENT2, "SESSION_NO_SHOW")
    assert "Hélios a signalé l'absence de Sami" in note.body


def test_students_page_and_profile(client, login, sami, helios):
    paid(sami, helios, 60 * 24 * 3)
    login(client, HELIOS)
    assert "Sami Gharbi" in html(client.get("/dashboard/coach/eleves"))
    profile = html(client.get(f"/dashboard/coach/eleves/{sami.id}"))
    assert "Première" in profile and "Séances ensemble" in profile
    yasmine = factories.student(YASMINE)
    assert client.get(f"/dashboard/coach/eleves/{yasmine.id}").status_code == 404


# -- video room ------------------------------------------------------------------------------------


def test_coach_and_student_land_in_the_same_room_in_its_window(client, login, sami, helios, app):
    booking = paid(sami, helios, 10)
    locations = []
    for who in (SAMI, HELIOS):
        login(client, who)
        page = html(client.get(f"/dashboard/sessions/{booking.id}"))
        assert "Rejoindre la visioconférence" in page
        assert 'target="_blank" rel="noopener"' in page
        response = client.get(f"/dashboard/sessions/{booking.id}/rejoindre")
        assert response.status_code == 302
        locations.append(response.headers["Location"].split("#")[0])
        client.post("/auth/signout")
    assert locations[0] == locations[1] == f"{app.config['JITSI_SERVER_URL']}/{booking.room_name}"


def test_the_room_is_closed_before_the_window_and_after_the_end(client, login, sami, helios):
    early = paid(sami, helios, 60)
    done = factories.booking(sami.id, helios.id, utcnow() - timedelta(minutes=90))
    login(client, SAMI)
    assert "La salle ouvrira le" in html(client.get(f"/dashboard/sessions/{early.id}"))
    response = client.get(f"/dashboard/sessions/{early.id}/rejoindre")
    assert response.status_code == 302 and response.headers["Location"] == f"/dashboard/sessions/{early.id}"
    assert "La salle ouvrira le" in html(client.get(response.headers["Location"]))
    assert (
        client.get(f"/dashboard/sessions/{done.id}/rejoindre").headers["Location"]
        == f"/dashboard/sessions/{done.id}"
    )


def test_an_in_person_session_has_no_video_room(client, login, sami, helios):
    booking = paid(sami, helios, 10, service=ServiceType.COURS_PRESENTIEL)
    login(client, SAMI)
    page = html(client.get(f"/dashboard/sessions/{booking.id}"))
    assert "Visioconférence" not in page
