"""Bilans for three audiences: the questionnaire, the job's states and retry, the output checks,
the template bilan (no model, model down), the signed links, the e-mails, the staff table."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from itsdangerous import URLSafeTimedSerializer
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.jobs import bilans as bilan_jobs
from nexus.models.audit import AuditLog
from nexus.models.diagnostics import Audience, Bilan, BilanError, BilanSource, GenerationStatus
from nexus.models.notifications import OutboxEmail
from nexus.services import bilans
from nexus.services.bilans import generation
from nexus.services.bilans import links as bilan_links
from tests.conftest import CLOCK_START
from tests.fakes.llm import FakeLLM
from tests.helpers import ADMIN, ASSISTANTE, COACH, HX, PARENT, PARENT2, SAMI, YASMINE, html, user
from tests.integration.bilans_support import PRIORITIES, QUESTIONNAIRE_FORM, a_bilan, completed_test
from tests.servers import body_text

FILLER = (
    "Chaque semaine compte, et la régularité fait la différence sur la durée de l'année scolaire. "
) * 14


def student_text(priorities: tuple[str, ...] = PRIORITIES, extra: str = "") -> str:
    named = " et ".join(f"« {p} »" for p in priorities)
    return (
        f"## Ton bilan\n\nTu as bien travaillé. Tes priorités sont {named}. Ta maîtrise des suites est de "
        f"31 %. {extra}\n\n{FILLER}\n\n- Reprends ton cours cette semaine.\n- Fais trois exercices."
    )


def parents_text(extra: str = "") -> str:
    return (
        "## Le bilan de Yasmine\n\nMadame, Monsieur, votre fille progresse. Ses priorités sont les suites "
        f"numériques et les probabilités. {extra}\n\n{FILLER}\n\nNous vous proposons la formule Hybride."
    )


def team_text(priorities: tuple[str, ...] = PRIORITIES) -> str:
    named = ", ".join(priorities)
    return f"## Bilan équipe\n\nPriorités : {named}. SSN 57,3, maîtrise 31 % et 45 %.\n\n{FILLER}"


def audience_of(body: dict[str, Any]) -> Audience:
    rules = body["messages"][0]["content"]
    if "Destinataires : les parents" in rules:
        return Audience.PARENTS
    if "Destinataire : l'équipe" in rules:
        return Audience.TEAM
    return Audience.STUDENT


def attempt_of(body: dict[str, Any]) -> int:
    return 1 + sum(1 for m in body["messages"] if m["role"] == "assistant")


class ScriptedLLM(FakeLLM):
    """The fake chat model, answering each request with `script(audience, attempt)`."""

    script: Callable[[Audience, int], str] | None = None

    def _chat(self, handler: Any, body: dict[str, Any]) -> None:
        if self.script is not None:
            self.reply = self.script(audience_of(body), attempt_of(body))
        super()._chat(handler, body)


@pytest.fixture(scope="module")
def llm_server() -> Iterator[ScriptedLLM]:
    fake = ScriptedLLM()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def model(app: Any, llm_server: ScriptedLLM, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedLLM]:
    llm_server.reset()
    llm_server.script = lambda audience, attempt: {
        Audience.STUDENT: student_text(),
        Audience.PARENTS: parents_text(),
        Audience.TEAM: team_text(),
    }[audience]
    monkeypatch.setitem(app.config, "OPENAI_BASE_URL", llm_server.url)
    monkeypatch.setitem(app.config, "LLM_MODEL", "fake-llm")
    monkeypatch.setitem(app.config, "LLM_TIMEOUT", 1.5)
    monkeypatch.setitem(app.config, "BILAN_LLM_TIMEOUT", 1.5)
    yield llm_server
    llm_server.script = None
    llm_server.reset()


@pytest.fixture
def offline(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "OPENAI_BASE_URL", None)


@pytest.fixture
def yasmine_test() -> Any:
    from tests import factories

    return completed_test(factories.student(YASMINE))


def queued(test: Any, **values: Any) -> Bilan:
    return bilans.request_bilan(test.id, values or None, None)


def fresh(bilan_id: int) -> Bilan:
    found = db.session.get(Bilan, bilan_id, populate_existing=True)
    assert found is not None
    return found


def outbox(template: str) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.template == template)))


def link_path(text: str) -> str:
    match = re.search(r"https?://[^/\s]+(/bilan/[\w.\-]+)", text)
    assert match, text
    return match.group(1)


# -- the questionnaire ------------------------------------------------------------------------------


def questionnaire_url(test: Any) -> str:
    return f"/dashboard/positionnement/{test.id}/bilan"


def test_the_questionnaire_queues_the_bilan_and_returns_at_once(
    auth, client, yasmine_test, redis_url
) -> None:
    auth.login(YASMINE)
    page = client.get(questionnaire_url(yasmine_test))
    assert page.status_code == 200
    assert "Suites numériques" in html(page) and "Très à l'aise" in html(page)
    response = client.post(questionnaire_url(yasmine_test), data=QUESTIONNAIRE_FORM)
    assert response.status_code == 303
    bilan = bilans.bilan_of(yasmine_test.id)
    assert bilan is not None and bilan.status is GenerationStatus.QUEUED
    assert bilan.questionnaire["maths_average"] == 13.5
    assert bilan.questionnaire["confidence"] == {"MATHEMATIQUES:suites": 3, "MATHEMATIQUES:logarithme": 2}
    assert bilan.requested_by_id == user(YASMINE).id
    jobs = Queue("default", connection=Redis.from_url(redis_url)).jobs
    assert [(j.func_name, j.args) for j in jobs] == [(bilans.GENERATE_JOB, (bilan.id,))]
    # The page shows the row's state, polled every 2 s, and survives a reload.
    status = html(client.get(questionnaire_url(yasmine_test)))
    assert "En file d'attente" in status and 'hx-trigger="every 2s"' in status and "Actualiser" in status
    assert '<meta http-equiv="refresh"' in status
    fragment = client.get(f"{questionnaire_url(yasmine_test)}/etat", headers=HX)
    assert fragment.status_code == 200 and "bilan-progress" in html(fragment)
    # A second submit (another tab, a parent) returns the first bilan.
    client.post(questionnaire_url(yasmine_test), data=QUESTIONNAIRE_FORM)
    assert db.session.scalar(select(func.count(Bilan.id))) == 1


def test_a_refused_answer_is_said_next_to_its_field_and_kept(auth, client, yasmine_test) -> None:
    auth.login(PARENT)
    form = {**QUESTIONNAIRE_FORM, "maths_average": "25", "confiance-MATHEMATIQUES-suites": "9"}
    response = client.post(questionnaire_url(yasmine_test), data=form)
    assert response.status_code == 422
    page = html(response)
    assert "Une note sur 20, par exemple 12,5." in page and "Choisissez une réponse dans la liste." in page
    assert 'value="Lycée Pierre Mendès France"' in page
    assert bilans.bilan_of(yasmine_test.id) is None


@pytest.mark.parametrize("who", [PARENT2, SAMI])
def test_another_family_gets_404(auth, client, yasmine_test, who) -> None:
    auth.login(who)
    assert client.get(questionnaire_url(yasmine_test)).status_code == 404
    assert client.post(questionnaire_url(yasmine_test), data=QUESTIONNAIRE_FORM).status_code == 404
    assert bilans.bilan_of(yasmine_test.id) is None


def test_coaches_and_staff_do_not_fill_the_family_questionnaire(auth, client, yasmine_test) -> None:
    auth.login(COACH)
    assert client.get(questionnaire_url(yasmine_test)).status_code == 403


def test_an_unfinished_test_has_no_bilan(auth, client, yasmine_test) -> None:
    from nexus.models.assessments import TestStatus

    yasmine_test.status = TestStatus.IN_PROGRESS
    db.session.flush()
    auth.login(YASMINE)
    assert client.get(questionnaire_url(yasmine_test)).status_code == 404


# -- the job: states, template, retry ----------------------------------------------------------------


def test_offline_the_template_bilans_are_written_and_emailed(app, offline, yasmine_test) -> None:
    bilan_id = queued(yasmine_test).id
    assert bilan_jobs.generate(bilan_id) == "ready"
    bilan = fresh(bilan_id)
    assert bilan.status is GenerationStatus.READY and bilan.step == 3
    assert bilan.source is BilanSource.TEMPLATE and bilan.model is None
    assert bilan.error_code is BilanError.LLM_GENERATION_SKIPPED
    assert all(p in bilan.student_markdown for p in PRIORITIES)
    assert all(p in bilan.team_markdown for p in PRIORITIES)
    assert "Tu " in bilan.student_markdown and "vous" in bilan.parents_markdown
    assert not re.search(r"SSN|θ|%|/20", bilan.parents_markdown)
    assert "Hybride" in bilan.team_markdown and "Surconfiance" not in bilan.team_markdown
    [to_student] = outbox("bilan_ready_student")
    assert to_student.to_email == YASMINE and to_student.subject == "Ton bilan est prêt — Nexus Réussite"
    parents = outbox("bilan_ready_parents")
    assert PARENT in {e.to_email for e in parents}
    assert all(e.subject == "Le bilan de Yasmine est prêt — Nexus Réussite" for e in parents)
    assert "/bilan/" in to_student.context["link"] and "/bilan/" in parents[0].context["link"]
    # Idempotent: a READY bilan is not rewritten, nothing is sent twice.
    assert bilan_jobs.generate(bilan_id) == "skipped"
    assert len(outbox("bilan_ready_student")) == 1


def test_each_step_is_committed_for_the_progress_bar(app, offline, yasmine_test, monkeypatch) -> None:
    bilan_id = queued(yasmine_test).id
    seen: list[tuple[str, int]] = []
    write = generation.write

    def spy(audience: Audience, *args: Any) -> Any:
        row = fresh(bilan_id)
        seen.append((row.status.value, row.step))
        return write(audience, *args)

    monkeypatch.setattr(generation, "write", spy)
    bilan_jobs.generate(bilan_id)
    assert seen == [("WRITING", 1), ("WRITING", 2), ("WRITING", 3)]
    assert fresh(bilan_id).analysis["priorities"][0]["label"] == "Suites numériques"


def test_the_model_writes_the_three_bilans_from_the_results(app, model, yasmine_test) -> None:
    bilan_id = queued(yasmine_test, objectives="Une mention au bac.").id
    assert bilan_jobs.generate(bilan_id) == "ready"
    bilan = fresh(bilan_id)
    assert bilan.source is BilanSource.LLM and bilan.model == "fake-llm" and bilan.error_code is None
    assert bilan.student_markdown == student_text() and bilan.parents_markdown == parents_text()
    assert len(model.chat_requests) == 3
    student_prompt = "\n".join(m["content"] for m in model.chat_requests[0]["messages"])
    assert (
        "Tutoie" in student_prompt and "SSN 57.3" in student_prompt and "Suites numériques" in student_prompt
    )
    assert "Une mention au bac." in student_prompt
    parents_prompt = model.chat_requests[1]["messages"][-1]["content"]
    assert "SSN" not in parents_prompt and "%" not in parents_prompt  # no number to leak
    assert {r["source"] for r in bilan.generation.values()} == {"LLM"}


@pytest.mark.parametrize("leak", ["Son SSN 57 est correct.", "Elle réussit 62 % des questions."])
def test_a_raw_score_in_the_parents_bilan_is_rewritten_then_replaced(app, model, yasmine_test, leak) -> None:
    model.script = lambda audience, attempt: {
        Audience.STUDENT: student_text(),
        Audience.PARENTS: parents_text(leak),
        Audience.TEAM: team_text(),
    }[audience]
    bilan_id = queued(yasmine_test).id
    bilan_jobs.generate(bilan_id)
    bilan = fresh(bilan_id)
    assert bilan.status is GenerationStatus.READY and bilan.source is BilanSource.MIXED
    assert bilan.error_code is BilanError.VALIDATION_ERROR
    assert leak not in bilan.parents_markdown and "Madame, Monsieur" in bilan.parents_markdown
    record = bilan.generation["parents"]
    assert record["source"] == "TEMPLATE" and record["attempts"] == 2
    assert "aucun score brut" in record["refused"][0]
    second = [r for r in model.chat_requests if audience_of(r) is Audience.PARENTS][1]
    assert "aucun score brut" in second["messages"][-1]["content"]  # the reason, fed back
    assert bilan.student_markdown == student_text()


def test_a_missing_priority_triggers_one_regeneration(app, model, yasmine_test) -> None:
    model.script = lambda audience, attempt: {
        Audience.STUDENT: student_text(PRIORITIES[:1] if attempt == 1 else PRIORITIES),
        Audience.PARENTS: parents_text(),
        Audience.TEAM: team_text(),
    }[audience]
    bilan_id = queued(yasmine_test).id
    bilan_jobs.generate(bilan_id)
    bilan = fresh(bilan_id)
    assert bilan.source is BilanSource.LLM and bilan.generation["eleve"]["attempts"] == 2
    asked_again = [r for r in model.chat_requests if audience_of(r) is Audience.STUDENT][1]
    assert "Probabilités et loi binomiale" in asked_again["messages"][-1]["content"]


def test_an_invented_score_is_refused(app, model, yasmine_test) -> None:
    model.script = lambda audience, attempt: {
        Audience.STUDENT: student_text(extra="Tu as eu 87 % en géométrie."),
        Audience.PARENTS: parents_text(),
        Audience.TEAM: team_text(),
    }[audience]
    bilan_id = queued(yasmine_test).id
    bilan_jobs.generate(bilan_id)
    bilan = fresh(bilan_id)
    assert (
        bilan.generation["eleve"]["source"] == "TEMPLATE" and "87" in bilan.generation["eleve"]["refused"][0]
    )
    assert "87 %" not in bilan.student_markdown


@pytest.mark.parametrize(
    ("mode", "code"), [("busy", BilanError.LLM_UNAVAILABLE), ("hang", BilanError.LLM_TIMEOUT)]
)
def test_the_model_down_gives_the_template_at_once(app, model, yasmine_test, monkeypatch, mode, code) -> None:
    monkeypatch.setitem(app.config, "BILAN_LLM_TIMEOUT", 0.5)
    model.mode = mode
    bilan_id = queued(yasmine_test).id
    assert bilan_jobs.generate(bilan_id) == "ready"
    bilan = fresh(bilan_id)
    assert bilan.source is BilanSource.TEMPLATE and bilan.error_code is code
    assert len(model.chat_requests) == 1  # the other texts do not wait for a model that is down
    assert outbox("bilan_ready_student")


def test_a_crash_marks_the_bilan_failed_and_staff_retry_it(
    app, auth, client, offline, yasmine_test, monkeypatch
) -> None:
    bilan_id = queued(yasmine_test).id

    def broken(*args: Any) -> Any:
        raise RuntimeError("disque plein")

    monkeypatch.setattr(generation, "send_links", broken)
    assert bilan_jobs.generate(bilan_id) == "failed"
    bilan = fresh(bilan_id)
    assert bilan.status is GenerationStatus.FAILED and bilan.error_code is BilanError.INTERNAL_ERROR
    assert "disque plein" in bilan.error_detail
    assert bilan_jobs.generate(bilan_id) == "skipped"  # a failed bilan waits for staff
    monkeypatch.undo()
    app.config["OPENAI_BASE_URL"] = None
    auth.login(ASSISTANTE)
    url = f"/dashboard/assistante/bilans-generes/{bilan_id}/relancer"
    asked = client.post(url, data={})  # without JavaScript: the confirmation page first
    assert asked.status_code == 200 and "Relancer la génération de ce bilan ?" in html(asked)
    assert fresh(bilan_id).status is GenerationStatus.FAILED
    row = client.post(url, data={"confirm": "1"}, headers=HX)
    assert row.status_code == 200 and "Génération relancée" in html(row)
    bilan = fresh(bilan_id)
    assert bilan.status is GenerationStatus.QUEUED and bilan.retry_count == 1 and bilan.error_code is None
    line = db.session.scalar(select(AuditLog).where(AuditLog.action == "bilan.retried"))
    assert line.object_id == bilan_id and line.before["error_code"] == "INTERNAL_ERROR"
    assert bilan_jobs.generate(bilan_id) == "ready"
    assert fresh(bilan_id).status is GenerationStatus.READY
    # Only a failed bilan is retried.
    again = client.post(url, data={"confirm": "1"}, headers=HX)
    assert again.status_code == 409 and "Seul un bilan en échec" in html(again)
    assert fresh(bilan_id).retry_count == 1


def test_unusable_results_fail_with_scoring_error(app, offline, yasmine_test) -> None:
    yasmine_test.results = {"subjects": []}
    db.session.flush()
    bilan = a_bilan(yasmine_test)
    assert bilan_jobs.generate(bilan.id) == "failed"
    assert fresh(bilan.id).error_code is BilanError.SCORING_ERROR


def test_a_stage_participant_gets_one_email_with_both_links(app, offline, run_jobs, smtp) -> None:
    test = completed_test(participant_email="lina@example.tn", participant_name="Lina Gharbi")
    bilan_id = bilans.request_bilan(test.id, None, None).id
    bilan_jobs.generate(bilan_id)
    [mail] = outbox("bilan_ready_participant")
    assert mail.subject == "Ton bilan de compétences est prêt"
    assert not outbox("bilan_ready_student") and not outbox("bilan_ready_parents")
    db.session.commit()
    run_jobs()
    message = smtp.wait_for("lina@example.tn")
    text = body_text(message)
    assert "Bonjour Lina" in text and text.count("/bilan/") == 2


# -- the signed links --------------------------------------------------------------------------------


@pytest.fixture
def ready(app: Any, offline: None, yasmine_test: Any) -> Bilan:
    bilan_id = queued(yasmine_test).id
    bilan_jobs.generate(bilan_id)
    return fresh(bilan_id)


def test_each_audience_reads_its_own_text(client, ready) -> None:
    student = client.get(bilan_links.path(ready, Audience.STUDENT))
    assert student.status_code == 200 and "Tes priorités" in html(student)
    assert student.headers["Cache-Control"] == "no-store"
    parents = client.get(bilan_links.path(ready, Audience.PARENTS))
    assert (
        parents.status_code == 200
        and "Madame, Monsieur" in html(parents)
        and "Tes priorités" not in html(parents)
    )
    team = client.get(bilan_links.path(ready, Audience.TEAM))
    assert team.status_code == 200 and "SSN" in html(team)


def test_the_emailed_link_opens_the_parents_bilan(client, ready) -> None:
    mail = next(e for e in outbox("bilan_ready_parents") if e.to_email == PARENT)
    response = client.get(link_path(mail.context["link"]))
    assert response.status_code == 200 and "Le bilan de Yasmine" in html(response)


def test_an_expired_link_says_so(client, ready) -> None:
    path = bilan_links.path(ready, Audience.PARENTS)
    with time_machine.travel(CLOCK_START + timedelta(days=29), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(CLOCK_START + timedelta(days=31), tick=False):
        response = client.get(path)
    assert response.status_code == 410 and "Lien expiré" in html(response) and "Madame" not in html(response)


def test_a_revoked_link_says_so_and_the_family_gets_new_ones(auth, client, ready) -> None:
    old = bilan_links.path(ready, Audience.STUDENT)
    auth.login(ADMIN)
    url = f"/dashboard/assistante/bilans-generes/{ready.id}/revoquer"
    assert "Révoquer les liens de ce bilan ?" in html(client.post(url, data={}))
    response = client.post(url, data={"confirm": "1"})
    assert response.status_code == 303
    assert fresh(ready.id).link_version == 2
    refused = client.get(old)
    assert (
        refused.status_code == 410
        and "Lien révoqué" in html(refused)
        and "Tes priorités" not in html(refused)
    )
    mails = sorted(outbox("bilan_ready_student"), key=lambda e: e.id)
    assert len(mails) == 2
    assert client.get(link_path(mails[-1].context["link"])).status_code == 200
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "bilan.links_revoked")) is not None


def test_a_token_for_another_audience_or_altered_opens_nothing(app, client, ready) -> None:
    secret = app.config["SECRET_KEY"]
    forged = URLSafeTimedSerializer(secret, salt="nexus.bilan.eleve").dumps(
        {"b": ready.id, "a": "parents", "v": 1}
    )
    other_salt = URLSafeTimedSerializer(secret, salt="nexus.other").dumps(
        {"b": ready.id, "a": "parents", "v": 1}
    )
    good = bilan_token = bilan_links.token(ready, Audience.STUDENT)
    tampered = bilan_token[:-2] + ("AA" if not bilan_token.endswith("AA") else "BB")
    for token in (forged, other_salt, tampered, "x", good.replace(".", "", 1)):
        response = client.get(f"/bilan/{token}")
        assert response.status_code == 404, token
        assert "Lien invalide" in html(response) and "Tes priorités" not in html(response)


def test_no_share_id_opens_a_bilan(client, ready) -> None:
    assert client.get(f"/bilan/{ready.id}").status_code == 404
    assert client.get(f"/bilan/{ready.id}?share={ready.id}").status_code == 404


def test_the_family_page_offers_the_links_once_ready(auth, client, ready) -> None:
    auth.login(PARENT)
    page = html(client.get(f"/dashboard/positionnement/{ready.assessment_id}/bilan"))
    assert "Le bilan est prêt" in page and "Lire le bilan des parents" in page and "every 2s" not in page


# -- staff ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [PARENT, YASMINE, COACH])
def test_the_staff_table_is_staff_only(auth, client, who) -> None:
    auth.login(who)
    assert client.get("/dashboard/assistante/bilans-generes").status_code == 403


def test_staff_see_the_table_and_read_the_three_texts(auth, client, ready) -> None:
    failed = a_bilan(
        completed_test(participant_email="lina@example.tn", participant_name="Lina Gharbi"),
        GenerationStatus.FAILED,
        error_code=BilanError.LLM_TIMEOUT,
    )
    auth.login(ASSISTANTE)
    page = html(client.get("/dashboard/assistante/bilans-generes"))
    assert "Yasmine" in page and "Lina Gharbi" in page and "LLM_TIMEOUT" in page and "Relancer" in page
    assert "Bilans générés" in page  # the sidebar entry
    only_failed = html(client.get("/dashboard/assistante/bilans-generes?filtre=FAILED", headers=HX))
    assert "Lina Gharbi" in only_failed and "Yasmine" not in only_failed
    read = html(client.get(f"/dashboard/assistante/bilans-generes/{ready.id}"))
    assert "Tes priorités" in read and "Madame, Monsieur" in read and "Maîtrise par chapitre" in read
    assert failed.id


# -- the whole path, and races -------------------------------------------------------------------------


def test_the_parent_asks_and_reads_the_bilan_from_the_emailed_link(
    app, auth, client, model, yasmine_test, run_jobs, smtp
) -> None:
    model.mode = "hang"  # the request does not wait for the model: it only queues the job
    auth.login(PARENT)
    assert client.post(questionnaire_url(yasmine_test), data=QUESTIONNAIRE_FORM).status_code == 303
    assert model.chat_requests == []
    model.reset()
    model.script = lambda audience, attempt: {
        Audience.STUDENT: student_text(),
        Audience.PARENTS: parents_text(),
        Audience.TEAM: team_text(),
    }[audience]
    run_jobs()  # the bilan job, then the e-mails it queued
    run_jobs()
    student_prompt = "\n".join(m["content"] for m in model.chat_requests[0]["messages"])
    assert "Extraits du cours Nexus Réussite" in student_prompt or "Aucun extrait du cours" in student_prompt
    text = body_text(smtp.wait_for(PARENT))
    auth.logout()
    response = client.get(link_path(text))
    assert response.status_code == 200 and "Madame, Monsieur, votre fille progresse" in html(response)
    assert "Lire mon bilan" not in html(response)
    assert "Ton bilan est prêt" in smtp.wait_for(YASMINE)["Subject"]


@pytest.mark.committed
def test_fifty_requests_for_one_test_make_one_bilan(app) -> None:
    from tests import factories
    from tests.helpers import at_once

    test_id = completed_test(factories.student(YASMINE)).id
    db.session.commit()
    ids = at_once(app, lambda i: bilans.request_bilan(test_id, None, None).id)
    assert len(set(ids)) == 1 and not any(isinstance(i, Exception) for i in ids)
    assert db.session.scalar(select(func.count(Bilan.id))) == 1


@pytest.mark.committed
def test_fifty_retries_of_a_failed_bilan_queue_it_once(app) -> None:
    from tests.helpers import at_once

    test = completed_test(participant_email="lina@example.tn")
    bilan_id = a_bilan(test, GenerationStatus.FAILED, error_code=BilanError.LLM_TIMEOUT).id
    db.session.commit()
    staff_id = user(ASSISTANTE).id

    def attempt(i: int) -> Any:
        from nexus.models.identity import User

        return bilans.retry(bilan_id, db.session.get(User, staff_id))

    results = at_once(app, attempt)
    assert sum(1 for r in results if isinstance(r, Bilan)) == 1
    assert all(isinstance(r, Bilan) or "Seul un bilan en échec" in r.message for r in results)
    db.session.expire_all()
    assert fresh(bilan_id).retry_count == 1
    lines = db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "bilan.retried"))
    assert lines == 1


def test_the_writing_ends_within_its_time_budget(app, model, yasmine_test, monkeypatch) -> None:
    """RQ stops a job after 180 s: past the budget, the texts left are the template's."""
    monkeypatch.setitem(app.config, "BILAN_LLM_TIMEOUT", 10)
    monkeypatch.setitem(app.config, "BILAN_TIME_BUDGET", 8)
    model.first_token_delay = 2.5
    bilan_id = queued(yasmine_test).id
    assert bilan_jobs.generate(bilan_id) == "ready"
    bilan = fresh(bilan_id)
    assert bilan.generation["eleve"]["source"] == "LLM" and bilan.generation["equipe"]["source"] == "TEMPLATE"
    assert bilan.source is BilanSource.MIXED and bilan.error_code is BilanError.LLM_TIMEOUT
    assert "temps de rédaction épuisé" in bilan.error_detail


def test_the_sweep_fails_lost_runs_and_requeues_forgotten_ones(app, yasmine_test, redis_url) -> None:
    from sqlalchemy import update

    from nexus.services import utcnow

    lost = a_bilan(yasmine_test, GenerationStatus.WRITING, step=2)
    forgotten = a_bilan(completed_test(participant_email="lina@example.tn"))
    db.session.execute(update(Bilan).values(updated_at=utcnow() - timedelta(minutes=20)))
    moving = a_bilan(completed_test(participant_email="rim@example.tn"), GenerationStatus.WRITING, step=1)
    assert bilan_jobs.sweep_bilans() == {"lost": 1, "requeued": 1}
    assert fresh(lost.id).status is GenerationStatus.FAILED
    assert fresh(lost.id).error_code is BilanError.INTERNAL_ERROR
    assert fresh(moving.id).status is GenerationStatus.WRITING
    jobs = Queue("default", connection=Redis.from_url(redis_url)).jobs
    assert [(j.func_name, j.args) for j in jobs] == [(bilans.GENERATE_JOB, (forgotten.id,))]
    assert bilan_jobs.sweep_bilans() == {"lost": 0, "requeued": 0}


def test_an_empty_answer_gives_the_template(app, model, yasmine_test) -> None:
    model.script = lambda audience, attempt: ""
    bilan_id = queued(yasmine_test).id
    bilan_jobs.generate(bilan_id)
    bilan = fresh(bilan_id)
    assert bilan.source is BilanSource.TEMPLATE and bilan.error_code is BilanError.LLM_EMPTY_RESPONSE


def test_without_course_material_the_model_still_writes(app, model, yasmine_test, monkeypatch) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("vector store down")

    monkeypatch.setattr(generation.knowledge, "search", down)
    bilan_id = queued(yasmine_test).id
    bilan_jobs.generate(bilan_id)
    bilan = fresh(bilan_id)
    assert bilan.source is BilanSource.LLM and bilan.error_code is BilanError.RAG_UNAVAILABLE
    prompt = model.chat_requests[0]["messages"][1]["content"]
    assert "Aucun extrait du cours" in prompt
