"""One pending question, many streams and "L'obtenir maintenant" at once, over real sockets and
commits: retrieval and the model run once, everyone gets the one stored answer (issue 8, item 2)."""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier, Lock

import pytest
from sqlalchemy import update

from nexus.extensions import db
from nexus.models.aria import AriaMessage, MessageRole
from nexus.services import aria, knowledge, utcnow
from tests.helpers import html
from tests.integration.aria_support import (
    QUESTION,
    ask,
    count_messages,
    fake_llm,
    latest_answer,
    live,
    llm_server,
    parse_events,
    question_id,
    sign_in,
    stream,
    student,
)
from tests.people import SAMI

__all__ = ["fake_llm", "live", "llm_server"]  # fixtures
THREADS = 50


def get_answer(port: int, cookie: str, qid: int, barrier: Barrier, plain: bool) -> tuple[int, str]:
    """The SSE stream of the question, or (plain) the no-JavaScript "L'obtenir maintenant" POST."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    barrier.wait()
    if plain:
        conn.request("POST", f"/dashboard/eleve/aria/questions/{qid}/reponse", headers={"Cookie": cookie})
    else:
        conn.request("GET", f"/dashboard/eleve/aria/questions/{qid}/flux", headers={"Cookie": cookie})
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    return response.status, body


@pytest.mark.committed
def test_fifty_requests_for_one_answer_run_one_completion(app, live, fake_llm, monkeypatch):
    fake_llm.chunk_delay = 0.02  # the answer takes about a second: the requests overlap it
    monkeypatch.setitem(app.config, "LLM_TIMEOUT", 15)  # 50 threads on 2 cores: no false timeout
    searches = []
    lock = Lock()
    search = knowledge.search

    def counted_search(*args, **kwargs):
        with lock:
            searches.append(args[0])
        return search(*args, **kwargs)

    monkeypatch.setattr(knowledge, "search", counted_search)
    qid = aria.ask(student(), QUESTION, "MATHEMATIQUES", None).id
    db.session.commit()
    cookie = sign_in(live)
    barrier = Barrier(THREADS)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(get_answer, live, cookie, qid, barrier, n % 5 == 0) for n in range(THREADS)]
        results = [f.result() for f in futures]
    assert len(fake_llm.chat_requests) == 1
    assert len(searches) == 1
    db.session.expire_all()
    assert count_messages(MessageRole.ASSISTANT) == 1
    answer = latest_answer()
    assert answer.reply_to_id == qid and answer.content == fake_llm.reply
    for n, (status, body) in enumerate(results):
        if n % 5 == 0:  # the plain POST waited for the answer, then back to the conversation
            assert status == 303, body[-500:]
            continue
        assert status == 200
        done = parse_events(body)[-1]
        assert done.name == "done" and f'id="message-{answer.id}"' in done.data, body[-500:]


def test_a_second_stream_waits_then_says_so_in_french(client, login, fake_llm, monkeypatch):
    monkeypatch.setattr(aria.answers, "STREAM_WAIT", 0.6)
    login(client, SAMI)
    qid = question_id(ask(client))
    # Another stream is writing this answer (claimed a moment ago) and has not finished.
    db.session.execute(update(AriaMessage).where(AriaMessage.id == qid).values(answer_claimed_at=utcnow()))
    events = parse_events("".join(stream(client, qid)[1]))
    assert [e.name for e in events] == ["done"]
    assert "ARIA rédige déjà la réponse à cette question" in events[0].data
    assert fake_llm.chat_requests == []
    assert count_messages(MessageRole.ASSISTANT) == 0


def test_a_writer_that_died_frees_the_question_after_its_lease(client, login, fake_llm):
    login(client, SAMI)
    qid = question_id(ask(client))
    stale = utcnow() - aria.CLAIM_LEASE - timedelta(seconds=1)
    db.session.execute(update(AriaMessage).where(AriaMessage.id == qid).values(answer_claimed_at=stale))
    events = parse_events("".join(stream(client, qid)[1]))
    assert events[-1].name == "done" and "la somme de termes consécutifs" in events[-1].data
    assert len(fake_llm.chat_requests) == 1


def test_without_javascript_a_busy_answer_is_announced_in_french(client, login, fake_llm, monkeypatch):
    monkeypatch.setattr(aria.answers, "NO_JS_WAIT", 0.5)
    login(client, SAMI)
    qid = question_id(ask(client))
    db.session.execute(update(AriaMessage).where(AriaMessage.id == qid).values(answer_claimed_at=utcnow()))
    response = client.post(f"/dashboard/eleve/aria/questions/{qid}/reponse")
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"].split("#")[0]))
    assert "ARIA rédige encore cette réponse" in page
    assert fake_llm.chat_requests == []


@pytest.mark.committed
def test_a_slow_answer_keeps_its_claim_beyond_the_lease(app, live, fake_llm, monkeypatch):
    monkeypatch.setattr(aria.claims, "CLAIM_LEASE", timedelta(seconds=0.6))
    monkeypatch.setitem(app.config, "LLM_TIMEOUT", 15)
    fake_llm.reply, fake_llm.chunk_delay = "mot " * 40, 0.05  # two seconds of streaming
    qid = aria.ask(student(), QUESTION, "MATHEMATIQUES", None).id
    db.session.commit()
    cookie = sign_in(live)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(get_answer, live, cookie, qid, Barrier(1), False)
        fake_llm.wait_for_streams(1, timeout=15)  # the model is writing
        time.sleep(1.2)  # twice the lease
        bodies = [get_answer(live, cookie, qid, Barrier(1), False)[1], first.result()[1]]
    assert len(fake_llm.chat_requests) == 1
    db.session.expire_all()
    answer = latest_answer()
    assert all(f'id="message-{answer.id}"' in parse_events(body)[-1].data for body in bodies)
