"""The coaches desk: list, create with an invitation e-mail, edit, deactivate/reactivate inline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, update

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.identity import CoachProfile, TokenPurpose, User, UserToken
from nexus.models.scheduling import SessionStatus
from nexus.services import utcnow
from tests import factories
from tests.helpers import NEW_PASSWORD, count, csrf_token, html, link_in, outbox_to, user
from tests.people import ADMIN, ASSISTANTE, COACH, DEMO_PASSWORD, HX, PARENT, YASMINE, ZENON

BASE = "/dashboard/assistante/coachs"
YES = {"confirm": "1"}  # what a row posts once its hx-confirm (or the confirmation page) said yes
NEW_EMAIL = "nour.jlassi@example.tn"


def coach_form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": "Nour",
        "last_name": "Jlassi",
        "email": NEW_EMAIL,
        "phone": "+216 22 333 444",
        "pseudonym": "Orion",
        "title": "Professeure certifiée de physique-chimie",
        "tag": "Physique & SVT",
        "subjects": ["PHYSIQUE_CHIMIE", "SVT"],
        "available_online": "y",
        "available_in_person": "y",
        "description": "Des expériences avant les formules.",
        "philosophy": "On retient ce que l'on a compris.",
        "expertise": "Bac de spécialité, épreuves pratiques.",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def profile_of(pseudonym: str) -> CoachProfile:
    db.session.expire_all()
    found = db.session.scalar(select(CoachProfile).where(CoachProfile.pseudonym == pseudonym))
    assert found is not None, f"no coach {pseudonym}"
    return found


def audit_lines(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def book_for(coach: CoachProfile, status: SessionStatus = SessionStatus.SCHEDULED, days: int = 3) -> None:
    student = factories.student(YASMINE)
    factories.booking(student.id, coach.id, utcnow() + timedelta(days=days), status=status)
    db.session.commit()


@pytest.fixture
def staff(client, login):  # type: ignore[no-untyped-def]
    return login(client, ASSISTANTE)


# -- list -------------------------------------------------------------------------------------


def test_list_shows_coaches_with_subjects_state_and_upcoming_sessions(staff):
    helios = factories.coach("Hélios")
    book_for(helios)
    book_for(helios, SessionStatus.CANCELLED, days=4)  # cancelled: not counted
    book_for(helios, SessionStatus.COMPLETED, days=-2)  # past: not counted
    page = html(staff.get(BASE))
    assert "<h1>Coachs</h1>" in page
    assert "Nouveau coach" in page
    assert "Hélios" in page and "Zénon" in page
    assert "Karim Haddad" in page and COACH in page
    assert "Mathématiques, NSI" in page and "Français, Philosophie" in page
    row = page.split(f'id="coach-{helios.id}"')[1].split("</tr>")[0]
    assert 'data-label="À venir">1<' in row
    assert "Actif" in row


def test_list_search_and_filters(staff):
    page = html(staff.get(BASE, query_string={"q": "sonia"}))
    assert "Zénon" in page and "Hélios" not in page
    assert "Hélios" in html(staff.get(BASE, query_string={"q": "HÉLIOS"}))
    assert "Aucun coach ne correspond" in html(staff.get(BASE, query_string={"filtre": "en-attente"}))
    assert "Zénon" in html(staff.get(BASE, query_string={"filtre": "nimporte"}))  # unknown filter: all


def test_admin_reaches_the_desk_too(client, login):
    login(client, ADMIN)
    assert client.get(BASE).status_code == 200


# -- create -----------------------------------------------------------------------------------


def test_create_invites_the_coach_who_activates_and_lands_on_the_coach_dashboard(app, staff, run_jobs, smtp):
    response = staff.post(f"{BASE}/nouveau", data=coach_form())
    assert response.status_code == 303
    assert response.headers["Location"] == BASE
    listing = html(staff.get(BASE))
    assert "Coach « Orion » créé" in listing
    assert "Invitation en attente" in listing

    created = profile_of("Orion")
    assert created.subjects == ["PHYSIQUE_CHIMIE", "SVT"]
    assert created.title == "Professeure certifiée de physique-chimie"
    account = created.user
    assert account.role.value == "COACH"
    assert account.password_hash is None and account.activated_at is None
    assert account.email == NEW_EMAIL and account.phone == "+216 22 333 444"
    assert audit_lines("coach.created")[-1].after["pseudonym"] == "Orion"
    assert audit_lines("coach.invitation_sent")[-1].object_id == account.id

    assert run_jobs() == 1
    message = smtp.wait_for(NEW_EMAIL)
    assert "Votre espace coach" in message["Subject"]
    link = link_in(message, "/auth/activate")

    coach = app.test_client()
    welcome = html(coach.get(link))
    assert "Bienvenue Nour" in welcome and "compte coach" in welcome
    done = coach.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"] == "/auth/signin"
    signed_in = coach.post("/auth/signin", data={"email": NEW_EMAIL, "password": NEW_PASSWORD})
    assert signed_in.status_code == 303
    assert coach.get("/dashboard").headers["Location"] == "/dashboard/coach"
    assert coach.get("/dashboard/coach").status_code == 200


def test_a_new_coach_appears_on_the_public_team_page(client, staff):
    assert "Orion" not in html(client.get("/equipe"))
    staff.post(f"{BASE}/nouveau", data=coach_form())
    team = html(client.get("/equipe"))
    assert "Orion" in team
    assert "Physique-chimie · SVT" in team
    assert "Jlassi" not in team  # only the pseudonym is public


@pytest.mark.parametrize("pseudonym", ["Hélios", "hélios", "  Hélios  "])
def test_a_taken_pseudonym_is_refused_with_the_form_kept(staff, pseudonym):
    response = staff.post(f"{BASE}/nouveau", data=coach_form(pseudonym=pseudonym))
    assert response.status_code == 422
    page = html(response)
    assert "Ce pseudonyme est déjà pris par un autre coach" in page
    assert NEW_EMAIL in page and "Des expériences avant les formules." in page
    assert '<input checked id="subjects-7" name="subjects" type="checkbox" value="PHYSIQUE_CHIMIE">' in page
    assert db.session.scalar(select(User.id).where(User.email == NEW_EMAIL)) is None
    assert outbox_to(NEW_EMAIL) == []


def test_a_taken_email_is_refused_with_the_form_kept(staff):
    before = count(User)
    response = staff.post(f"{BASE}/nouveau", data=coach_form(email="Helios@Nexus-Reussite.tn"))
    assert response.status_code == 422
    page = html(response)
    assert "Cette adresse e-mail est déjà utilisée par un autre compte." in page
    assert 'value="Orion"' in page
    assert count(User) == before


def test_missing_and_invalid_fields_get_french_messages(staff):
    data = coach_form(
        first_name="", email="pas-une-adresse", subjects=None, available_online=None, available_in_person=None
    )
    page = html(staff.post(f"{BASE}/nouveau", data=data))
    assert "Vérifiez les champs signalés ci-dessous." in page
    assert "Ce champ est obligatoire." in page
    assert "Adresse e-mail invalide." in page
    assert "Choisissez au moins une matière." in page
    assert "Cochez au moins une modalité : en ligne ou au centre." in page


def test_an_unknown_subject_is_refused(staff):
    response = staff.post(f"{BASE}/nouveau", data=coach_form(subjects=["PHYSIQUE_CHIMIE", "ASTROLOGIE"]))
    assert response.status_code == 422
    assert "Choisissez les matières dans la liste." in html(response)


def test_the_new_coach_form_checks_both_modalities_by_default(staff):
    page = html(staff.get(f"{BASE}/nouveau"))
    assert '<input checked id="available_online"' in page
    assert '<input checked id="available_in_person"' in page


# -- edit -------------------------------------------------------------------------------------


def test_edit_shows_the_saved_profile_and_saves_changes(staff):
    zenon = factories.coach("Zénon")
    page = html(staff.get(f"{BASE}/{zenon.id}/modifier"))
    assert "Modifier Zénon" in page
    assert 'value="Professeure certifiée de lettres"' in page
    assert 'name="email"' not in page  # an activated account keeps its login
    data = coach_form(
        first_name="Sonia", last_name="Mansour", email=None, pseudonym="Zénon", subjects=["FRANCAIS"]
    )
    response = staff.post(f"{BASE}/{zenon.id}/modifier", data=data)
    assert response.status_code == 303
    assert "Profil de « Zénon » enregistré." in html(staff.get(BASE))
    saved = profile_of("Zénon")
    assert saved.subjects == ["FRANCAIS"]
    assert saved.title == "Professeure certifiée de physique-chimie"
    assert saved.user.email == ZENON
    line = audit_lines("coach.updated")[-1]
    assert line.before["subjects"] == ["FRANCAIS", "PHILOSOPHIE"] and line.after["subjects"] == ["FRANCAIS"]
    assert "first_name" not in line.after  # only what changed


def test_edit_refuses_another_coachs_pseudonym(staff):
    zenon = factories.coach("Zénon")
    data = coach_form(email=None, pseudonym="HÉLIOS")
    response = staff.post(f"{BASE}/{zenon.id}/modifier", data=data)
    assert response.status_code == 422
    assert "Ce pseudonyme est déjà pris par un autre coach" in html(response)
    assert 'value="HÉLIOS"' in html(response)
    assert profile_of("Zénon").title == "Professeure certifiée de lettres"


def test_edit_keeps_its_own_pseudonym(staff):
    helios = factories.coach("Hélios")
    data = coach_form(email=None, pseudonym="Hélios", subjects=["MATHEMATIQUES", "NSI"])
    assert staff.post(f"{BASE}/{helios.id}/modifier", data=data).status_code == 303


def test_a_pending_coachs_new_address_gets_a_fresh_invitation(staff, run_jobs, smtp):
    staff.post(f"{BASE}/nouveau", data=coach_form())
    orion = profile_of("Orion")
    data = coach_form(email="nour.j@example.tn")
    assert staff.post(f"{BASE}/{orion.id}/modifier", data=data).status_code == 303
    assert "nouvelle invitation a été envoyée" in html(staff.get(BASE))
    run_jobs()
    assert link_in(smtp.wait_for("nour.j@example.tn"), "/auth/activate")
    live = select(func.count()).where(UserToken.user_id == orion.user_id, UserToken.used_at.is_(None))
    assert db.session.scalar(live) == 1  # the first link no longer works


def test_edit_refuses_an_address_already_used(staff):
    staff.post(f"{BASE}/nouveau", data=coach_form())
    orion = profile_of("Orion")
    response = staff.post(f"{BASE}/{orion.id}/modifier", data=coach_form(email=PARENT))
    assert response.status_code == 422
    assert "Cette adresse e-mail est déjà utilisée par un autre compte." in html(response)


# -- deactivate / reactivate ------------------------------------------------------------------


def test_deactivation_is_refused_while_sessions_are_booked(staff):
    helios = factories.coach("Hélios")
    book_for(helios)
    book_for(helios, days=5)
    response = staff.post(f"{BASE}/{helios.id}/desactiver", data=YES, headers=HX)
    assert response.status_code == 422
    row = html(response)
    assert row.startswith(f'<tr id="coach-{helios.id}">')
    assert "Impossible de désactiver Hélios : 2 séances à venir." in row
    assert user(COACH).is_active

    plain = staff.post(f"{BASE}/{helios.id}/desactiver", data={"retour": f"{BASE}?q=h", **YES})
    assert plain.status_code == 303 and plain.headers["Location"] == f"{BASE}?q=h"
    assert "Impossible de désactiver Hélios : 2 séances à venir." in html(staff.get(BASE))


def test_deactivate_then_reactivate_inline(client, staff):
    zenon = factories.coach("Zénon")
    off = staff.post(f"{BASE}/{zenon.id}/desactiver", data=YES, headers=HX)
    assert off.status_code == 200
    row = html(off)
    assert row.startswith(f'<tr id="coach-{zenon.id}">')
    assert "Désactivé" in row and "Réactiver" in row and "Compte de Zénon désactivé." in row
    db.session.expire_all()
    assert not zenon.user.is_active
    assert audit_lines("account.deactivated")[-1].object_id == zenon.user_id
    assert "Zénon" not in html(client.get("/equipe"))

    on = staff.post(f"{BASE}/{zenon.id}/activer", data=YES, headers=HX)
    assert on.status_code == 200
    assert "Actif" in html(on) and "Compte de Zénon réactivé." in html(on)
    db.session.expire_all()
    assert zenon.user.is_active
    assert "Zénon" in html(client.get("/equipe"))


def test_deactivate_without_javascript_redirects_with_a_flash(staff):
    zenon = factories.coach("Zénon")
    response = staff.post(f"{BASE}/{zenon.id}/desactiver", data={"retour": "https://evil.example/", **YES})
    assert response.status_code == 303
    assert response.headers["Location"] == BASE  # never elsewhere
    assert "Compte de Zénon désactivé." in html(staff.get(BASE))


def test_a_deactivated_coach_can_no_longer_sign_in(app, staff):
    zenon = factories.coach("Zénon")
    staff.post(f"{BASE}/{zenon.id}/desactiver", data=YES)
    data = {"email": ZENON, "password": DEMO_PASSWORD}
    assert app.test_client().post("/auth/signin", data=data).status_code == 422


def test_without_javascript_deactivation_asks_first(staff):
    zenon = factories.coach("Zénon")
    back = f"{BASE}?filtre=tous"
    page = staff.post(f"{BASE}/{zenon.id}/desactiver", data={"retour": back})
    assert page.status_code == 200
    assert "Désactiver le coach Zénon ?" in html(page) and 'name="confirm" value="1"' in html(page)
    assert f'value="{back}"' in html(page)
    db.session.expire_all()
    assert zenon.user.is_active


def test_the_row_offers_the_right_actions(staff):
    zenon = factories.coach("Zénon")
    page = html(staff.get(BASE))
    row = page.split(f'id="coach-{zenon.id}"')[1].split("</tr>")[0]
    assert f"{BASE}/{zenon.id}/desactiver" in row and "hx-confirm=" in row
    assert f"{BASE}/{zenon.id}/modifier" in row
    assert "Renvoyer l'invitation" not in row  # already activated


# -- invitations ------------------------------------------------------------------------------


def test_resend_invitation_inline(staff, run_jobs, smtp):
    staff.post(f"{BASE}/nouveau", data=coach_form())
    orion = profile_of("Orion")
    at_once = staff.post(f"{BASE}/{orion.id}/invitation", headers=HX)
    assert at_once.status_code == 422 and "attendez une minute" in html(at_once)
    with freeze_time(utcnow() + timedelta(minutes=2)):
        response = staff.post(f"{BASE}/{orion.id}/invitation", headers=HX)
    assert response.status_code == 200
    assert "Nouvelle invitation envoyée à nour.jlassi@example.tn" in html(response)
    assert len(outbox_to(NEW_EMAIL)) == 2
    run_jobs()
    smtp.wait_for(NEW_EMAIL)


def test_no_invitation_for_an_activated_coach(staff):
    helios = factories.coach("Hélios")
    response = staff.post(f"{BASE}/{helios.id}/invitation", headers=HX)
    assert response.status_code == 422
    assert "Ce coach a déjà activé son compte" in html(response)
    assert outbox_to(COACH) == []


def test_an_expired_invitation_can_be_renewed_by_the_coach(app, staff, run_jobs, smtp):
    staff.post(f"{BASE}/nouveau", data=coach_form())
    run_jobs()
    link = link_in(smtp.wait_for(NEW_EMAIL), "/auth/activate")
    db.session.execute(
        update(UserToken)
        .where(UserToken.purpose == TokenPurpose.ACTIVATION)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    smtp.clear()
    coach = app.test_client()
    assert coach.get(link).status_code == 410
    renewed = coach.post("/auth/activate/nouveau-lien", data={"token": link.split("token=")[1]})
    assert renewed.status_code == 200
    run_jobs()
    assert link_in(smtp.wait_for(NEW_EMAIL), "/auth/activate") != link


def test_the_forms_carry_their_csrf_token(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    token = csrf_token(html(client.get("/auth/signin")))
    data = {"email": ASSISTANTE, "password": DEMO_PASSWORD, "csrf_token": token}
    assert client.post("/auth/signin", data=data).status_code == 303
    assert client.post(f"{BASE}/nouveau", data=coach_form()).status_code == 400
    form_token = csrf_token(html(client.get(f"{BASE}/nouveau")))
    assert client.post(f"{BASE}/nouveau", data=coach_form(csrf_token=form_token)).status_code == 303
    row_token = csrf_token(html(client.get(BASE)).split("<tbody>")[1])
    orion = profile_of("Orion")
    confirmed = {"csrf_token": row_token, **YES}
    assert client.post(f"{BASE}/{orion.id}/desactiver", data=confirmed).status_code == 303


# -- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [COACH, PARENT, YASMINE])
def test_other_roles_are_refused(client, login, email):
    login(client, email)
    helios = factories.coach("Hélios")
    assert client.get(BASE).status_code == 403
    assert client.get(f"{BASE}/nouveau").status_code == 403
    assert client.post(f"{BASE}/nouveau", data=coach_form()).status_code == 403
    assert client.get(f"{BASE}/{helios.id}/modifier").status_code == 403
    assert client.post(f"{BASE}/{helios.id}/desactiver", headers=HX).status_code == 403
    assert client.post(f"{BASE}/{helios.id}/invitation").status_code == 403
    assert user(COACH).is_active


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(BASE)
    assert response.status_code == 302
    assert "/auth/signin" in response.headers["Location"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/987654/modifier"),
        ("post", "/987654/modifier"),
        ("post", "/987654/desactiver"),
        ("post", "/987654/activer"),
        ("post", "/987654/invitation"),
        ("get", "/" + "9" * 25 + "/modifier"),
    ],
)
def test_unknown_coach_is_not_found(staff, method, path):
    response = getattr(staff, method)(BASE + path, headers=HX)
    assert response.status_code == 404


def test_a_search_answers_the_coaches_table_fragment(staff):
    fragment = html(staff.get(f"{BASE}?q=zenon", headers=HX))
    assert fragment.lstrip().startswith('<div class="results" id="coaches-table">')
    assert "Zénon" in fragment and "Hélios" not in fragment and "<html" not in fragment
    assert f'name="retour" value="{BASE}?q=zenon"' in fragment  # its rows come back to this search
