"""A parent cannot learn whether an address has an account (add-child and activation forms give
the same answer), and activation e-mails are bounded per child and per parent."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.family import Student
from nexus.models.identity import TokenPurpose, User, UserToken
from tests.helpers import adam, html, outbox_to, user
from tests.people import ADAM_EMAIL, ASSISTANTE, PARENT, SAMI, YASMINE

NOW = "2026-11-20 09:00:00"
CHILD = {"last_name": "Ben Ali", "grade": "SECONDE", "school": ""}
QUOTA_CHILD = "Vous avez déjà envoyé 3 liens d'activation à Adam ces dernières 24 heures. Réessayez demain."


def send_url(student_id: int) -> str:
    return f"/dashboard/parent/enfants/{student_id}/activation"


def flashes(page: str) -> list[str]:
    return [m.strip() for m in re.findall(r'class="flash flash-[^"]*"[^>]*>([^<]+)<', page)]


def email_field_of(page: str, student_id: int) -> str | None:
    section = page.split(f'id="enfant-{student_id}"', 1)[1]
    match = re.search(r'name="email"[^>]*value="([^"]*)"', section)
    return match.group(1) if match else None


def answer_to_activation(client, student_id: int, address: str) -> tuple[int, str, list[str], str | None]:  # type: ignore[no-untyped-def]
    """What the parent sees: status, next page, messages, the address shown again in the field."""
    response = client.post(send_url(student_id), data={"email": address})
    page = html(client.get("/dashboard/parent"))
    masked = [m.replace(address, "@") for m in flashes(page)]
    shown = email_field_of(page, student_id)
    return (
        response.status_code,
        response.headers.get("Location", ""),
        masked,
        shown and shown.replace(address, "@"),
    )


def add_second_child(first_name: str = "Lina") -> Student:
    from nexus.models.common import Grade
    from nexus.services import family

    student = family.add_child(user(PARENT), first_name, "Ben Ali", Grade.SECONDE, None, None)
    db.session.commit()
    return student


def test_activation_answers_alike_for_a_taken_and_a_free_address(client, login, run_jobs, smtp):
    login(client, PARENT)
    lina = add_second_child()
    free = answer_to_activation(client, adam().id, "nouvelle.adresse@example.tn")
    taken = answer_to_activation(client, lina.id, YASMINE)
    assert free == taken
    assert free[0] == 303 and free[2] == ["Lien d'activation envoyé à @. Il est valable 72 heures."]
    assert free[3] == "@"

    # Nothing usable was made for the taken address: Lina keeps no address, the owner is told.
    db.session.expire_all()
    assert db.session.get(Student, lina.id).user.email is None
    run_jobs()
    notice = smtp.wait_for(YASMINE)
    assert "a été indiquée pour un compte élève" in notice["Subject"]
    assert "/auth/activate" not in notice.as_string()
    assert [row.template for row in outbox_to(YASMINE)] == ["address_in_use"]
    assert "Activez votre compte" in smtp.wait_for("nouvelle.adresse@example.tn")["Subject"]


def test_sending_again_without_typing_answers_alike(client, login):
    login(client, PARENT)
    lina = add_second_child()
    for student_id, address in ((adam().id, "nouvelle.adresse@example.tn"), (lina.id, YASMINE)):
        assert client.post(send_url(student_id), data={"email": address}).status_code == 303
    again = [client.post(send_url(student_id), data={"email": ""}) for student_id in (adam().id, lina.id)]
    assert [r.status_code for r in again] == [303, 303]
    page = html(client.get("/dashboard/parent"))
    assert "Lien d'activation envoyé à nouvelle.adresse@example.tn." in page
    assert f"Lien d'activation envoyé à {YASMINE}." in page


def test_adding_a_child_answers_alike_for_a_taken_and_a_free_address(client, login, run_jobs, smtp):
    login(client, PARENT)
    answers = []
    for first_name, address in (("Lina", "lina@example.tn"), ("Rami", SAMI)):
        response = client.post(
            "/dashboard/parent/enfants", data={**CHILD, "first_name": first_name, "email": address}
        )
        page = html(client.get("/dashboard/parent/enfants"))
        answers.append((response.status_code, [m.replace(first_name, "X") for m in flashes(page)]))
    assert answers[0] == answers[1]
    assert answers[0][0] == 303
    assert answers[0][1] == ["X est ajouté(e) à votre famille. Le lien d'activation lui a été envoyé."]
    rami = db.session.scalar(
        select(Student).join(User, Student.user_id == User.id).where(User.first_name == "Rami")
    )
    assert rami is not None and rami.user.email is None
    run_jobs()
    assert [row.template for row in outbox_to(SAMI)] == ["address_in_use"]


def test_a_second_child_with_the_same_address_answers_alike(client, login):
    login(client, PARENT)
    for first_name in ("Lina", "Rami"):
        response = client.post(
            "/dashboard/parent/enfants",
            data={**CHILD, "first_name": first_name, "email": "fratrie@example.tn"},
        )
        assert response.status_code == 303


def test_staff_are_still_told_plainly(client, login):
    login(client, ASSISTANTE)
    response = client.post(f"/dashboard/assistante/eleves/{adam().id}/activation", data={"email": YASMINE})
    assert response.status_code == 422
    assert "Cette adresse e-mail est déjà utilisée par un autre compte." in html(response)


def links_of(student: Student) -> int:
    stmt = select(func.count()).where(
        UserToken.user_id == student.user_id, UserToken.purpose == TokenPurpose.ACTIVATION
    )
    return db.session.scalar(stmt) or 0


def test_three_links_per_child_a_day(client, login):
    with freeze_time(NOW) as frozen:
        login(client, PARENT)
        for _ in range(3):
            assert client.post(send_url(adam().id), data={"email": ADAM_EMAIL}).status_code == 303
        refused = client.post(send_url(adam().id), data={"email": ADAM_EMAIL})
        assert refused.status_code == 422
        assert QUOTA_CHILD in html(refused)
        # Another address for the same child does not get around it, nor does a taken one.
        for address in ("autre@example.tn", YASMINE):
            assert QUOTA_CHILD in html(client.post(send_url(adam().id), data={"email": address}))
        assert links_of(adam()) == 3
        assert len(outbox_to(ADAM_EMAIL)) == 3 and outbox_to("autre@example.tn") == []
        frozen.tick(timedelta(hours=24, seconds=1))
        client.post("/auth/signout")
        login(client, PARENT)
        assert client.post(send_url(adam().id), data={"email": ADAM_EMAIL}).status_code == 303


def test_ten_links_per_parent_a_day(client, login):
    with freeze_time(NOW):
        login(client, PARENT)
        children = [adam(), *(add_second_child(f"Enfant{i}") for i in range(4))]
        sent = 0
        for child in children:
            for _ in range(3):
                response = client.post(send_url(child.id), data={"email": f"c{child.id}@example.tn"})
                if sent < 10:
                    assert response.status_code == 303
                    sent += 1
                else:
                    assert response.status_code == 422
                    assert "Vous avez déjà envoyé 10 liens d'activation ces dernières 24 heures." in html(
                        response
                    )
        assert db.session.scalar(select(func.count()).select_from(UserToken)) == 10


def test_adding_children_counts_against_the_parent_bound(client, login):
    with freeze_time(NOW):
        login(client, PARENT)
        for i in range(10):
            data = {**CHILD, "first_name": f"Enfant{i}", "email": f"e{i}@example.tn"}
            assert client.post("/dashboard/parent/enfants", data=data).status_code == 303
        refused = client.post(
            "/dashboard/parent/enfants", data={**CHILD, "first_name": "Onze", "email": "e10@example.tn"}
        )
        assert refused.status_code == 422
        assert "Vous avez déjà envoyé 10 liens d'activation" in html(refused)
        assert 'value="Onze"' in html(refused)  # the form is kept
        assert outbox_to("e10@example.tn") == []


@pytest.mark.ratelimited
def test_the_activation_form_is_rate_limited(client, login):
    login(client, PARENT)
    for _ in range(20):
        client.post(send_url(adam().id), data={"email": ""})
    refused = client.post(send_url(adam().id), data={"email": ADAM_EMAIL})
    assert refused.status_code == 429
    assert "Trop de tentatives" in html(refused)


@pytest.mark.committed
def test_fifty_concurrent_sends_for_one_child_stay_within_the_bound(app):
    """50 clicks at once: the parent's and the child's row locks make the count exact (3, not 50)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from nexus.services import ServiceError, identity

    student_id, parent_id = adam().id, user(PARENT).id
    db.session.remove()
    barrier = Barrier(50)

    def send(_: int) -> str:
        with app.app_context():
            try:
                student = db.session.get_one(Student, student_id)
                parent = db.session.get_one(User, parent_id)
                barrier.wait()
                identity.send_activation(student, ADAM_EMAIL, parent)
                db.session.commit()
                return "sent"
            except ServiceError:
                db.session.rollback()
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(send, range(50)))
    assert results.count("sent") == 3 and results.count("refused") == 47
    assert links_of(db.session.get_one(Student, student_id)) == 3
    assert len(outbox_to(ADAM_EMAIL)) == 3


@pytest.mark.committed
def test_fifty_children_given_one_free_address_at_once_get_it_once(app):
    """The unique index decides: one child gets the address, the others are told plainly (staff)
    and nothing answers 500."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from nexus.models.common import Grade, Role
    from nexus.services import ServiceError, identity

    profile_id = db.session.scalar(
        select(Student.parent_id).join(User, Student.user_id == User.id).where(User.first_name == "Adam")
    )
    ids = []
    for i in range(50):
        child = User(email=None, role=Role.ELEVE, first_name=f"Enfant{i}", last_name="Test")
        db.session.add(child)
        db.session.flush()
        student = Student(user_id=child.id, parent_id=profile_id, grade=Grade.SECONDE)
        db.session.add(student)
        db.session.flush()
        ids.append(student.id)
    staff_id = user(ASSISTANTE).id
    db.session.commit()
    db.session.remove()
    barrier = Barrier(50)

    def send(student_id: int) -> str:
        with app.app_context():
            try:
                student = db.session.get_one(Student, student_id)
                staff = db.session.get_one(User, staff_id)
                barrier.wait()
                identity.send_activation(student, "partagee@example.tn", staff)
                db.session.commit()
                return "sent"
            except ServiceError as err:
                db.session.rollback()
                return err.message
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(send, ids))
    assert results.count("sent") == 1
    assert set(results) == {"sent", "Cette adresse e-mail est déjà utilisée par un autre compte."}
    assert db.session.scalar(select(func.count()).where(User.email == "partagee@example.tn")) == 1
    assert len(outbox_to("partagee@example.tn")) == 1


def test_staff_do_not_see_a_link_waiting_for_a_taken_address(client, login):
    login(client, PARENT)
    lina = add_second_child()
    assert client.post(send_url(lina.id), data={"email": YASMINE}).status_code == 303
    assert client.post(send_url(adam().id), data={"email": ADAM_EMAIL}).status_code == 303
    client.post("/auth/signout")
    login(client, ASSISTANTE)
    page = html(client.get("/dashboard/assistante/eleves"))
    rows = {name: page.split(f"{name} ", 1)[1].split("</tr>", 1)[0] for name in ("Lina", "Adam")}
    assert "Lien envoyé" in rows["Adam"]
    assert "Lien envoyé" not in rows["Lina"] and "Pas encore activé" in rows["Lina"]
