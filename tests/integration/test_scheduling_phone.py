"""Issue 10, sessions on a slow phone: every destructive session action asks first without
JavaScript too (staff cancel with its reason for the family, the coach's no-show, a new calendar
link), the staff's row answers by the status rule, one session downloads as .ics, and the coach's
home links each session to its page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.notifications import OutboxEmail
from nexus.models.scheduling import SessionStatus
from nexus.services import credits, utcnow
from tests import factories
from tests.helpers import html, notifications_of
from tests.integration.scheduling_support import balance
from tests.people import ASSISTANTE, HELIOS, HX, PARENT, PARENT2, SAMI

CONFIRM = {"confirm": "1"}
LIST = "/dashboard/assistante/seances"


def paid(student, coach, hours_ahead: float, status=SessionStatus.SCHEDULED):
    booking = factories.booking(student.id, coach.id, utcnow() + timedelta(hours=hours_ahead), status=status)
    credits.consume(student.id, booking.credits_cost, booking.id)
    db.session.flush()
    return booking


def cancel_url(booking) -> str:
    return f"/dashboard/sessions/{booking.id}/annuler"


# -- the staff's cancel --------------------------------------------------------------------------


def test_the_staff_row_asks_in_the_browser_and_carries_a_reason_field(client, login, sami, helios):
    booking = paid(sami, helios, 30)
    login(client, ASSISTANTE)
    row = html(client.get(LIST))
    assert 'hx-confirm="Annuler cette séance ?' in row and "hx-vals" in row
    assert f'id="reason-{booking.id}"' in row and "Motif, transmis à la famille" in row


def test_without_javascript_the_staff_cancel_asks_on_a_page_first(client, login, sami, helios):
    booking = paid(sami, helios, 30)
    login(client, ASSISTANTE)
    page = client.post(cancel_url(booking), data={"retour": LIST, "reason": "Coach malade"})
    assert page.status_code == 200
    text = html(page)
    assert "Confirmer l'annulation" in text and "Motif, transmis à la famille" in text
    assert 'name="confirm" value="1"' in text and f'name="retour" value="{LIST}"' in text
    assert ">Coach malade</textarea>" in text  # what was typed in the row is kept
    db.session.refresh(booking)
    assert booking.status is SessionStatus.SCHEDULED and balance(sami.id) == 3

    done = client.post(cancel_url(booking), data={"retour": LIST, "reason": "Coach malade", **CONFIRM})
    assert done.status_code == 303 and done.headers["Location"] == LIST
    db.session.refresh(booking)
    assert booking.status is SessionStatus.CANCELLED and booking.cancel_reason == "Coach malade"
    assert balance(sami.id) == 4
    mails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.template == "session_cancelled")).all()
    assert {m.to_email for m in mails} == {SAMI, PARENT2, HELIOS}
    assert all(m.context["reason"] == "Coach malade" for m in mails)
    (note,) = notifications_of(PARENT2, "SESSION_CANCELLED")
    assert "Motif : Coach malade." in note.body and "1 crédit rendu" in note.body


def test_the_staff_row_with_htmx_answers_the_row_with_the_reason_sent(client, login, sami, helios):
    booking = paid(sami, helios, 30)
    login(client, ASSISTANTE)
    data = {"retour": LIST, "reason": "Fermeture du centre", **CONFIRM}
    response = client.post(cancel_url(booking), data=data, headers=HX)
    assert response.status_code == 200
    row = html(response)
    assert row.startswith(f'<tr id="session-{booking.id}">') and "Séance annulée" in row
    assert 'role="status"' in row
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_email == PARENT2))
    assert mail.context["reason"] == "Fermeture du centre"

    again = client.post(cancel_url(booking), data=data, headers=HX)  # a second click: already done
    assert again.status_code == 200 and "Cette séance est déjà annulée." in html(again)
    assert balance(sami.id) == 4


def test_a_session_closed_by_someone_else_is_a_conflict_in_the_row(client, login, sami, helios):
    booking = paid(sami, helios, 30, status=SessionStatus.COMPLETED)
    login(client, ASSISTANTE)
    response = client.post(cancel_url(booking), data={"retour": LIST, **CONFIRM}, headers=HX)
    assert response.status_code == 409
    row = html(response)
    assert "Cette séance est terminée." in row and 'role="alert"' in row
    plain = client.post(cancel_url(booking), data={"retour": LIST, **CONFIRM})
    assert plain.status_code == 303 and plain.headers["Location"] == LIST


def test_a_refused_reason_in_the_row_is_said_and_kept(client, login, sami, helios):
    booking = paid(sami, helios, 30)
    login(client, ASSISTANTE)
    reason = "x" * 501
    data = {"retour": LIST, "reason": reason, **CONFIRM}
    response = client.post(cancel_url(booking), data=data, headers=HX)
    assert response.status_code == 422
    row = html(response)
    assert f'value="{reason}"' in row and 'aria-invalid="true"' in row and "500" in row
    plain = client.post(cancel_url(booking), data=data)
    assert plain.status_code == 422 and 'id="reason-error"' in html(plain) and reason in html(plain)
    db.session.refresh(booking)
    assert booking.status is SessionStatus.SCHEDULED


def test_the_family_cancel_page_posts_its_confirmation(client, login, sami, helios):
    booking = paid(sami, helios, 72)
    login(client, SAMI)
    assert 'name="confirm" value="1"' in html(client.get(cancel_url(booking)))
    unconfirmed = client.post(cancel_url(booking), data={"reason": "Malade"})
    assert unconfirmed.status_code == 200 and "Confirmer l'annulation" in html(unconfirmed)
    db.session.refresh(booking)
    assert booking.status is SessionStatus.SCHEDULED


# -- the coach's no-show -----------------------------------------------------------------------


def test_without_javascript_a_no_show_asks_on_a_page_first(client, login, sami, helios):
    booking = paid(sami, helios, -0.25)
    login(client, HELIOS)
    url = f"/dashboard/coach/sessions/{booking.id}/absence"
    agenda = html(client.get("/dashboard/coach/sessions"))
    assert "Signaler l'absence de l'élève ?" in agenda and """hx-vals='{"confirm": "1"}'""" in agenda
    page = client.post(url)
    assert page.status_code == 200
    text = html(page)
    assert "Signaler une absence" in text and "Sami Gharbi" in text and 'name="confirm" value="1"' in text
    db.session.refresh(booking)
    assert booking.status is SessionStatus.SCHEDULED
    assert client.post(url, data=CONFIRM).status_code == 303
    db.session.refresh(booking)
    assert booking.status is SessionStatus.NO_SHOW


# -- calendars ---------------------------------------------------------------------------------


def test_a_new_calendar_link_asks_first_without_javascript(client, login):
    login(client, SAMI)
    assert client.post("/dashboard/calendrier").status_code == 303  # the first link: nothing to lose
    page = html(client.get("/dashboard/calendrier"))
    assert 'readonly' in page and 'id="feed-url"' in page and "Copier le lien" in page
    assert 'href="webcal://localhost/calendrier/' in page and "Ajouter à mon agenda" in page
    first = page.split('value="http://localhost', 1)[1].split('"', 1)[0]
    asked = client.post("/dashboard/calendrier")
    assert asked.status_code == 200 and "Créer un nouveau lien" in html(asked)
    assert first in html(client.get("/dashboard/calendrier"))  # unchanged until confirmed
    assert client.post("/dashboard/calendrier", data=CONFIRM).status_code == 303
    assert first not in html(client.get("/dashboard/calendrier"))


def test_one_session_downloads_as_ics_for_its_parties_only(client, login, sami, helios):
    booking = paid(sami, helios, 30)
    url = f"/dashboard/sessions/{booking.id}/seance.ics"
    for who, summary in ((SAMI, "avec Hélios"), (PARENT2, "avec Hélios"), (HELIOS, "Sami Gharbi")):
        login(client, who)
        assert url in html(client.get(f"/dashboard/sessions/{booking.id}"))
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/calendar"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        body = response.get_data(as_text=True)
        assert f"session-{booking.id}@nexus-reussite.tn" in body and summary in body.replace("\r\n ", "")
        client.post("/auth/signout")
    login(client, PARENT)  # another family
    assert client.get(url).status_code == 404
    assert client.get("/dashboard/sessions/999999999/seance.ics").status_code == 404


def test_the_coach_home_links_each_coming_session(client, login, sami, helios):
    booking = paid(sami, helios, 30)
    login(client, HELIOS)
    assert f'href="/dashboard/sessions/{booking.id}"' in html(client.get("/dashboard/coach"))
