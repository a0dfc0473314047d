"""Sign in and out, cookies, `next`, and ending other sessions on a password change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from freezegun import freeze_time
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.identity import UserSession
from nexus.services import utcnow
from nexus.services.identity import passwords
from tests.helpers import NEW_PASSWORD, adam, html, user
from tests.people import ADMIN, DEMO_PASSWORD, HX, PARENT, ROLE_ACCOUNTS

BAD = "E-mail ou mot de passe incorrect."


def sign_in(client, email: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/auth/signin", data={"email": email, "password": password, **extra})


def set_cookie(response, name: str) -> str:  # type: ignore[no-untyped-def]
    found = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]
    assert found, f"no {name} cookie set"
    return found[-1]


def test_signin_page_has_the_contract_labels(client):
    page = html(client.get("/auth/signin"))
    for text in ("E-mail", "Mot de passe", "Se connecter"):
        assert text in page


def test_wrong_password_and_unknown_email_answer_alike(client):
    wrong = sign_in(client, PARENT, "pas le bon mot de passe")
    unknown = sign_in(client, "personne@nexus-reussite.tn", "pas le bon mot de passe")
    assert wrong.status_code == unknown.status_code == 422
    assert BAD in html(wrong)
    # Apart from the e-mail typed (kept in the form), the two pages are the same.
    assert html(wrong).replace(PARENT, "X") == html(unknown).replace("personne@nexus-reussite.tn", "X")


def test_unactivated_student_gets_the_same_answer(client):
    student = adam().user
    student.email = "adam@nexus-reussite.tn"
    student.password_hash = PasswordHasher().hash("un mot de passe correct")
    db.session.commit()
    response = sign_in(client, "adam@nexus-reussite.tn", "un mot de passe correct")
    assert response.status_code == 422
    assert BAD in html(response)
    assert client.get("/dashboard/eleve").status_code == 302


def test_deactivated_account_gets_the_same_answer(client):
    user(PARENT).is_active = False
    db.session.commit()
    response = sign_in(client, PARENT, DEMO_PASSWORD)
    assert response.status_code == 422
    assert BAD in html(response)


def test_empty_fields_get_french_errors(client):
    response = sign_in(client, "", "")
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in html(response)


@pytest.mark.parametrize("role", sorted(ROLE_ACCOUNTS))
def test_each_role_lands_on_its_dashboard(client, role):
    response = sign_in(client, ROLE_ACCOUNTS[role], DEMO_PASSWORD)
    assert response.status_code == 303
    home = client.get(response.headers["Location"])
    assert home.headers["Location"] == f"/dashboard/{role}"
    assert client.get(f"/dashboard/{role}").status_code == 200


def test_email_is_matched_whatever_its_case_and_spaces(client):
    assert sign_in(client, "  Parent@Nexus-Reussite.TN ", DEMO_PASSWORD).status_code == 303


def test_sign_in_records_the_time(client):
    before = utcnow()
    sign_in(client, PARENT, DEMO_PASSWORD)
    db.session.expire_all()
    assert user(PARENT).last_login_at >= before


def test_session_cookie_is_httponly_and_lax(client):
    cookie = set_cookie(sign_in(client, PARENT, DEMO_PASSWORD), "nexus_session")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def latest_session_lifetime() -> timedelta:
    row = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
    return row.expires_at - row.created_at


def test_a_session_lasts_12_hours_or_14_days_when_asked(client):
    sign_in(client, PARENT, DEMO_PASSWORD)
    assert timedelta(hours=11, minutes=59) < latest_session_lifetime() <= timedelta(hours=12, minutes=1)
    sign_in(client.application.test_client(), PARENT, DEMO_PASSWORD, remember="y")
    assert timedelta(days=13) < latest_session_lifetime() <= timedelta(days=14, minutes=1)


def test_no_remember_cookie_and_the_session_cookie_lives_at_most_14_days(client):
    response = sign_in(client, PARENT, DEMO_PASSWORD, remember="y")
    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))
    cookie = set_cookie(response, "nexus_session")
    expires = next(p.split("=", 1)[1] for p in cookie.split("; ") if p.startswith("Expires="))
    assert parsedate_to_datetime(expires) - datetime.now(UTC) <= timedelta(days=14)


def test_sign_out_ends_the_session(client, login):
    login(client, PARENT)
    response = client.post("/auth/signout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/signin"
    assert "Vous êtes déconnecté" in html(client.get("/auth/signin"))
    assert client.get("/dashboard/parent").status_code == 302


def test_sign_out_ends_the_session_on_the_server(app, client, login):
    """A cookie copied before signing out is worth nothing afterwards (ASVS 7.4.1)."""
    login(client, PARENT)
    copied = client.get_cookie("nexus_session").value
    client.post("/auth/signout")
    thief = app.test_client()
    thief.set_cookie("nexus_session", copied)
    assert thief.get("/dashboard/parent").status_code == 302


def test_a_new_session_identifier_at_each_sign_in(client):
    client.get("/auth/signin")
    before = client.get_cookie("nexus_session")
    sign_in(client, PARENT, DEMO_PASSWORD)
    assert client.get_cookie("nexus_session").value != (before.value if before else None)


def test_sign_out_is_post_only(client, login):
    login(client, PARENT)
    assert client.get("/auth/signout").status_code == 405
    assert client.get("/dashboard/parent").status_code == 200


def test_signed_in_user_skips_the_signin_page(client, login):
    login(client, PARENT)
    response = client.get("/auth/signin")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_local_next_is_followed(client):
    response = client.post(
        "/auth/signin?next=/dashboard/parent/enfants", data={"email": PARENT, "password": DEMO_PASSWORD}
    )
    assert response.headers["Location"] == "/dashboard/parent/enfants"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "https://evil.com",
        "http://evil.com/dashboard",
        "/\\evil.com",
        "\\\\evil.com",
        "//evil.com/%2F..",
    ],
)
def test_next_never_leaves_the_site(client, target):
    response = client.post(
        "/auth/signin", query_string={"next": target}, data={"email": PARENT, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location


# -- the account page ------------------------------------------------------------------------


def change_password(client, current: str, new: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    data = {"current": current, "password": new, "confirm": confirm if confirm is not None else new}
    return client.post("/auth/compte", data=data)


def test_changing_the_password_ends_the_other_sessions(app, client, login):
    other = login(app.test_client(), PARENT)
    remembered = app.test_client()
    sign_in(remembered, PARENT, DEMO_PASSWORD, remember="y")
    assert remembered.get("/dashboard/parent").status_code == 200

    login(client, PARENT)
    response = change_password(client, DEMO_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303
    assert "Vos autres sessions ont été fermées" in html(client.get("/auth/compte"))
    assert client.get("/dashboard/parent").status_code == 200

    stale = other.get("/dashboard/parent")
    assert stale.status_code == 302
    assert stale.headers["Location"].startswith("/auth/signin?next=")
    assert other.get("/dashboard/parent", headers=HX).headers["HX-Redirect"].startswith("/auth/signin")
    assert remembered.get("/dashboard/parent").status_code == 302


def test_the_new_password_replaces_the_old_one(app, client, login):
    login(client, PARENT)
    change_password(client, DEMO_PASSWORD, NEW_PASSWORD)
    fresh = app.test_client()
    assert sign_in(fresh, PARENT, DEMO_PASSWORD).status_code == 422
    assert sign_in(fresh, PARENT, NEW_PASSWORD).status_code == 303


def test_wrong_current_password_changes_nothing(app, client, login):
    login(client, PARENT)
    before = user(PARENT).password_hash
    response = change_password(client, "pas le bon", NEW_PASSWORD)
    assert response.status_code == 422
    assert "Le mot de passe actuel est incorrect." in html(response)
    db.session.expire_all()
    assert user(PARENT).password_hash == before
    assert client.get("/dashboard/parent").status_code == 200


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("court", "court", "au moins 8 caractères"),
        ("password123", "password123", "trop courant"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "ne correspondent pas"),
        (PARENT, PARENT, "pas être votre adresse e-mail"),
    ],
)
def test_new_password_rules_on_the_account_page(client, login, new, confirm, message):
    login(client, PARENT)
    response = change_password(client, DEMO_PASSWORD, new, confirm)
    assert response.status_code == 422
    assert message in html(response)


def test_account_page_needs_a_signed_in_user(client):
    response = client.get("/auth/compte")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/signin?next=/auth/compte"


def test_outdated_hash_is_upgraded_on_sign_in(client):
    weak = PasswordHasher(time_cost=1, memory_cost=4096, parallelism=2)
    user(ADMIN).password_hash = weak.hash(DEMO_PASSWORD)
    db.session.commit()
    assert sign_in(client, ADMIN, DEMO_PASSWORD).status_code == 303
    db.session.expire_all()
    stored = user(ADMIN).password_hash
    assert stored.startswith("$argon2id$")
    assert not passwords.hasher.check_needs_rehash(stored)


def test_session_ends_after_12_hours(client, login):
    login(client, PARENT)
    with freeze_time(utcnow() + timedelta(hours=12, minutes=1)):
        response = client.get("/dashboard/parent")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/signin")
