"""Forgotten password: same answer for every address, an e-mailed single-use 60-minute link."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.identity import TokenPurpose, UserToken
from nexus.services import utcnow
from tests.helpers import NEW_PASSWORD, adam, html, link_in, outbox_to, user
from tests.people import DEMO_PASSWORD, HX, PARENT
from tests.servers import body_text

FORGOT = "/auth/mot-de-passe-oublie"
UNKNOWN = "personne@nexus-reussite.tn"


def request_link(client, run_jobs, smtp, email: str = PARENT) -> str:  # type: ignore[no-untyped-def]
    assert client.post(FORGOT, data={"email": email}).status_code == 200
    assert run_jobs() == 1
    return link_in(smtp.wait_for(email), "/auth/reset-password")


def choose(client, link: str, password: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(link, data={"password": password, "confirm": confirm or password})


def sign_in(client, password: str):  # type: ignore[no-untyped-def]
    return client.post("/auth/signin", data={"email": PARENT, "password": password})


def test_known_and_unknown_addresses_get_the_same_page(client, run_jobs):
    known = client.post(FORGOT, data={"email": PARENT})
    unknown = client.post(FORGOT, data={"email": UNKNOWN})
    assert known.status_code == unknown.status_code == 200
    assert html(known).replace(PARENT, "X") == html(unknown).replace(UNKNOWN, "X")
    assert "Si un compte existe" in html(known)
    assert run_jobs() == 2  # one job per request, whatever the address
    assert len(outbox_to(PARENT)) == 1  # only the real account gets an e-mail
    assert outbox_to(UNKNOWN) == []


def _work_of(app, client, email: str) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """The SQL statements run and the jobs queued while answering one request."""
    from redis import Redis
    from rq import Queue
    from sqlalchemy import event

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    queue = Queue("emails", connection=Redis.from_url(app.config["REDIS_URL"]))
    queue.empty()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.post(FORGOT, data={"email": email}).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    jobs = [f"{j.func_name}{tuple(str(a).replace(email, '@') for a in j.args)}" for j in queue.jobs]
    queue.empty()
    return statements, jobs


def test_known_and_unknown_addresses_do_the_same_work(app, client):
    """No timing test: the request does exactly the same thing for both (one job, no SQL);
    looking the account up, the token and the e-mail happen in the job."""
    known = _work_of(app, client, PARENT)
    unknown = _work_of(app, client, UNKNOWN)
    assert known == unknown
    statements, jobs = known
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert jobs == ["nexus.jobs.identity.send_password_reset('@',)"]
    assert db.session.scalar(select(UserToken.id)) is None


def test_account_that_cannot_sign_in_gets_no_email(client, run_jobs):
    adam().user.email = "adam@nexus-reussite.tn"
    db.session.commit()
    assert client.post(FORGOT, data={"email": "adam@nexus-reussite.tn"}).status_code == 200
    assert run_jobs() == 1  # the job finds no account that may sign in
    assert outbox_to("adam@nexus-reussite.tn") == []


def test_invalid_address_gets_a_french_error(client):
    response = client.post(FORGOT, data={"email": "pas-une-adresse"})
    assert response.status_code == 422
    assert "Adresse e-mail invalide." in html(response)


def test_email_arrives_in_french_text_and_html(client, run_jobs, smtp):
    link = request_link(client, run_jobs, smtp)
    message = smtp.to(PARENT)[-1]
    assert "Réinitialisation" in message["Subject"]
    assert "60 minutes" in body_text(message)
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    assert link.replace("&", "&amp;") in html_part.get_content()
    assert outbox_to(PARENT)[-1].status.value == "SENT"


def test_only_the_hash_of_the_token_is_stored(client, run_jobs, smtp):
    link = request_link(client, run_jobs, smtp)
    raw = link.split("token=", 1)[1]
    stored = db.session.scalars(select(UserToken.token_hash)).all()
    assert raw not in stored
    assert all(len(h) == 64 for h in stored)


def test_link_sets_the_password_once(app, client, run_jobs, smtp):
    link = request_link(client, run_jobs, smtp)
    page = client.get(link)
    assert page.status_code == 200
    assert "Choisissez un nouveau mot de passe" in html(page)

    done = choose(client, link, NEW_PASSWORD)
    assert done.status_code == 303
    assert done.headers["Location"] == "/auth/signin"
    assert "Votre mot de passe a été changé" in html(client.get("/auth/signin"))
    assert client.get("/dashboard/parent").status_code == 302  # no automatic sign-in

    fresh = app.test_client()
    assert sign_in(fresh, DEMO_PASSWORD).status_code == 422
    assert sign_in(fresh, NEW_PASSWORD).status_code == 303

    again = client.get(link)
    assert again.status_code == 410
    assert "Ce lien a déjà servi" in html(again)
    assert choose(client, link, "encore un autre mot de passe").status_code == 410


def test_reset_ends_open_sessions(app, client, login, run_jobs, smtp):
    other = login(app.test_client(), PARENT)
    link = request_link(client, run_jobs, smtp)
    choose(client, link, NEW_PASSWORD)
    assert other.get("/dashboard/parent").status_code == 302
    assert "HX-Redirect" in other.get("/dashboard/parent", headers=HX).headers


def test_expired_link_says_so_and_offers_a_new_one(client, run_jobs, smtp):
    link = request_link(client, run_jobs, smtp)
    with freeze_time(utcnow() + timedelta(minutes=61)):
        page = client.get(link)
        posted = choose(client, link, NEW_PASSWORD)
    assert page.status_code == posted.status_code == 410
    assert "Ce lien a expiré" in html(page)
    assert "60 minutes" in html(page)
    assert f'href="{FORGOT}"' in html(page)
    assert "Demander un nouveau lien" in html(page)


def test_link_is_still_valid_before_60_minutes(client, run_jobs, smtp):
    link = request_link(client, run_jobs, smtp)
    with freeze_time(utcnow() + timedelta(minutes=59)):
        assert client.get(link).status_code == 200


def test_weak_password_is_refused_and_the_link_kept(client, run_jobs, smtp):
    link = request_link(client, run_jobs, smtp)
    for weak, message in [
        ("password123", "Ce mot de passe est trop courant"),
        ("court", "au moins 8 caractères"),
    ]:
        response = choose(client, link, weak)
        assert response.status_code == 422
        assert message in html(response)
    token = db.session.scalar(select(UserToken).where(UserToken.purpose == TokenPurpose.PASSWORD_RESET))
    assert token.used_at is None
    assert client.get(link).status_code == 200
    assert choose(client, link, NEW_PASSWORD).status_code == 303


def test_confirmation_must_match(client, run_jobs, smtp):
    link = request_link(client, run_jobs, smtp)
    response = choose(client, link, NEW_PASSWORD, NEW_PASSWORD + " ")
    assert response.status_code == 422
    assert "Les deux mots de passe ne correspondent pas." in html(response)


def test_a_new_request_revokes_the_previous_link(client, run_jobs, smtp):
    first = request_link(client, run_jobs, smtp)
    smtp.clear()
    second = request_link(client, run_jobs, smtp)
    assert first != second
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_unknown_or_missing_token_gets_a_french_page(client):
    for url in [
        "/auth/reset-password?token=inconnu",
        "/auth/reset-password",
        "/auth/reset-password?token=" + "x" * 500,
    ]:
        response = client.get(url)
        assert response.status_code == 410
        assert "Lien non valable" in html(response)


def test_reset_link_is_not_an_activation_link(client, run_jobs, smtp):
    link = request_link(client, run_jobs, smtp)
    response = client.get(link.replace("/auth/reset-password", "/auth/activate"))
    assert response.status_code == 410
    assert user(PARENT).activated_at is not None


@pytest.mark.committed
def test_concurrent_uses_of_one_link_change_the_password_once(app, client, run_jobs, smtp):
    link = request_link(client, run_jobs, smtp)

    def use(i: int) -> int:
        return choose(app.test_client(), link, f"{NEW_PASSWORD} {i}").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(use, range(8)))
    assert statuses.count(303) == 1
    assert set(statuses) <= {303, 410, 422}
    audit = db.session.scalars(select(AuditLog.action).where(AuditLog.action == "auth.password_reset")).all()
    assert len(audit) == 1
