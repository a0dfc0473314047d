"""ARIA against a real server's limits (issue 8, items 14-17): the prompt fits the model's context,
a refusal for length is explained, fallbacks cost no daily question, long questions are refused
(not cut), retrieval embeds a bounded text, and token counts are stored even when not sent."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nexus.models.aria import AnswerMode
from nexus.models.common import Grade, Subject
from nexus.services import aria, embeddings, knowledge, llm
from nexus.services.knowledge import Passage
from tests.helpers import html
from tests.integration.aria_support import (
    ASK,
    QUESTION,
    add_exchange,
    ask,
    count_messages,
    fake_llm,
    latest_answer,
    llm_server,
    offline,
    parse_events,
    question_id,
    sami_conversation,
    stream,
    student,
)
from tests.people import ADMIN, SAMI

__all__ = ["fake_llm", "llm_server", "offline"]  # fixtures
STATIC = Path(__file__).resolve().parents[2] / "nexus" / "static"
# A long exercise, as pasted: 1,990 characters of French.
EXERCISE = (
    "Exercice : on considère la suite (u_n) définie par u_0 = 3 et, pour tout entier naturel n, "
    "u_{n+1} = 2 u_n - 1. Montrer par récurrence que u_n = 2^{n+1} + 1, puis calculer la somme. "
) * 11


def long_conversation(exchanges: int = 8) -> int:
    """A conversation whose earlier exchanges are long exercises and long generated answers."""
    conversation = sami_conversation("Un long exercice")
    for n in range(exchanges):
        answer = f"Réponse {n} : " + "On raisonne par récurrence sur n, étape par étape. " * 30
        add_exchange(conversation.id, EXERCISE, answer)
    return conversation.id


# -- item 14: the context window ----------------------------------------------------------------


def test_a_long_conversation_fits_the_configured_context(app, client, login, fake_llm, monkeypatch):
    monkeypatch.setitem(app.config, "LLM_CONTEXT_TOKENS", 4096)
    fake_llm.context_tokens, fake_llm.chars_per_token = 4096, 2.3  # French as llama.cpp counts it
    conversation_id = long_conversation()
    login(client, SAMI)
    for _ in range(2):  # the exercise asked twice: every later question of the conversation too
        qid = question_id(ask(client, EXERCISE[:1990], conversation=str(conversation_id)))
        events = parse_events("".join(stream(client, qid)[1]))
        assert events[-1].name == "done"
        assert latest_answer().mode is AnswerMode.LLM
    assert fake_llm.refused == []
    for request in fake_llm.chat_requests:
        assert fake_llm.prompt_tokens(request) + request["max_tokens"] <= 4096
        assert request["messages"][-1]["content"] == EXERCISE[:1990]  # the question is always whole
        assert request["messages"][1]["content"].startswith("Extraits du cours")  # passages kept


def passage(n: int, chars: int = 1400) -> Passage:
    return Passage(
        chunk_id=n,
        document_id=1,
        title=f"Fiche {n}",
        section=None,
        page=None,
        level=Grade.PREMIERE,
        content="Texte du cours. " * (chars // 16),
        score=1.0 / n,
    )


def test_history_goes_first_then_the_least_relevant_passages(app):
    passages = [passage(n) for n in range(1, 5)]
    past = [
        {"role": "user", "content": "Ancienne question " * 50},
        {"role": "assistant", "content": "Ancienne réponse " * 50},
        {"role": "user", "content": "Dernière question"},
        {"role": "assistant", "content": "Dernière réponse"},
    ]
    fit = aria.fit_prompt
    args = ("Et maintenant ?", Subject.MATHEMATIQUES, Grade.PREMIERE, passages, past)
    full = aria.prompt_tokens(aria.build_messages(*args))
    roomy = fit(*args, budget=full)
    assert roomy.messages == aria.build_messages(*args) and roomy.passages == passages
    older_gone = fit(*args, budget=full - 1)
    assert [m["content"] for m in older_gone.messages[2:-1]] == ["Dernière question", "Dernière réponse"]
    assert older_gone.passages == passages  # passages are kept while history can go
    tight = fit(*args, budget=full - 1500)
    assert tight.messages[2:-1] == [] and tight.passages == passages[: len(tight.passages)]
    assert 0 < len(tight.passages) < 4  # the least relevant went, the best stayed
    assert aria.prompt_tokens(tight.messages) <= full - 1500
    assert "[4]" not in tight.messages[1]["content"]


def test_the_estimate_errs_long_for_french(app):
    # Measured on llama.cpp: 2.3-2.7 characters of French per token. We count 2.
    assert aria.estimate_tokens("é" * 2300) >= 2300 / 2.3 * 1.1


def test_a_refusal_for_length_is_explained_and_offers_a_new_conversation(client, login, fake_llm, caplog):
    fake_llm.context_tokens = 600  # the server has less than LLM_CONTEXT_TOKENS says
    login(client, SAMI)
    qid = question_id(ask(client))
    with caplog.at_level(logging.WARNING, logger="nexus.services.aria"):
        events = parse_events("".join(stream(client, qid)[1]))
    assert len(fake_llm.refused) == 1
    done = events[-1].data
    assert "Cette conversation est devenue trop longue pour ARIA" in done
    assert "ARIA est indisponible" not in done
    assert 'href="/dashboard/eleve/aria"' in done and "Nouvelle conversation" in done
    assert "Suites numériques" in done  # the passages meanwhile
    answer = latest_answer()
    assert answer.mode is AnswerMode.TOO_LONG
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("longer than its context" in m and "prompt tokens > context 600" in m for m in logged)
    assert aria.access_for(student()).used == 0  # not charged
    page = html(client.get(f"/dashboard/eleve/aria/conversations/{answer.conversation_id}"))
    assert "Nouvelle conversation" in page


def test_a_refusal_for_length_without_javascript(client, login, fake_llm):
    fake_llm.context_tokens = 600
    login(client, SAMI)
    response = client.post(ASK, data={"question": QUESTION, "subject": "MATHEMATIQUES"})
    assert response.status_code == 303
    assert latest_answer().mode is AnswerMode.TOO_LONG
    assert "trop longue pour ARIA" in html(client.get(response.headers["Location"].split("#")[0]))


def test_the_llm_layer_tells_a_context_refusal_from_an_outage(app, fake_llm):
    fake_llm.context_tokens = 100
    conf = llm.Settings(base_url=fake_llm.url, api_key="x", model="fake-llm", timeout=2.0)
    messages = [{"role": "user", "content": "Une question un peu longue. " * 40}]
    with pytest.raises(llm.ContextExceeded) as refused:
        llm.complete(conf, messages)
    assert "context 100" in refused.value.reason
    with pytest.raises(llm.ContextExceeded), llm.stream_chat(conf, messages) as chunks:
        list(chunks)
    fake_llm.context_tokens, fake_llm.mode = None, "busy"
    with pytest.raises(llm.LLMUnavailable) as down:
        llm.complete(conf, messages)
    assert not isinstance(down.value, llm.ContextExceeded)


# -- item 15: fallbacks cost no daily question -------------------------------------------------


def test_offline_answers_cost_no_daily_question(client, login, offline, monkeypatch):
    monkeypatch.setattr(aria.conversations, "quota_of", lambda student_id: 1)
    login(client, SAMI)
    for n in range(3):
        qid = question_id(ask(client, f"Question {n} sur les suites arithmétiques"))
        stream(client, qid)
        assert latest_answer().mode is AnswerMode.OFFLINE
    assert aria.access_for(student()).used == 0
    assert "0 / 1" in html(client.get("/dashboard/eleve/aria"))


def test_answers_of_a_model_that_is_down_cost_no_daily_question(client, login, fake_llm, monkeypatch):
    monkeypatch.setattr(aria.conversations, "quota_of", lambda student_id: 1)
    fake_llm.mode = "busy"
    login(client, SAMI)
    stream(client, question_id(ask(client)))
    assert latest_answer().mode is AnswerMode.DEGRADED
    fake_llm.mode = "ok"
    stream(client, question_id(ask(client, "Et pour une suite géométrique ?")))
    assert latest_answer().mode is AnswerMode.LLM
    refused = ask(client, "Une troisième question")  # the real answer used the one question
    assert refused.status_code == 422
    assert "Vous avez posé vos 1 questions du jour" in html(refused)


def test_a_question_waiting_for_its_answer_counts(client, login, offline):
    login(client, SAMI)
    ask(client)
    assert aria.access_for(student()).used == 1


# -- item 16: a bounded text for the embedding ----------------------------------------------------


def test_only_the_start_of_a_long_question_is_embedded(client, login, offline, monkeypatch):
    embedded: list[str] = []
    local = embeddings.LocalEmbedder()

    class Recording:
        model = local.model

        def query(self, text: str):
            embedded.append(text)
            return local.query(text)

        def passages(self, texts):
            return local.passages(texts)

    monkeypatch.setattr(embeddings, "current", Recording)
    login(client, SAMI)
    question = "Comment calculer la somme des termes d'une suite arithmétique ? " + EXERCISE[:1900]
    stream(client, question_id(ask(client, question)))
    assert len(embedded) == 1 and len(embedded[0]) <= knowledge.QUERY_CHARS
    assert question.startswith(embedded[0])
    assert "Suites numériques" in latest_answer().content  # still finds the course


# -- item 17: the textarea, the button, token counts ----------------------------------------------


def test_a_pasted_long_question_is_refused_in_french_not_cut(client, login, offline):
    login(client, SAMI)
    page = html(client.get("/dashboard/eleve/aria"))
    textarea = page[page.index('<textarea id="question"') :].split(">", 1)[0]
    assert "maxlength" not in textarea
    pasted = "Énoncé très long. " * 1112  # ~20,000 characters
    response = ask(client, pasted)
    assert response.status_code == 422
    body = html(response)
    assert "2000 au plus" in body and "Raccourcissez-la" in body
    assert pasted.strip() in body  # the text is kept, to shorten it
    assert count_messages() == 0


def test_a_character_counter_without_inline_script(client, login, offline):
    login(client, SAMI)
    page = html(client.get("/dashboard/eleve/aria"))
    assert 'src="/static/js/aria.js' in page or "/static/js/aria." in page
    assert 'data-counter="question"' in page
    script = (STATIC / "js" / "aria.js").read_text()
    assert "data-counter" in script


def test_the_get_it_now_button_hides_while_the_answer_streams(client, login, fake_llm):
    login(client, SAMI)
    fragment = ask(client).get_data(as_text=True)
    pending = fragment[fragment.index('class="msg-body stream"') :]
    assert pending.index("</div>") < pending.index('class="pending-fallback"')  # stream, then the form
    css = (STATIC / "css" / "aria.css").read_text()
    assert ".stream:not(:empty)+.pending-fallback{display:none}" in css.replace(" ", "")


def test_tokens_are_counted_when_the_server_sends_none(client, login, fake_llm):
    fake_llm.report_usage = False
    login(client, SAMI)
    stream(client, question_id(ask(client)))
    assert fake_llm.chat_requests[0]["stream_options"] == {"include_usage": True}
    answer = latest_answer()
    assert answer.mode is AnswerMode.LLM
    prompt = fake_llm.chat_requests[0]["messages"]
    assert answer.prompt_tokens == aria.prompt_tokens(prompt)
    assert answer.completion_tokens == -(-len(fake_llm.reply) // aria.CHARS_PER_TOKEN)
    # Without JavaScript too.
    client.post(ASK, data={"question": "Et une suite géométrique ?", "subject": "MATHEMATIQUES"})
    assert latest_answer().prompt_tokens and latest_answer().completion_tokens


def test_the_servers_own_counts_win(client, login, fake_llm):
    login(client, SAMI)
    stream(client, question_id(ask(client)))
    assert latest_answer().prompt_tokens == 321  # what the fake reports


def test_the_statistics_show_the_token_counts(client, login, fake_llm):
    fake_llm.report_usage = False
    login(client, SAMI)
    stream(client, question_id(ask(client)))
    answer = latest_answer()
    client.post("/auth/signout")
    login(client, ADMIN)
    page = html(client.get("/dashboard/admin/aria"))
    figures = [f"{n:,}".replace(",", "\u202f") for n in (answer.prompt_tokens, answer.completion_tokens)]
    assert " / ".join(figures) in page


def test_the_counter_gives_the_question_back_when_the_answer_is_a_fallback(client, login, offline):
    login(client, SAMI)
    asked = ask(client)
    assert "<strong>1 / 60</strong>" in asked.get_data(as_text=True)  # the pending question counts
    done = parse_events("".join(stream(client, question_id(asked))[1]))[-1].data
    assert 'id="aria-quota" class="small" hx-swap-oob="true"' in done
    assert "<strong>0 / 60</strong>" in done
