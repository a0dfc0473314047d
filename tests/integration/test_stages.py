"""Holiday stages: the public list and reservation (one per e-mail, honeypot, rate limit, seats
never oversold, the waiting list), the confirmation e-mail with the positioning test's link, the
staff's stages and reservations table (status inline, cancellation asked first, CSV export), and
the Telegram message through its outbox, against a local fake of the Bot API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from nexus import fr
from nexus.extensions import db
from nexus.jobs.telegram import deliver_message, flush_telegram
from nexus.models.assessments import Assessment
from nexus.models.audit import AuditLog
from nexus.models.billing import Invoice, InvoiceStatus
from nexus.models.common import Grade, Subject
from nexus.models.notifications import Notification, OutboxStatus
from nexus.models.stages import ReservationStatus, Stage, StageReservation, TelegramMessage
from nexus.services import ServiceError, catalog, stages, utcnow
from tests.helpers import (
    ADMIN,
    ASSISTANTE,
    COACH,
    HX,
    PARENT,
    at_once,
    count,
    html,
    outbox_to,
    refusals,
    user,
)
from tests.servers import FakeTelegram, body_text

FAMILY = "nadia.benali@example.tn"
FORM = {
    "parent_name": "Nadia Ben Ali",
    "student_name": "Yasmine Ben Ali",
    "email": FAMILY,
    "phone": "22 333 444",
    "grade": "TERMINALE",
}
SEEDED = "stage-intensif-terminale"
TOKEN = "123456:fake-bot-token"
CHAT = "-1001234567890"


def make_stage(seats: int = 12, *, published: bool = True, title: str = "Stage de printemps") -> Stage:
    today = fr.local_today()
    stage = stages.create_stage(
        stages.StageFields(
            title=title,
            description="Cinq matinées de mathématiques.",
            starts_on=today + timedelta(days=30),
            ends_on=today + timedelta(days=34),
            grade=Grade.TERMINALE,
            subjects=[Subject.MATHEMATIQUES, Subject.NSI],
            price_millimes=450_000,
            seats=seats,
            published=published,
        ),
        user(ADMIN),
    )
    return stage


def reserve(client, stage: Stage, **changes: str):  # type: ignore[no-untyped-def]
    return client.post(f"/stages/{stage.slug}", data={**FORM, **changes})


def reservations_of(stage: Stage) -> list[StageReservation]:
    db.session.expire_all()
    stmt = select(StageReservation).where(StageReservation.stage_id == stage.id).order_by(StageReservation.id)
    return list(db.session.scalars(stmt))


def details(email: str = FAMILY) -> stages.ReservationDetails:
    return stages.ReservationDetails(
        "Nadia Ben Ali", "Yasmine Ben Ali", email, "+216 22 333 444", Grade.TERMINALE
    )


# -- the public list and pages ------------------------------------------------------------------


def test_stages_lists_coming_stages_with_seats_left_and_price(client):
    stage = make_stage(seats=3)
    stages.reserve(stage.id, details())
    page = html(client.get("/stages"))
    assert "Stage intensif — Terminale" in page  # the seeded one (make run shows it)
    assert "Stage de printemps" in page
    assert "2 places restantes" in page
    assert "450\u00a0TND" in page


def test_drafts_and_unknown_stages_are_404_for_the_public_but_staff_preview(client, auth):
    draft = make_stage(published=False, title="Stage brouillon")
    assert "Stage brouillon" not in html(client.get("/stages"))
    assert client.get(f"/stages/{draft.slug}").status_code == 404
    assert client.get("/stages/nimporte-quoi").status_code == 404
    assert reserve(client, draft).status_code == 404
    assert count(StageReservation) == 0
    auth.login(ASSISTANTE)
    assert "Brouillon" in html(client.get(f"/stages/{draft.slug}"))


def test_a_family_reserves_and_gets_the_test_link_and_the_transfer_details(client, app):
    stage = make_stage()
    response = reserve(client, stage)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/stages/{stage.slug}/confirmation")
    (row,) = reservations_of(stage)
    assert row.status is ReservationStatus.PENDING
    assert (row.email, row.phone) == (FAMILY, "+216 22 333 444")
    assert row.reference.startswith("ST-")
    # The positioning test: the stage's fixed form, for this participant.
    test = db.session.get(Assessment, row.assessment_id)
    assert test is not None and test.participant_email == FAMILY
    assert len(test.form or []) == 50
    page = html(client.get(response.headers["Location"]))
    assert row.reference in page and "450\u00a0TND" in page and "IBAN" in page
    (mail,) = outbox_to(FAMILY)
    assert mail.template == "stage_reservation"
    assert "test de positionnement" in mail.subject
    assert (mail.context["test_url"] or "").startswith("http://localhost/")
    assert mail.context["amount"] == 450_000 and mail.context["reference"] == row.reference
    staff_notes = db.session.scalars(
        select(Notification).where(Notification.kind == "STAGE_RESERVATION")
    ).all()
    assert {n.user_id for n in staff_notes} == {user(ADMIN).id, user(ASSISTANTE).id}


def test_the_email_is_delivered_with_the_link(client, run_jobs, smtp):
    stage = make_stage()
    reserve(client, stage)
    run_jobs()
    text = body_text(smtp.wait_for(FAMILY))
    (row,) = reservations_of(stage)
    assert row.reference in text
    assert "passe ton test de positionnement" in text
    assert "http://localhost/" in text


def test_a_second_submit_with_the_same_email_updates_the_reservation(client):
    stage = make_stage()
    reserve(client, stage)
    again = reserve(client, stage, email=FAMILY.upper(), phone="+33 6 12 34 56 78", student_name="Yasmine B.")
    assert again.status_code == 303
    (row,) = reservations_of(stage)
    assert (row.phone, row.student_name) == ("+33 6 12 34 56 78", "Yasmine B.")
    assert len(outbox_to(FAMILY)) == 1  # the confirmation is not sent twice


def test_the_honeypot_thanks_and_keeps_nothing(client):
    stage = make_stage()
    response = reserve(client, stage, website="http://spam.example")
    assert response.status_code == 303
    assert count(StageReservation) == 0 and outbox_to(FAMILY) == []


def test_invalid_input_is_refused_in_french_with_the_answers_kept(client):
    stage = make_stage()
    response = reserve(client, stage, email="pas-un-email", phone="12")
    page = html(response)
    assert response.status_code == 422
    assert "Adresse e-mail invalide." in page and "Numéro de téléphone invalide" in page
    assert 'value="Nadia Ben Ali"' in page
    assert count(StageReservation) == 0


def test_a_full_stage_offers_the_waiting_list(client):
    stage = make_stage(seats=1)
    stages.reserve(stage.id, details("premier@example.tn"))
    refused = reserve(client, stage)
    page = html(refused)
    assert refused.status_code == 409
    assert stages.FULL in page
    assert 'name="liste_attente" value="y"' in page and "M'inscrire sur la liste d'attente" in page
    assert 'value="Yasmine Ben Ali"' in page  # nothing lost
    assert len(reservations_of(stage)) == 1
    waiting = reserve(client, stage, liste_attente="y")
    assert waiting.status_code == 303
    row = reservations_of(stage)[-1]
    assert row.status is ReservationStatus.WAITING and row.assessment_id is None
    assert "liste d'attente" in html(client.get(waiting.headers["Location"]))
    assert [m.template for m in outbox_to(FAMILY)] == ["stage_waiting"]
    assert stages.seats_left(stage) == 0


def test_reservations_close_when_the_stage_begins(client):
    stage = make_stage()
    stage.starts_on = fr.local_today()
    db.session.commit()
    response = reserve(client, stage)
    assert response.status_code == 409
    assert "closes" in html(response)
    assert count(StageReservation) == 0


@pytest.mark.ratelimited
def test_reservations_are_rate_limited_per_address(client):
    stage = make_stage()
    for i in range(5):
        assert reserve(client, stage, email=f"famille{i}@example.tn").status_code == 303
    refused = reserve(client, stage, email="sixieme@example.tn")
    assert refused.status_code == 429
    assert "Réessayez dans une heure" in html(refused)
    assert 'value="sixieme@example.tn"' in html(refused)
    assert len(reservations_of(stage)) == 5


def test_the_price_comes_from_the_stage_never_from_the_browser(client):
    stage = make_stage()
    reserve(client, stage, price="1", amount_millimes="1")
    (mail,) = outbox_to(FAMILY)
    assert mail.context["amount"] == 450_000
    offer = catalog.stage_offer(stage)
    assert offer.price_millimes == 450_000 and offer.name == "Stage de printemps"


# -- staff: the reservations table ----------------------------------------------------------------


def status_post(client, row: StageReservation, expected: str, target: str, **extra: str):  # type: ignore[no-untyped-def]
    url = f"/dashboard/assistante/stages/reservations/{row.id}/statut"
    return client.post(url, data={"expected": expected, "status": target, **extra}, headers=HX)


def test_staff_move_a_reservation_inline_and_it_is_audited(client, auth):
    stage = make_stage()
    row = stages.reserve(stage.id, details()).reservation
    db.session.commit()
    auth.login(ASSISTANTE)
    confirmed = status_post(client, row, "PENDING", "CONFIRMED")
    assert confirmed.status_code == 200
    assert html(confirmed).startswith("<tr") and "Statut changé : Confirmée." in html(confirmed)
    assert status_post(client, row, "CONFIRMED", "PAID").status_code == 200
    again = status_post(client, row, "CONFIRMED", "PAID")  # a second click: already done
    assert again.status_code == 200 and "Déjà traité" in html(again)
    db.session.expire_all()
    assert db.session.get(StageReservation, row.id).status is ReservationStatus.PAID
    lines = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.action == "stage.reservation_status", AuditLog.object_id == row.id)
        .order_by(AuditLog.id)
    ).all()
    assert [(a.before["status"], a.after["status"]) for a in lines] == [
        ("PENDING", "CONFIRMED"),
        ("CONFIRMED", "PAID"),
    ]
    # Paid: the family's receipt, a PAID invoice of the stage's price, its link e-mailed.
    invoice = db.session.get(Invoice, db.session.get(StageReservation, row.id).invoice_id)
    assert (invoice.status, invoice.total_millimes, invoice.payment_reference) == (
        InvoiceStatus.PAID,
        450_000,
        row.reference,
    )
    assert invoice.customer_email == FAMILY
    assert [m.template for m in outbox_to(FAMILY)] == ["stage_reservation", "invoice_link"]
    table = html(client.get(f"/dashboard/assistante/stages/reservations?stage={stage.id}&filtre=toutes"))
    assert f"/dashboard/admin/factures/{invoice.id}" in table
    refused = status_post(client, row, "PAID", "PENDING")
    assert refused.status_code == 422 and 'role="alert"' in html(refused)


def test_cancelling_asks_first_without_javascript_then_frees_the_seat(client, auth):
    stage = make_stage(seats=1)
    row = stages.reserve(stage.id, details()).reservation
    db.session.commit()
    auth.login(ADMIN)
    url = f"/dashboard/assistante/stages/reservations/{row.id}/statut"
    asked = client.post(url, data={"expected": "PENDING", "status": "CANCELLED"})
    assert asked.status_code == 200 and "Annuler cette réservation ?" in html(asked)
    assert 'name="confirm" value="1"' in html(asked)
    assert reservations_of(stage)[0].status is ReservationStatus.PENDING
    done = client.post(url, data={"expected": "PENDING", "status": "CANCELLED", "confirm": "1"})
    assert done.status_code == 303
    assert reservations_of(stage)[0].status is ReservationStatus.CANCELLED
    assert [m.template for m in outbox_to(FAMILY)] == ["stage_reservation", "stage_cancelled"]
    assert stages.seats_left(stage) == 1
    other = stages.reserve(stage.id, details("autre@example.tn"))
    assert other.reservation.status is ReservationStatus.PENDING


def test_a_seat_is_offered_from_the_waiting_list_only_when_one_is_free(client, auth):
    stage = make_stage(seats=1)
    first = stages.reserve(stage.id, details("premier@example.tn")).reservation
    waiting = stages.reserve(stage.id, details(), waiting_list=True).reservation
    db.session.commit()
    auth.login(ASSISTANTE)
    table = html(client.get("/dashboard/assistante/stages/reservations?filtre=WAITING"))
    assert "Proposer une place" not in table  # the stage is full: no seat to offer
    refused = status_post(client, waiting, "WAITING", "PENDING")
    assert refused.status_code == 422 and "liste d'attente" in html(refused)
    status_post(client, first, "PENDING", "CANCELLED", confirm="1")
    assert "Proposer une place" in html(
        client.get("/dashboard/assistante/stages/reservations?filtre=WAITING")
    )
    offered = status_post(client, waiting, "WAITING", "PENDING")
    assert offered.status_code == 200
    db.session.expire_all()
    row = db.session.get(StageReservation, waiting.id)
    assert row.status is ReservationStatus.PENDING and row.assessment_id is not None
    assert [m.template for m in outbox_to(FAMILY)] == ["stage_waiting", "stage_reservation"]


def test_the_table_filters_and_pages(client, auth):
    stage = make_stage()
    other = make_stage(title="Stage d'été")
    stages.reserve(stage.id, details())
    stages.reserve(other.id, details("karim@example.tn"))
    db.session.commit()
    auth.login(ASSISTANTE)
    page = html(client.get(f"/dashboard/assistante/stages/reservations?stage={stage.id}"))
    assert FAMILY in page and "karim@example.tn" not in page
    found = html(client.get("/dashboard/assistante/stages/reservations?q=karim", headers=HX))
    assert (
        "karim@example.tn" in found
        and FAMILY not in found
        and found.lstrip().startswith('<div class="results"')
    )
    empty = html(client.get("/dashboard/assistante/stages/reservations?filtre=PAID"))
    assert "Aucune réservation ne correspond à ce filtre." in empty


def test_the_csv_export_follows_the_filter_in_french(client, auth):
    stage = make_stage()
    stages.reserve(stage.id, details())
    stages.reserve(stage.id, details("=cmd@example.tn"))
    other = make_stage(title="Stage d'été")
    stages.reserve(other.id, details("karim@example.tn"))
    db.session.commit()
    auth.login(ASSISTANTE)
    response = client.get(f"/dashboard/assistante/stages/reservations.csv?stage={stage.id}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:3] == ["Référence", "Stage", "Dates"]
    emails = [line[6] for line in table[1:]]
    assert sorted(emails) == ["'=cmd@example.tn", FAMILY]  # never a formula; the other stage left out
    line = next(line for line in table if line[6] == FAMILY)
    start = fr.local_today() + timedelta(days=30)
    assert line[2] == f"{start:%d/%m/%Y} – {start + timedelta(days=4):%d/%m/%Y}"
    assert line[8] == "En attente de confirmation" and line[9] == "450,000"  # a number in French
    assert line[11] == "04/03/2030 09:00"  # the frozen clock, in Tunis


@pytest.mark.parametrize("email", [PARENT, COACH])
def test_staff_pages_are_staff_only(client, auth, email):
    stage = make_stage()
    row = stages.reserve(stage.id, details()).reservation
    db.session.commit()
    auth.login(email)
    for url in (
        "/dashboard/assistante/stages",
        "/dashboard/assistante/stages/nouveau",
        f"/dashboard/assistante/stages/{stage.id}/modifier",
        "/dashboard/assistante/stages/reservations",
        "/dashboard/assistante/stages/reservations.csv",
    ):
        assert client.get(url).status_code == 403, url
    assert status_post(client, row, "PENDING", "CONFIRMED").status_code == 403


def test_unknown_objects_are_404_for_staff(client, auth):
    auth.login(ADMIN)
    assert client.get("/dashboard/assistante/stages/999999/modifier").status_code == 404
    url = "/dashboard/assistante/stages/reservations/999999/statut"
    assert client.post(url, data={"expected": "PENDING", "status": "CONFIRMED"}).status_code == 404


# -- staff: the stages --------------------------------------------------------------------------


def stage_form(**changes: str) -> dict[str, str]:
    start = fr.local_today() + timedelta(days=60)
    return {
        "title": "Stage d'hiver — Première",
        "description": "Révisions.",
        "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=4)).isoformat(),
        "grade": "PREMIERE",
        "subjects": "MATHEMATIQUES",
        "price": "380,500",
        "seats": "10",
        "published": "y",
    } | changes


def test_staff_create_and_edit_a_stage(client, auth):
    auth.login(ASSISTANTE)
    assert "Stages" in html(client.get("/dashboard/assistante/stages"))
    created = client.post("/dashboard/assistante/stages/nouveau", data=stage_form())
    assert created.status_code == 303
    stage = db.session.scalar(select(Stage).where(Stage.slug == "stage-d-hiver-premiere"))
    assert stage is not None and stage.price_millimes == 380_500 and stage.published
    assert "380,500\u00a0TND" in html(client.get("/stages"))
    form = html(client.get(f"/dashboard/assistante/stages/{stage.id}/modifier"))
    assert 'value="380,5"' in form
    twin = client.post("/dashboard/assistante/stages/nouveau", data=stage_form())
    assert twin.status_code == 303
    assert db.session.scalar(select(Stage).where(Stage.slug == "stage-d-hiver-premiere-2")) is not None
    edited = client.post(
        f"/dashboard/assistante/stages/{stage.id}/modifier", data=stage_form(seats="4", title="Nouveau titre")
    )
    assert edited.status_code == 303
    db.session.expire_all()
    stage = db.session.get(Stage, stage.id)
    assert (stage.title, stage.seats, stage.slug) == ("Nouveau titre", 4, "stage-d-hiver-premiere")
    assert db.session.scalar(
        select(AuditLog).where(AuditLog.action == "stage.updated", AuditLog.object_id == stage.id)
    )


def test_seats_never_fall_below_those_held(client, auth):
    stage = make_stage(seats=3)
    stages.reserve(stage.id, details("a@example.tn"))
    stages.reserve(stage.id, details("b@example.tn"))
    db.session.commit()
    auth.login(ASSISTANTE)
    refused = client.post(f"/dashboard/assistante/stages/{stage.id}/modifier", data=stage_form(seats="1"))
    assert refused.status_code == 422
    assert "2 places sont déjà réservées" in html(refused)
    db.session.expire_all()
    assert db.session.get(Stage, stage.id).seats == 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": "0"}, "Indiquez un prix en dinars"),
        ({"price": "-5"}, "Indiquez un prix en dinars"),
        ({"seats": "0"}, "entre 1 et 500"),
        ({"ends_on": "2000-01-01"}, "ne peut pas précéder"),
        ({"starts_on": "9999-12-31", "ends_on": "9999-12-31"}, "trois ans"),
        ({"subjects": ""}, "au moins une matière"),
    ],
)
def test_a_wrong_stage_is_refused_in_french(client, auth, changes, message):
    auth.login(ADMIN)
    before = count(Stage)
    response = client.post("/dashboard/assistante/stages/nouveau", data=stage_form(**changes))
    assert response.status_code == 422
    assert message in html(response)
    assert count(Stage) == before


# -- Telegram, through its outbox ---------------------------------------------------------------


@pytest.fixture
def telegram(app, monkeypatch) -> Iterator[FakeTelegram]:  # type: ignore[no-untyped-def]
    fake = FakeTelegram(TOKEN)
    fake.start()
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "TELEGRAM_CHAT_ID", CHAT)
    monkeypatch.setitem(app.config, "TELEGRAM_API_URL", fake.url)
    yield fake
    fake.stop()


def test_without_telegram_settings_nothing_is_written(client):
    stage = make_stage()
    reserve(client, stage)
    assert count(TelegramMessage) == 0


def test_each_reservation_is_sent_to_the_staff_chat(client, telegram, run_jobs):
    stage = make_stage()
    reserve(client, stage)
    assert count(TelegramMessage) == 1
    run_jobs()
    (sent,) = telegram.messages
    assert sent["chat_id"] == CHAT
    assert "Nouvelle réservation — Stage de printemps (du " in sent["text"]
    assert "Yasmine Ben Ali (Terminale)" in sent["text"] and "+216 22 333 444" in sent["text"]
    assert "Places restantes : 11 sur 12" in sent["text"]
    (row,) = reservations_of(stage)
    assert row.telegram_sent_at is not None
    message = db.session.scalar(select(TelegramMessage))
    assert message.status is OutboxStatus.SENT


def test_telegram_down_is_retried_with_backoff_and_never_lost(client, telegram):
    stage = make_stage()
    stages.reserve(stage.id, details())
    db.session.commit()
    message = db.session.scalar(select(TelegramMessage))
    telegram.status = 500
    assert deliver_message(message.id) == "failed"
    db.session.expire_all()
    message = db.session.get(TelegramMessage, message.id)
    assert (message.status, message.attempts, message.last_error) == (
        OutboxStatus.PENDING,
        1,
        "TelegramError: HTTP 500",
    )
    assert TOKEN not in message.last_error
    assert deliver_message(message.id) == "skipped"  # not due yet
    assert flush_telegram() == 0
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    telegram.status = 200
    assert flush_telegram() == 1
    db.session.expire_all()
    assert db.session.get(TelegramMessage, message.id).status is OutboxStatus.SENT
    assert len(telegram.messages) == 1
    assert reservations_of(stage)[0].telegram_sent_at is not None


def test_a_wrong_token_fails_without_leaking_it(client, telegram, app, monkeypatch):
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_TOKEN", "999:autre-jeton")
    stage = make_stage()
    stages.reserve(stage.id, details())
    db.session.commit()
    message = db.session.scalar(select(TelegramMessage))
    assert deliver_message(message.id) == "failed"
    db.session.expire_all()
    error = db.session.get(TelegramMessage, message.id).last_error or ""
    assert "401" in error and "autre-jeton" not in error


# -- the race for the last seat -----------------------------------------------------------------


@pytest.mark.committed
def test_fifty_families_race_for_the_last_seat(app):
    stage = make_stage(seats=3)
    stages.reserve(stage.id, details("un@example.tn"))
    stages.reserve(stage.id, details("deux@example.tn"))
    stage_id = stage.id
    db.session.remove()

    results = at_once(app, lambda i: stages.reserve(stage_id, details(f"famille{i}@example.tn")))

    refused = refusals(results)
    assert len(refused) == 49
    assert all(isinstance(r, stages.StageFull) and r.message == stages.FULL for r in refused)
    with app.app_context():
        held = db.session.scalars(
            select(StageReservation).where(
                StageReservation.stage_id == stage_id, StageReservation.status == ReservationStatus.PENDING
            )
        ).all()
        assert len(held) == 3
        assert stages.seats_left(db.session.get_one(Stage, stage_id)) == 0


@pytest.mark.committed
def test_fifty_waiting_families_race_for_one_freed_seat(app):
    stage = make_stage(seats=1)
    first = stages.reserve(stage.id, details("un@example.tn")).reservation
    waiting = [
        stages.reserve(stage.id, details(f"attente{i}@example.tn"), waiting_list=True).reservation.id
        for i in range(5)
    ]
    stages.change_status(first.id, ReservationStatus.PENDING, ReservationStatus.CANCELLED, user(ADMIN))
    admin_id = user(ADMIN).id
    db.session.remove()

    def offer(i: int) -> object:
        from nexus.models.identity import User

        return stages.change_status(
            waiting[i % 5],
            ReservationStatus.WAITING,
            ReservationStatus.PENDING,
            db.session.get_one(User, admin_id),
        )

    results = at_once(app, offer)
    won = [r for r in results if not isinstance(r, ServiceError) and r.changed]
    assert len(won) == 1
    with app.app_context():
        held = db.session.scalars(
            select(StageReservation).where(StageReservation.status == ReservationStatus.PENDING)
        ).all()
        assert len(held) == 1


def test_dates_label_in_french():
    stage = Stage(starts_on=date(2030, 4, 15), ends_on=date(2030, 4, 19))
    assert stages.dates_label(stage) == "du lundi 15 avril au vendredi 19 avril 2030"


def test_a_family_cancelled_by_staff_may_reserve_again_and_is_told_again(client):
    stage = make_stage()
    row = stages.reserve(stage.id, details()).reservation
    test_id = row.assessment_id
    stages.change_status(row.id, ReservationStatus.PENDING, ReservationStatus.CANCELLED, user(ADMIN))
    again = reserve(client, stage)
    assert again.status_code == 303
    (row,) = reservations_of(stage)
    assert row.status is ReservationStatus.PENDING and row.assessment_id == test_id  # the same test
    templates = [m.template for m in outbox_to(FAMILY)]
    assert templates == ["stage_reservation", "stage_cancelled", "stage_reservation"]


@pytest.mark.committed
def test_fifty_submits_of_one_family_make_one_reservation(app):
    stage_id = make_stage(seats=5).id
    db.session.remove()

    results = at_once(app, lambda i: stages.reserve(stage_id, details(FAMILY.upper() if i % 2 else FAMILY)))

    assert refusals(results) == []
    assert sum(1 for r in results if isinstance(r, stages.Reserved) and r.created) == 1
    with app.app_context():
        (row,) = db.session.scalars(
            select(StageReservation).where(StageReservation.stage_id == stage_id)
        ).all()
        assert row.email == FAMILY and row.status is ReservationStatus.PENDING
        assert len(outbox_to(FAMILY)) == 1


def test_staff_reach_the_results_of_a_completed_stage_test(client, auth):
    from nexus.models.assessments import TestStatus

    stage = make_stage()
    row = stages.reserve(stage.id, details()).reservation
    test = db.session.get(Assessment, row.assessment_id)
    test.status = TestStatus.COMPLETED
    db.session.commit()
    auth.login(ASSISTANTE)
    page = html(client.get("/dashboard/assistante/stages/reservations"))
    assert f"/dashboard/positionnement/{test.id}" in page


def test_a_signed_in_parent_finds_the_form_filled_with_their_details(client, auth):
    stage = make_stage()
    auth.login(PARENT)
    page = html(client.get(f"/stages/{stage.slug}"))
    assert f'value="{PARENT}"' in page and 'value="Nadia Ben Ali"' in page


@pytest.mark.committed
def test_fifty_clicks_on_marquer_payee_make_one_invoice(app):
    stage = make_stage()
    row = stages.reserve(stage.id, details()).reservation
    admin = user(ADMIN)
    stages.change_status(row.id, ReservationStatus.PENDING, ReservationStatus.CONFIRMED, admin)
    row_id, admin_id = row.id, admin.id
    db.session.remove()

    def pay(i: int) -> object:
        from nexus.models.identity import User

        actor = db.session.get_one(User, admin_id)
        return stages.change_status(row_id, ReservationStatus.CONFIRMED, ReservationStatus.PAID, actor)

    results = at_once(app, pay)

    assert refusals(results) == []
    assert sum(1 for r in results if r.changed) == 1
    with app.app_context():
        reference = db.session.get_one(StageReservation, row_id).reference
        invoiced = select(func.count()).where(Invoice.payment_reference == reference)
        assert db.session.scalar(invoiced) == 1
        lines = select(func.count()).where(
            AuditLog.action == "stage.reservation_status", AuditLog.object_id == row_id
        )
        assert db.session.scalar(lines) == 2  # confirmed, then paid once
        assert [m.template for m in outbox_to(FAMILY)] == ["stage_reservation", "invoice_link"]
