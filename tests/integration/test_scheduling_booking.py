"""Booking: subject → coach → slot → confirm, paid from the ledger; bad input and IDOR book nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import icalendar
import pytest
from sqlalchemy import select

from nexus import fr
from nexus.extensions import db
from nexus.models.notifications import Notification, OutboxEmail
from nexus.models.scheduling import AvailabilityException, ExceptionKind, SessionStatus
from nexus.services import utcnow
from nexus.services.scheduling.booking import CENTRE_LOCATION
from tests import factories
from tests.helpers import html, user
from tests.integration.scheduling_support import balance, bookings_of, form, free_slot, reminders_of
from tests.people import ASSISTANTE, HELIOS, PARENT, PARENT2, SAMI, YASMINE, ZENON


def test_the_booking_page_walks_subject_coach_slot(client, login, helios):
    login(client, SAMI)
    page = html(client.get("/dashboard/eleve/sessions"))
    assert "Réserver une séance" in page and "Solde : <strong>4</strong>" in page
    page = html(client.get("/dashboard/eleve/sessions?matiere=MATHEMATIQUES&type=COURS_ONLINE&duree=60"))
    assert "Hélios" in page and "Zénon" not in page
    assert "Voir les créneaux de Hélios" in page
    slot = free_slot(helios, days_ahead=0)
    page = html(client.get(f"/dashboard/eleve/sessions?matiere=MATHEMATIQUES&coach={helios.id}"))
    assert f"debut={slot.param}" in page
    assert "Semaine suivante" in page


def test_a_student_books_a_slot_paid_with_one_credit(client, login, sami, helios, run_jobs, smtp):
    slot = free_slot(helios)
    login(client, SAMI)
    confirm = html(client.get("/dashboard/sessions/confirmer", query_string=form(helios, slot)))
    assert "1 crédit" in confirm
    assert "Solde après" in confirm and "3 crédits" in confirm
    assert "Annulation gratuite jusqu'à 24 heures avant" in confirm

    response = client.post("/dashboard/sessions/reserver", data=form(helios, slot))
    assert response.status_code == 303
    (booking,) = bookings_of(sami.id)
    assert response.headers["Location"] == f"/dashboard/sessions/{booking.id}"
    assert booking.status is SessionStatus.SCHEDULED
    assert booking.starts_at == slot.starts_at and booking.ends_at == slot.ends_at
    assert booking.credits_cost == Decimal("1.00")
    assert booking.booked_by_id == user(SAMI).id
    assert booking.room_name.startswith("nexus-") and len(booking.room_name) == 38
    assert balance(sami.id) == 3
    kinds = sorted(r.kind.value for r in reminders_of(booking.id))
    assert kinds == ["DAY_BEFORE", "TWO_HOURS_BEFORE"]
    coach_note = db.session.scalar(select(Notification).where(Notification.user_id == user(HELIOS).id))
    assert coach_note.kind == "SESSION_BOOKED" and "Sami Gharbi" in coach_note.title

    detail = html(client.get(response.headers["Location"]))
    assert "Séance réservée" in detail and "Séance de Mathématiques" in detail
    assert "La salle ouvrira le" in detail

    run_jobs()
    for address in (HELIOS, SAMI, PARENT2):
        message = smtp.wait_for(address)
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content_type() == "text/calendar"
        calendar = icalendar.Calendar.from_ical(attachment.get_payload(decode=True))
        (event,) = calendar.walk("VEVENT")
        assert event.decoded("dtstart") == slot.starts_at
        assert str(event["uid"]) == f"session-{booking.id}@nexus-reussite.tn"
    assert "Nouvelle séance" in str(smtp.wait_for(HELIOS)["Subject"])
    assert "Séance confirmée" in str(smtp.wait_for(PARENT2)["Subject"])


def test_in_person_and_ninety_minutes_cost_what_the_catalog_says(client, login, sami, helios):
    login(client, SAMI)
    slot = free_slot(helios, minutes=90)
    values = form(helios, slot, service="COURS_PRESENTIEL", minutes=90)
    page = html(client.get("/dashboard/sessions/confirmer", query_string=values))
    assert "1,88 crédit" in page  # 1.25 per hour × 1.5 h, to the hundredth
    assert client.post("/dashboard/sessions/reserver", data=values).status_code == 303
    (booking,) = bookings_of(sami.id)
    assert booking.credits_cost == Decimal("1.88")
    assert booking.location == CENTRE_LOCATION
    assert balance(sami.id) == Decimal("2.12")


def test_a_parent_books_for_their_own_child(client, login, yasmine, helios):
    factories.entitle(yasmine.id, 2)
    login(client, PARENT)
    page = html(client.get(f"/dashboard/parent/sessions/reserver?eleve={yasmine.id}&matiere=MATHEMATIQUES"))
    assert "Réserver une séance pour Yasmine" in page
    slot = free_slot(helios)
    response = client.post("/dashboard/sessions/reserver", data=form(helios, slot, eleve=yasmine.id))
    assert response.status_code == 303
    (booking,) = bookings_of(yasmine.id)
    assert booking.booked_by_id == user(PARENT).id
    assert balance(yasmine.id) == 1
    overview = html(client.get("/dashboard/parent/sessions"))
    assert "<h1>Séances</h1>" in overview and "Yasmine Ben Ali" in overview


def test_a_parent_cannot_book_for_another_familys_child(client, login, sami, helios):
    login(client, PARENT)
    slot = free_slot(helios)
    values = form(helios, slot, eleve=sami.id)
    assert client.post("/dashboard/sessions/reserver", data=values).status_code == 404
    assert client.get("/dashboard/sessions/confirmer", query_string=values).status_code == 404
    assert client.get(f"/dashboard/parent/sessions/reserver?eleve={sami.id}").status_code == 404
    assert bookings_of(sami.id) == []
    assert balance(sami.id) == 4


def test_a_student_books_only_for_themself(client, login, sami, yasmine, helios):
    factories.entitle(yasmine.id, 2)
    login(client, YASMINE)
    values = form(helios, free_slot(helios), eleve=sami.id)
    assert client.post("/dashboard/sessions/reserver", data=values).status_code == 404
    assert bookings_of(sami.id) == [] and bookings_of(yasmine.id) == []


def test_someone_elses_session_is_not_found(client, login, sami, helios):
    booking = factories.booking(sami.id, helios.id)
    path = f"/dashboard/sessions/{booking.id}"
    for outsider in (YASMINE, PARENT, ZENON):
        login(client, outsider)
        for suffix in ("", "/annuler", "/rejoindre", "/deplacer"):
            assert client.get(path + suffix).status_code == 404, (outsider, suffix)
        assert client.post(path + "/annuler").status_code == 404
        assert client.post(path + "/deplacer", data={"debut": "2030-01-01T14:00"}).status_code == 404
        client.post("/auth/signout")
    login(client, ZENON)
    assert client.get(f"/dashboard/coach/sessions/{booking.id}/rapport").status_code == 404
    assert client.get(f"/dashboard/coach/eleves/{sami.id}").status_code == 404
    client.post("/auth/signout")
    db.session.refresh(booking)
    assert booking.status is SessionStatus.SCHEDULED
    for party in (SAMI, PARENT2, HELIOS, ASSISTANTE):
        login(client, party)
        assert client.get(path).status_code == 200, party
        client.post("/auth/signout")


def _next(weekday: int, days_ahead: int = 3) -> str:
    """The date of the next given weekday at least days_ahead away, as YYYY-MM-DD (Tunis)."""
    day = fr.local_today(utcnow()) + timedelta(days=days_ahead)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day.isoformat()


BAD_INPUT = [
    ("outside availability", lambda: f"{_next(1)}T09:00", {}, "en dehors des disponibilités de Hélios"),
    ("on a day off", lambda: f"{_next(6)}T14:00", {}, "en dehors des disponibilités"),
    ("in the past", lambda: "2024-03-04T14:00", {}, "Ce créneau est déjà passé"),
    ("beyond three months", lambda: f"{_next(1, 100)}T14:00", {}, "au plus 3 mois à l'avance"),
    ("half-hour duration", lambda: f"{_next(1)}T14:00", {"duree": "45"}, "60 ou 90 minutes"),
    ("unknown subject", lambda: f"{_next(1)}T14:00", {"matiere": "ASTROLOGIE"}, "Choisissez une matière"),
    ("subject not taught", lambda: f"{_next(1)}T14:00", {"matiere": "PHILOSOPHIE"}, "n'enseigne pas"),
    ("garbled time", lambda: "demain vers 14h", {}, "Choisissez un créneau dans la liste"),
    ("group workshop", lambda: f"{_next(1)}T14:00", {"type": "ATELIER_GROUPE"}, "en ligne ou au centre"),
    ("unknown coach", lambda: f"{_next(1)}T14:00", {"coach": "999999"}, "Choisissez un coach"),
]


@pytest.mark.parametrize(("case", "start", "changes", "message"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_a_french_message_and_books_nothing(
    client, login, sami, helios, case, start, changes, message
):
    login(client, SAMI)
    values = {**form(helios, start()), **changes}
    response = client.post("/dashboard/sessions/reserver", data=values)
    assert response.status_code == 422
    assert message in html(response)
    assert bookings_of(sami.id) == []
    assert balance(sami.id) == 4


def test_less_than_two_hours_ahead_is_refused(client, login, sami, helios):
    soon = (utcnow() + timedelta(minutes=61)).astimezone(fr.TUNIS)
    login(client, SAMI)
    response = client.post("/dashboard/sessions/reserver", data=form(helios, soon.strftime("%Y-%m-%dT%H:%M")))
    assert response.status_code == 422
    assert "Une séance se réserve au moins 2 heures à l'avance." in html(response)
    assert bookings_of(sami.id) == []


def test_a_taken_slot_answers_in_french_with_fresh_slots(client, login, sami, yasmine, helios):
    slot = free_slot(helios)
    factories.booking(yasmine.id, helios.id, slot.starts_at)
    login(client, SAMI)
    response = client.post("/dashboard/sessions/reserver", data=form(helios, slot))
    assert response.status_code == 409
    page = html(response)
    assert "Ce créneau vient d'être réservé" in page
    assert "3. Le créneau avec Hélios" in page
    assert f"debut={slot.param}" not in page
    assert bookings_of(sami.id) == [] and balance(sami.id) == 4


def test_a_student_cannot_be_in_two_sessions_at_once(client, login, sami, helios):
    zenon = factories.coach("Zénon")
    slot = free_slot(helios)
    factories.booking(sami.id, helios.id, slot.starts_at)
    day = slot.local_start.date()
    db.session.add(
        AvailabilityException(
            coach_id=zenon.id,
            on_date=day,
            kind=ExceptionKind.EXTRA,
            start_time=slot.local_start.time(),
            end_time=(slot.local_start + timedelta(hours=2)).time(),
        )
    )
    login(client, SAMI)
    response = client.post("/dashboard/sessions/reserver", data=form(zenon, slot, subject="FRANCAIS"))
    assert response.status_code == 422
    assert "Sami a déjà une séance à ce moment-là" in html(response)
    assert len(bookings_of(sami.id)) == 1 and balance(sami.id) == 4


def test_without_the_entitlement_nothing_is_booked(client, login, yasmine, helios):
    login(client, YASMINE)
    values = form(helios, free_slot(helios))
    page = html(client.get("/dashboard/sessions/confirmer", query_string=values))
    assert "ne comprend pas la réservation de séances" in page
    assert "Confirmer la réservation</button>" not in page
    response = client.post("/dashboard/sessions/reserver", data=values)
    assert response.status_code == 422
    assert "L'abonnement de Yasmine ne comprend pas la réservation de séances avec crédits" in html(response)
    assert bookings_of(yasmine.id) == []


def test_not_enough_credits_is_refused(client, login, yasmine, helios):
    factories.entitle(yasmine.id, "0.5")
    login(client, YASMINE)
    response = client.post("/dashboard/sessions/reserver", data=form(helios, free_slot(helios)))
    assert response.status_code == 422
    assert "Crédits insuffisants : il faut 1 crédit, il en reste 0,5." in html(response)
    assert bookings_of(yasmine.id) == []
    assert balance(yasmine.id) == Decimal("0.5")


def test_no_email_is_queued_when_the_booking_fails(client, login, yasmine, helios):
    login(client, YASMINE)
    client.post("/dashboard/sessions/reserver", data=form(helios, free_slot(helios)))
    assert db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.template == "session_booked")) is None


def test_my_sessions_lists_upcoming_and_past(client, login, sami, helios):
    factories.booking(sami.id, helios.id, utcnow() + timedelta(days=2))
    factories.booking(sami.id, helios.id, utcnow() - timedelta(days=2), status=SessionStatus.COMPLETED)
    login(client, SAMI)
    page = html(client.get("/dashboard/eleve/mes-sessions"))
    assert "<h1>Mes séances</h1>" in page
    assert page.count("Hélios") >= 2 and "Terminée" in page and "Programmée" in page


def test_a_deactivated_coach_takes_no_booking(client, login, sami, helios):
    slot = free_slot(helios)
    helios.user.is_active = False
    db.session.commit()
    login(client, SAMI)
    response = client.post("/dashboard/sessions/reserver", data=form(helios, slot))
    assert response.status_code == 422
    assert "ne prend plus de réservations" in html(response)
    assert bookings_of(sami.id) == []
