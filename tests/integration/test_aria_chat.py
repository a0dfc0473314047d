"""The student's chat: who may ask what, in offline mode (no LLM endpoint), with and without htmx."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.aria import AnswerMode, AriaConversation, AriaMessage, MessageRole
from nexus.services import aria
from tests.helpers import html
from tests.integration.aria_support import (
    ASK,
    QUESTION,
    ask,
    count_messages,
    entitle_aria,
    latest_answer,
    offline,
    parse_events,
    question_id,
    sami_conversation,
    stream,
    student,
)
from tests.people import HX, PARENT2, SAMI, YASMINE

pytestmark = pytest.mark.usefixtures(offline.__name__)


def test_sami_sees_his_subjects_his_quota_and_who_can_read(client, login):
    login(client, SAMI)
    page = html(client.get("/dashboard/eleve/aria"))
    assert "ARIA, votre tuteur" in page
    assert "Questions aujourd'hui : <strong>0 / 60</strong>" in page
    assert "Vos parents peuvent lire vos conversations avec ARIA" in page
    assert 'name="subject" value="MATHEMATIQUES"' in page  # his one ARIA subject
    assert "htmx-ext-sse" in page  # the SSE extension is loaded here, and only here


def test_yasmine_is_told_why_and_where_to_look(client, login):
    login(client, YASMINE)
    page = html(client.get("/dashboard/eleve/aria"))
    assert "ARIA n'est pas encore inclus dans votre formule" in page
    assert 'href="/offres"' in page
    assert 'id="ask-form"' not in page
    response = ask(client)
    assert response.status_code == 422
    assert "ARIA n'est pas inclus pour cette matière" in html(response)
    assert count_messages() == 0


def test_a_boosted_visit_reloads_the_whole_page_for_the_sse_extension(client, login):
    login(client, SAMI)
    response = client.get("/dashboard/eleve/aria", headers={**HX, "HX-Boosted": "true"})
    assert response.headers["HX-Redirect"] == "/dashboard/eleve/aria"
    assert response.get_data() == b""


def test_htmx_question_opens_a_stream_and_the_offline_answer_cites_the_course(client, login):
    login(client, SAMI)
    response = ask(client)
    assert response.status_code == 200
    body = html(response)
    assert QUESTION in body
    qid = question_id(response)
    assert f'sse-connect="/dashboard/eleve/aria/questions/{qid}/flux"' in body
    assert 'sse-close="done"' in body
    conversation = db.session.scalar(select(AriaConversation))
    assert response.headers["HX-Push-Url"] == f"/dashboard/eleve/aria/conversations/{conversation.id}"
    assert 'id="aria-quota" class="small" hx-swap-oob="true"' in body
    assert "1 / 60" in body

    response, chunks = stream(client, qid)
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    events = parse_events("".join(chunks))
    assert [e.name for e in events] == ["done"]
    answer = latest_answer()
    assert answer is not None and answer.reply_to_id == qid
    assert answer.mode is AnswerMode.OFFLINE
    assert "Mode hors ligne" in answer.content
    assert answer.citations[0]["title"] == "Suites numériques"
    assert f'id="message-{answer.id}"' in events[0].data
    assert "Suites numériques" in events[0].data
    assert 'class="cite"' in events[0].data  # [1] links to its source


def test_a_reconnecting_stream_gets_the_stored_answer_again(client, login):
    login(client, SAMI)
    qid = question_id(ask(client))
    first = parse_events("".join(stream(client, qid)[1]))
    second = parse_events("".join(stream(client, qid)[1]))
    # The same answer; the forms' CSRF tokens are signed with the second they were made in.
    unsigned = re.compile(r'name="csrf_token" value="[^"]*"')
    assert unsigned.sub("", first[-1].data) == unsigned.sub("", second[-1].data)
    assert count_messages(MessageRole.ASSISTANT) == 1
    assert count_messages(MessageRole.USER) == 1  # the quota counted one question


def test_without_javascript_the_form_waits_for_the_answer(client, login):
    login(client, SAMI)
    response = client.post(ASK, data={"question": QUESTION, "subject": "MATHEMATIQUES"})
    assert response.status_code == 303
    conversation = db.session.scalar(select(AriaConversation))
    assert response.headers["Location"] == f"/dashboard/eleve/aria/conversations/{conversation.id}#fin"
    page = html(client.get(f"/dashboard/eleve/aria/conversations/{conversation.id}"))
    assert QUESTION in page
    assert "Mode hors ligne" in page
    assert "Sources" in page and "Suites numériques" in page
    assert "sse-connect" not in page  # nothing pending


def test_a_follow_up_stays_in_the_conversation(client, login):
    login(client, SAMI)
    client.post(ASK, data={"question": QUESTION, "subject": "MATHEMATIQUES"})
    conversation = db.session.scalar(select(AriaConversation))
    response = client.post(
        ASK, data={"question": "Et pour une suite géométrique ?", "conversation": str(conversation.id)}
    )
    assert response.status_code == 303
    assert (
        db.session.scalar(select(AriaConversation.id).where(AriaConversation.id != conversation.id)) is None
    )
    assert count_messages(MessageRole.USER) == 2


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "Écrivez votre question avant de l'envoyer."),
        ("   \n  ", "Écrivez votre question avant de l'envoyer."),
        ("x" * 2001, "Votre question fait 2001 caractères : 2000 au plus."),
    ],
)
def test_empty_and_overlong_questions_are_refused_in_french(client, login, question, message):
    login(client, SAMI)
    response = ask(client, question)
    assert response.status_code == 422
    assert message in html(response)
    assert response.headers["HX-Retarget"] == "#ask-form"
    assert count_messages() == 0
    assert db.session.scalar(select(AriaConversation)) is None


def test_a_question_of_exactly_2000_characters_is_accepted(client, login):
    login(client, SAMI)
    assert ask(client, "é" * 2000).status_code == 200


def test_the_refused_question_is_kept_in_the_form_without_javascript(client, login):
    login(client, SAMI)
    response = client.post(ASK, data={"question": "x" * 2001, "subject": "MATHEMATIQUES"})
    assert response.status_code == 422
    page = html(response)
    assert "x" * 2001 in page
    assert 'aria-invalid="true"' in page


def test_an_unentitled_subject_is_refused(client, login):
    login(client, SAMI)
    response = ask(client, subject="NSI")
    assert response.status_code == 422
    assert "ARIA n'est pas inclus pour cette matière" in html(response)
    assert count_messages() == 0
    assert ask(client, subject="ASTROLOGIE").status_code == 422


def test_the_daily_quota_is_enforced_and_nothing_is_stored(client, login):
    conversation = sami_conversation()
    db.session.add_all(
        AriaMessage(conversation_id=conversation.id, role=MessageRole.USER, content=f"Question {n}")
        for n in range(60)
    )
    login(client, SAMI)
    assert "60 / 60" in html(client.get("/dashboard/eleve/aria"))
    response = ask(client)
    assert response.status_code == 422
    assert "Vous avez posé vos 60 questions du jour à ARIA" in html(response)
    assert count_messages() == 60


def test_quota_follows_the_plan(app):
    sami = student()
    assert aria.quota_of(sami.id) == 60
    assert {k.value: v for k, v in aria.DAILY_QUOTA.items()} == {
        "ACCES_PLATEFORME": 30,
        "HYBRIDE": 60,
        "IMMERSION": 100,
    }


@pytest.mark.ratelimited
def test_a_burst_of_questions_is_slowed_down(client, login):
    login(client, SAMI)
    for n in range(6):
        assert ask(client, f"Question {n} sur les suites").status_code == 200
    refused = ask(client, "Encore une question")
    assert refused.status_code == 429
    assert "patientez une minute" in html(refused)
    assert count_messages(MessageRole.USER) == 6


def test_someone_elses_conversation_is_not_found(client, login):
    conversation = sami_conversation()
    question = AriaMessage(conversation_id=conversation.id, role=MessageRole.USER, content="Ma question")
    db.session.add(question)
    db.session.flush()
    yasmine = student(YASMINE)
    entitle_aria(yasmine.id, "MATHEMATIQUES")
    login(client, YASMINE)
    assert client.get(f"/dashboard/eleve/aria/conversations/{conversation.id}").status_code == 404
    assert client.get(f"/dashboard/eleve/aria/questions/{question.id}/flux").status_code == 404
    assert client.post(f"/dashboard/eleve/aria/questions/{question.id}/reponse").status_code == 404
    response = ask(client, conversation=str(conversation.id))
    assert response.status_code == 404
    assert ask(client, conversation="abc").status_code == 404
    assert count_messages(MessageRole.USER) == 1
    assert count_messages(MessageRole.ASSISTANT) == 0


def test_html_in_a_question_is_shown_as_text(client, login):
    login(client, SAMI)
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)> <div hx-get="/x">suite</div>'
    body = ask(client, evil).get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'hx-get="/x"' not in body
    conversation = db.session.scalar(select(AriaConversation))
    page = client.get(f"/dashboard/eleve/aria/conversations/{conversation.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page


def test_other_roles_cannot_use_the_student_chat(client, login):
    login(client, PARENT2)
    assert client.get("/dashboard/eleve/aria").status_code == 403
    assert ask(client).status_code == 403
