from sqlalchemy import select

from nexus.extensions import db
from nexus.models.identity import User
from tests.people import ADMIN, PARENT, SAMI


def test_demo_accounts_reach_their_dashboard(client, auth):
    for email, path in [
        (ADMIN, "/dashboard/admin"),
        (PARENT, "/dashboard/parent"),
        (SAMI, "/dashboard/eleve"),
    ]:
        auth.logout()
        auth.login(email)
        response = client.get("/dashboard")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(path)
        assert client.get(path).status_code == 200


def test_rollback_isolation_part_one(app):
    db.session.add(User(email="temp@example.tn", role="PARENT", first_name="T", last_name="T"))
    db.session.commit()
    assert db.session.scalar(select(User).where(User.email == "temp@example.tn")) is not None


def test_rollback_isolation_part_two(app):
    assert db.session.scalar(select(User).where(User.email == "temp@example.tn")) is None


def test_password_reset_email_goes_through_rq_and_smtp(client, run_jobs, smtp):
    response = client.post("/auth/mot-de-passe-oublie", data={"email": PARENT})
    assert response.status_code == 200
    assert run_jobs() == 1
    message = smtp.wait_for(PARENT)
    assert "Réinitialisation" in message["Subject"]
