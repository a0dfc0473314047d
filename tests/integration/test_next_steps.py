"""The next step of each role, built from a real state, and its link followed by the person it is
for: every kind the engine can produce answers 200."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete

from nexus.extensions import db
from nexus.models.common import Grade, Subject
from nexus.models.diagnostics import BilanError, GenerationStatus
from nexus.models.notifications import OutboxEmail, OutboxStatus
from nexus.models.scheduling import CoachAvailability, SessionReport, SessionStatus
from nexus.services import billing, credits, family, identity, next_steps, utcnow
from nexus.services.assessments import taking
from nexus.services.family import ParentDraft
from nexus.services.progress import trajectory
from tests import factories
from tests.helpers import (
    ADMIN,
    ASSISTANTE,
    COACH,
    NEW_PASSWORD,
    PARENT,
    PARENT2,
    SAMI,
    YASMINE,
    adam,
    html,
    user,
)
from tests.integration.bilans_support import a_bilan, completed_test


def step_for(app: Flask, email: str) -> next_steps.Step | None:
    db.session.commit()  # what a request would see
    with app.test_request_context():
        return next_steps.for_user(user(email))


def follow(
    app: Flask, login: Callable[..., Any], email: str, step: next_steps.Step, password: str | None = None
) -> str:
    """Open the step's link signed in as `email`: it must answer 200. The page's text."""
    client = login(app.test_client(), email, *([password] if password else []))
    page = client.get(step.url.split("#", 1)[0])
    assert page.status_code == 200, f"{step.kind}: {step.url} answered {page.status_code}"
    assert step.title and step.text and step.label
    return html(page)


def live_trajectory(student_id: int) -> None:
    trajectory.create(
        user(ADMIN),
        student_id,
        trajectory.Draft("Viser 14 en maths", 6, utcnow().date(), target_ssn=60,
                         milestones=[trajectory.MilestoneDraft("Réviser les suites")]),
    )  # fmt: skip


def sami_tested(sami: Any) -> None:
    completed_test(sami)


# -- parent ------------------------------------------------------------------------------------


def test_parent_with_no_child_adds_one(app, login) -> None:  # type: ignore[no-untyped-def]
    lonely = family.open_family(
        ParentDraft("Sana", "Ayari", "sana.ayari@example.tn"), [], actor=None,
        password_hash=identity.hash_password(NEW_PASSWORD),
    )  # fmt: skip
    step = step_for(app, lonely.email)
    assert step.kind == "add_child" and step.url == "/dashboard/parent/enfants#ajouter"
    follow(app, login, lonely.email, step, NEW_PASSWORD)


def test_parent_chooses_an_offer_then_sends_the_activation_link(app, login, yasmine) -> None:  # type: ignore[no-untyped-def]
    step = step_for(app, PARENT)
    assert step.kind == "choose_offer" and "Yasmine" in step.title
    follow(app, login, PARENT, step)
    factories.entitle(yasmine.id, 3)
    factories.entitle(adam().id, 3)
    step = step_for(app, PARENT)
    assert step.kind == "send_activation" and "Adam" in step.title
    assert step.url == f"/dashboard/parent#enfant-{adam().id}"
    follow(app, login, PARENT, step)


def test_parent_reads_the_new_report(app, login, sami, helios) -> None:  # type: ignore[no-untyped-def]
    past = factories.booking(sami.id, helios.id, utcnow() - timedelta(days=2), status=SessionStatus.COMPLETED)
    db.session.add(
        SessionReport(booking_id=past.id, summary="Suites : exercices", topics="Suites", rating=4,
                      progress_notes="Mieux", recommendations="Refaire l'exercice 3", attended=True)
    )  # fmt: skip
    step = step_for(app, PARENT2)
    assert step.kind == "read_report" and step.url == f"/dashboard/sessions/{past.id}"
    assert "Refaire l'exercice 3" in follow(app, login, PARENT2, step)


def test_parent_is_told_the_child_can_take_the_test(app, login) -> None:  # type: ignore[no-untyped-def]
    step = step_for(app, PARENT2)  # Sami: a plan, activated, never tested
    assert step.kind == "take_test" and "Sami" in step.title
    follow(app, login, PARENT2, step)


def test_parent_sees_the_coming_session_then_books_then_follows_the_trajectory(
    app, login, sami, helios
) -> None:  # type: ignore[no-untyped-def]
    sami_tested(sami)
    step = step_for(app, PARENT2)
    assert step.kind == "book" and step.url == f"/dashboard/parent/sessions/reserver?eleve={sami.id}"
    follow(app, login, PARENT2, step)
    later = factories.booking(sami.id, helios.id, utcnow() + timedelta(days=12))
    live_trajectory(sami.id)
    step = step_for(app, PARENT2)
    assert step.kind == "trajectory" and step.url == f"/dashboard/parent/enfants/{sami.id}/trajectoire"
    assert "Prochaine étape — Réviser les suites." in step.text  # a title "Consolider : X" gives no "::"
    follow(app, login, PARENT2, step)
    soon = factories.booking(sami.id, helios.id, utcnow() + timedelta(days=2))
    step = step_for(app, PARENT2)
    assert step.kind == "upcoming_session" and step.url == f"/dashboard/sessions/{soon.id}" != str(later.id)
    follow(app, login, PARENT2, step)


# -- student -----------------------------------------------------------------------------------


def test_student_takes_then_resumes_the_test(app, login, sami) -> None:  # type: ignore[no-untyped-def]
    step = step_for(app, SAMI)
    assert step.kind == "take_test" and step.url == "/dashboard/eleve/positionnement"
    follow(app, login, SAMI, step)
    test = taking.start_test(sami, Subject.NSI)
    step = step_for(app, SAMI)
    assert step.kind == "resume_test" and step.url == f"/dashboard/eleve/positionnement/{test.id}"
    follow(app, login, SAMI, step)


def test_student_books_then_prepares_the_session(app, login, sami, helios) -> None:  # type: ignore[no-untyped-def]
    sami_tested(sami)
    step = step_for(app, SAMI)
    assert step.kind == "book" and "4 crédits" in step.text
    follow(app, login, SAMI, step)
    booking = factories.booking(sami.id, helios.id, utcnow() + timedelta(days=3))
    step = step_for(app, SAMI)
    assert step.kind == "prepare_session" and step.url == f"/dashboard/sessions/{booking.id}"
    follow(app, login, SAMI, step)


def test_student_follows_the_trajectory_or_has_nothing_to_do(app, login, yasmine) -> None:  # type: ignore[no-untyped-def]
    completed_test(yasmine)
    step = step_for(app, YASMINE)  # tested, no credits, nothing booked, no trajectory
    assert step.kind == "explore"
    follow(app, login, YASMINE, step)
    live_trajectory(yasmine.id)
    step = step_for(app, YASMINE)
    assert step.kind == "trajectory" and "Réviser les suites" in step.text
    assert "Viser 14 en maths" in follow(app, login, YASMINE, step)


# -- coach -------------------------------------------------------------------------------------


def test_coach_steps_in_order(app, login, sami, helios) -> None:  # type: ignore[no-untyped-def]
    step = step_for(app, COACH)  # a full profile, a week of windows, nothing waiting
    assert step.kind == "all_good"
    follow(app, login, COACH, step)
    db.session.execute(delete(CoachAvailability).where(CoachAvailability.coach_id == helios.id))
    step = step_for(app, COACH)
    assert step.kind == "set_availability"
    follow(app, login, COACH, step)
    today = factories.booking(sami.id, helios.id, utcnow() + timedelta(hours=5))
    step = step_for(app, COACH)
    assert step.kind == "today_sessions" and "Sami" in step.text
    follow(app, login, COACH, step)
    past = factories.booking(sami.id, helios.id, utcnow() - timedelta(days=2))
    step = step_for(app, COACH)
    assert step.kind == "write_reports" and step.url == f"/dashboard/coach/sessions/{past.id}/rapport"
    assert today.id != past.id
    follow(app, login, COACH, step)
    helios.description = None
    step = step_for(app, COACH)
    assert step.kind == "complete_profile"
    follow(app, login, COACH, step)


# -- staff -------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [ASSISTANTE, ADMIN])
def test_staff_steps_in_order(app, login, sami, helios, email: str) -> None:  # type: ignore[no-untyped-def]
    first = step_for(app, email)
    assert first.kind == ("all_clear" if email == ASSISTANTE else "figures")
    follow(app, login, email, first)
    db.session.add(
        OutboxEmail(to_email="nadia@example.tn", template="x", subject="Votre facture", context={},
                    status=OutboxStatus.FAILED, attempts=8, last_error="550 boîte inconnue")
    )  # fmt: skip
    step = step_for(app, email)
    assert step.kind == "failed_emails"
    assert "550 boîte inconnue" in follow(app, login, email, step)
    a_bilan(
        completed_test(participant_email="rim@example.tn"),
        GenerationStatus.FAILED,
        error_code=BilanError.LLM_TIMEOUT,
    )
    step = step_for(app, email)
    assert step.kind == "bilans_to_retry" and "filtre=FAILED" in step.url
    follow(app, login, email, step)
    parent2 = user(PARENT2)
    credits.request_credits(parent2.id, sami.id, Decimal(2), "Bac blanc")
    step = step_for(app, email)
    assert step.kind == "credit_requests"
    follow(app, login, email, step)
    billing.declare_transfer(parent2, billing.build_order(parent2, sami.id, "CREDITS_5", None))
    step = step_for(app, email)
    assert step.kind == "transfers" and step.title == "1 virement à valider"
    follow(app, login, email, step)


def test_the_assistante_is_told_of_todays_sessions_when_the_desk_is_clear(app, login, sami, helios) -> None:  # type: ignore[no-untyped-def]
    factories.booking(sami.id, helios.id, utcnow() + timedelta(hours=6))
    factories.booking(sami.id, helios.id, utcnow() + timedelta(days=2))
    step = step_for(app, ASSISTANTE)
    assert step.kind == "today_sessions" and step.title == "1 séance aujourd'hui"
    follow(app, login, ASSISTANTE, step)


def test_the_failed_emails_page_is_for_staff_only(client, login) -> None:  # type: ignore[no-untyped-def]
    login(client, PARENT)
    assert client.get("/dashboard/assistante/emails-non-remis").status_code == 403


def test_the_card_shows_the_step(app) -> None:  # type: ignore[no-untyped-def]
    from flask import render_template

    step = next_steps.Step(
        "book", "Réservez une séance", "Une phrase.", "Réserver", "/dashboard/eleve/sessions"
    )
    with app.test_request_context():
        card = render_template("next_steps/_card.html", step=step)
        assert render_template("next_steps/_card.html", step=None).strip() == ""
    assert (
        "Prochaine étape" in card and 'href="/dashboard/eleve/sessions"' in card and ">Réserver</a>" in card
    )


def test_a_secondary_child_is_not_asked_the_test(app, login) -> None:  # type: ignore[no-untyped-def]
    parent = family.open_family(
        ParentDraft("Sana", "Ayari", "sana.ayari@example.tn"), [], actor=None,
        password_hash=identity.hash_password(NEW_PASSWORD),
    )  # fmt: skip
    kid = family.add_child(parent, "Rayan", "Ayari", Grade.SECONDE, None, None)
    factories.entitle(kid.id, 3)
    kid.user.activated_at = utcnow()
    factories.booking(kid.id, factories.coach("Hélios").id, utcnow() + timedelta(days=20))
    assert step_for(app, parent.email) is None  # Seconde has no test; a session booked later
