"""Cancelling and rescheduling: free ≥24 h before (48 h for a workshop), staff always refund, and the
page says which before confirming. Reschedule = cancel + book in one transaction."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from nexus import fr
from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.catalog import ServiceType
from nexus.models.notifications import OutboxEmail
from nexus.models.scheduling import SessionStatus
from nexus.services import credits, scheduling, utcnow
from tests import factories
from tests.helpers import html, notifications_of, user
from tests.integration.scheduling_support import balance, bookings_of, form, free_slot, reminders_of
from tests.people import ASSISTANTE, HELIOS, HX, PARENT2, SAMI, YASMINE

CONFIRM = {"confirm": "1"}  # what the cancel page (or hx-confirm) posts once the person said yes


def paid_booking(student, coach, hours_ahead: float, service=ServiceType.COURS_ONLINE):
    """A session `hours_ahead` from now whose credit was taken from the ledger."""
    booking = factories.booking(student.id, coach.id, utcnow() + timedelta(hours=hours_ahead))
    booking.service = service
    credits.consume(student.id, booking.credits_cost, booking.id)
    db.session.flush()
    return booking


def test_booked_through_the_page_then_cancelled_early_gives_the_credit_back(client, login, sami, helios):
    login(client, SAMI)
    client.post("/dashboard/sessions/reserver", data=form(helios, free_slot(helios)))
    (booking,) = bookings_of(sami.id)
    assert balance(sami.id) == 3

    page = html(client.get(f"/dashboard/sessions/{booking.id}/annuler"))
    assert "Annulation gratuite : 1 crédit sera rendu" in page
    response = client.post(f"/dashboard/sessions/{booking.id}/annuler", data={"reason": "Malade", **CONFIRM})
    assert response.status_code == 303
    db.session.refresh(booking)
    assert booking.status is SessionStatus.CANCELLED
    assert booking.cancel_reason == "Malade" and booking.cancelled_by_id == user(SAMI).id
    assert balance(sami.id) == 4
    assert all(r.cancelled_at is not None and r.sent_at is None for r in reminders_of(booking.id))
    assert "Séance annulée (1 crédit rendu)" in html(client.get(response.headers["Location"]))
    # The coach is told, in the app and by e-mail.
    assert notifications_of(HELIOS, "SESSION_CANCELLED")
    sent = db.session.scalars(select(OutboxEmail.to_email).where(OutboxEmail.template == "session_cancelled"))
    assert set(sent) == {HELIOS, PARENT2}


def test_a_late_cancellation_loses_the_credits_and_says_so_first(client, login, sami, helios):
    booking = paid_booking(sami, helios, hours_ahead=5)
    login(client, SAMI)
    page = html(client.get(f"/dashboard/sessions/{booking.id}/annuler"))
    assert "Moins de 24 h avant la séance : si vous annulez, 1 crédit est perdu." in page
    assert client.post(f"/dashboard/sessions/{booking.id}/annuler", data=CONFIRM).status_code == 303
    db.session.refresh(booking)
    assert booking.status is SessionStatus.CANCELLED
    assert balance(sami.id) == 3


@pytest.mark.parametrize(("hours", "refunded"), [(47, False), (49, True)])
def test_a_group_workshop_needs_48_hours(client, login, sami, helios, hours, refunded):
    booking = paid_booking(sami, helios, hours_ahead=hours, service=ServiceType.ATELIER_GROUPE)
    login(client, SAMI)
    page = html(client.get(f"/dashboard/sessions/{booking.id}/annuler"))
    assert ("Annulation gratuite" in page) is refunded
    assert "48 h" in page
    client.post(f"/dashboard/sessions/{booking.id}/annuler", data=CONFIRM)
    assert balance(sami.id) == (4 if refunded else 3)


def test_staff_always_refund_and_the_row_swaps_in_place(client, login, sami, helios):
    booking = paid_booking(sami, helios, hours_ahead=3)
    login(client, ASSISTANTE)
    listing = html(client.get("/dashboard/assistante/seances"))
    assert f'id="session-{booking.id}"' in listing and "Sami Gharbi" in listing
    from_row = {"retour": "liste", **CONFIRM}
    response = client.post(f"/dashboard/sessions/{booking.id}/annuler", data=from_row, headers=HX)
    assert response.status_code == 200
    row = html(response)
    assert f'<tr id="session-{booking.id}">' in row
    assert "Annulée" in row and "1 crédit rendu" in row
    assert "<html" not in row
    assert balance(sami.id) == 4
    line = db.session.scalar(select(AuditLog).where(AuditLog.action == "session.cancelled"))
    assert line.actor_id == user(ASSISTANTE).id and line.after["refunded"] == "1.00"
    assert notifications_of(SAMI, "SESSION_CANCELLED") and notifications_of(HELIOS, "SESSION_CANCELLED")


def test_staff_cancel_without_javascript_returns_to_the_list(client, login, sami, helios):
    booking = paid_booking(sami, helios, hours_ahead=3)
    login(client, ASSISTANTE)
    response = client.post(f"/dashboard/sessions/{booking.id}/annuler", data={"retour": "liste", **CONFIRM})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/assistante/seances"


def test_a_coach_cancelling_gives_the_credits_back(client, login, sami, helios):
    booking = paid_booking(sami, helios, hours_ahead=5)
    login(client, HELIOS)
    assert "Annulée par le coach" in html(client.get(f"/dashboard/sessions/{booking.id}/annuler"))
    client.post(f"/dashboard/sessions/{booking.id}/annuler", data={"reason": "Empêchement", **CONFIRM})
    assert balance(sami.id) == 4
    (note,) = notifications_of(SAMI, "SESSION_CANCELLED")
    assert "Annulée par Hélios" in note.body
    assert notifications_of(PARENT2, "SESSION_CANCELLED")


def test_a_parent_may_cancel_their_childs_session(client, login, sami, helios):
    booking = paid_booking(sami, helios, hours_ahead=72)
    login(client, PARENT2)
    assert client.post(f"/dashboard/sessions/{booking.id}/annuler", data=CONFIRM).status_code == 303
    assert balance(sami.id) == 4


def test_cancelling_twice_refunds_once(client, login, sami, helios):
    booking = paid_booking(sami, helios, hours_ahead=72)
    login(client, SAMI)
    client.post(f"/dashboard/sessions/{booking.id}/annuler", data=CONFIRM)
    again = client.post(f"/dashboard/sessions/{booking.id}/annuler", data=CONFIRM)
    assert again.status_code == 409
    assert "Cette séance est déjà annulée." in html(again)
    assert balance(sami.id) == 4


def test_a_started_session_cannot_be_cancelled_by_the_family(client, login, sami, helios):
    booking = paid_booking(sami, helios, hours_ahead=-0.2)
    login(client, SAMI)
    assert "La séance a commencé" in html(client.get(f"/dashboard/sessions/{booking.id}/annuler"))
    assert client.post(f"/dashboard/sessions/{booking.id}/annuler", data=CONFIRM).status_code == 409
    db.session.refresh(booking)
    assert booking.status is SessionStatus.SCHEDULED


def test_reschedule_moves_the_session_in_one_step(client, login, sami, helios):
    first, second = free_slot(helios, index=0), free_slot(helios, index=3)
    login(client, SAMI)
    client.post("/dashboard/sessions/reserver", data=form(helios, first))
    (old,) = bookings_of(sami.id)
    page = html(client.get(f"/dashboard/sessions/{old.id}/deplacer"))
    assert "Choisir un nouveau créneau" in page and f"debut={second.param}" in page
    confirm = html(client.get(f"/dashboard/sessions/{old.id}/deplacer?debut={second.param}"))
    assert "ceux de l'ancienne sont rendus" in confirm and "3 crédits" in confirm

    response = client.post(f"/dashboard/sessions/{old.id}/deplacer", data={"debut": second.param})
    assert response.status_code == 303
    old_row, new = bookings_of(sami.id)
    assert old_row.status is SessionStatus.CANCELLED and old_row.cancel_reason == "Séance déplacée"
    assert new.status is SessionStatus.SCHEDULED and new.rescheduled_from_id == old.id
    assert new.starts_at == second.starts_at
    assert balance(sami.id) == 3
    assert all(r.cancelled_at for r in reminders_of(old.id)) and len(reminders_of(new.id)) == 2
    (moved,) = notifications_of(HELIOS, "SESSION_RESCHEDULED")
    assert "Du " in moved.body


def test_reschedule_onto_a_taken_slot_changes_nothing(client, login, sami, helios):
    first, second = free_slot(helios, index=0), free_slot(helios, index=3)
    yasmine = factories.student(YASMINE)
    login(client, SAMI)
    client.post("/dashboard/sessions/reserver", data=form(helios, first))
    (old,) = bookings_of(sami.id)
    factories.booking(yasmine.id, helios.id, second.starts_at)
    response = client.post(f"/dashboard/sessions/{old.id}/deplacer", data={"debut": second.param})
    assert response.status_code == 409
    assert "Ce créneau vient d'être réservé" in html(response)
    db.session.expire_all()
    (still,) = bookings_of(sami.id)
    assert still.status is SessionStatus.SCHEDULED and still.starts_at == first.starts_at
    assert balance(sami.id) == 3


def test_a_late_reschedule_loses_the_first_credits(client, login, sami, helios):
    old = paid_booking(sami, helios, hours_ahead=5)
    target = free_slot(helios)
    login(client, SAMI)
    page = html(client.get(f"/dashboard/sessions/{old.id}/deplacer?debut={target.param}"))
    assert "ceux de l'ancienne sont perdus" in page
    assert (
        client.post(f"/dashboard/sessions/{old.id}/deplacer", data={"debut": target.param}).status_code == 303
    )
    assert balance(sami.id) == 2


def test_cancel_terms_rules():
    class Actor:
        def __init__(self, role):
            self.role = role

    from nexus.models.common import Role

    now = utcnow()
    booking = type("B", (), {})()
    booking.status = SessionStatus.SCHEDULED
    booking.service = ServiceType.COURS_ONLINE
    booking.credits_cost = Decimal("1.5")
    booking.starts_at = now + timedelta(hours=24, minutes=1)
    assert scheduling.cancel_terms(booking, Actor(Role.ELEVE), now).refund
    booking.starts_at = now + timedelta(hours=23, minutes=59)
    terms = scheduling.cancel_terms(booking, Actor(Role.PARENT), now)
    assert terms.allowed and not terms.refund and "1,5 crédit est perdu" in terms.message
    assert scheduling.cancel_terms(booking, Actor(Role.ASSISTANTE), now).refund
    assert scheduling.cancel_terms(booking, Actor(Role.COACH), now).refund
    booking.starts_at = now - timedelta(minutes=1)
    assert not scheduling.cancel_terms(booking, Actor(Role.ELEVE), now).allowed
    assert scheduling.cancel_terms(booking, Actor(Role.ADMIN), now).refund


def test_reschedule_to_a_slot_outside_availability_is_refused_before_confirming(client, login, sami, helios):
    old = paid_booking(sami, helios, hours_ahead=72)
    login(client, SAMI)
    night = (fr.local_today(utcnow()) + timedelta(days=5)).isoformat() + "T03:00"
    page = html(client.get(f"/dashboard/sessions/{old.id}/deplacer?debut={night}"))
    assert "Ce créneau est en dehors des disponibilités de Hélios." in page
    assert "Confirmer le déplacement" not in page and "Choisir un nouveau créneau" in page
    response = client.post(f"/dashboard/sessions/{old.id}/deplacer", data={"debut": night})
    assert response.status_code == 422
    db.session.refresh(old)
    assert old.status is SessionStatus.SCHEDULED and balance(sami.id) == 3


@pytest.mark.parametrize("reason", ["x" * 501, "Malade\x1bdésolé"])
def test_a_refused_reason_is_said_next_to_it_and_kept(client, login, sami, helios, reason):
    """Never cut silently: the reason comes back with its French message, the session stays."""
    booking = paid_booking(sami, helios, hours_ahead=72)
    login(client, SAMI)
    response = client.post(f"/dashboard/sessions/{booking.id}/annuler", data={"reason": reason, **CONFIRM})
    assert response.status_code == 422
    page = html(response)
    assert 'id="reason-error"' in page
    if reason == "x" * 501:
        assert reason in page  # kept in the box, whole
    db.session.refresh(booking)
    assert booking.status is SessionStatus.SCHEDULED
    assert balance(sami.id) == 3


def test_a_long_exception_note_is_refused_not_cut(client, login, helios):
    login(client, HELIOS)
    day = (utcnow() + timedelta(days=10)).date().isoformat()
    data = {"on_date": day, "kind": "UNAVAILABLE", "note": "n" * 201}
    response = client.post("/dashboard/coach/availability/exceptions", data=data)
    assert response.status_code == 422
    assert "200 caractères au plus." in html(response)
