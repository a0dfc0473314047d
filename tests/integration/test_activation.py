"""Student activation: the parent sends a 72-hour link, the student chooses a password."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from nexus.extensions import db
from nexus.models.family import Student
from nexus.models.identity import TokenPurpose, UserToken
from nexus.services import utcnow
from tests.helpers import NEW_PASSWORD, adam, html, link_in, notifications_of, outbox_to, user
from tests.people import ADAM_EMAIL, ASSISTANTE, PARENT, PARENT2, YASMINE


def send_url(student_id: int) -> str:
    return f"/dashboard/parent/enfants/{student_id}/activation"


def send_link(client, login, run_jobs, smtp) -> str:  # type: ignore[no-untyped-def]
    """As the parent, send Adam's activation link; return the link from the e-mail."""
    login(client, PARENT)
    response = client.post(send_url(adam().id), data={"email": ADAM_EMAIL})
    assert response.status_code == 303
    assert run_jobs() == 1
    return link_in(smtp.wait_for(ADAM_EMAIL), "/auth/activate")


def expire_activation_links() -> None:
    db.session.execute(
        update(UserToken)
        .where(UserToken.purpose == TokenPurpose.ACTIVATION)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()


def test_activation_from_parent_to_student_dashboard(app, client, login, run_jobs, smtp):
    link = send_link(client, login, run_jobs, smtp)
    assert "Lien d'activation envoyé à adam.benali@example.tn" in html(client.get("/dashboard/parent"))
    message = smtp.to(ADAM_EMAIL)[-1]
    assert "Activez votre compte" in message["Subject"]

    student = app.test_client()
    page = student.get(link)
    assert page.status_code == 200
    assert "Bienvenue Adam" in html(page)
    done = student.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    assert done.headers["Location"] == "/auth/signin"

    signed_in = student.post("/auth/signin", data={"email": ADAM_EMAIL, "password": NEW_PASSWORD})
    assert signed_in.status_code == 303
    assert student.get("/dashboard").headers["Location"] == "/dashboard/eleve"
    assert student.get("/dashboard/eleve").status_code == 200

    notes = notifications_of(PARENT, "STUDENT_ACTIVATED")
    assert len(notes) == 1
    assert notes[0].title == "Adam a activé son compte"
    assert "Adam a activé son compte" in html(client.get("/notifications"))


def test_activation_link_works_once(app, client, login, run_jobs, smtp):
    link = send_link(client, login, run_jobs, smtp)
    student = app.test_client()
    student.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    again = student.get(link)
    assert again.status_code == 410
    assert "Ce lien a déjà servi" in html(again)


def test_address_of_another_account_sends_no_link_but_answers_alike(client, login, run_jobs, smtp):
    """The parent is not told the address has an account (tests/integration/test_account_privacy.py);
    no link exists for it, and its owner gets a notice instead."""
    login(client, PARENT)
    response = client.post(send_url(adam().id), data={"email": YASMINE})
    assert response.status_code == 303
    db.session.expire_all()
    assert adam().user.email is None
    assert run_jobs() == 1
    assert [row.template for row in outbox_to(YASMINE)] == ["address_in_use"]
    assert "/auth/activate" not in smtp.wait_for(YASMINE).as_string()


def test_address_is_required_and_checked(client, login):
    login(client, PARENT)
    missing = client.post(send_url(adam().id), data={"email": ""})
    assert missing.status_code == 422
    assert "Indiquez l'adresse e-mail de l'élève." in html(missing)
    invalid = client.post(send_url(adam().id), data={"email": "adam-at-example"})
    assert invalid.status_code == 422
    assert "Adresse e-mail invalide." in html(invalid)


def test_address_is_stored_lowercase(client, login, run_jobs):
    login(client, PARENT)
    client.post(send_url(adam().id), data={"email": "Adam.BenAli@Example.TN"})
    db.session.expire_all()
    assert adam().user.email == ADAM_EMAIL


def test_another_family_cannot_send_the_link(client, login):
    login(client, PARENT2)
    response = client.post(send_url(adam().id), data={"email": "intrus@example.tn"})
    assert response.status_code == 404
    db.session.expire_all()
    assert adam().user.email is None
    assert outbox_to("intrus@example.tn") == []


def test_unknown_student_is_not_found(client, login):
    login(client, PARENT)
    assert client.post(send_url(987654), data={"email": ADAM_EMAIL}).status_code == 404


def test_students_and_staff_cannot_send_links(client, login):
    for email in (YASMINE, ASSISTANTE):
        login(client, email)
        assert client.post(send_url(adam().id), data={"email": ADAM_EMAIL}).status_code == 403
        client.post("/auth/signout")


def test_activated_student_gets_no_new_link(client, login):
    login(client, PARENT)
    yasmine_student = db.session.scalar(select(Student).where(Student.user_id == user(YASMINE).id))
    response = client.post(send_url(yasmine_student.id), data={"email": ""})
    assert response.status_code == 422
    assert "Ce compte élève est déjà activé." in html(response)


def test_expired_link_offers_a_fresh_one(app, client, login, run_jobs, smtp):
    old = send_link(client, login, run_jobs, smtp)
    expire_activation_links()
    smtp.clear()

    student = app.test_client()
    page = student.get(old)
    assert page.status_code == 410
    assert "Ce lien a expiré" in html(page)
    assert "Recevoir un nouveau lien" in html(page)

    renewed = student.post("/auth/activate/nouveau-lien", data={"token": old.split("token=")[1]})
    assert renewed.status_code == 200
    assert "un nouveau lien vient d'être envoyé" in html(renewed)
    assert run_jobs() == 1
    fresh = link_in(smtp.wait_for(ADAM_EMAIL), "/auth/activate")
    assert fresh != old
    assert student.get(fresh).status_code == 200
    assert student.post(fresh, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303


def test_renewal_sends_nothing_for_a_valid_or_unknown_token(client, login, run_jobs, smtp):
    link = send_link(client, login, run_jobs, smtp)
    for token in (link.split("token=")[1], "inconnu"):
        response = client.post("/auth/activate/nouveau-lien", data={"token": token})
        assert response.status_code == 200
    assert run_jobs() == 0


def test_weak_password_keeps_the_activation_link(app, client, login, run_jobs, smtp):
    link = send_link(client, login, run_jobs, smtp)
    student = app.test_client()
    response = student.post(link, data={"password": "12345678", "confirm": "12345678"})
    assert response.status_code == 422
    assert "Ce mot de passe est trop courant" in html(response)
    db.session.expire_all()
    assert adam().user.activated_at is None
    assert student.get(link).status_code == 200


def test_sending_again_revokes_the_first_link(client, login, run_jobs, smtp):
    first = send_link(client, login, run_jobs, smtp)
    smtp.clear()
    client.post(send_url(adam().id), data={"email": ADAM_EMAIL})
    run_jobs()
    second = link_in(smtp.wait_for(ADAM_EMAIL), "/auth/activate")
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
