from sqlalchemy import select

from nexus.extensions import db
from nexus.models.identity import User


def test_demo_accounts_reach_their_dashboard(client, login):
    for email, path in [
        ("admin@nexus-reussite.tn", "/dashboard/admin"),
        ("parent@nexus-reussite.tn", "/dashboard/parent"),
        ("sami@nexus-reussite.tn", "/dashboard/eleve"),
    ]:
        client.post("/auth/signout")
        login(client, email)
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
    response = client.post("/auth/mot-de-passe-oublie", data={"email": "parent@nexus-reussite.tn"})
    assert response.status_code == 200
    assert run_jobs() == 1
    message = smtp.wait_for("parent@nexus-reussite.tn")
    assert "Réinitialisation" in message["Subject"]
