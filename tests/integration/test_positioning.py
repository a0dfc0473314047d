"""Positioning tests on real PostgreSQL: taking an adaptive test, resuming it, answering twice,
the stage's fixed form by signed link, scoring, and who may see the results (404 for others)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.assessments import Assessment, Item, Response, Score, TestMode, TestStatus
from nexus.models.common import Grade, Subject
from nexus.models.family import Student
from nexus.models.notifications import Notification
from nexus.services import utcnow
from nexus.services.assessments import bank, engine, taking
from tests.helpers import at_once, user
from tests.people import ADMIN, COACH, PARENT, PARENT2, SAMI, YASMINE

ASSIGN = "/dashboard/assistante/positionnement/attribuer"


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def student(email: str) -> Student:
    return db.session.scalar(select(Student).where(Student.user_id == user(email).id))


def current_item(test_id: int) -> Item:
    test = db.session.get(Assessment, test_id, populate_existing=True)
    return test.current_item


def start_maths(client) -> int:  # type: ignore[no-untyped-def]
    response = client.post("/dashboard/eleve/positionnement/commencer", data={"subject": "MATHEMATIQUES"})
    assert response.status_code == 303
    return int(re.search(r"/positionnement/(\d+)$", response.headers["Location"]).group(1))


def open_maths(client) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Start (or resume) Yasmine's maths test and show its first question: (test id, its URL)."""
    test_id = start_maths(client)
    url = f"/dashboard/eleve/positionnement/{test_id}"
    client.get(url)
    return test_id, url


def answer_all(client, test_id: int, pick=lambda item: "ABCD"[item.answer]) -> int:  # type: ignore[no-untyped-def]
    """Answer until the test ends; returns how many questions were asked."""
    url = f"/dashboard/eleve/positionnement/{test_id}"
    client.get(url)
    for count in range(1, 60):
        item = current_item(test_id)
        response = client.post(url, data={"item": item.id, "choice": pick(item)})
        assert response.status_code == 303
        if response.headers["Location"].endswith(f"/dashboard/positionnement/{test_id}"):
            return count
    raise AssertionError("the test never ended")


def test_the_bank_is_loaded_at_seed_and_a_second_load_changes_nothing() -> None:
    active = db.session.scalar(select(func.count()).select_from(Item).where(Item.active))
    assert active >= 29 * 12
    report = bank.sync_bank()
    assert (report.added, report.updated, report.retired) == (0, 0, 0)


def test_an_item_removed_from_the_files_is_retired_not_deleted() -> None:
    from nexus.question_bank import Bank, load_bank

    full = load_bank()
    gone = full.items[0]
    report = bank.sync_bank(Bank(full.domains, full.items[1:]))
    assert report.retired == 1
    row = db.session.scalar(select(Item).where(Item.key == gone.key))
    assert row is not None and not row.active
    assert bank.sync_bank(full).updated == 1 and row.active


def test_yasmine_takes_the_adaptive_maths_test_to_the_end(auth) -> None:  # type: ignore[no-untyped-def]
    client = auth.login(YASMINE)
    test_id = start_maths(client)
    page = client.get(f"/dashboard/eleve/positionnement/{test_id}")
    assert page.status_code == 200
    assert (
        ("Je ne sais pas" in page.text and "<math" in page.text)
        or "<code>" in page.text
        or "Question 1" in page.text
    )
    asked = answer_all(client, test_id)
    assert 8 <= asked <= engine.MAX_ITEMS
    test = db.session.get(Assessment, test_id)
    assert test.is_completed and test.completed_at is not None
    part = test.results["subjects"][0]
    assert part["subject"] == "MATHEMATIQUES" and part["correct"] == asked == part["shown"]
    assert part["ssn"] >= 85 and part["level"] == "excellence" and part["small_cohort"]
    # Content balance: every domain of the bank was asked at least once.
    assert all(d["shown"] >= 1 for d in part["domains"]) and len(part["domains"]) == 8
    assert (
        db.session.scalar(select(func.count()).select_from(Score).where(Score.assessment_id == test_id)) == 1
    )
    page = client.get(f"/dashboard/positionnement/{test_id}")
    assert page.status_code == 200 and "Excellence" in page.text and "<svg" in page.text
    # Her parent is told in the bell.
    parent_id = user(PARENT).id
    assert db.session.scalar(
        select(Notification).where(Notification.user_id == parent_id, Notification.kind == "TEST_COMPLETED")
    )


def test_je_ne_sais_pas_is_never_counted_against_the_student() -> None:
    pool = [engine.Candidate(i, d, "x") for i, d in enumerate([-1.0, 0.0, 1.0, 2.0])]
    right = [engine.Answer(pool[0], True), engine.Answer(pool[1], False)]
    with_skips = [*right, engine.Answer(pool[2], None), engine.Answer(pool[3], None)]
    assert engine.replay(right).theta == engine.replay(with_skips).theta


def test_an_answer_to_another_question_than_the_one_on_screen_records_nothing(auth) -> None:  # type: ignore[no-untyped-def]
    client = auth.login(YASMINE)
    test_id, url = open_maths(client)
    first = current_item(test_id)
    assert client.post(url, data={"item": first.id, "choice": "A"}).status_code == 303
    again = client.post(url, data={"item": first.id, "choice": "B"})  # the same form sent twice
    assert again.status_code == 303
    rows = db.session.scalars(select(Response).where(Response.assessment_id == test_id)).all()
    assert len(rows) == 1 and rows[0].choice == 0


def test_a_missing_or_strange_choice_is_refused_in_french_and_changes_nothing(auth) -> None:  # type: ignore[no-untyped-def]
    client = auth.login(YASMINE)
    test_id, url = open_maths(client)
    item = current_item(test_id)
    for bad in ("", "E", "AB", "١"):
        response = client.post(url, data={"item": item.id, "choice": bad})
        assert response.status_code == 422 and "Choisis une réponse" in response.text
    assert (
        db.session.scalar(select(func.count()).select_from(Response).where(Response.assessment_id == test_id))
        == 0
    )


def test_the_test_resumes_at_the_same_question_after_a_lost_connection(auth) -> None:  # type: ignore[no-untyped-def]
    client = auth.login(YASMINE)
    test_id, url = open_maths(client)
    item = current_item(test_id)
    client.post(url, data={"item": item.id, "choice": "N"})
    second = current_item(test_id)
    assert second.id != item.id
    assert f'name="item" value="{second.id}"' in client.get(url).text
    assert "Question 2" in client.get(url).text
    # Starting again from the list resumes the open test instead of opening another one.
    assert start_maths(client) == test_id


def test_the_time_on_a_question_is_capped(auth) -> None:  # type: ignore[no-untyped-def]
    client = auth.login(YASMINE)
    test_id, url = open_maths(client)
    item = current_item(test_id)
    with time_machine.travel(utcnow() + timedelta(hours=9)):
        client.post(url, data={"item": item.id, "choice": "A"})
    assert db.session.get(Assessment, test_id, populate_existing=True).duration_ms == 10 * 60 * 1000


def test_results_are_seen_by_the_student_parents_coaches_and_staff_only(auth, login, app) -> None:  # type: ignore[no-untyped-def]
    client = auth.login(YASMINE)
    test_id = start_maths(client)
    answer_all(client, test_id, pick=lambda item: "N")
    results = f"/dashboard/positionnement/{test_id}"
    assert client.get(results).status_code == 200
    for email, status in ((PARENT, 200), (ADMIN, 200), (PARENT2, 404), (SAMI, 404)):
        other = login(app.test_client(), email)
        assert other.get(results).status_code == status, email
        assert other.get(results + "/resultats.pdf").status_code in ((200,) if status == 200 else (404,)), (
            email
        )
    # Hélios sees her results only while she is his student (a session held or to come).
    coach = login(app.test_client(), COACH)
    expected = 200 if _is_coach_student(COACH, YASMINE) else 404
    assert coach.get(results).status_code == expected


def _is_coach_student(coach_email: str, student_email: str) -> bool:
    from nexus.services import scheduling

    profile = scheduling.coach_profile_of(user(coach_email))
    return scheduling.coach_student(profile.id, student(student_email).id) is not None


def test_all_je_ne_sais_pas_gives_a_zero_confidence_and_no_mastery(auth) -> None:  # type: ignore[no-untyped-def]
    client = auth.login(YASMINE)
    test_id = start_maths(client)
    answer_all(client, test_id, pick=lambda item: "N")
    part = db.session.get(Assessment, test_id).results["subjects"][0]
    assert part["confidence"] == 0 and part["attempted"] == 0
    assert all(d["mastery"] is None for d in part["domains"])
    assert part["ssn"] == 50.0  # nothing said against the student: the reference mean


def test_staff_assign_a_test_and_the_student_finds_it(auth, login, app) -> None:  # type: ignore[no-untyped-def]
    staff = auth.login(ADMIN)
    sami = student(SAMI)
    response = staff.post(
        "/dashboard/assistante/positionnement/attribuer", data={"student": sami.id, "subject": "NSI"}
    )
    assert response.status_code == 303
    test = db.session.scalar(select(Assessment).where(Assessment.student_id == sami.id))
    assert test.status is TestStatus.ASSIGNED and test.subject is Subject.NSI and test.grade is Grade.PREMIERE
    assert "Sami" in staff.get("/dashboard/assistante/positionnement").text
    page = login(app.test_client(), SAMI).get("/dashboard/eleve/positionnement")
    assert f"/dashboard/eleve/positionnement/{test.id}" in page.text
    # A refusal keeps everything as it was, with a French message.
    refused = staff.post(
        "/dashboard/assistante/positionnement/attribuer",
        data={"student": "abc", "subject": "NSI"},
        follow_redirects=True,
    )
    assert "Choisissez un élève" in refused.text


def test_a_stage_participant_takes_the_fixed_form_by_signed_link(client) -> None:  # type: ignore[no-untyped-def]
    test = taking.start_participant_test("lina@example.tn", "Lina", Grade.TERMINALE)
    assert test.mode is TestMode.FIXED and len(test.form) == 50
    subjects = [db.session.get(Item, i).subject for i in test.form]
    assert subjects.count(Subject.MATHEMATIQUES) == 30 and subjects.count(Subject.NSI) == 20
    url = taking.participant_url(test).split("://", 1)[1].split("/", 1)[1]
    url = "/" + url
    page = client.get(url)
    assert page.status_code == 200 and "Question 1 sur 50" in page.text
    for _ in range(50):
        item = current_item(test.id)
        assert client.post(url, data={"item": item.id, "choice": "ABCD"[item.answer]}).status_code == 303
    done = client.get(url)
    assert done.status_code == 200 and "ton test est terminé" in done.text
    results = db.session.get(Assessment, test.id, populate_existing=True).results
    assert [p["subject"] for p in results["subjects"]] == ["MATHEMATIQUES", "NSI"]
    assert results["uai"] is not None


def test_a_tampered_expired_or_revoked_link_opens_nothing(client) -> None:  # type: ignore[no-untyped-def]
    test = taking.start_participant_test("lina@example.tn", "Lina", Grade.PREMIERE)
    token = taking.participant_token(test)
    assert client.get(f"/positionnement/{token}").status_code == 200
    assert client.get(f"/positionnement/{token[:-2]}xx").status_code == 404
    with time_machine.travel(utcnow() + timedelta(days=31)):
        assert client.get(f"/positionnement/{token}").status_code == 404
    test.link_version += 1
    db.session.flush()
    page = client.get(f"/positionnement/{token}")
    assert page.status_code == 404 and "ne fonctionne plus" in page.text


@pytest.mark.committed
def test_fifty_answers_to_the_same_question_at_once_record_one(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        test = taking.start_test(student(YASMINE), Subject.NSI)
        taking.begin(test.id)
        test_id, item_id = test.id, test.current_item_id

    outcomes = at_once(app, lambda i: taking.answer(test_id, item_id, i % 4)[1])
    assert outcomes.count(True) == 1 and outcomes.count(False) == 49
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Response).where(Response.assessment_id == test_id)
        )
        assert count == 1


@pytest.mark.committed
def test_a_finished_stage_test_gets_its_bilan_and_the_participant_is_told(app, client, run_jobs) -> None:  # type: ignore[no-untyped-def]
    from nexus.models.notifications import OutboxEmail
    from nexus.services import bilans

    with app.app_context():
        test = taking.start_participant_test("lina@example.tn", "Lina", Grade.PREMIERE)
        url = "/" + taking.participant_url(test).split("://", 1)[1].split("/", 1)[1]
        test_id = test.id
    client.get(url)
    for _ in range(50):
        with app.app_context():
            item = current_item(test_id)
            item_id, letter = item.id, "ABCD"[item.answer]
        client.post(url, data={"item": item_id, "choice": letter})
    assert run_jobs() >= 1  # test_completed, then the bilan's own job
    run_jobs()
    with app.app_context():
        bilan = bilans.bilan_of(test_id)
        assert bilan is not None and bilan.is_ready
        subjects = db.session.scalars(
            select(OutboxEmail.subject).where(OutboxEmail.to_email == "lina@example.tn")
        )
        assert "Ton bilan de compétences est prêt" in list(subjects)


def test_an_assigned_test_shows_on_the_student_home(auth, login, app) -> None:  # type: ignore[no-untyped-def]
    auth.login(ADMIN).post(ASSIGN, data={"student": student(YASMINE).id, "subject": "NSI"})
    home = login(app.test_client(), YASMINE).get("/dashboard/eleve")
    assert "Un test t&#39;attend" in home.text and "NSI — Terminale" in home.text
