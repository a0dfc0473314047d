"""Shared fixtures and helpers of the ARIA tests: the fake LLM, entitlements, reading SSE."""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from nexus.extensions import db
from nexus.models.aria import AnswerMode, AriaConversation, AriaMessage, MessageRole
from nexus.models.billing import Entitlement, EntitlementStatus
from nexus.models.catalog import Feature, OfferCode
from nexus.models.family import Student
from nexus.services import utcnow
from tests import factories
from tests.fakes.llm import FakeLLM
from tests.people import (
    DEMO_PASSWORD,
    HX,
    SAMI,
    YASMINE,  # noqa: F401 - re-exported while modules move to tests.people
)
from tests.servers import free_port

ASK = "/dashboard/eleve/aria/questions"
QUESTION = "Comment calculer la somme des termes d'une suite arithmétique ?"


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_llm(app: Any, llm_server: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLM]:
    """The app talks to the fake chat model (short timeout, so fallbacks come quickly)."""
    llm_server.reset()
    monkeypatch.setitem(app.config, "OPENAI_BASE_URL", llm_server.url)
    monkeypatch.setitem(app.config, "LLM_MODEL", "fake-llm")
    monkeypatch.setitem(app.config, "LLM_TIMEOUT", 1.5)
    yield llm_server
    llm_server.reset()


@pytest.fixture
def offline(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "OPENAI_BASE_URL", None)


def student(email: str = SAMI) -> Student:
    return factories.student(email)


def entitle_aria(student_id: int, subject: str) -> None:
    db.session.add(
        Entitlement(
            student_id=student_id,
            feature=Feature.ARIA,
            subject=subject,
            offer_code=OfferCode.ARIA_MATIERE,
            status=EntitlementStatus.ACTIVE,
            starts_at=utcnow() - timedelta(days=1),
            ends_at=utcnow() + timedelta(days=30),
        )
    )
    db.session.flush()


def question_and_answer(
    conversation: AriaConversation, question: str, answer: str, **answer_fields: Any
) -> tuple[AriaMessage, AriaMessage]:
    """A question of the conversation and ARIA's reply to it (flushed, not committed)."""
    asked = AriaMessage(conversation_id=conversation.id, role=MessageRole.USER, content=question)
    db.session.add(asked)
    db.session.flush()
    reply = AriaMessage(
        conversation_id=conversation.id,
        role=MessageRole.ASSISTANT,
        reply_to_id=asked.id,
        content=answer,
        **answer_fields,
    )
    db.session.add(reply)
    db.session.flush()
    return asked, reply


def count_messages(role: MessageRole | None = None) -> int:
    stmt = select(func.count(AriaMessage.id))
    if role is not None:
        stmt = stmt.where(AriaMessage.role == role)
    return db.session.scalar(stmt) or 0


def ask(client: Any, question: str = QUESTION, subject: str = "MATHEMATIQUES", **extra: Any) -> Any:
    return client.post(ASK, data={"question": question, "subject": subject, **extra}, headers=HX)


def question_id(response: Any) -> int:
    match = re.search(r"/dashboard/eleve/aria/questions/(\d+)/flux", response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return int(match.group(1))


@dataclass
class Event:
    name: str
    data: str


def parse_events(raw: str) -> list[Event]:
    """SSE frames into events (comments and retry lines dropped, data lines joined)."""
    events = []
    for frame in raw.split("\n\n"):
        name, data = "message", []
        for line in frame.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            events.append(Event(name, "\n".join(data)))
    return events


def stream(client: Any, qid: int) -> tuple[Any, list[str]]:
    """GET the SSE stream; returns the response and the chunks as the server yielded them."""
    response = client.get(f"/dashboard/eleve/aria/questions/{qid}/flux", buffered=False)
    chunks = [c.decode() if isinstance(c, bytes) else c for c in response.response]
    response.close()
    return response, chunks


def latest_answer() -> AriaMessage | None:
    stmt = (
        select(AriaMessage).where(AriaMessage.role == MessageRole.ASSISTANT).order_by(AriaMessage.id.desc())
    )
    return db.session.scalar(stmt.limit(1))


def sami_conversation(title: str = "Suites") -> AriaConversation:
    conversation = AriaConversation(student_id=student().id, subject="MATHEMATIQUES", title=title)
    db.session.add(conversation)
    db.session.flush()
    return conversation


def add_exchange(conversation_id: int, question: str, answer: str) -> None:
    """A past question and its model answer, as the conversation's history."""
    asked = AriaMessage(conversation_id=conversation_id, role=MessageRole.USER, content=question)
    db.session.add(asked)
    db.session.flush()
    db.session.add(
        AriaMessage(
            conversation_id=conversation_id,
            role=MessageRole.ASSISTANT,
            reply_to_id=asked.id,
            content=answer,
            mode=AnswerMode.LLM,
        )
    )
    db.session.flush()


@pytest.fixture
def live(app: Any) -> Iterator[int]:
    """The app on a real port, threaded like gunicorn's gthread workers."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()


def sign_in(port: int, email: str = SAMI) -> str:
    """Sign in over HTTP; returns the session cookie as a `Cookie` header value."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = urlencode({"email": email, "password": DEMO_PASSWORD})
    conn.request("POST", "/auth/signin", body, {"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    assert response.status == 303
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    conn.close()
    return cookie
