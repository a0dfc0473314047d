"""The workshops' pages, for every role: the lists, the creation form (staff and coach), a
workshop's page, a family booking a seat, joining the waiting list and cancelling (the terms
first) through the HTTP routes; someone else's workshop or child is not found."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select

from nexus import fr
from nexus.extensions import db
from nexus.models.common import Grade, Subject
from nexus.models.family import Student
from nexus.models.scheduling import SessionStatus
from nexus.models.workshops import WaitStatus, Workshop, WorkshopStatus, WorkshopWaitlist
from nexus.services import credits, utcnow, workshops
from tests import factories
from tests.helpers import csrf_token, user
from tests.helpers import html as raw_html
from tests.people import ADMIN, ASSISTANTE, HELIOS, PARENT, PARENT2, SAMI, YASMINE, ZENON

LINA, OMAR, INES = "lina@example.tn", "omar@example.tn", "ines@example.tn"  # Nadia's, in Première
CONFIRM = {"confirm": "1"}


def local(days: int, hour: int = 15) -> datetime:
    """A Tunis wall-clock time `days` from today."""
    return datetime.combine(fr.local_today(utcnow()) + timedelta(days=days), time(hour), fr.TUNIS)


def plan(
    days: int = 3, seats: int = 3, grade: Grade = Grade.PREMIERE, weeks: int = 1, hour: int = 15
) -> Workshop:
    data = workshops.WorkshopInput(
        coach=factories.coach("Hélios"),
        subject=Subject.MATHEMATIQUES,
        grade=grade,
        title="Suites numériques",
        description="Méthodes du bac.",
        starts_at=local(days, hour),
        minutes=60,
        online=True,
        seats=seats,
        weeks=weeks,
    )
    return workshops.create(user(ADMIN), data)[0]


def html(response) -> str:  # type: ignore[no-untyped-def]
    """The page's text with its entities read (l'atelier, not l&#39;atelier)."""
    return unescape(raw_html(response))


def classmate(email: str, first: str) -> int:
    """One more student in Première, with 4 credits and the demo password (Nadia's child)."""
    student = factories.family_student(email, PARENT, first, password=True)
    student.grade = Grade.PREMIERE
    factories.entitle(student.id, 4)
    return student.id


@pytest.fixture
def classmates(app) -> dict[str, int]:
    return {
        email: classmate(email, first) for email, first in ((LINA, "Lina"), (OMAR, "Omar"), (INES, "Ines"))
    }


def as_(app, login, email: str):
    """A browser of its own, signed in as `email`."""
    return login(app.test_client(), email)


@pytest.fixture
def workshop(app):
    return plan()


def balance(email: str) -> Decimal:
    db.session.expire_all()
    return credits.balance(factories.student(email).id)


def workshop_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Workshop)) or 0


# -- every role's pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("email", [ADMIN, ASSISTANTE])
def test_staff_pages(client, login, workshop, email):
    login(client, email)
    listing = html(client.get("/dashboard/assistante/ateliers"))
    assert "Suites numériques" in listing and "0 / 3" in listing and ">Ateliers<" in listing
    assert client.get("/dashboard/assistante/ateliers/nouveau").status_code == 200
    page = html(client.get(f"/dashboard/assistante/ateliers/{workshop.id}"))
    assert "Aucun participant" in page and "Annuler l'atelier" in page
    assert client.get("/dashboard/assistante/ateliers/99999999").status_code == 404


def test_coach_pages_and_another_coach_gets_404(app, client, login, workshop):
    login(client, HELIOS)
    assert "Suites numériques" in html(client.get("/dashboard/coach/ateliers"))
    form = html(client.get("/dashboard/coach/ateliers/nouveau"))
    assert "Mathématiques" in form and "Français" not in form  # his own subjects only
    assert "Aucun participant" in html(client.get(f"/dashboard/coach/ateliers/{workshop.id}"))
    assert "pas encore commencé" in html(client.get(f"/dashboard/coach/ateliers/{workshop.id}/rapport"))
    client = as_(app, login, ZENON)
    for path in ("", "/rapport"):
        assert client.get(f"/dashboard/coach/ateliers/{workshop.id}{path}").status_code == 404
    assert client.post(f"/dashboard/coach/ateliers/{workshop.id}/rapport", data={}).status_code == 404


def test_the_student_sees_the_workshops_of_their_level_with_price_and_balance(client, login, workshop):
    login(client, SAMI)
    page = html(client.get("/dashboard/eleve/ateliers"))
    assert "Suites numériques" in page and "Hélios" in page
    assert "Réserver (1,5 crédit)" in page and "3 places restantes sur 3" in page
    assert "Solde de votre compte : <strong>4 crédits</strong>" in page
    assert "En ligne" in page and "<dd>1 h</dd>" in page
    assert "Suites numériques" in html(client.get(f"/dashboard/eleve/ateliers/{workshop.id}"))


def test_a_student_of_another_level_and_another_family_get_404(app, client, login, workshop):
    sami = factories.student(SAMI)
    login(client, YASMINE)  # Terminale
    assert "Suites numériques" not in html(client.get("/dashboard/eleve/ateliers"))
    assert client.get(f"/dashboard/eleve/ateliers/{workshop.id}").status_code == 404
    assert client.post(f"/dashboard/eleve/ateliers/{workshop.id}/reserver").status_code == 404
    client = as_(app, login, PARENT)  # Yasmine's parent: Sami is not theirs
    assert client.get(f"/dashboard/parent/ateliers?eleve={sami.id}").status_code == 404
    assert client.get(f"/dashboard/parent/ateliers/{workshop.id}?eleve={sami.id}").status_code == 404
    response = client.post(f"/dashboard/parent/ateliers/{workshop.id}/reserver", data={"eleve": sami.id})
    assert response.status_code == 404
    assert client.get("/dashboard/parent/ateliers?eleve=%C2%B2").status_code == 404
    assert not workshops.participants(workshop.id)


def test_the_parent_sees_one_child_at_a_time(app, client, login, workshop, classmates):
    sami = factories.student(SAMI)
    login(client, PARENT2)
    assert "pour Sami" in html(client.get("/dashboard/parent/ateliers"))  # the first child
    page = html(client.get(f"/dashboard/parent/ateliers?eleve={sami.id}"))
    assert "pour Sami" in page and "Réserver (1,5 crédit)" in page
    assert "Suites numériques" in html(
        client.get(f"/dashboard/parent/ateliers/{workshop.id}?eleve={sami.id}")
    )
    # Nadia switches between her children.
    client = as_(app, login, PARENT)
    page = html(client.get(f"/dashboard/parent/ateliers?eleve={classmates[OMAR]}"))
    assert "pour Omar" in page and "Suites numériques" in page
    assert 'aria-current="page">Omar</a>' in page and ">Lina</a>" in page and ">Yasmine</a>" in page
    page = html(client.get(f"/dashboard/parent/ateliers?eleve={factories.student(YASMINE).id}"))
    assert "pour Yasmine" in page and "Aucun atelier n'est prévu" in page


# -- the creation form ----------------------------------------------------------------------------


def create_form(**changes: str) -> dict[str, str]:
    values = {
        "subject": "MATHEMATIQUES",
        "coach": str(factories.coach("Hélios").id),
        "grade": "PREMIERE",
        "title": "Probabilités — méthodes",
        "description": "",
        "day": (fr.local_today(utcnow()) + timedelta(days=4)).isoformat(),
        "start": "16:00",
        "minutes": "90",
        "place": "centre",
        "seats": "4",
        "weeks": "1",
    }
    values |= changes
    if values["day"].startswith("+"):  # days from the (frozen) today
        values["day"] = (fr.local_today(utcnow()) + timedelta(days=int(values["day"]))).isoformat()
    return values


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seats": "1"}, "Indiquez un nombre de places entre 2 et 12."),
        ({"seats": "13"}, "Indiquez un nombre de places entre 2 et 12."),
        ({"title": ""}, "Ce champ est obligatoire."),
        ({"weeks": "0"}, "Indiquez un nombre de semaines entre 1 et 12."),
        ({"coach": str(1_000_000)}, "Choisissez un coach dans la liste."),
        ({"subject": "FRANCAIS"}, "Choisissez un coach dans la liste."),  # Hélios does not teach it
        ({"day": "2020-01-01"}, "Choisissez une date entre aujourd'hui et dans un an."),
        ({"day": "2030-02-30"}, "Indiquez une date valide."),
        ({"start": "25:00"}, "Indiquez une heure valide."),
        ({"grade": "CM2"}, "Choisissez une réponse dans la liste."),
        ({"place": "lune"}, "Choisissez une réponse dans la liste."),
        ({"day": "+120"}, "Un atelier se programme au plus 3 mois à l'avance."),
    ],
)
def test_the_create_form_refuses_bad_input_in_french_and_writes_nothing(client, login, changes, message):
    login(client, ASSISTANTE)
    before = workshop_count()
    response = client.post("/dashboard/assistante/ateliers/nouveau", data=create_form(**changes))
    assert response.status_code == 422
    page = html(response)
    assert message in page and "rien n'a été enregistré" in page
    assert changes.get("title", "Probabilités — méthodes") in page  # what was typed is kept
    assert workshop_count() == before


def test_staff_plan_a_weekly_workshop(client, login):
    login(client, ASSISTANTE)
    response = client.post("/dashboard/assistante/ateliers/nouveau", data=create_form(weeks="3"))
    assert response.status_code == 303
    made = list(db.session.scalars(select(Workshop).order_by(Workshop.starts_at)))
    assert [w.title for w in made] == ["Probabilités — méthodes"] * 3
    assert made[1].starts_at - made[0].starts_at == timedelta(weeks=1)
    assert {w.series_id for w in made} == {made[0].id} and not made[0].online and made[0].seats == 4
    assert made[0].credits_cost == Decimal("2.25")  # 1 h 30 at 1.5 credits per hour
    page = html(client.get(response.headers["Location"]))
    assert "programmé pour 3 semaines" in page
    # The same time again: the coach is busy, said next to the date, nothing more written.
    again = client.post("/dashboard/assistante/ateliers/nouveau", data=create_form())
    assert again.status_code == 422 and "Hélios a déjà une séance ou un atelier" in html(again)
    assert workshop_count() == 3


def test_the_coach_list_narrows_to_the_subject(client, login):
    login(client, ADMIN)
    page = html(client.get("/dashboard/assistante/ateliers/nouveau?subject=FRANCAIS"))
    assert "Zénon (Français, Philosophie)" in page and "Hélios (" not in page
    assert "Hélios (Mathématiques, NSI)" in html(client.get("/dashboard/assistante/ateliers/nouveau"))


def test_a_coach_plans_only_in_their_subjects(client, login):
    login(client, HELIOS)
    form = create_form()
    del form["coach"]
    refused = client.post("/dashboard/coach/ateliers/nouveau", data=form | {"subject": "FRANCAIS"})
    assert refused.status_code == 422 and "Choisissez une de vos matières." in html(refused)
    forged = client.post(
        "/dashboard/coach/ateliers/nouveau", data=form | {"coach": str(factories.coach("Zénon").id)}
    )
    assert forged.status_code == 303
    (made,) = db.session.scalars(select(Workshop))
    assert made.coach.pseudonym == "Hélios" and made.created_by_id == user(HELIOS).id


# -- a family's seat, the waiting list, cancelling ------------------------------------------------


def post_with_token(client, page_url: str, action: str, data: dict[str, str] | None = None):
    """Post as the browser does: the CSRF token taken from the page that holds the form."""
    token = csrf_token(html(client.get(page_url)))
    return client.post(action, data={"csrf_token": token, **(data or {})})


def test_book_wait_and_a_freed_seat_goes_to_the_first_in_line(app, login, monkeypatch, workshop, classmates):
    browsers = {email: as_(app, login, email) for email in (SAMI, LINA, OMAR, INES)}
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # signed in: now every form needs its token
    base = f"/dashboard/eleve/ateliers/{workshop.id}"
    for email in (SAMI, LINA, OMAR):
        client = browsers[email]
        response = post_with_token(
            client, "/dashboard/eleve/ateliers", f"{base}/reserver", {"depuis": "liste"}
        )
        assert response.status_code == 303 and response.headers["Location"].endswith(
            f"#atelier-{workshop.id}"
        )
        page = html(client.get(response.headers["Location"]))
        assert "Place réservée pour" in page and "Inscrit" in page
    assert balance(SAMI) == Decimal("2.5")
    client = browsers[INES]
    page = html(client.get("/dashboard/eleve/ateliers"))
    assert "Complet — rejoindre la liste d'attente" in page and "Réserver (" not in page
    response = post_with_token(client, base, f"{base}/attente")
    page = html(client.get(response.headers["Location"]))
    assert "Vous êtes n° 1 sur la liste d'attente" in page and "Quitter la liste" in page
    # Sami cancels three days before: the terms first, then the refund; Ines gets the seat.
    client = browsers[SAMI]
    terms = html(client.get(f"{base}/annuler"))
    assert "1,5 crédit sera rendu" in terms or "rendu" in terms
    assert balance(SAMI) == Decimal("2.5")  # nothing happens before the confirmation
    response = post_with_token(client, f"{base}/annuler", f"{base}/annuler", {"reason": "Malade", **CONFIRM})
    assert response.status_code == 303
    assert "Place annulée (1,5 crédit rendu)" in html(client.get(response.headers["Location"]))
    assert balance(SAMI) == Decimal(4)
    assert "Inscrit" in html(browsers[INES].get(base))
    entry = db.session.scalar(select(WorkshopWaitlist).where(WorkshopWaitlist.student_id == classmates[INES]))
    assert entry.status is WaitStatus.PROMOTED
    assert [b.student.user.first_name for b in workshops.participants(workshop.id)] == [
        "Ines",
        "Lina",
        "Omar",
    ]


def test_a_posted_form_without_its_token_is_refused(app, client, login, monkeypatch, workshop):
    login(client, SAMI)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(f"/dashboard/eleve/ateliers/{workshop.id}/reserver")
    assert response.status_code == 400
    assert not workshops.participants(workshop.id)


def test_the_parent_books_and_leaves_the_waiting_list_for_their_child(client, login, classmates):
    full = plan(seats=2)
    for email in (LINA, OMAR):
        workshops.book_seat(user(email), db.session.get(Student, classmates[email]), full.id)
    sami = factories.student(SAMI)
    login(client, PARENT2)
    base = f"/dashboard/parent/ateliers/{full.id}"
    response = client.post(f"{base}/attente", data={"eleve": sami.id})
    assert response.headers["Location"] == f"{base}?eleve={sami.id}"
    assert "Vous êtes n° 1 sur la liste d'attente" in html(client.get(response.headers["Location"]))
    leave = {"eleve": sami.id, "depuis": "liste"}
    asked = html(client.post(f"{base}/attente/quitter", data=leave))  # without JavaScript: asked first
    assert "Quitter la liste d'attente" in asked and "ce sera en fin de liste" in asked
    assert f'name="eleve" value="{sami.id}"' in asked and "Vous êtes n° 1" not in asked
    assert workshops.card_for(sami, full).waiting_position == 1
    response = client.post(f"{base}/attente/quitter", data=leave | {"confirm": "1"})
    page = html(client.get(response.headers["Location"]))
    assert "Sami a quitté la liste d'attente." in page and "Complet — rejoindre" in page
    # An open one: booked from the parent's space, the child's balance is said.
    other = plan(days=4)
    response = client.post(f"/dashboard/parent/ateliers/{other.id}/reserver", data={"eleve": sami.id})
    page = html(client.get(response.headers["Location"]))
    assert "Place réservée pour Sami" in page and "2,5 crédits" in page


def test_refusals_are_flashed_in_french(client, login, workshop):
    login(client, SAMI)
    base = f"/dashboard/eleve/ateliers/{workshop.id}"
    client.post(f"{base}/reserver")
    response = client.post(f"{base}/reserver")
    assert response.status_code == 303
    assert "Sami a déjà une place dans cet atelier." in html(client.get(response.headers["Location"]))
    response = client.post(f"{base}/attente/quitter", data={"confirm": "1"})
    assert response.status_code == 303
    assert "Sami n'est pas sur la liste d'attente" in html(client.get(response.headers["Location"]))


def test_a_late_cancellation_says_the_credits_are_lost_before_confirming(client, login):
    soon = plan(days=1, hour=15)
    login(client, SAMI)
    base = f"/dashboard/eleve/ateliers/{soon.id}"
    client.post(f"{base}/reserver")
    terms = html(client.get(f"{base}/annuler"))
    assert "non rendu" in terms or "pas rendu" in terms or "perdu" in terms
    response = client.post(f"{base}/annuler", data=CONFIRM)
    assert "crédits non rendus" in html(client.get(response.headers["Location"]))
    assert balance(SAMI) == Decimal("2.5")


def test_the_cancel_page_without_a_seat_sends_back(client, login, workshop):
    login(client, SAMI)
    response = client.get(f"/dashboard/eleve/ateliers/{workshop.id}/annuler")
    assert response.status_code == 303
    assert "n'a pas de place dans cet atelier" in html(client.get(response.headers["Location"]))


def test_staff_cancel_the_workshop_after_a_confirmation_and_everyone_is_refunded(client, login, workshop):
    workshops.book_seat(user(SAMI), factories.student(SAMI), workshop.id)
    login(client, ASSISTANTE)
    base = f"/dashboard/assistante/ateliers/{workshop.id}/annuler"
    page = html(client.get(base))
    assert "remboursé" in page and 'name="reason"' in page and "Annuler l'atelier" in page
    refused = client.post(base, data={"reason": "a\x1bb", **CONFIRM})
    assert (
        refused.status_code == 422
        and db.session.get(Workshop, workshop.id).status is WorkshopStatus.SCHEDULED
    )
    response = client.post(base, data={"reason": "Coach malade", **CONFIRM})
    assert response.status_code == 303
    assert "chaque participant est remboursé" in html(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(Workshop, workshop.id).status is WorkshopStatus.CANCELLED
    assert balance(SAMI) == Decimal(4)
    (seat,) = workshops.participants(workshop.id, cancelled=True)
    assert seat.status is SessionStatus.CANCELLED
    # Again: already cancelled, said, nothing else.
    again = client.get(base)
    assert again.status_code == 303


# -- calendar feeds -------------------------------------------------------------------------------


def test_the_coach_feed_shows_a_workshop_once_and_the_student_feed_their_seat(classmates):
    from icalendar import Calendar

    from nexus.services.scheduling import calendar

    full, empty = plan(), plan(days=5)
    for email in (LINA, OMAR):
        workshops.book_seat(user(email), db.session.get(Student, classmates[email]), full.id)
    workshops.book_seat(user(SAMI), factories.student(SAMI), full.id)
    events = list(Calendar.from_ical(calendar.feed(user(HELIOS))).walk("VEVENT"))
    uids = [str(e["uid"]) for e in events]
    assert uids.count(f"workshop-{full.id}@nexus-reussite.tn") == 1
    assert uids.count(f"workshop-{empty.id}@nexus-reussite.tn") == 1  # no participant yet: still there
    assert not any(u.startswith("session-") for u in uids)  # no seat of a workshop as a session
    summaries = {str(e["uid"]): str(e["summary"]) for e in events}
    assert summaries[f"workshop-{full.id}@nexus-reussite.tn"] == "Atelier Mathématiques — Suites numériques"
    seat = workshops.card_for(factories.student(SAMI), full).booking
    mine = list(Calendar.from_ical(calendar.feed(user(SAMI))).walk("VEVENT"))
    assert [str(e["uid"]) for e in mine] == [f"session-{seat.id}@nexus-reussite.tn"]
    assert str(mine[0]["summary"]) == "Atelier Mathématiques avec Hélios"
