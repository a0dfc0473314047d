"""ARIA knows the student, with their consent: the notice, the prompt the model receives (class,
level, weak skills), and retrieval that favours course passages of those skills."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.common import Grade, Subject
from nexus.models.family import Student
from nexus.services import aria, knowledge
from nexus.services.knowledge import retrieval
from nexus.services.vectorstore import Scope
from tests.helpers import html
from tests.integration.aria_support import ask, fake_llm, llm_server, question_id, stream, student  # noqa: F401
from tests.integration.bilans_support import completed_test
from tests.people import PARENT2, SAMI

CONSENT = "/dashboard/eleve/aria/consentement"
NOTICE = "ARIA peut tenir compte de votre niveau et des points à travailler de votre dernier test"


def sami_consent(value: bool | None) -> Student:
    sami = student()
    sami.aria_uses_results = value
    db.session.flush()
    return sami


def system_prompt(fake) -> str:  # type: ignore[no-untyped-def]
    return fake.chat_requests[-1]["messages"][0]["content"]


def test_the_notice_shows_once_and_the_answer_is_kept(client, login):
    sami_consent(None)
    login(client, SAMI)
    page = html(client.get("/dashboard/eleve/aria"))
    assert NOTICE in page
    assert "Vos parents et votre coach peuvent lire vos conversations." in page
    assert "D'accord" in page and "Non merci" in page
    response = client.post(CONSENT, data={"choix": "oui"})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/eleve/aria"
    assert student().aria_uses_results is True
    page = html(client.get("/dashboard/eleve/aria"))
    assert NOTICE not in page
    assert "ARIA tient compte de votre niveau" in page
    assert "Ne plus en tenir compte" in page  # changeable later, from the chat page
    client.post(CONSENT, data={"choix": "non"})
    assert student().aria_uses_results is False
    assert "ARIA ne tient pas compte de vos résultats de test." in html(client.get("/dashboard/eleve/aria"))


def test_a_bad_answer_is_refused_in_french_and_changes_nothing(client, login):
    sami_consent(None)
    login(client, SAMI)
    response = client.post(CONSENT, data={"choix": "peut-être"})
    assert response.status_code == 422
    assert "Choisissez « D'accord » ou « Non merci »." in html(response)
    assert student().aria_uses_results is None


def test_another_students_conversation_is_404(client, login):
    from nexus.models.aria import AriaConversation

    other = AriaConversation(student_id=student("yasmine@nexus-reussite.tn").id, subject="NSI", title="x")
    db.session.add(other)
    db.session.flush()
    login(client, SAMI)
    assert client.post(CONSENT, data={"choix": "oui", "conversation": str(other.id)}).status_code == 404
    assert student().aria_uses_results is None


def test_only_students_answer_the_notice(client, login):
    login(client, PARENT2)
    assert client.post(CONSENT, data={"choix": "oui"}).status_code == 403


def test_with_consent_the_prompt_has_the_level_and_the_weak_skills(client, login, fake_llm):  # noqa: F811
    sami = sami_consent(True)
    completed_test(sami)
    login(client, SAMI)
    stream(client, question_id(ask(client, "Comment montrer qu'une suite est croissante ?")))
    prompt = system_prompt(fake_llm)
    assert "Ce que l'on sait de l'élève" in prompt
    assert f"Classe : {Grade.PREMIERE.label}." in prompt
    assert "Mathématiques : Stable (SSN 57)" in prompt
    assert "Suites numériques (maîtrise 31 %" in prompt
    assert "Raisonnement par récurrence" in prompt
    assert "Probabilités et loi binomiale (maîtrise 45 %)" in prompt
    assert "Limites et continuité" not in prompt  # 62 %: not a point to work on
    assert "Fonction logarithme" not in prompt


@pytest.mark.parametrize("consent", [None, False])
def test_without_consent_the_prompt_is_as_before(client, login, fake_llm, consent):  # noqa: F811
    completed_test(sami_consent(consent))
    login(client, SAMI)
    stream(client, question_id(ask(client)))
    prompt = system_prompt(fake_llm)
    assert "Ce que l'on sait de l'élève" not in prompt
    assert "Suites numériques" not in prompt


def test_with_consent_but_no_test_the_prompt_is_as_before(client, login, fake_llm):  # noqa: F811
    sami_consent(True)
    login(client, SAMI)
    stream(client, question_id(ask(client)))
    assert "Ce que l'on sait de l'élève" not in system_prompt(fake_llm)


def test_the_latest_test_of_the_subject_gives_the_weak_skills():
    sami = sami_consent(True)
    older = completed_test(sami)
    newer = completed_test(sami)
    part = {**newer.results["subjects"][0], "level_label": "Fragile"}
    part["domains"] = [{"key": "limites", "label": "Limites", "mastery": 20, "skills": []}]
    newer.results = {**newer.results, "subjects": [part]}
    newer.completed_at = older.completed_at.replace(year=older.completed_at.year + 1)
    db.session.flush()
    known = aria.learner.profile(sami, Subject.MATHEMATIQUES)
    assert known is not None
    assert [lv.label for lv in known.levels] == ["Fragile"]
    assert [d.label for d in known.weak] == ["Limites"]
    assert known.terms == ["limit"]
    assert aria.learner.profile(sami, Subject.NSI).weak == []  # a level, but no NSI weak points


def test_focus_terms_are_stems_of_meaningful_words():
    assert aria.learner.focus_terms(["Dérivation et convexité", "calcul", "k-uplets"]) == [
        "deriv",
        "conve",
        "uplet",
    ]


def test_retrieval_favours_passages_naming_the_weak_skills():
    scope = Scope("MATHEMATIQUES", knowledge.levels_for(Grade.TERMINALE))
    question = "Comment étudier une suite ?"
    plain = knowledge.search(question, scope, k=10).passages
    assert len(plain) >= 2, "the corpus should answer this question with several passages"
    top = plain[0]
    # A word of a lower passage that the first one does not have: the student's weak skill.
    first = retrieval._fold(f"{top.title} {top.section or ''} {top.content}")
    lower, stem = next(
        (p, word[:5])
        for p in plain[1:]
        for word in retrieval._fold(f"{p.section or ''} {p.content}").split()
        if len(word) >= 7 and word.isalpha() and word[:5] not in first
    )
    favoured = knowledge.search(question, scope, k=10, focus=[stem]).passages
    assert favoured[0].chunk_id == lower.chunk_id
    assert {p.chunk_id for p in favoured} == {p.chunk_id for p in plain}  # re-ranked, nothing let in


def test_focus_never_lets_an_irrelevant_passage_in():
    scope = Scope("MATHEMATIQUES", knowledge.levels_for(Grade.TERMINALE))
    question = "Quelle est la recette du couscous au poisson ?"
    assert knowledge.search(question, scope, focus=["suite", "deriv"]).passages == []


def test_consent_is_one_row_of_the_student():
    sami = sami_consent(None)
    assert aria.learner.set_consent(sami, "oui") is True
    assert db.session.scalar(select(Student.aria_uses_results).where(Student.id == sami.id)) is True
