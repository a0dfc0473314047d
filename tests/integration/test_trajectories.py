"""Trajectories: proposed from a test, set by the student's coach or staff, read by the family;
one live per student; transitions; milestones ticked by hand or by a test result."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.common import Subject
from nexus.models.progress import Milestone, Trajectory, TrajectoryStatus
from nexus.services import ServiceError, utcnow
from nexus.services.progress import trajectory
from tests import factories
from tests.helpers import (
    ASSISTANTE,
    COACH,
    HX,
    PARENT,
    PARENT2,
    SAMI,
    YASMINE,
    ZENON,
    at_once,
    html,
    notifications_of,
    refusals,
    user,
)
from tests.integration.bilans_support import completed_test

TODAY = date(2030, 3, 4)


def premiere_results(suites: int = 31, probabilites: int = 45, ssn: float = 48.0) -> dict[str, Any]:
    """Results of a Première maths test in the contract's format, with real bank domains."""
    domains = [
        {"key": "suites", "label": "Suites numériques", "mastery": suites},
        {"key": "probabilites", "label": "Probabilités", "mastery": probabilites},
        {"key": "derivation", "label": "Dérivation", "mastery": 82},
    ]
    rows = [{"subject": "MATHEMATIQUES", "domain": d["key"], "label": d["label"], "mastery": d["mastery"]}
            for d in domains]  # fmt: skip
    return {
        "subjects": [{"subject": "MATHEMATIQUES", "label": "Mathématiques", "grade": "PREMIERE", "ssn": ssn,
                      "domains": [{**d, "skills": []} for d in domains]}],
        "priorities": sorted((r for r in rows if r["mastery"] < 55), key=lambda r: r["mastery"]),
        "strengths": [r for r in rows if r["mastery"] >= 70],
    }  # fmt: skip


@pytest.fixture
def followed(sami, helios):  # type: ignore[no-untyped-def]
    """Sami with a session to come with Hélios (so Hélios is his coach) and a completed test."""
    factories.booking(sami.id, helios.id, utcnow() + timedelta(days=3))
    test = completed_test(sami, results=premiere_results())
    db.session.commit()
    return sami, test


def draft(**values: Any) -> trajectory.Draft:
    base: dict[str, Any] = {
        "title": "Viser 14 en maths",
        "horizon_months": 6,
        "starts_on": TODAY,
        "target_ssn": 60,
    }
    milestones = values.pop("milestones", None)
    if milestones is None:
        milestones = [
            trajectory.MilestoneDraft("Suites", TODAY + timedelta(weeks=4), Subject.MATHEMATIQUES, "suites",
                                      Decimal("0.70")),
            trajectory.MilestoneDraft("Probabilités", None, Subject.MATHEMATIQUES, "probabilites",
                                      Decimal("0.70")),
            trajectory.MilestoneDraft("Méthode de révision"),
        ]  # fmt: skip
    return trajectory.Draft(**(base | values), milestones=milestones)


def form_for(d: trajectory.Draft, *, agreed: bool = True) -> dict[str, str]:
    data = {
        "title": d.title,
        "subject": "MATHEMATIQUES",
        "target_level": d.target_level or "",
        "target_ssn": "" if d.target_ssn is None else str(d.target_ssn),
        "horizon_months": str(d.horizon_months),
        "starts_on": d.starts_on.isoformat(),
    }
    if agreed:
        data["agreed"] = "y"
    for i, m in enumerate(d.milestones):
        data[f"milestones-{i}-id"] = str(m.id or "")
        data[f"milestones-{i}-title"] = m.title
        data[f"milestones-{i}-due_on"] = m.due_on.isoformat() if m.due_on else ""
        data[f"milestones-{i}-domain"] = f"{m.subject.value}:{m.domain}" if m.domain and m.subject else ""
        data[f"milestones-{i}-target"] = str(round(m.target_mastery * 100)) if m.target_mastery else ""
    return data


def audited(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


# -- proposal ------------------------------------------------------------------------------------


def test_the_proposal_comes_from_the_latest_tests_priorities(followed) -> None:  # type: ignore[no-untyped-def]
    sami, test = followed
    proposal = trajectory.proposal(sami.id)
    assert proposal.test.id == test.id and proposal.current_ssn == 48.0
    d = proposal.draft
    assert d.assessment_id == test.id and d.subject is Subject.MATHEMATIQUES
    assert d.target_ssn == 56  # a little above the SSN measured
    assert [(m.domain, m.target_mastery) for m in d.milestones] == [
        ("suites", Decimal("0.70")),
        ("probabilites", Decimal("0.70")),
    ]
    assert all(TODAY < m.due_on <= trajectory.ends_on(TODAY, 6) for m in d.milestones)  # type: ignore[operator]


def test_the_coachs_form_is_prefilled_with_the_proposal(client, login, followed) -> None:  # type: ignore[no-untyped-def]
    sami, _ = followed
    login(client, COACH)
    page = client.get(f"/dashboard/eleves/{sami.id}/trajectoire/nouvelle")
    assert page.status_code == 200
    body = html(page)
    assert 'value="Consolider : Suites numériques"' in body
    assert 'value="56"' in body
    assert '<option selected value="MATHEMATIQUES:suites">' in body


def test_without_a_test_the_proposal_is_blank(sami) -> None:  # type: ignore[no-untyped-def]
    proposal = trajectory.proposal(sami.id)
    assert proposal.test is None and proposal.draft.milestones == [] and proposal.draft.target_ssn is None


# -- create and edit -----------------------------------------------------------------------------


def test_the_coach_creates_it_agreed_with_the_family_and_edits_it(client, login, followed) -> None:  # type: ignore[no-untyped-def]
    sami, test = followed
    login(client, COACH)
    sent = client.post(f"/dashboard/eleves/{sami.id}/trajectoire/nouvelle", data=form_for(draft()))
    assert sent.status_code == 303, html(sent)
    live = trajectory.live_of(sami.id)
    assert live is not None and live.status is TrajectoryStatus.ACTIVE
    assert live.assessment_id == test.id and live.ends_on == date(2030, 9, 3)
    assert [m.title for m in live.milestones] == ["Suites", "Probabilités", "Méthode de révision"]
    assert live.agreed_by_id == user(COACH).id and live.agreed_at is not None
    assert audited("trajectory.created")[0].object_id == live.id
    assert notifications_of(SAMI, "TRAJECTORY") and notifications_of(PARENT2, "TRAJECTORY")
    again = client.get(f"/dashboard/eleves/{sami.id}/trajectoire/nouvelle")  # one live: its page instead
    assert (
        again.status_code == 303 and again.headers["Location"] == f"/dashboard/eleves/{sami.id}/trajectoire"
    )

    trajectory.tick(user(COACH), live.milestones[1].id)
    kept = live.milestones[1]
    edited = draft(
        title="Viser 15 en maths",
        milestones=[
            trajectory.MilestoneDraft("Probabilités (fin)", None, Subject.MATHEMATIQUES, "probabilites",
                                      Decimal("0.80"), kept.id),
            trajectory.MilestoneDraft("Annales du bac"),
        ],
    )  # fmt: skip
    sent = client.post(f"/dashboard/trajectoires/{live.id}/modifier", data=form_for(edited, agreed=False))
    assert sent.status_code == 303, html(sent)
    db.session.expire_all()
    live = trajectory.live_of(sami.id)
    assert live.title == "Viser 15 en maths" and live.agreed_at is None
    assert [(m.title, m.is_done) for m in live.milestones] == [
        ("Probabilités (fin)", True),
        ("Annales du bac", False),
    ]
    assert live.milestones[0].id == kept.id and live.milestones[0].target_mastery == Decimal("0.80")
    assert audited("trajectory.updated")


def test_bad_input_is_refused_in_french_and_nothing_is_written(client, login, followed) -> None:  # type: ignore[no-untyped-def]
    sami, _ = followed
    login(client, COACH)
    cases = {
        "target_ssn": ("150", "entre 0 et 100"),
        "starts_on": ("2026-02-30", "Date invalide"),
        "milestones-0-due_on": ("2031-06-01", "L'échéance d'une étape tombe entre"),
        "milestones-0-domain": ("NSI:inconnu", "Choisissez un domaine dans la liste"),
        "horizon_months": ("5", "3, 6 ou 12 mois"),
    }
    for name, (value, message) in cases.items():
        sent = client.post(
            f"/dashboard/eleves/{sami.id}/trajectoire/nouvelle", data=form_for(draft()) | {name: value}
        )
        assert sent.status_code == 422, name
        assert message in html(sent), name
    no_target = form_for(draft(target_ssn=None))
    sent = client.post(f"/dashboard/eleves/{sami.id}/trajectoire/nouvelle", data=no_target)
    assert sent.status_code == 422 and "Indiquez un niveau visé ou un SSN visé" in html(sent)
    # The form says one of the two is needed; neither is labelled optional.
    page = html(sent)
    assert "Le but visé : indiquez au moins l'un des deux" in page
    assert "Niveau visé (facultatif)" not in page and "SSN visé, de 0 à 100 (facultatif)" not in page
    assert trajectory.of_student(sami.id) == []


def test_staff_set_any_students_trajectory(client, login, yasmine) -> None:  # type: ignore[no-untyped-def]
    login(client, ASSISTANTE)
    d = draft(
        milestones=[trajectory.MilestoneDraft("Réviser les suites")],
        target_ssn=None,
        target_level="Mention bien",
    )
    sent = client.post(f"/dashboard/eleves/{yasmine.id}/trajectoire/nouvelle", data=form_for(d))
    assert sent.status_code == 303, html(sent)
    assert trajectory.live_of(yasmine.id).target_level == "Mention bien"
    assert client.get(f"/dashboard/eleves/{yasmine.id}/trajectoire").status_code == 200


# -- who sees what -------------------------------------------------------------------------------


def test_another_coach_or_family_gets_404(app, client, login, followed) -> None:  # type: ignore[no-untyped-def]
    sami, _ = followed
    live = trajectory.create(user(COACH), sami.id, draft())
    milestone = live.milestones[0].id
    login(client, ZENON)  # no session with Sami
    for url in (
        f"/dashboard/eleves/{sami.id}/trajectoire",
        f"/dashboard/eleves/{sami.id}/trajectoire/nouvelle",
        f"/dashboard/trajectoires/{live.id}/modifier",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/dashboard/trajectoires/etapes/{milestone}/cocher").status_code == 404
    assert (
        client.post(f"/dashboard/trajectoires/{live.id}/statut", data={"status": "PAUSED"}).status_code == 404
    )
    client = login(app.test_client(), PARENT)  # Yasmine's parent, not Sami's
    assert client.get(f"/dashboard/parent/enfants/{sami.id}/trajectoire").status_code == 404
    assert client.get(f"/dashboard/eleves/{sami.id}/trajectoire").status_code == 403
    client = login(app.test_client(), YASMINE)
    assert live.title not in html(client.get("/dashboard/eleve/trajectoire"))
    db.session.expire_all()
    assert db.session.get(Milestone, milestone).done_at is None
    assert trajectory.live_of(sami.id).status is TrajectoryStatus.ACTIVE


def test_the_family_reads_it_without_any_control(app, login, followed) -> None:  # type: ignore[no-untyped-def]
    sami, _ = followed
    live = trajectory.create(user(COACH), sami.id, draft())
    trajectory.tick(user(COACH), live.milestones[0].id)
    for email, url in (
        (SAMI, "/dashboard/eleve/trajectoire"),
        (PARENT2, f"/dashboard/parent/enfants/{sami.id}/trajectoire"),
    ):
        client = login(app.test_client(), email)
        page = client.get(url)
        assert page.status_code == 200, url
        body = html(page)
        assert "Viser 14 en maths" in body and "1 étape atteinte sur 3" in body
        assert "Prochaine étape — Probabilités" in body
        assert "/dashboard/trajectoires/" not in body  # no tick, edit or state form
        assert (
            client.post(f"/dashboard/trajectoires/etapes/{live.milestones[1].id}/cocher").status_code == 403
        )
    assert "Viser 14 en maths" in html(client.get("/dashboard/parent/trajectoires"))


# -- one live per student, transitions -----------------------------------------------------------


def test_one_live_trajectory_per_student(followed) -> None:  # type: ignore[no-untyped-def]
    sami, _ = followed
    trajectory.create(user(COACH), sami.id, draft())
    with pytest.raises(ServiceError, match="déjà une trajectoire en cours"):
        trajectory.create(user(COACH), sami.id, draft(title="Une autre"))
    assert len(trajectory.of_student(sami.id)) == 1


@pytest.mark.committed
def test_fifty_coaches_at_once_create_one_live_trajectory(app) -> None:  # type: ignore[no-untyped-def]
    sami = factories.student(SAMI)
    coach_id, student_id = user(COACH).id, sami.id
    db.session.commit()

    def attempt(i: int) -> Trajectory:
        return trajectory.create(
            db.session.get(type(user(COACH)), coach_id), student_id, draft(title=f"Essai {i}")
        )

    results = at_once(app, attempt)
    refused = refusals(results)
    assert len(refused) == 49
    assert {r.message for r in refused} == {trajectory.LIVE_EXISTS}
    assert len(trajectory.of_student(student_id)) == 1


def test_transitions_and_the_abandon_confirmation(client, login, followed) -> None:  # type: ignore[no-untyped-def]
    sami, _ = followed
    live = trajectory.create(user(COACH), sami.id, draft())
    login(client, COACH)
    url = f"/dashboard/trajectoires/{live.id}/statut"
    assert client.post(url, data={"status": "PAUSED"}).status_code == 303
    assert trajectory.live_of(sami.id).status is TrajectoryStatus.PAUSED
    assert client.post(url, data={"status": "ACTIVE"}).status_code == 303
    asked = client.post(url, data={"status": "ABANDONED"})  # no JavaScript: the question as a page
    assert asked.status_code == 200 and "Abandonner la trajectoire" in html(asked)
    assert trajectory.live_of(sami.id).status is TrajectoryStatus.ACTIVE
    assert client.post(url, data={"status": "ABANDONED", "confirm": "1"}).status_code == 303
    db.session.expire_all()
    assert trajectory.live_of(sami.id) is None
    assert db.session.get(Trajectory, live.id).status is TrajectoryStatus.ABANDONED
    moved, changed = trajectory.set_status(
        user(COACH), live.id, TrajectoryStatus.ACTIVE
    )  # closed stays closed
    assert not changed and moved.status is TrajectoryStatus.ABANDONED
    refused = client.post(url, data={"status": "NIMPORTE"})
    assert refused.status_code == 422 and "Choisissez un état proposé" in html(refused)
    assert client.get(f"/dashboard/trajectoires/{live.id}/modifier").status_code == 404  # closed
    assert [a.after for a in audited("trajectory.status")][-1] == {"status": "ABANDONED"}
    again = trajectory.create(user(COACH), sami.id, draft(title="Nouveau départ"))  # room for a new one
    trajectory.set_status(user(COACH), again.id, TrajectoryStatus.COMPLETED)
    assert trajectory.live_of(sami.id) is None


# -- milestones ----------------------------------------------------------------------------------


def test_tick_and_untick_in_place_and_twice(client, login, followed) -> None:  # type: ignore[no-untyped-def]
    sami, _ = followed
    live = trajectory.create(user(COACH), sami.id, draft())
    m = live.milestones[2]
    login(client, COACH)
    row = client.post(f"/dashboard/trajectoires/etapes/{m.id}/cocher", headers=HX)
    assert row.status_code == 200 and html(row).lstrip().startswith(f'<tr id="etape-{m.id}">')
    assert "Étape cochée" in html(row) and "Décocher" in html(row)
    assert 'hx-swap-oob="true"' in html(row) and "1 étape atteinte sur 3" in html(row)  # the bar too
    again = client.post(f"/dashboard/trajectoires/etapes/{m.id}/cocher", headers=HX)
    assert again.status_code == 200 and "Déjà traité" in html(again)
    db.session.expire_all()
    assert db.session.get(Milestone, m.id).done_by_id == user(COACH).id
    plain = client.post(f"/dashboard/trajectoires/etapes/{m.id}/decocher")
    assert plain.status_code == 303
    db.session.expire_all()
    assert db.session.get(Milestone, m.id).done_at is None
    assert (
        len(audited("trajectory.milestone_ticked")) == 1
        and len(audited("trajectory.milestone_unticked")) == 1
    )
    trajectory.set_status(user(COACH), live.id, TrajectoryStatus.COMPLETED)
    closed = client.post(f"/dashboard/trajectoires/etapes/{m.id}/cocher", headers=HX)
    assert closed.status_code == 422 and "close" in html(closed)


def test_a_test_result_ticks_the_milestones_it_reaches(followed, run_jobs) -> None:  # type: ignore[no-untyped-def]
    sami, _ = followed
    live = trajectory.create(user(COACH), sami.id, draft())
    suites, probabilites, by_hand = live.milestones
    results = copy.deepcopy(premiere_results(suites=74, probabilites=60, ssn=55.0))
    retest = completed_test(sami, results=results)
    db.session.commit()
    from nexus.jobs.assessments import test_completed

    test_completed(retest.id)  # what the finished test's job does
    db.session.expire_all()
    assert db.session.get(Milestone, suites.id).done_by_assessment_id == retest.id
    assert db.session.get(Milestone, probabilites.id).done_at is None  # 60 % < 70 %
    assert db.session.get(Milestone, by_hand.id).done_at is None  # no domain: by hand only
    notices = notifications_of(SAMI, "MILESTONE")
    assert len(notices) == 1 and "Suites" in notices[0].title
    assert len(notifications_of(PARENT2, "MILESTONE")) == 1
    assert trajectory.tick_from_test(retest.id) == []  # a rerun ticks nothing more, tells nobody again
    assert len(notifications_of(SAMI, "MILESTONE")) == 1


@pytest.mark.committed
def test_fifty_runs_of_the_tests_job_tick_once_and_tell_once(app) -> None:  # type: ignore[no-untyped-def]
    sami = factories.student(SAMI)
    live = trajectory.create(user(COACH), sami.id, draft())
    retest = completed_test(sami, results=premiere_results(suites=90, probabilites=80))
    db.session.commit()
    milestone_ids = [m.id for m in live.milestones[:2]]

    results = at_once(app, lambda i: trajectory.tick_from_test(retest.id))
    assert refusals(results) == []
    assert sorted(i for r in results for i in r) == sorted(milestone_ids)  # each ticked by one run only
    assert len(notifications_of(SAMI, "MILESTONE")) == 2
    assert len(notifications_of(PARENT2, "MILESTONE")) == 2
