"""Numbers, dates and times typed (or forged) on the scheduling pages: strict ASCII digits, bounded
ranges and dates, a French refusal next to the field and nothing written — never a 500. And a
session starts only where the slot computation offers one (14:07 is not a slot)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import delete, func, select

from nexus.extensions import db
from nexus.models.scheduling import AvailabilityException, CoachAvailability, SessionBooking
from nexus.services import credits
from tests import factories
from tests.helpers import html
from tests.integration.scheduling_support import form
from tests.people import DEMO_PASSWORD, HELIOS

STUDENT = "saisie@example.tn"
TUESDAY = date(2030, 3, 12)  # a week after the frozen Monday below
# Numbers as a fuzzer types them: superscripts, other scripts' digits, full-width, huge, signs.
EXOTIC_NUMBERS = [
    "²",
    "٣",
    "٦٠",
    "６０",
    "1" + "0" * 5000,
    "-60",
    "+60",
    " 60 ",
    "60.0",
    "1e2",
    "0x3c",
    "NaN",
]
EXTREME_STARTS = [
    "9999-12-31T23:30",
    "9999-12-31T00:00",
    "0001-01-01T00:00",
    "٢٠٣٠-03-12T14:00",
    "2030-03-12T１４:00",
    "2030-03-12T14:00:00",
    "2030-02-30T14:00",
    "2030-03-12T24:00",
    "2030-03-12 14:00" + "0" * 5000,
]
EXTREME_DATES = ["9999-12-31", "0001-01-01", "２０３０-03-12", "2030-3-12", "2030-03-12T00:00", "+2030-03-12"]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with freeze_time("2030-03-04 08:00:00"):  # a Monday, 09:00 in Tunis
        yield


@pytest.fixture
def coach():
    """Hélios on weekday afternoons, 14:00–19:00, from long ago."""
    helios = factories.coach("Hélios")
    db.session.execute(delete(CoachAvailability).where(CoachAvailability.coach_id == helios.id))
    for weekday in range(5):
        factories.weekly(helios.id, weekday, "14:00", "19:00")
    return helios


@pytest.fixture
def student(coach):
    row = factories.family_student(STUDENT, first="Inès", password=True)
    factories.entitle(row.id, 5, days=120)
    return row


def signed_in(client, email: str = STUDENT):
    assert client.post("/auth/signin", data={"email": email, "password": DEMO_PASSWORD}).status_code == 303
    return client


def bookings() -> int:
    return db.session.scalar(select(func.count()).select_from(SessionBooking)) or 0


def exceptions() -> int:
    return db.session.scalar(select(func.count()).select_from(AvailabilityException)) or 0


# -- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", EXOTIC_NUMBERS)
def test_an_exotic_duration_is_refused_in_french_on_every_booking_page(client, coach, student, raw):
    signed_in(client)
    values = form(coach, f"{TUESDAY}T14:00", minutes=60) | {"duree": raw}
    page = client.get("/dashboard/eleve/sessions", query_string=values)
    assert page.status_code == 200 and "La séance dure 60 ou 90 minutes." in html(page)
    confirm = client.get("/dashboard/sessions/confirmer", query_string=values)
    assert confirm.status_code == 422 and "La séance dure 60 ou 90 minutes." in html(confirm)
    booked = client.post("/dashboard/sessions/reserver", data=values)
    assert booked.status_code == 422 and "La séance dure 60 ou 90 minutes." in html(booked)
    assert bookings() == 0 and credits.balance(student.id) == 5


# -- starts and dates -------------------------------------------------------------------------


@pytest.mark.parametrize("raw", EXTREME_STARTS)
def test_an_extreme_or_garbled_start_is_refused_and_books_nothing(client, coach, student, raw):
    signed_in(client)
    values = form(coach, raw)
    confirm = client.get("/dashboard/sessions/confirmer", query_string=values)
    assert confirm.status_code == 422, confirm.status_code
    booked = client.post("/dashboard/sessions/reserver", data=values)
    assert booked.status_code == 422, booked.status_code
    assert "Choisissez un créneau dans la liste." in html(booked)
    assert bookings() == 0 and credits.balance(student.id) == 5


@pytest.mark.parametrize("raw", EXTREME_STARTS)
def test_an_extreme_start_cannot_be_the_new_time_of_a_session(client, coach, student, raw):
    signed_in(client)
    values = form(coach, f"{TUESDAY}T14:00")
    assert client.post("/dashboard/sessions/reserver", data=values).status_code == 303
    (booking_id,) = db.session.scalars(select(SessionBooking.id))
    page = client.get(f"/dashboard/sessions/{booking_id}/deplacer", query_string={"debut": raw})
    assert page.status_code == 200 and "Choisissez un créneau dans la liste." in html(page)
    moved = client.post(f"/dashboard/sessions/{booking_id}/deplacer", data={"debut": raw})
    assert moved.status_code == 422 and "Choisissez un créneau dans la liste." in html(moved)
    assert bookings() == 1 and credits.balance(student.id) == 4


@pytest.mark.parametrize("raw", EXTREME_DATES)
def test_an_extreme_week_shows_a_bookable_week(client, coach, student, raw):
    """Garbled: this week; beyond the horizon: the last bookable week (never an overflow)."""
    signed_in(client)
    values = {"matiere": "MATHEMATIQUES", "coach": str(coach.id), "du": raw}
    page = client.get("/dashboard/eleve/sessions", query_string=values)
    assert page.status_code == 200
    first = "2030-06-03T14:00" if raw == "9999-12-31" else "2030-03-04T14:00"
    assert f"debut={first}" in html(page)


# -- the slot grid ----------------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "start"), [(60, "14:07"), (60, "14:30"), (90, "15:00"), (90, "16:00")])
def test_a_start_off_the_slot_grid_is_refused(client, coach, student, minutes, start):
    signed_in(client)
    values = form(coach, f"{TUESDAY}T{start}", minutes=minutes)
    confirm = client.get("/dashboard/sessions/confirmer", query_string=values)
    assert confirm.status_code == 422
    assert "Choisissez l'un des créneaux proposés" in html(confirm) and "14:00" in html(confirm)
    booked = client.post("/dashboard/sessions/reserver", data=values)
    assert booked.status_code == 422 and "Choisissez l'un des créneaux proposés" in html(booked)
    assert bookings() == 0 and credits.balance(student.id) == 5


@pytest.mark.parametrize(("minutes", "start"), [(60, "18:00"), (90, "15:30"), (90, "17:00")])
def test_a_start_on_the_slot_grid_is_booked(client, coach, student, minutes, start):
    signed_in(client)
    response = client.post(
        "/dashboard/sessions/reserver", data=form(coach, f"{TUESDAY}T{start}", minutes=minutes)
    )
    assert response.status_code == 303
    assert bookings() == 1


def test_a_session_cannot_be_moved_off_the_grid(client, coach, student):
    signed_in(client)
    assert (
        client.post("/dashboard/sessions/reserver", data=form(coach, f"{TUESDAY}T14:00")).status_code == 303
    )
    (booking_id,) = db.session.scalars(select(SessionBooking.id))
    page = html(
        client.get(f"/dashboard/sessions/{booking_id}/deplacer", query_string={"debut": f"{TUESDAY}T16:07"})
    )
    assert "Choisissez l'un des créneaux proposés" in page and "Confirmer le déplacement" not in page
    moved = client.post(f"/dashboard/sessions/{booking_id}/deplacer", data={"debut": f"{TUESDAY}T16:07"})
    assert moved.status_code == 422 and "Choisissez l'un des créneaux proposés" in html(moved)
    assert (
        client.post(
            f"/dashboard/sessions/{booking_id}/deplacer", data={"debut": f"{TUESDAY}T16:00"}
        ).status_code
        == 303
    )


def test_one_booking_costs_the_coach_one_slot(client, coach, student):
    """After a 60-minute session at 15:00 the others of the day stay bookable, on the hour."""
    signed_in(client)
    assert (
        client.post("/dashboard/sessions/reserver", data=form(coach, f"{TUESDAY}T15:00")).status_code == 303
    )
    page = html(
        client.get(
            "/dashboard/eleve/sessions",
            query_string={"matiere": "MATHEMATIQUES", "coach": coach.id, "du": TUESDAY},
        )
    )
    for hour in ("14:00", "16:00", "17:00", "18:00"):
        assert f"debut={TUESDAY}T{hour}" in page
    assert f"debut={TUESDAY}T15:00" not in page


def test_a_session_off_the_grid_is_moved_back_onto_it(client, coach, student):
    """A session made before the grid was enforced (14:30): its move offers, and takes, 16:00."""
    old = factories.booking(student.id, coach.id, datetime(2030, 3, 12, 13, 30, tzinfo=UTC))
    credits.consume(student.id, old.credits_cost, old.id)
    signed_in(client)
    page = html(client.get(f"/dashboard/sessions/{old.id}/deplacer", query_string={"du": TUESDAY}))
    assert f"debut={TUESDAY}T16:00" in page and f"debut={TUESDAY}T16:30" not in page
    response = client.post(f"/dashboard/sessions/{old.id}/deplacer", data={"debut": f"{TUESDAY}T16:00"})
    assert response.status_code == 303


# -- the coach's availability -----------------------------------------------------------------


@pytest.mark.parametrize("raw", EXTREME_DATES)
def test_an_exception_on_an_extreme_date_is_refused_and_nothing_saved(client, coach, raw):
    signed_in(client, HELIOS)
    response = client.post(
        "/dashboard/coach/availability/exceptions",
        data={"on_date": raw, "kind": "UNAVAILABLE", "start": "", "end": "", "note": "Congé"},
    )
    assert response.status_code == 422
    assert "Indiquez une date" in html(response)
    assert exceptions() == 0


def test_an_exception_too_far_ahead_is_refused(client, coach):
    signed_in(client, HELIOS)
    response = client.post(
        "/dashboard/coach/availability/exceptions", data={"on_date": "2033-03-04", "kind": "UNAVAILABLE"}
    )
    assert response.status_code == 422 and "Indiquez une date entre le" in html(response)
    assert exceptions() == 0
    ok = client.post(
        "/dashboard/coach/availability/exceptions", data={"on_date": "2030-06-03", "kind": "UNAVAILABLE"}
    )
    assert ok.status_code == 303 and exceptions() == 1


@pytest.mark.parametrize(
    "raw", ["１４:００", "14:00garbage", "25:00", "14h", "٠٩:00", "14:00:00:00", "9" * 5000]
)
def test_an_exotic_time_is_refused_in_the_grid_and_the_exceptions(client, coach, raw):
    signed_in(client, HELIOS)
    day = client.post("/dashboard/coach/availability/jour/5", data={"start_0": raw, "end_0": "19:00"})
    assert day.status_code == 422 and "Indiquez une heure au format HH:MM" in html(day)
    extra = client.post(
        "/dashboard/coach/availability/exceptions",
        data={"on_date": "2030-03-16", "kind": "EXTRA", "start": "09:00", "end": raw},
    )
    assert extra.status_code == 422 and "Indiquez une heure au format HH:MM" in html(extra)
    assert exceptions() == 0
    saturday = db.session.scalar(
        select(func.count()).where(CoachAvailability.coach_id == coach.id, CoachAvailability.weekday == 5)
    )
    assert saturday == 0


@pytest.mark.parametrize("raw", EXTREME_DATES)
def test_an_extreme_validity_period_is_refused(client, coach, raw):
    signed_in(client, HELIOS)
    response = client.post(
        "/dashboard/coach/availability/validite", data={"valid_from": "", "valid_until": raw}
    )
    assert response.status_code == 422 and "Indiquez une date" in html(response)
    assert db.session.scalar(select(func.max(CoachAvailability.valid_until))) is None


@pytest.mark.parametrize(
    "path",
    ["/dashboard/coach/availability/jour/٣", "/dashboard/coach/availability/jour/9999999999999999999999"],
)
def test_an_exotic_weekday_is_not_found(client, coach, path):
    signed_in(client, HELIOS)
    assert client.post(path, data={"start_0": "09:00", "end_0": "12:00"}).status_code == 404


# -- ids and feed tokens ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["²", "٣", "1" + "0" * 5000, "99999999999999999999", "-1"])
def test_exotic_ids_are_not_found(client, coach, student, raw):
    signed_in(client)
    assert client.get(f"/dashboard/sessions/{raw}").status_code == 404
    assert client.get(f"/calendrier/{raw}-1-abc.ics").status_code == 404
    assert client.get(f"/calendrier/1-{raw}-abc.ics").status_code == 404
    page = client.get(
        "/dashboard/eleve/sessions", query_string={"matiere": "MATHEMATIQUES", "coach": raw, "eleve": raw}
    )
    assert page.status_code in (200, 404)


def test_a_session_is_not_moved_onto_its_own_time(client, coach, student):
    signed_in(client)
    assert (
        client.post("/dashboard/sessions/reserver", data=form(coach, f"{TUESDAY}T15:00")).status_code == 303
    )
    (booking_id,) = db.session.scalars(select(SessionBooking.id))
    page = html(client.get(f"/dashboard/sessions/{booking_id}/deplacer", query_string={"du": TUESDAY}))
    assert f"debut={TUESDAY}T14:00" in page and f"debut={TUESDAY}T15:00" not in page
    same = client.post(f"/dashboard/sessions/{booking_id}/deplacer", data={"debut": f"{TUESDAY}T15:00"})
    assert same.status_code == 422 and "La séance est déjà à cet horaire" in html(same)
    assert bookings() == 1 and credits.balance(student.id) == 4
